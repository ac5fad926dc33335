//! `vault-soft-delete`, `vault-purge-protection`, `vault-rbac-authorization` and
//! `vault-network-access`: the settings Azure's security baseline expects of each vault of the
//! plan. Advice: they warn, never fail. Pure.

use serde_json::Value;

use crate::audit::catalog::CheckId;
use crate::audit::gather::VaultData;
use crate::audit::model::{Check, Evidence, Status};
use crate::plan::model::{NetworkDefaultAction, PublicNetworkAccess, Vault};
use crate::providers::azure::keyvault::LiveVault;

/// A fact about `vault`'s `properties.FIELD`.
pub(super) fn evidence(vault: &LiveVault, field: &str, detail: String) -> Evidence {
    Evidence {
        resource: vault.name.clone(),
        namespace: None,
        kind: "Microsoft.KeyVault/vaults".to_owned(),
        name: vault.name.clone(),
        field: Some(format!("properties.{field}")),
        secret: None,
        detail,
    }
}

pub fn check(key: &str, vault: &Vault, data: Option<&VaultData>) -> Vec<Check> {
    let address = format!("vault.{key}");
    let name = vault.name.value.as_str();
    let new = |id: CheckId, holds: bool, message: String| {
        let status = if holds { Status::Pass } else { id.severity() };
        Check::new(id, &address, name, status, message)
    };
    let Some(live) = data.and_then(|data| data.vault.as_ref()) else {
        return [
            CheckId::VaultSoftDelete,
            CheckId::VaultPurgeProtection,
            CheckId::VaultRbacAuthorization,
            CheckId::VaultNetworkAccess,
        ]
        .into_iter()
        .map(|id| {
            Check::new(
                id,
                &address,
                name,
                Status::Skip,
                format!("key vault `{name}` does not exist"),
            )
        })
        .collect();
    };
    let flag = |key: &str| {
        live.document
            .pointer(&format!("/properties/{key}"))
            .and_then(Value::as_bool)
    };
    // Soft delete is on unless a vault says otherwise (the default since 2019, mandatory
    // since 2025).
    let soft_delete = flag("enableSoftDelete").unwrap_or(true);
    let soft = new(
        CheckId::VaultSoftDelete,
        soft_delete,
        if soft_delete {
            format!(
                "soft delete is on, {} days of retention",
                live.soft_delete_retention_days
            )
        } else {
            "soft delete is off".to_owned()
        },
    )
    .with_evidence(vec![evidence(
        live,
        "enableSoftDelete",
        soft_delete.to_string(),
    )]);
    let purge = new(
        CheckId::VaultPurgeProtection,
        live.purge_protection,
        format!(
            "purge protection is {}",
            if live.purge_protection { "on" } else { "off" }
        ),
    )
    .with_evidence(vec![evidence(
        live,
        "enablePurgeProtection",
        live.purge_protection.to_string(),
    )]);
    let rbac = new(
        CheckId::VaultRbacAuthorization,
        live.rbac_authorization,
        if live.rbac_authorization {
            "the vault uses Azure RBAC".to_owned()
        } else {
            "the vault uses access policies".to_owned()
        },
    )
    .with_evidence(vec![evidence(
        live,
        "enableRbacAuthorization",
        live.rbac_authorization.to_string(),
    )]);
    let public = live.public_network_access == PublicNetworkAccess::Enabled;
    let deny = live
        .network_acls
        .as_ref()
        .is_some_and(|acls| acls.default_action == NetworkDefaultAction::Deny);
    let message = match (public, deny) {
        (false, _) => "public network access is disabled".to_owned(),
        (true, true) => {
            "public network access is restricted by the firewall (default action Deny)".to_owned()
        }
        (true, false) => "the vault accepts requests from any network".to_owned(),
    };
    let network = new(CheckId::VaultNetworkAccess, !public || deny, message).with_evidence(vec![
        evidence(
            live,
            "publicNetworkAccess",
            if public { "Enabled" } else { "Disabled" }.to_owned(),
        ),
        evidence(
            live,
            "networkAcls.defaultAction",
            match &live.network_acls {
                Some(acls) if acls.default_action == NetworkDefaultAction::Deny => {
                    "Deny".to_owned()
                }
                Some(_) => "Allow".to_owned(),
                None => "absent (Allow)".to_owned(),
            },
        ),
    ]);
    vec![soft, purge, rbac, network]
}
