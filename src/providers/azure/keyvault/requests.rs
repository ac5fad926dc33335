//! The ARM requests for vaults, as pure functions of the plan's [`VaultSpec`] and the
//! [`LiveVault`].
//!
//! Create is a PUT of the managed properties. Update is a PATCH of only the managed
//! properties that differ: `VaultPatchParameters` leaves anything it does not name unchanged,
//! so access policies, `enabledFor*` flags and tags set by others survive, and no GET-merge-PUT
//! window exists in which a concurrent change could be lost. `enableRbacAuthorization` is
//! always sent explicitly (its default flips to `true` in api-version 2026-02-01), and
//! `enablePurgeProtection` only as `true` (Azure rejects `false`; it is irreversible).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::{AccessPolicyEntry, AccessPolicyUpdateKind, LiveVault, VaultId, VaultSpec};
use crate::plan::model::{
    NetworkAcls, NetworkBypass, NetworkDefaultAction, PublicNetworkAccess, Sku,
};
use crate::providers::azure::arm::{ArmRequest, api_version, encode_segment, subscription_path};

const API: &str = api_version::KEY_VAULT;

fn sku(sku: Sku) -> Value {
    let name = match sku {
        Sku::Standard => "standard",
        Sku::Premium => "premium",
    };
    json!({"family": "A", "name": name})
}

fn public_network_access(access: PublicNetworkAccess) -> &'static str {
    match access {
        PublicNetworkAccess::Enabled => "Enabled",
        PublicNetworkAccess::Disabled => "Disabled",
    }
}

fn network_acls(acls: &NetworkAcls) -> Value {
    let default_action = match acls.default_action {
        NetworkDefaultAction::Allow => "Allow",
        NetworkDefaultAction::Deny => "Deny",
    };
    let bypass = match acls.bypass {
        NetworkBypass::AzureServices => "AzureServices",
        NetworkBypass::None => "None",
    };
    json!({
        "defaultAction": default_action,
        "bypass": bypass,
        "ipRules": acls.ip_rules.iter().map(|ip| json!({"value": ip})).collect::<Vec<_>>(),
        "virtualNetworkRules": acls
            .virtual_network_subnet_ids
            .iter()
            .map(|id| json!({"id": id}))
            .collect::<Vec<_>>(),
    })
}

/// Whether two firewalls are the same to Azure: rule order does not matter, a single address
/// equals its `/32`, and subnet IDs compare case-insensitively.
pub(crate) fn same_network_acls(a: &NetworkAcls, b: &NetworkAcls) -> bool {
    let ips = |acls: &NetworkAcls| -> BTreeSet<String> {
        acls.ip_rules
            .iter()
            .map(|ip| ip.trim_end_matches("/32").to_owned())
            .collect()
    };
    let subnets = |acls: &NetworkAcls| -> BTreeSet<String> {
        acls.virtual_network_subnet_ids
            .iter()
            .map(|id| id.to_ascii_lowercase())
            .collect()
    };
    a.default_action == b.default_action
        && a.bypass == b.bypass
        && ips(a) == ips(b)
        && subnets(a) == subnets(b)
}

pub fn get_vault(id: &VaultId) -> ArmRequest {
    ArmRequest::get(id.path(), API)
}

/// PUT of a new vault with every managed property and no access policies.
pub fn create_vault(spec: &VaultSpec) -> ArmRequest {
    let mut properties = json!({
        "tenantId": spec.tenant_id,
        "sku": sku(spec.sku),
        "enableRbacAuthorization": spec.rbac_authorization(),
        "softDeleteRetentionInDays": spec.soft_delete_retention_days,
        "publicNetworkAccess": public_network_access(spec.public_network_access),
        // Required unless recovering; grants add entries one by one.
        "accessPolicies": [],
    });
    if spec.purge_protection {
        properties["enablePurgeProtection"] = json!(true);
    }
    if let Some(acls) = &spec.network_acls {
        properties["networkAcls"] = network_acls(acls);
    }
    ArmRequest::put(
        spec.id.path(),
        API,
        json!({"location": spec.location, "tags": spec.tags, "properties": properties}),
    )
}

/// PATCH of the managed properties that differ between `spec` and `live`, or `None` when
/// nothing does. Tags merge: the plan's tags win, tags named in `forget_tags` (set by vaultwire
/// before, no longer in the plan) are removed, all others are kept.
pub fn update_vault(
    spec: &VaultSpec,
    live: &LiveVault,
    forget_tags: &BTreeSet<String>,
) -> Option<ArmRequest> {
    let mut properties = Map::new();
    if !spec.tenant_id.eq_ignore_ascii_case(&live.tenant_id) {
        properties.insert("tenantId".into(), json!(spec.tenant_id));
    }
    if spec.sku != live.sku {
        properties.insert("sku".into(), sku(spec.sku));
    }
    if spec.soft_delete_retention_days != live.soft_delete_retention_days {
        properties.insert(
            "softDeleteRetentionInDays".into(),
            json!(spec.soft_delete_retention_days),
        );
    }
    if spec.purge_protection && !live.purge_protection {
        properties.insert("enablePurgeProtection".into(), json!(true));
    }
    if spec.public_network_access != live.public_network_access {
        properties.insert(
            "publicNetworkAccess".into(),
            json!(public_network_access(spec.public_network_access)),
        );
    }
    if let Some(acls) = &spec.network_acls
        && !live
            .network_acls
            .as_ref()
            .is_some_and(|live| same_network_acls(acls, live))
    {
        properties.insert("networkAcls".into(), network_acls(acls));
    }
    let mut tags: BTreeMap<String, String> = live
        .tags
        .iter()
        .filter(|(key, _)| !forget_tags.contains(*key))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    tags.extend(spec.tags.clone());
    let tags_changed = tags != live.tags;
    let rbac_changed = spec.rbac_authorization() != live.rbac_authorization;
    if properties.is_empty() && !tags_changed && !rbac_changed {
        return None;
    }
    properties.insert(
        "enableRbacAuthorization".into(),
        json!(spec.rbac_authorization()),
    );
    let mut body = json!({"properties": properties});
    if tags_changed {
        body["tags"] = json!(tags);
    }
    Some(ArmRequest::patch(spec.id.path(), API, body))
}

/// PUT with `createMode: recover`, which brings a soft-deleted vault back as it was; a
/// follow-up [`update_vault`] converges it on the plan.
pub fn recover_vault(spec: &VaultSpec) -> ArmRequest {
    ArmRequest::put(
        spec.id.path(),
        API,
        json!({
            "location": spec.location,
            "properties": {
                "tenantId": spec.tenant_id,
                "sku": sku(spec.sku),
                "createMode": "recover",
            },
        }),
    )
}

/// DELETE, which soft-deletes the vault (200, or 204 when it did not exist).
pub fn delete_vault(id: &VaultId) -> ArmRequest {
    ArmRequest::delete(id.path(), API)
}

fn deleted_vault_path(subscription_id: &str, location: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.KeyVault/locations/{}/deletedVaults/{}",
        subscription_path(subscription_id),
        encode_segment(location),
        encode_segment(name)
    )
}

pub fn get_deleted_vault(subscription_id: &str, location: &str, name: &str) -> ArmRequest {
    ArmRequest::get(deleted_vault_path(subscription_id, location, name), API)
}

pub fn list_deleted_vaults(subscription_id: &str) -> ArmRequest {
    ArmRequest::get(
        format!(
            "{}/providers/Microsoft.KeyVault/deletedVaults",
            subscription_path(subscription_id)
        ),
        API,
    )
}

/// POST `…/purge`: 200, or 202 with a `Location` to poll.
pub fn purge_deleted_vault(subscription_id: &str, location: &str, name: &str) -> ArmRequest {
    ArmRequest::post(
        format!(
            "{}/purge",
            deleted_vault_path(subscription_id, location, name)
        ),
        API,
    )
}

/// POST `checkNameAvailability`: whether `name` is free across Azure (vault names are global).
pub fn check_name_availability(subscription_id: &str, name: &str) -> ArmRequest {
    ArmRequest::post(
        format!(
            "{}/providers/Microsoft.KeyVault/checkNameAvailability",
            subscription_path(subscription_id)
        ),
        API,
    )
    .with_body(json!({"name": name, "type": "Microsoft.KeyVault/vaults"}))
}

/// PUT `…/accessPolicies/{add|replace|remove}` with just `entries`.
pub fn update_access_policy(
    id: &VaultId,
    kind: AccessPolicyUpdateKind,
    entries: &[AccessPolicyEntry],
) -> ArmRequest {
    let entries: Vec<Value> = entries.iter().map(AccessPolicyEntry::to_document).collect();
    ArmRequest::put(
        format!("{}/accessPolicies/{}", id.path(), kind.as_str()),
        API,
        json!({"properties": {"accessPolicies": entries}}),
    )
}

#[cfg(test)]
#[path = "requests_tests.rs"]
mod tests;
