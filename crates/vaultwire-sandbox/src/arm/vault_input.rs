//! What a vault PUT or PATCH may send, and the rules applied to it: name validation,
//! required fields, defaults and the irreversible switches (soft delete, purge protection).

use std::collections::BTreeMap;

use http::StatusCode;
use serde::Deserialize;

use crate::arm::response;
use crate::exchange::Resp;
use crate::model::AccessPolicyEntry;
use crate::model::vault::{NetworkRuleSet, Sku, VaultProperties};

/// Body of Vaults_CreateOrUpdate. Unknown and read-only fields (clients often send back what
/// they read) are ignored, as ARM does.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultBody {
    pub location: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
    pub properties: Option<PropertiesInput>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertiesInput {
    pub tenant_id: Option<String>,
    pub sku: Option<Sku>,
    pub access_policies: Option<Vec<AccessPolicyEntry>>,
    pub enabled_for_deployment: Option<bool>,
    pub enabled_for_disk_encryption: Option<bool>,
    pub enabled_for_template_deployment: Option<bool>,
    pub enable_soft_delete: Option<bool>,
    pub soft_delete_retention_in_days: Option<i64>,
    pub enable_rbac_authorization: Option<bool>,
    pub create_mode: Option<CreateMode>,
    pub enable_purge_protection: Option<bool>,
    pub network_acls: Option<NetworkRuleSet>,
    pub public_network_access: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CreateMode {
    Default,
    Recover,
}

/// Key Vault's documented name rule: 3-24 of `[a-zA-Z0-9-]`, starting with a letter, ending
/// with a letter or digit, no consecutive hyphens.
pub fn valid_vault_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=24).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphabetic)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && !name.contains("--")
}

pub fn invalid_name(name: &str) -> Resp {
    response::error(
        StatusCode::BAD_REQUEST,
        "VaultNameNotValid",
        format!(
            "The vault name '{name}' is invalid. A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens. Follow this link for more information: https://go.microsoft.com/fwlink/?linkid=2147742"
        ),
    )
}

fn bad_request(message: impl Into<String>) -> Resp {
    response::error(StatusCode::BAD_REQUEST, "BadRequest", message)
}

/// Properties of a new vault: required fields checked, defaults applied.
pub fn new_properties(
    input: &PropertiesInput,
    rbac_default: bool,
) -> Result<VaultProperties, Resp> {
    let tenant_id = input
        .tenant_id
        .clone()
        .ok_or_else(|| bad_request("The parameter 'properties.tenantId' is required."))?;
    let sku = input
        .sku
        .clone()
        .ok_or_else(|| bad_request("The parameter 'properties.sku' is required."))?;
    let properties = VaultProperties {
        tenant_id,
        sku,
        access_policies: input.access_policies.clone().unwrap_or_default(),
        enabled_for_deployment: input.enabled_for_deployment.unwrap_or(false),
        enabled_for_disk_encryption: input.enabled_for_disk_encryption.unwrap_or(false),
        enabled_for_template_deployment: input.enabled_for_template_deployment.unwrap_or(false),
        enable_soft_delete: true,
        soft_delete_retention_in_days: 90,
        enable_rbac_authorization: input.enable_rbac_authorization.unwrap_or(rbac_default),
        enable_purge_protection: None,
        network_acls: input.network_acls.clone().unwrap_or_default(),
        public_network_access: input
            .public_network_access
            .clone()
            .unwrap_or_else(|| "Enabled".to_owned()),
    };
    apply_switches(properties, input)
}

/// `current` with every property `input` sets replaced (PATCH, and PUT on an existing vault:
/// the sandbox keeps properties a PUT omits rather than resetting them).
pub fn merged_properties(
    current: &VaultProperties,
    input: &PropertiesInput,
) -> Result<VaultProperties, Resp> {
    let mut properties = current.clone();
    if let Some(tenant_id) = &input.tenant_id {
        properties.tenant_id.clone_from(tenant_id);
    }
    if let Some(sku) = &input.sku {
        properties.sku = sku.clone();
    }
    if let Some(policies) = &input.access_policies {
        properties.access_policies.clone_from(policies);
    }
    let flags = [
        (
            &mut properties.enabled_for_deployment,
            input.enabled_for_deployment,
        ),
        (
            &mut properties.enabled_for_disk_encryption,
            input.enabled_for_disk_encryption,
        ),
        (
            &mut properties.enabled_for_template_deployment,
            input.enabled_for_template_deployment,
        ),
        (
            &mut properties.enable_rbac_authorization,
            input.enable_rbac_authorization,
        ),
    ];
    for (field, value) in flags {
        if let Some(value) = value {
            *field = value;
        }
    }
    if let Some(acls) = &input.network_acls {
        properties.network_acls = acls.clone();
    }
    if let Some(access) = &input.public_network_access {
        properties.public_network_access.clone_from(access);
    }
    apply_switches(properties, input)
}

/// Soft delete, retention and purge protection, which only ever tighten.
fn apply_switches(
    mut properties: VaultProperties,
    input: &PropertiesInput,
) -> Result<VaultProperties, Resp> {
    if input.enable_soft_delete == Some(false) {
        return Err(bad_request(
            "The property \"enableSoftDelete\" cannot be set to false. Soft delete is enabled on all key vaults and cannot be disabled.",
        ));
    }
    if input.enable_purge_protection == Some(false) {
        return Err(bad_request(
            "The property \"enablePurgeProtection\" cannot be set to false. Enabling the purge protection for a vault is an irreversible action.",
        ));
    }
    if input.enable_purge_protection == Some(true) {
        properties.enable_purge_protection = Some(true);
    }
    if let Some(days) = input.soft_delete_retention_in_days {
        let days = u32::try_from(days)
            .ok()
            .filter(|days| (7..=90).contains(days))
            .ok_or_else(|| bad_request(format!("The property \"softDeleteRetentionInDays\" has an invalid value '{days}'. It must be between 7 and 90.")))?;
        properties.soft_delete_retention_in_days = days;
    }
    Ok(properties)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_names_follow_the_documented_rule() {
        for good in [
            "kv-vaultwire-demo",
            "abc",
            "A1-b2",
            "abcdefghijklmnopqrstuvwx",
        ] {
            assert!(valid_vault_name(good), "{good}");
        }
        for bad in [
            "ab",
            "1kv",
            "kv-",
            "kv--x",
            "kv_x",
            "abcdefghijklmnopqrstuvwxy",
            "kv.x",
        ] {
            assert!(!valid_vault_name(bad), "{bad}");
        }
    }

    fn input(json: &str) -> PropertiesInput {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn new_vaults_get_soft_delete_and_the_api_versions_rbac_default() {
        let props = new_properties(
            &input(r#"{"tenantId": "t", "sku": {"family": "A", "name": "standard"}}"#),
            true,
        )
        .unwrap();
        assert!(props.enable_soft_delete);
        assert_eq!(props.soft_delete_retention_in_days, 90);
        assert!(props.enable_rbac_authorization);
        assert_eq!(props.public_network_access, "Enabled");
    }

    #[test]
    fn purge_protection_cannot_be_turned_off() {
        let props = new_properties(
            &input(r#"{"tenantId": "t", "sku": {"family": "A", "name": "premium"}, "enablePurgeProtection": true}"#),
            false,
        )
        .unwrap();
        let error =
            merged_properties(&props, &input(r#"{"enablePurgeProtection": false}"#)).unwrap_err();
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        let kept = merged_properties(&props, &input(r#"{"tags": {}}"#)).unwrap();
        assert_eq!(kept.enable_purge_protection, Some(true));
    }

    #[test]
    fn retention_outside_7_to_90_days_is_refused() {
        let error = new_properties(
            &input(r#"{"tenantId": "t", "sku": {"family": "A", "name": "standard"}, "softDeleteRetentionInDays": 3}"#),
            false,
        )
        .unwrap_err();
        assert!(
            error.body_json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("softDeleteRetentionInDays")
        );
    }
}
