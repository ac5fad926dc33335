//! A vault as ARM reports it, read into the typed view the engine diffs against the plan,
//! plus the raw document.
//!
//! Missing properties take the defaults of the pinned api-version (2025-05-01): RBAC off,
//! 90 days of soft-delete retention, purge protection off, public network access enabled,
//! bypass `AzureServices`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::AccessPolicyEntry;
use crate::plan::model::{
    NetworkAcls, NetworkBypass, NetworkDefaultAction, PublicNetworkAccess, Sku,
};

/// The live state of a vault.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveVault {
    /// The ARM resource ID, as ARM spells it.
    pub id: String,
    pub name: String,
    pub location: String,
    pub tenant_id: String,
    pub sku: Sku,
    pub rbac_authorization: bool,
    pub soft_delete_retention_days: u32,
    pub purge_protection: bool,
    pub public_network_access: PublicNetworkAccess,
    /// `None` when the vault has no firewall rules at all.
    pub network_acls: Option<NetworkAcls>,
    pub tags: BTreeMap<String, String>,
    /// `https://{name}.vault.azure.net/` in real clouds; the data plane's base URL.
    pub vault_uri: Option<String>,
    pub access_policies: Vec<AccessPolicyEntry>,
    pub provisioning_state: Option<String>,
    /// The whole document, for anything the typed view leaves out.
    pub document: Value,
}

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

impl LiveVault {
    /// Reads a `Microsoft.KeyVault/vaults` document; `None` when it lacks the required
    /// `name` or `properties.tenantId`.
    pub fn from_document(document: Value) -> Option<Self> {
        let properties = document.get("properties")?;
        let flag = |key: &str| properties.get(key).and_then(Value::as_bool);
        let sku = match text(&document, "/properties/sku/name") {
            Some(name) if name.eq_ignore_ascii_case("premium") => Sku::Premium,
            _ => Sku::Standard,
        };
        let public_network_access = match text(&document, "/properties/publicNetworkAccess") {
            Some(value) if value.eq_ignore_ascii_case("disabled") => PublicNetworkAccess::Disabled,
            _ => PublicNetworkAccess::Enabled,
        };
        let access_policies = properties
            .get("accessPolicies")
            .and_then(Value::as_array)
            .map(|entries| {
                entries
                    .iter()
                    .filter_map(AccessPolicyEntry::from_document)
                    .collect()
            })
            .unwrap_or_default();
        Some(Self {
            id: text(&document, "/id").unwrap_or_default().to_owned(),
            name: text(&document, "/name")?.to_owned(),
            location: text(&document, "/location").unwrap_or_default().to_owned(),
            tenant_id: text(&document, "/properties/tenantId")?.to_owned(),
            sku,
            rbac_authorization: flag("enableRbacAuthorization").unwrap_or(false),
            soft_delete_retention_days: properties
                .get("softDeleteRetentionInDays")
                .and_then(Value::as_u64)
                .and_then(|days| u32::try_from(days).ok())
                .unwrap_or(90),
            purge_protection: flag("enablePurgeProtection").unwrap_or(false),
            public_network_access,
            network_acls: properties.get("networkAcls").and_then(network_acls),
            tags: string_map(document.get("tags")),
            vault_uri: text(&document, "/properties/vaultUri").map(str::to_owned),
            access_policies,
            provisioning_state: text(&document, "/properties/provisioningState").map(str::to_owned),
            document,
        })
    }
}

fn network_acls(value: &Value) -> Option<NetworkAcls> {
    if !value.is_object() {
        return None;
    }
    let default_action = match value.get("defaultAction").and_then(Value::as_str) {
        Some(action) if action.eq_ignore_ascii_case("deny") => NetworkDefaultAction::Deny,
        _ => NetworkDefaultAction::Allow,
    };
    let bypass = match value.get("bypass").and_then(Value::as_str) {
        Some(bypass) if bypass.eq_ignore_ascii_case("none") => NetworkBypass::None,
        _ => NetworkBypass::AzureServices,
    };
    let list = |key: &str, field: &str| -> Vec<String> {
        value
            .get(key)
            .and_then(Value::as_array)
            .map(|rules| {
                rules
                    .iter()
                    .filter_map(|rule| rule.get(field).and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    Some(NetworkAcls {
        default_action,
        bypass,
        ip_rules: list("ipRules", "value"),
        virtual_network_subnet_ids: list("virtualNetworkRules", "id"),
    })
}

/// A soft-deleted vault (`Microsoft.KeyVault/deletedVaults`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedVault {
    pub name: String,
    pub location: String,
    /// The ID the vault had before deletion (resource group included).
    pub vault_id: String,
    pub deletion_date: Option<String>,
    pub scheduled_purge_date: Option<String>,
    pub purge_protection: bool,
    pub tags: BTreeMap<String, String>,
}

impl DeletedVault {
    pub fn from_document(document: &Value) -> Option<Self> {
        let properties = document.get("properties")?;
        let field = |key: &str| {
            properties
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Some(Self {
            name: text(document, "/name")?.to_owned(),
            location: field("location").unwrap_or_default(),
            vault_id: field("vaultId").unwrap_or_default(),
            deletion_date: field("deletionDate"),
            scheduled_purge_date: field("scheduledPurgeDate"),
            purge_protection: properties
                .get("purgeProtectionEnabled")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            tags: string_map(properties.get("tags")),
        })
    }
}

/// The answer of `checkNameAvailability`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAvailability {
    pub available: bool,
    /// `AccountNameInvalid` or `AlreadyExists` when not available.
    pub reason: Option<String>,
    pub message: Option<String>,
}

impl NameAvailability {
    pub fn from_document(document: &Value) -> Option<Self> {
        let text = |key: &str| document.get(key).and_then(Value::as_str).map(str::to_owned);
        Some(Self {
            available: document.get("nameAvailable")?.as_bool()?,
            reason: text("reason"),
            message: text("message"),
        })
    }
}
