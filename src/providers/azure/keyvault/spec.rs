//! A vault as the plan wants it: the properties vaultwire manages and nothing else.

use std::collections::BTreeMap;

use crate::plan::model::{Authorization, NetworkAcls, PublicNetworkAccess, Sku, Vault};
use crate::providers::azure::arm::resource_path;

/// Where a vault lives.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VaultId {
    pub subscription_id: String,
    pub resource_group: String,
    pub name: String,
}

impl VaultId {
    pub fn new(
        subscription_id: impl Into<String>,
        resource_group: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            subscription_id: subscription_id.into(),
            resource_group: resource_group.into(),
            name: name.into(),
        }
    }

    /// The ARM resource path, which is also the scope of role assignments on the vault.
    pub fn path(&self) -> String {
        resource_path(
            &self.subscription_id,
            &self.resource_group,
            "Microsoft.KeyVault/vaults",
            &self.name,
        )
    }
}

/// The managed properties of a vault, from the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultSpec {
    pub id: VaultId,
    pub location: String,
    pub tenant_id: String,
    pub sku: Sku,
    pub authorization: Authorization,
    pub soft_delete_retention_days: u32,
    pub purge_protection: bool,
    pub public_network_access: PublicNetworkAccess,
    /// `None` leaves the live firewall as it is.
    pub network_acls: Option<NetworkAcls>,
    /// The tags vaultwire manages; tags set by others (Azure Policy, people) are kept.
    pub tags: BTreeMap<String, String>,
}

impl VaultSpec {
    pub fn from_plan(vault: &Vault, subscription_id: &str, tenant_id: &str) -> Self {
        Self {
            id: VaultId::new(
                subscription_id,
                vault.resource_group.value.clone(),
                vault.name.value.clone(),
            ),
            location: vault.location.value.clone(),
            tenant_id: tenant_id.to_owned(),
            sku: vault.sku,
            authorization: vault.authorization.value,
            soft_delete_retention_days: vault.soft_delete_retention_days.value,
            purge_protection: vault.purge_protection.value,
            public_network_access: vault.public_network_access,
            network_acls: vault.network_acls.clone(),
            tags: vault.tags.clone(),
        }
    }

    pub fn rbac_authorization(&self) -> bool {
        self.authorization == Authorization::Rbac
    }
}
