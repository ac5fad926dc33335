//! The SecretProviderClass checks: existence, drift, vault, identity, grant and objects.

use serde_json::json;

use super::support::*;
use crate::audit::catalog::CheckId;
use crate::audit::evaluate::evaluate;
use crate::audit::gather::SecretListing;
use crate::audit::model::Status;
use crate::audit::testing::*;

#[test]
fn a_drifted_spc_shows_what_differs_and_the_stale_identity() {
    let (plan, _) = example_plan();
    let mut gathered = applied_world(&plan);
    let kubernetes = demo_kubernetes(&mut gathered);
    let spcs = kubernetes.spcs.as_mut().unwrap();
    let mut manifest = spcs[0].manifest.clone();
    manifest["spec"]["parameters"]["userAssignedIdentityID"] = json!("old-client-id");
    manifest["spec"]["parameters"]["keyvaultName"] = json!("kv-elsewhere");
    spcs[0] = live_spc(manifest);
    let report = audit(&gathered);

    let matches = find(&report, CheckId::SpcMatchesPlan, PAYMENTS_DB);
    assert_eq!(matches.status, Status::Fail);
    let differences: Vec<String> = matches
        .evidence
        .iter()
        .map(|e| format!("{}: {}", e.field.as_deref().unwrap_or_default(), e.detail))
        .collect();
    assert_eq!(
        differences,
        [
            "spec.parameters.keyvaultName: live `kv-elsewhere`, plan `kv-vaultwire-demo`"
                .to_owned(),
            format!(
                "spec.parameters.userAssignedIdentityID: live `old-client-id`, plan `{ADDON_CLIENT_ID}`"
            ),
        ]
    );
    let identity = find(&report, CheckId::SpcIdentity, PAYMENTS_DB);
    assert_eq!(
        (identity.status, identity.message.clone()),
        (
            Status::Fail,
            format!("uses `old-client-id`, not the current add-on identity `{ADDON_CLIENT_ID}`")
        )
    );
    let vault = find(&report, CheckId::SpcVault, PAYMENTS_DB);
    assert_eq!(
        (vault.status, vault.message.as_str()),
        (
            Status::Fail,
            "names key vault `kv-elsewhere`, which is not the plan's vault `kv-vaultwire-demo`"
        )
    );
    assert_eq!(
        find(&report, CheckId::SpcMatchesPlan, "aks-demo/shop/shop-api").status,
        Status::Pass
    );
}

#[test]
fn an_spc_missing_from_a_cluster_with_the_addon_fails_exists_only() {
    let (plan, _) = example_plan();
    let mut gathered = applied_world(&plan);
    let kubernetes = demo_kubernetes(&mut gathered);
    kubernetes
        .spcs
        .as_mut()
        .unwrap()
        .retain(|spc| spc.name != "payments-db");
    let report = audit(&gathered);
    let reason = "SecretProviderClass `payments/payments-db` does not exist in `aks-demo`";
    assert_eq!(
        find(&report, CheckId::SpcExists, PAYMENTS_DB).message,
        reason
    );
    assert_eq!(
        find(&report, CheckId::SpcExists, PAYMENTS_DB).status,
        Status::Fail
    );
    assert_eq!(
        find(&report, CheckId::SpcIdentity, PAYMENTS_DB).status,
        Status::Skip
    );
    // The grant does not depend on the SecretProviderClass existing.
    assert_eq!(
        find(&report, CheckId::SpcGrant, PAYMENTS_DB).status,
        Status::Pass
    );
}

#[test]
fn grants_count_only_reading_roles_at_or_above_the_vault_for_the_identity() {
    let (plan, _) = example_plan();
    let vault = vault_id(VAULT);
    let subscription = format!("/subscriptions/{SUBSCRIPTION}");
    let reader = "21090545-7ca7-4776-b22c-e363652d74d2";
    let cases = [
        (
            vec![role_assignment(
                &subscription,
                SECRETS_USER,
                ADDON_OBJECT_ID,
            )],
            Status::Pass,
        ),
        (
            vec![role_assignment(&vault, reader, ADDON_OBJECT_ID)],
            Status::Fail,
        ),
        (
            vec![role_assignment(&vault, SECRETS_USER, "someone-else")],
            Status::Fail,
        ),
        (
            vec![role_assignment(
                &format!("{vault}-2"),
                SECRETS_USER,
                ADDON_OBJECT_ID,
            )],
            Status::Fail,
        ),
        (vec![], Status::Fail),
    ];
    for (assignments, expected) in cases {
        let mut gathered = applied_world(&plan);
        gathered
            .vaults
            .get_mut("payments")
            .unwrap()
            .role_assignments = assignments.clone();
        let report = audit(&gathered);
        let check = find(&report, CheckId::SpcGrant, PAYMENTS_DB);
        assert_eq!(check.status, expected, "{assignments:?}: {}", check.message);
    }
    // A SecretProviderClass mounting a certificate as `cert`: Secrets User does not cover it.
    let with_certificate = EXAMPLE_PLAN.replace(
        r#"{ name = "shop-tls", type = "secret", alias = "tls.pem" }"#,
        r#"{ name = "shop-tls", type = "cert", alias = "tls.crt" }"#,
    );
    assert_ne!(with_certificate, EXAMPLE_PLAN);
    let (plan, source) = plan_from("plans/example.toml", &with_certificate);
    let report = evaluate(&plan, &source, &applied_world(&plan));
    let shop = find(&report, CheckId::SpcGrant, "aks-demo/shop/shop-api");
    assert_eq!(shop.status, Status::Fail);
    assert_eq!(
        shop.message,
        format!(
            "identity `{ADDON_OBJECT_ID}` may not read certificates in `{VAULT}`: no role assignment grants it"
        )
    );
}

#[test]
fn access_policy_vaults_need_an_entry_with_get() {
    let (plan, _) = example_plan();
    let entry = |secrets: &[&str]| {
        json!({"enableRbacAuthorization": false, "accessPolicies": [
            {"tenantId": TENANT, "objectId": ADDON_OBJECT_ID, "permissions": {"secrets": secrets, "keys": [], "certificates": []}}
        ]})
    };
    for (properties, expected) in [
        (entry(&["Get", "List"]), Status::Pass),
        (entry(&["list"]), Status::Fail),
    ] {
        let mut gathered = applied_world(&plan);
        let data = gathered.vaults.get_mut("payments").unwrap();
        data.vault = Some(live_vault(VAULT, properties));
        data.role_assignments.clear();
        let report = audit(&gathered);
        let check = find(&report, CheckId::SpcGrant, PAYMENTS_DB);
        assert_eq!(check.status, expected, "{}", check.message);
        assert_eq!(
            find(&report, CheckId::VaultRbacAuthorization, VAULT).status,
            Status::Warn
        );
    }
}

#[test]
fn a_workload_identity_without_a_plan_grant_cannot_be_checked() {
    let text = EXAMPLE_PLAN.replace(
        "identity = { addon = \"demo\" }       # read the vault as the add-on identity",
        "identity = { workload_identity_client_id = \"11111111-2222-4333-8444-555555555555\" }",
    );
    let (plan, source) = plan_from("plans/wi.toml", &text);
    let report = evaluate(&plan, &source, &applied_world(&plan));
    let check = find(&report, CheckId::SpcGrant, PAYMENTS_DB);
    assert_eq!(check.status, Status::Skip);
    assert!(
        check.message.contains("no `[grant]` of the plan names it"),
        "{}",
        check.message
    );
    let identity = find(&report, CheckId::SpcIdentity, PAYMENTS_DB);
    assert_eq!(
        (identity.status, identity.message.as_str()),
        (
            Status::Pass,
            "uses the plan's workload identity `11111111-2222-4333-8444-555555555555`"
        )
    );
}

#[test]
fn objects_are_looked_up_by_name_and_a_forbidden_listing_is_a_skip() {
    let (plan, _) = example_plan();
    let mut gathered = applied_world(&plan);
    gathered.vaults.get_mut("payments").unwrap().secrets =
        SecretListing::Listed(["db-password".to_owned()].into_iter().collect());
    let report = audit(&gathered);
    let check = find(&report, CheckId::SpcObjects, PAYMENTS_DB);
    assert_eq!(
        (check.status, check.message.as_str()),
        (
            Status::Fail,
            "1 of 2 objects do not exist in `kv-vaultwire-demo`"
        )
    );
    let details: Vec<&str> = check.evidence.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(
        details,
        [
            "secret `db-password` exists",
            "secret `db-username` does not exist"
        ]
    );

    gathered.vaults.get_mut("payments").unwrap().secrets = SecretListing::Denied {
        reason: "Caller is not authorized to perform action on resource.".to_owned(),
    };
    let report = audit(&gathered);
    let check = find(&report, CheckId::SpcObjects, PAYMENTS_DB);
    assert_eq!(check.status, Status::Skip);
    assert_eq!(
        check.message,
        "vaultwire may not list the secrets of `kv-vaultwire-demo`: Caller is not authorized to perform action on resource."
    );
}

#[test]
fn a_pod_stuck_on_a_failed_mount_fails_its_class_with_the_kubelets_reason() {
    let (plan, _) = example_plan();
    let mut gathered = applied_world(&plan);
    let kubernetes = demo_kubernetes(&mut gathered);
    kubernetes.failed_mounts.push(crate::audit::gather::FailedMount {
        namespace: "payments".to_owned(),
        pod: "payments-worker".to_owned(),
        uid: String::new(),
        message: "MountVolume.SetUp failed for volume \"secrets-store\" : rpc error: code = Unknown desc = failed to mount objects, error: failed to get objectType:secret, objectName:db-password, objectVersion:: GET https://kv-vaultwire-demo.vault.azure.net/secrets/db-password/\n----\nRESPONSE 404: 404 Not Found\nERROR CODE: SecretNotFound\n".to_owned(),
        count: 3,
        last_seen: "2026-12-07T10:00:00Z".to_owned(),
    });
    let report = audit(&gathered);
    let mounts = find(&report, CheckId::SpcPodsMount, PAYMENTS_DB);
    assert_eq!(
        (mounts.status, mounts.message.as_str()),
        (
            Status::Fail,
            "1 of 1 pod(s) that mount it fail to (FailedMount)"
        )
    );
    assert_eq!(mounts.evidence[0].name, "payments-worker");
    assert!(
        mounts.evidence[0].detail.ends_with("GET https://kv-vaultwire-demo.vault.azure.net/secrets/db-password/ (SecretNotFound), seen 3 time(s)"),
        "{}",
        mounts.evidence[0].detail
    );
}

/// The applied world with the vault's firewall denying by default and `acls` merged in.
fn firewalled(acls: serde_json::Value) -> crate::audit::model::Report {
    let (plan, _) = example_plan();
    let mut gathered = applied_world(&plan);
    let mut network = json!({"defaultAction": "Deny", "bypass": "AzureServices", "ipRules": [], "virtualNetworkRules": []});
    for (key, value) in acls.as_object().unwrap() {
        network[key] = value.clone();
    }
    let vault = gathered.vaults.get_mut("payments").unwrap();
    vault.vault = Some(live_vault(
        "kv-vaultwire-demo",
        json!({"networkAcls": network}),
    ));
    audit(&gathered)
}

#[test]
fn a_firewall_that_denies_the_clusters_outbound_ip_fails_the_network_check() {
    let report = firewalled(json!({"ipRules": [{"value": "203.0.113.0/24"}]}));
    let network = find(&report, CheckId::SpcVaultNetwork, PAYMENTS_DB);
    assert_eq!(network.status, Status::Fail);
    assert!(network.message.contains("denies the cluster's nodes"));
    let details: Vec<&str> = network.evidence.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(
        details,
        [format!("the cluster's outbound IP {SEEDED_OUTBOUND_IP} is in no IP rule").as_str()]
    );
    assert!(!network.remediation.is_empty());
}

#[test]
fn an_ip_rule_covering_the_outbound_ip_passes_the_network_check() {
    let report =
        firewalled(json!({"ipRules": [{"value": "203.0.113.0/24"}, {"value": "20.21.0.0/16"}]}));
    let network = find(&report, CheckId::SpcVaultNetwork, PAYMENTS_DB);
    assert_eq!(network.status, Status::Pass, "{network:?}");
    assert_eq!(
        network.evidence[0].detail,
        format!("the cluster's outbound IP {SEEDED_OUTBOUND_IP} is in `20.21.0.0/16`")
    );
}

#[test]
fn a_vault_without_public_access_is_skipped_by_the_network_check() {
    let (plan, _) = example_plan();
    let mut gathered = applied_world(&plan);
    gathered.vaults.get_mut("payments").unwrap().vault = Some(live_vault(
        "kv-vaultwire-demo",
        json!({"publicNetworkAccess": "Disabled"}),
    ));
    let report = audit(&gathered);
    let network = find(&report, CheckId::SpcVaultNetwork, PAYMENTS_DB);
    assert_eq!(network.status, Status::Skip);
    assert!(
        network.message.contains("private endpoint"),
        "{}",
        network.message
    );
}

const WI_CLIENT: &str = "6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";

/// The example with `payments-db` read by the workload identity `WI_CLIENT`, its federated
/// credentials as given, and the seeded worker (service account `default`) mounting it.
/// The example with `payments-db` read by the workload identity `WI_CLIENT`, applied.
fn with_workload_identity() -> (
    crate::plan::Plan,
    crate::plan::PlanSource,
    crate::audit::Gathered,
) {
    use crate::plan::model::{Spanned, SpcIdentity};
    let (mut plan, source) = example_plan();
    let spc = plan.spcs.get_mut("payments-db").unwrap();
    spc.identity = Spanned::new(
        SpcIdentity::WorkloadIdentity {
            client_id: WI_CLIENT.to_owned(),
        },
        spc.identity.span.clone(),
    );
    let gathered = applied_world(&plan);
    (plan, source, gathered)
}

fn federated(credentials: Option<Vec<(&str, &str)>>) -> crate::audit::model::Report {
    use crate::providers::azure::msi::FederatedCredential;
    let (plan, source, mut gathered) = with_workload_identity();
    gathered.identities.insert(
        WI_CLIENT.to_owned(),
        credentials.map(|credentials| {
            credentials
                .into_iter()
                .enumerate()
                .map(|(index, (issuer, subject))| FederatedCredential {
                    id: format!("fic-{index}"),
                    name: format!("fic-{index}"),
                    issuer: issuer.to_owned(),
                    subject: subject.to_owned(),
                    audiences: vec!["api://AzureADTokenExchange".to_owned()],
                })
                .collect()
        }),
    );
    crate::audit::evaluate::evaluate(&plan, &source, &gathered)
}

#[test]
fn a_workload_identity_must_trust_the_service_account_its_pods_run_as() {
    let report = federated(Some(vec![(
        SEEDED_OIDC_ISSUER,
        "system:serviceaccount:payments:payments-api",
    )]));
    let check = find(&report, CheckId::SpcFederation, PAYMENTS_DB);
    assert_eq!(check.status, Status::Fail, "{check:?}");
    assert_eq!(
        check.evidence[0].detail,
        "service account `default` (pods payments-worker) is trusted by no federated credential"
    );
    assert!(!check.remediation.is_empty());
    // The add-on identity's class has no such check.
    assert!(
        !report
            .checks
            .iter()
            .any(|c| c.id == CheckId::SpcFederation && c.subject == "aks-demo/shop/shop-api")
    );
}

#[test]
fn a_cluster_without_workload_identity_fails_the_federation_check() {
    let (plan, source, mut gathered) = with_workload_identity();
    for cluster in gathered.clusters.values_mut() {
        if let Some(addon) = cluster.addon.as_mut() {
            addon.workload_identity = false;
        }
    }
    gathered
        .identities
        .insert(WI_CLIENT.to_owned(), Some(Vec::new()));
    let report = crate::audit::evaluate::evaluate(&plan, &source, &gathered);
    let check = find(&report, CheckId::SpcFederation, PAYMENTS_DB);
    assert_eq!(check.status, Status::Fail, "{check:?}");
    assert!(
        check
            .message
            .starts_with("workload identity is not enabled on `aks-demo`"),
        "{}",
        check.message
    );
}

#[test]
fn a_credential_for_another_issuer_is_named_as_the_near_miss() {
    let issuer = SEEDED_OIDC_ISSUER.trim_end_matches('/');
    let report = federated(Some(vec![(
        issuer,
        "system:serviceaccount:payments:default",
    )]));
    let check = find(&report, CheckId::SpcFederation, PAYMENTS_DB);
    assert_eq!(check.status, Status::Fail);
    assert!(
        check.evidence[0].detail.contains(&format!(
            "`fic-0` trusts it under issuer `{issuer}`, not the cluster's"
        )),
        "{}",
        check.evidence[0].detail
    );
}

#[test]
fn a_trusted_service_account_passes_and_an_unknown_identity_is_skipped() {
    let report = federated(Some(vec![(
        SEEDED_OIDC_ISSUER,
        "system:serviceaccount:payments:default",
    )]));
    let check = find(&report, CheckId::SpcFederation, PAYMENTS_DB);
    assert_eq!(check.status, Status::Pass, "{check:?}");
    assert_eq!(
        check.evidence[0].detail,
        "service account `default` (pods payments-worker) is trusted by federated credential `fic-0`"
    );
    let report = federated(None);
    let check = find(&report, CheckId::SpcFederation, PAYMENTS_DB);
    assert_eq!(check.status, Status::Skip);
}
