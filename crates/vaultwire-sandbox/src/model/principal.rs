//! Who can sign in and what holds resources: applications (service principals), user-assigned
//! managed identities and resource groups.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// An application registration with its service principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct App {
    pub client_id: String,
    pub object_id: String,
    pub display_name: String,
    /// SHA-256 (hex) of the client secret; the secret itself is never stored.
    pub secret_sha256: Option<String>,
    /// Subjects of federated credentials trusted for this app (issuer: the sandbox's own OIDC
    /// issuer).
    pub federated_subjects: Vec<String>,
}

/// A user-assigned managed identity (`Microsoft.ManagedIdentity/userAssignedIdentities`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManagedIdentity {
    pub name: String,
    pub resource_group: String,
    pub location: String,
    pub client_id: String,
    /// The object (principal) ID.
    pub principal_id: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// When it was created through ARM (the replication delay runs from then); `None` for
    /// the identities AKS creates.
    #[serde(default)]
    pub created: Option<jiff::Timestamp>,
    /// Until when a federated credential write under the identity is in flight (its answer is
    /// not sent yet); another write that arrives before then conflicts.
    #[serde(default)]
    pub credentials_busy_until: Option<jiff::Timestamp>,
    /// Federated identity credentials by lower-cased name.
    #[serde(default)]
    pub federated_credentials: BTreeMap<String, FederatedCredential>,
}

/// A federated identity credential of a user-assigned identity: Entra exchanges a token from
/// `issuer` for `subject` with one of `audiences` for a token of the identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FederatedCredential {
    pub name: String,
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
    /// When its issuer, subject or audiences were last written: Entra uses it only once the
    /// credential propagation delay has passed since. `None` in worlds written before.
    #[serde(default)]
    pub written: Option<jiff::Timestamp>,
}

impl ManagedIdentity {
    /// The resource ID, in the lower-case `resourcegroups` form AKS reports.
    pub fn resource_id(&self, subscription_id: &str) -> String {
        format!(
            "/subscriptions/{subscription_id}/resourcegroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}",
            self.resource_group, self.name
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceGroup {
    pub name: String,
    pub location: String,
    pub tags: BTreeMap<String, String>,
    /// Set for node resource groups: the cluster resource ID that manages it.
    pub managed_by: Option<String>,
}
