//! The whole audit of the seeded world before and after apply, the add-on and vault checks.

use serde_json::json;

use super::support::*;
use crate::audit::catalog::CheckId;
use crate::audit::model::{Status, Verdict};
use crate::audit::testing::*;

#[test]
fn the_seeded_world_before_apply_fails_the_addon_and_the_workloads() {
    let (plan, _) = example_plan();
    let report = audit(&seeded_world(&plan));
    let skip_spc =
        "`aks-demo` does not serve SecretProviderClasses: the Key Vault add-on is not enabled";
    let no_vault = "key vault `kv-vaultwire-demo` does not exist";
    let expected = [
        "addon-enabled aks-demo: fail — the Key Vault secrets provider add-on is not enabled".to_owned(),
        "addon-secret-rotation aks-demo: skip — the add-on is not enabled".to_owned(),
        format!("spc-exists aks-demo/payments/payments-db: fail — {skip_spc}"),
        format!("spc-exists aks-demo/shop/shop-api: fail — {skip_spc}"),
        format!("spc-matches-plan aks-demo/payments/payments-db: skip — {skip_spc}"),
        format!("spc-matches-plan aks-demo/shop/shop-api: skip — {skip_spc}"),
        format!("spc-vault aks-demo/payments/payments-db: skip — {skip_spc}"),
        format!("spc-vault aks-demo/shop/shop-api: skip — {skip_spc}"),
        format!("spc-identity aks-demo/payments/payments-db: skip — {skip_spc}"),
        format!("spc-identity aks-demo/shop/shop-api: skip — {skip_spc}"),
        "spc-grant aks-demo/payments/payments-db: skip — the add-on of `addon.demo` has no identity".to_owned(),
        "spc-grant aks-demo/shop/shop-api: skip — the add-on of `addon.demo` has no identity".to_owned(),
        "spc-objects aks-demo/payments/payments-db: skip — the vault of `vault.payments` does not exist".to_owned(),
        "spc-objects aks-demo/shop/shop-api: skip — the vault of `vault.payments` does not exist".to_owned(),
        "spc-vault-network aks-demo/payments/payments-db: skip — the vault of `vault.payments` does not exist".to_owned(),
        "spc-vault-network aks-demo/shop/shop-api: skip — the vault of `vault.payments` does not exist".to_owned(),
        "spc-pods-mount aks-demo/payments/payments-db: pass — 1 pod(s) mount it: 0 run, 1 wait without a FailedMount event".to_owned(),
        "spc-pods-mount aks-demo/shop/shop-api: skip — no pod mounts it".to_owned(),
        format!("vault-soft-delete kv-vaultwire-demo: skip — {no_vault}"),
        format!("vault-purge-protection kv-vaultwire-demo: skip — {no_vault}"),
        format!("vault-rbac-authorization kv-vaultwire-demo: skip — {no_vault}"),
        format!("vault-network-access kv-vaultwire-demo: skip — {no_vault}"),
        "secrets-in-env aks-demo: fail — 4 of 8 workloads in 3 namespaces read Secrets into environment variables".to_owned(),
        "secrets-as-files aks-demo: warn — 2 of 8 workloads in 3 namespaces mount native Kubernetes Secrets".to_owned(),
        "csi-node-publish-secret aks-demo: warn — 1 of 8 workloads in 3 namespaces take Key Vault credentials from a Secret".to_owned(),
    ];
    assert_eq!(lines(&report), expected);
    assert_eq!(report.summary.verdict, Verdict::Violations);
    assert_eq!(
        (
            report.summary.fail,
            report.summary.warn,
            report.summary.skip,
            report.summary.pass
        ),
        (4, 2, 18, 1)
    );
}

#[test]
fn after_apply_the_workloads_and_vault_advice_remain() {
    let (plan, _) = example_plan();
    let report = audit(&applied_world(&plan));
    let failing: Vec<String> = lines(&report)
        .into_iter()
        .filter(|line| !line.contains(": pass — "))
        .collect();
    assert_eq!(
        failing,
        [
            "spc-pods-mount aks-demo/shop/shop-api: skip — no pod mounts it",
            "vault-purge-protection kv-vaultwire-demo: warn — purge protection is off",
            "vault-network-access kv-vaultwire-demo: warn — the vault accepts requests from any network",
            "secrets-in-env aks-demo: fail — 4 of 8 workloads in 3 namespaces read Secrets into environment variables",
            "secrets-as-files aks-demo: warn — 2 of 8 workloads in 3 namespaces mount native Kubernetes Secrets",
            "csi-node-publish-secret aks-demo: warn — 1 of 8 workloads in 3 namespaces take Key Vault credentials from a Secret",
        ]
    );
    assert_eq!(report.summary.pass, 19);
    let grant = find(&report, CheckId::SpcGrant, PAYMENTS_DB);
    assert_eq!(
        grant.message,
        format!("identity `{ADDON_OBJECT_ID}` may read `{VAULT}` by role assignment")
    );
}

#[test]
fn a_missing_cluster_fails_the_addon_and_skips_what_needs_it() {
    let (plan, _) = example_plan();
    let mut gathered = seeded_world(&plan);
    gathered.clusters.get_mut("demo").unwrap().addon = None;
    gathered.clusters.get_mut("demo").unwrap().kubernetes = None;
    let report = audit(&gathered);
    let enabled = find(&report, CheckId::AddonEnabled, "aks-demo");
    assert_eq!(
        (enabled.status, enabled.message.as_str()),
        (
            Status::Fail,
            "aks cluster `aks-demo` does not exist in resource group `rg-demo`"
        )
    );
    for id in [
        CheckId::SecretsInEnv,
        CheckId::SecretsAsFiles,
        CheckId::AddonSecretRotation,
    ] {
        assert_eq!(
            find(&report, id, "aks-demo").status,
            Status::Skip,
            "{}",
            id.as_str()
        );
    }
    assert_eq!(
        find(&report, CheckId::SpcExists, PAYMENTS_DB).status,
        Status::Fail
    );
}

#[test]
fn rotation_off_or_unset_fails_ckv_azure_172() {
    let (plan, _) = example_plan();
    for (rotation, evidence) in [(Some(false), "\"false\""), (None, "not set (off)")] {
        let mut gathered = applied_world(&plan);
        gathered.clusters.get_mut("demo").unwrap().addon = Some(enabled_addon(rotation));
        let report = audit(&gathered);
        let check = find(&report, CheckId::AddonSecretRotation, "aks-demo");
        assert_eq!(
            (check.status, check.message.as_str()),
            (Status::Fail, "secret rotation is off")
        );
        assert_eq!(check.evidence[0].detail, evidence);
        assert!(check.remediation.contains("secret_rotation = true"));
    }
}

#[test]
fn vault_settings_warn_and_a_firewall_that_denies_by_default_passes() {
    let (plan, _) = example_plan();
    let mut gathered = applied_world(&plan);
    gathered.vaults.get_mut("payments").unwrap().vault = Some(live_vault(
        VAULT,
        json!({"enableSoftDelete": false, "enablePurgeProtection": true,
               "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices", "ipRules": [{"value": "203.0.113.0/24"}]}}),
    ));
    let report = audit(&gathered);
    let status = |id| find(&report, id, VAULT).status;
    assert_eq!(status(CheckId::VaultSoftDelete), Status::Warn);
    assert_eq!(status(CheckId::VaultPurgeProtection), Status::Pass);
    assert_eq!(status(CheckId::VaultRbacAuthorization), Status::Pass);
    assert_eq!(status(CheckId::VaultNetworkAccess), Status::Pass);
    assert_eq!(
        find(&report, CheckId::VaultNetworkAccess, VAULT).message,
        "public network access is restricted by the firewall (default action Deny)"
    );

    gathered.vaults.get_mut("payments").unwrap().vault = Some(live_vault(
        VAULT,
        json!({"publicNetworkAccess": "Disabled"}),
    ));
    let report = audit(&gathered);
    assert_eq!(
        find(&report, CheckId::VaultNetworkAccess, VAULT).status,
        Status::Pass
    );
}

#[test]
fn warnings_and_skips_alone_are_compliant() {
    let (plan, _) = example_plan();
    let mut gathered = applied_world(&plan);
    let kubernetes = demo_kubernetes(&mut gathered);
    kubernetes.objects = crate::audit::scan::ClusterObjects::default();
    // A shop-api without its certificate grant is the only other failure: give it one.
    let vault = vault_id(VAULT);
    gathered
        .vaults
        .get_mut("payments")
        .unwrap()
        .role_assignments
        .push(role_assignment(
            &vault,
            "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
            ADDON_OBJECT_ID,
        ));
    let report = audit(&gathered);
    assert_eq!(report.summary.fail, 0, "{:#?}", lines(&report));
    assert_eq!(report.summary.verdict, Verdict::Compliant);
    assert_eq!(report.summary.warn, 2);
}

#[test]
fn checks_point_at_the_plan_line_of_their_resource() {
    let (plan, _) = example_plan();
    let report = audit(&seeded_world(&plan));
    let line = |id, subject| find(&report, id, subject).plan.clone();
    let text = EXAMPLE_PLAN;
    let line_of = |header: &str| text.lines().position(|l| l == header).map(|i| i + 1);
    assert_eq!(
        line(CheckId::AddonEnabled, "aks-demo").line,
        line_of("[addon.demo]")
    );
    assert_eq!(
        line(CheckId::SpcExists, PAYMENTS_DB).line,
        line_of("[spc.payments-db]")
    );
    assert_eq!(
        line(CheckId::VaultPurgeProtection, VAULT).address,
        "vault.payments"
    );
    assert_eq!(
        line(CheckId::VaultPurgeProtection, VAULT).line,
        line_of("[vault.payments]")
    );
}
