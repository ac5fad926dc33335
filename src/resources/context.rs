//! What desired properties depend on besides the plan file: the target and values Azure
//! assigns, such as the add-on identity.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::plan::model::{Cloud, Plan};

/// The identity AKS creates when the Key Vault add-on is enabled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddonIdentity {
    pub client_id: String,
    pub object_id: String,
    pub resource_id: String,
}

/// What Azure assigns a user-assigned managed identity when it is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityIds {
    pub client_id: String,
    pub principal_id: String,
}

/// Values known only from live Azure or from an apply that already ran. A missing entry is
/// "known after apply".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Derived {
    /// The add-on identity by addon key.
    pub addon_identities: BTreeMap<String, AddonIdentity>,
    /// The OIDC issuer URL of each add-on's cluster, by addon key, while the issuer is on.
    pub issuers: BTreeMap<String, String>,
    /// The plan's managed identities, by identity key.
    pub identities: BTreeMap<String, IdentityIds>,
}

/// The target every resource is created in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub cloud: Cloud,
    pub subscription_id: String,
    pub tenant_id: String,
}

impl Context {
    pub fn of(plan: &Plan) -> Self {
        Self {
            cloud: plan.target.cloud.value,
            subscription_id: plan.target.subscription_id.value.to_ascii_lowercase(),
            tenant_id: plan.target.tenant_id.value.to_ascii_lowercase(),
        }
    }

    /// `/subscriptions/{sub}/resourceGroups/{rg}`.
    pub fn resource_group_id(&self, resource_group: &str) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{resource_group}",
            self.subscription_id
        )
    }

    pub fn vault_id(&self, resource_group: &str, name: &str) -> String {
        format!(
            "{}/providers/Microsoft.KeyVault/vaults/{name}",
            self.resource_group_id(resource_group)
        )
    }

    /// The ID of a user-assigned managed identity in `subscription_id`.
    pub fn identity_path(subscription_id: &str, resource_group: &str, name: &str) -> String {
        format!(
            "/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
        )
    }

    pub fn cluster_id(&self, resource_group: &str, name: &str) -> String {
        format!(
            "{}/providers/Microsoft.ContainerService/managedClusters/{name}",
            self.resource_group_id(resource_group)
        )
    }

    /// The full ID of a role definition at subscription scope.
    pub fn role_definition_id(&self, guid: &str) -> String {
        format!(
            "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{}",
            self.subscription_id,
            guid.to_ascii_lowercase()
        )
    }
}
