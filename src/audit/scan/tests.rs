//! The scan of the seeded sandbox cluster: the exact findings for every seeded workload
//! (`docs/sandbox-kubernetes.md` lists which object covers which case).

use serde_json::json;

use super::*;
use crate::audit::catalog::CheckId;
use crate::audit::model::{Evidence, Exclusion};
use crate::audit::testing::seeded_objects;
use crate::plan::model::AuditSettings;

fn default_excluded() -> Vec<String> {
    AuditSettings::default().exclude_namespaces
}

/// `ns/Kind/name | field | secret (origin) | detail`, one line per piece of evidence.
fn lines(evidence: &[Evidence]) -> Vec<String> {
    evidence
        .iter()
        .map(|e| {
            let secret = e
                .secret
                .as_ref()
                .map(|s| format!("{} ({:?})", s.name, s.origin))
                .unwrap_or_default();
            format!(
                "{}/{}/{} | {} | {secret} | {}",
                e.namespace.as_deref().unwrap_or("-"),
                e.kind,
                e.name,
                e.field.as_deref().unwrap_or("-"),
                e.detail
            )
        })
        .collect()
}

fn exclusion_lines(excluded: &[Exclusion]) -> Vec<String> {
    excluded
        .iter()
        .map(|e| {
            format!(
                "{}/{}/{} | {} | {}",
                e.namespace,
                e.kind,
                e.name,
                e.reason.as_str(),
                e.detail
            )
        })
        .collect()
}

#[test]
fn secrets_read_into_the_environment_fail_at_the_owning_workload() {
    let scan = scan("aks-demo", &seeded_objects(), &default_excluded());
    assert_eq!(
        lines(&scan.findings[&CheckId::SecretsInEnv]),
        [
            "default/DaemonSet/log-agent | spec.template.spec.initContainers[0].env[0].valueFrom.secretKeyRef | log-shipper-credentials (Native) | init container `register` reads key `ingest-token` of Secret `log-shipper-credentials` into env var `INGEST_TOKEN`",
            "payments/Deployment/payments-api | spec.template.spec.containers[0].env[1].valueFrom.secretKeyRef | payments-db-legacy (Native) | container `api` reads key `username` of Secret `payments-db-legacy` into env var `DB_USER`",
            "payments/Deployment/payments-api | spec.template.spec.containers[0].env[2].valueFrom.secretKeyRef | payments-db-legacy (Native) | container `api` reads key `password` of Secret `payments-db-legacy` into env var `DB_PASSWORD`",
            "shop/Deployment/shop-api | spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef | shop-api-synced (SyncedFromKeyVault) | container `api` reads key `api-key` of Secret `shop-api-synced` into env var `API_KEY` (synced from Key Vault by the CSI driver)",
            "shop/Deployment/shop-web | spec.template.spec.containers[0].envFrom[0].secretRef | shop-config (Native) | container `web` reads every key of Secret `shop-config` into its environment (envFrom)",
        ]
    );
}

#[test]
fn native_secrets_mounted_as_files_and_csi_credentials_are_warnings() {
    let scan = scan("aks-demo", &seeded_objects(), &default_excluded());
    assert_eq!(
        lines(&scan.findings[&CheckId::SecretsAsFiles]),
        [
            "shop/CronJob/shop-report | spec.jobTemplate.spec.template.spec.volumes[0].projected.sources[0].secret | report-creds (Native) | projected volume `config` mounts Secret `report-creds` as files",
            "shop/StatefulSet/shop-cache | spec.template.spec.volumes[0].secret | cache-tls (Native) | volume `tls` mounts Secret `cache-tls` as files",
        ]
    );
    assert_eq!(
        lines(&scan.findings[&CheckId::CsiNodePublishSecret]),
        [
            "payments/Pod/payments-legacy-sp | spec.volumes[0].csi.nodePublishSecretRef | secrets-store-creds (Native) | CSI volume `secrets-store` (SecretProviderClass `payments-legacy`) reads Key Vault with credentials from Secret `secrets-store-creds`",
        ]
    );
    assert_eq!(scan.findings.len(), 3, "no other check has findings");
}

#[test]
fn exclusions_show_system_namespaces_tokens_and_helm_releases() {
    let scan = scan("aks-demo", &seeded_objects(), &default_excluded());
    assert_eq!(
        exclusion_lines(&scan.excluded),
        [
            "calico-system/Namespace/calico-system | excluded-namespace | listed in `[audit] exclude_namespaces`: 0 workloads not scanned",
            "gatekeeper-system/Namespace/gatekeeper-system | excluded-namespace | listed in `[audit] exclude_namespaces`: 0 workloads not scanned",
            "kube-node-lease/Namespace/kube-node-lease | excluded-namespace | listed in `[audit] exclude_namespaces`: 0 workloads not scanned",
            "kube-public/Namespace/kube-public | excluded-namespace | listed in `[audit] exclude_namespaces`: 0 workloads not scanned",
            "kube-system/Deployment/azure-policy-webhook | excluded-namespace | volume `cert` mounts Secret `azure-policy-webhook-cert` as files",
            "kube-system/Namespace/kube-system | excluded-namespace | listed in `[audit] exclude_namespaces`: 4 workloads not scanned",
            "shop/Secret/sh.helm.release.v1.shop.v1 | helm-release | release storage of Helm release `shop`",
            "shop/Secret/shop-deployer-token | service-account-token | service-account token of `shop-deployer`",
        ]
    );
}

#[test]
fn image_pull_secrets_are_listed_separately_at_the_workload() {
    let scan = scan("aks-demo", &seeded_objects(), &default_excluded());
    let pulls: Vec<String> = scan
        .image_pull_secrets
        .iter()
        .map(|p| format!("{}/{}/{} -> {}", p.namespace, p.kind, p.name, p.secret))
        .collect();
    assert_eq!(pulls, ["shop/Deployment/shop-web -> registry-creds"]);
}

#[test]
fn the_scan_counts_top_level_workloads_in_the_scanned_namespaces() {
    let scan = scan("aks-demo", &seeded_objects(), &default_excluded());
    assert_eq!(scan.namespaces_scanned, ["default", "payments", "shop"]);
    // log-agent; payments-api, payments-worker, payments-legacy-sp; shop-web, shop-cache,
    // shop-report, shop-api.
    assert_eq!(scan.workloads_scanned, 8);
}

#[test]
fn with_no_namespace_excluded_kube_system_findings_count() {
    let scan = scan("aks-demo", &seeded_objects(), &[]);
    let files = lines(&scan.findings[&CheckId::SecretsAsFiles]);
    assert_eq!(files.len(), 3, "{files:#?}");
    assert!(files[0].starts_with(
        "kube-system/Deployment/azure-policy-webhook | spec.template.spec.volumes[0].secret"
    ));
    assert!(scan.excluded.iter().all(|e| e.kind == "Secret"));
}

#[test]
fn secret_values_never_reach_the_scan_result() {
    let scan = scan("aks-demo", &seeded_objects(), &[]);
    let text = format!("{scan:?}");
    for value in [
        "placeholder-db-password",
        "placeholder-api-key",
        "placeholder-client-secret",
    ] {
        assert!(!text.contains(value), "{value}");
    }
}

#[test]
fn a_bare_pod_reading_a_service_account_token_is_excluded_not_failed() {
    let objects = ClusterObjects::default()
        .with(
            WorkloadKind::Pod,
            vec![json!({
                "metadata": {"name": "tool", "namespace": "ops"},
                "spec": {"containers": [{"name": "c", "env": [
                    {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "deployer-token", "key": "token"}}},
                    {"name": "MISSING", "valueFrom": {"secretKeyRef": {"name": "not-there", "key": "k"}}}
                ]}]}
            })],
        )
        .with_secrets(vec![json!({
            "metadata": {"name": "deployer-token", "namespace": "ops",
                         "annotations": {"kubernetes.io/service-account.name": "deployer"}},
            "type": "kubernetes.io/service-account-token"
        })]);
    let scan = scan("c1", &objects, &[]);
    assert_eq!(
        lines(&scan.findings[&CheckId::SecretsInEnv]),
        [
            "ops/Pod/tool | spec.containers[0].env[1].valueFrom.secretKeyRef | not-there (NotFound) | container `c` reads key `k` of Secret `not-there` into env var `MISSING` (the Secret does not exist)"
        ]
    );
    assert_eq!(
        exclusion_lines(&scan.excluded),
        [
            "ops/Pod/tool | service-account-token | container `c` reads key `token` of Secret `deployer-token` into env var `TOKEN`",
            "ops/Secret/deployer-token | service-account-token | service-account token of `deployer`",
        ]
    );
}
