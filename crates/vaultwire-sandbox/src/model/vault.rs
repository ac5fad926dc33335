//! Key Vaults as the sandbox stores them: ARM properties, access policies and the secrets of
//! the data plane, plus soft-deleted vaults.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A live vault. Keyed in the world by its lower-cased name (vault names are global).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Vault {
    pub name: String,
    pub resource_group: String,
    pub location: String,
    pub tags: BTreeMap<String, String>,
    pub properties: VaultProperties,
    pub created_at: jiff::Timestamp,
    pub created_by: String,
    pub modified_at: jiff::Timestamp,
    pub modified_by: String,
    /// Secrets by lower-cased name.
    pub secrets: BTreeMap<String, Secret>,
    /// When each access-policy principal (lower-cased object ID) last gained permissions, for
    /// the propagation delay.
    pub policy_granted_at: BTreeMap<String, jiff::Timestamp>,
}

/// The settable properties of a vault, with defaults applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultProperties {
    pub tenant_id: String,
    pub sku: Sku,
    pub access_policies: Vec<AccessPolicyEntry>,
    pub enabled_for_deployment: bool,
    pub enabled_for_disk_encryption: bool,
    pub enabled_for_template_deployment: bool,
    pub enable_soft_delete: bool,
    pub soft_delete_retention_in_days: u32,
    pub enable_rbac_authorization: bool,
    /// `None` until set; it can never go back to false.
    pub enable_purge_protection: Option<bool>,
    pub network_acls: NetworkRuleSet,
    pub public_network_access: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sku {
    pub family: String,
    pub name: SkuName,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SkuName {
    Standard,
    Premium,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessPolicyEntry {
    pub tenant_id: String,
    pub object_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    pub permissions: Permissions,
}

impl AccessPolicyEntry {
    /// Entries are identified by (tenant, object, application), case-insensitively.
    pub fn same_identity(&self, other: &AccessPolicyEntry) -> bool {
        self.tenant_id.eq_ignore_ascii_case(&other.tenant_id)
            && self.object_id.eq_ignore_ascii_case(&other.object_id)
            && self.application_id.as_deref().map(str::to_ascii_lowercase)
                == other.application_id.as_deref().map(str::to_ascii_lowercase)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permissions {
    #[serde(default)]
    pub keys: Vec<String>,
    #[serde(default)]
    pub secrets: Vec<String>,
    #[serde(default)]
    pub certificates: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub storage: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkRuleSet {
    #[serde(default = "azure_services")]
    pub bypass: String,
    #[serde(default = "allow")]
    pub default_action: String,
    #[serde(default)]
    pub ip_rules: Vec<serde_json::Value>,
    #[serde(default)]
    pub virtual_network_rules: Vec<serde_json::Value>,
}

fn azure_services() -> String {
    "AzureServices".to_owned()
}

fn allow() -> String {
    "Allow".to_owned()
}

impl Default for NetworkRuleSet {
    fn default() -> Self {
        Self {
            bypass: azure_services(),
            default_action: allow(),
            ip_rules: Vec::new(),
            virtual_network_rules: Vec::new(),
        }
    }
}

/// One secret: its versions and, once deleted, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Secret {
    pub name: String,
    /// Versions by their 32-hex ID.
    pub versions: BTreeMap<String, SecretVersion>,
    /// The newest version.
    pub current: String,
    /// How many versions were ever created (the next version's ID derives from it).
    pub version_count: u64,
    pub deleted: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretVersion {
    pub value: String,
    pub content_type: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub enabled: bool,
    /// Unix seconds, as the data plane reports them.
    pub not_before: Option<i64>,
    pub expires: Option<i64>,
    pub created: i64,
    pub updated: i64,
    pub previous_version: Option<String>,
}

/// A soft-deleted vault: everything it had, kept for recovery until purged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeletedVault {
    pub vault: Vault,
    pub deletion_date: jiff::Timestamp,
    pub scheduled_purge_date: jiff::Timestamp,
    /// Set while a purge operation runs.
    pub purging: Option<String>,
}
