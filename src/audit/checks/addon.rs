//! `addon-enabled` and `addon-secret-rotation`: the Key Vault secrets provider add-on of each
//! plan cluster, as `az aks show --query addonProfiles.azureKeyvaultSecretsProvider` shows it.
//! Pure.

use crate::audit::catalog::CheckId;
use crate::audit::gather::ClusterData;
use crate::audit::model::{Check, Evidence, Status};
use crate::plan::model::Addon;
use crate::providers::azure::aks::ADDON_KEY;

const KIND: &str = "Microsoft.ContainerService/managedClusters";

fn evidence(addon: &Addon, field: &str, detail: String) -> Evidence {
    Evidence {
        resource: addon.cluster.value.clone(),
        namespace: None,
        kind: KIND.to_owned(),
        name: addon.cluster.value.clone(),
        field: Some(format!("properties.addonProfiles.{ADDON_KEY}.{field}")),
        secret: None,
        detail,
    }
}

/// The two add-on checks of `[addon.KEY]`.
pub fn check(key: &str, addon: &Addon, data: Option<&ClusterData>) -> Vec<Check> {
    let address = format!("addon.{key}");
    let cluster = addon.cluster.value.as_str();
    let new = |id, status, message: String| Check::new(id, &address, cluster, status, message);
    let Some(live) = data.and_then(|data| data.addon.as_ref()) else {
        let missing = format!(
            "aks cluster `{cluster}` does not exist in resource group `{}`",
            addon.resource_group.value
        );
        return vec![
            new(CheckId::AddonEnabled, Status::Fail, missing),
            new(
                CheckId::AddonSecretRotation,
                Status::Skip,
                format!("aks cluster `{cluster}` does not exist"),
            ),
        ];
    };
    let enabled = if live.enabled {
        let identity = live.identity.as_ref().map_or_else(
            || "enabled, but AKS reports no identity for it".to_owned(),
            |identity| {
                format!(
                    "enabled; add-on identity client ID `{}`",
                    identity.client_id
                )
            },
        );
        new(
            CheckId::AddonEnabled,
            Status::Pass,
            "the Key Vault secrets provider add-on is enabled".to_owned(),
        )
        .with_evidence(vec![evidence(addon, "enabled", identity)])
    } else {
        new(
            CheckId::AddonEnabled,
            Status::Fail,
            "the Key Vault secrets provider add-on is not enabled".to_owned(),
        )
        .with_evidence(vec![evidence(addon, "enabled", "false".to_owned())])
    };
    let rotation = if !live.enabled {
        new(
            CheckId::AddonSecretRotation,
            Status::Skip,
            "the add-on is not enabled".to_owned(),
        )
    } else {
        let interval = live.rotation_poll_interval.as_deref().unwrap_or("2m");
        let detail = match live.secret_rotation {
            Some(true) => format!("\"true\"; rotationPollInterval `{interval}`"),
            Some(false) => "\"false\"".to_owned(),
            None => "not set (off)".to_owned(),
        };
        let (status, message) = if live.secret_rotation == Some(true) {
            (
                Status::Pass,
                format!("secret rotation is on, every {interval}"),
            )
        } else {
            (Status::Fail, "secret rotation is off".to_owned())
        };
        new(CheckId::AddonSecretRotation, status, message).with_evidence(vec![evidence(
            addon,
            "config.enableSecretRotation",
            detail,
        )])
    };
    vec![enabled, rotation]
}
