//! `secrets-in-env`, `secrets-as-files` and `csi-node-publish-secret`: the workload scan of
//! each plan cluster turned into checks. Pure.

use crate::audit::catalog::CheckId;
use crate::audit::gather::ClusterData;
use crate::audit::model::{Check, Status};
use crate::audit::scan::{Scan, scan};
use crate::plan::model::Addon;

const CHECKS: [CheckId; 3] = [
    CheckId::SecretsInEnv,
    CheckId::SecretsAsFiles,
    CheckId::CsiNodePublishSecret,
];

/// The three workload checks of the cluster of `[addon.KEY]`, and the scan behind them (`None`
/// when the cluster does not exist).
pub fn check(
    key: &str,
    addon: &Addon,
    data: Option<&ClusterData>,
    excluded_namespaces: &[String],
) -> (Vec<Check>, Option<Scan>) {
    let address = format!("addon.{key}");
    let cluster = addon.cluster.value.as_str();
    let Some(kubernetes) = data.and_then(|data| data.kubernetes.as_ref()) else {
        let checks = CHECKS
            .into_iter()
            .map(|id| {
                Check::new(
                    id,
                    &address,
                    cluster,
                    Status::Skip,
                    format!("aks cluster `{cluster}` does not exist"),
                )
            })
            .collect();
        return (checks, None);
    };
    let result = scan(cluster, &kubernetes.objects, excluded_namespaces);
    let scope = format!(
        "{} workloads in {} namespaces",
        result.workloads_scanned,
        result.namespaces_scanned.len()
    );
    let checks = CHECKS
        .into_iter()
        .map(|id| {
            let evidence = result.findings.get(&id).cloned().unwrap_or_default();
            let workloads = {
                let mut names: Vec<(&Option<String>, &String, &String)> = evidence
                    .iter()
                    .map(|e| (&e.namespace, &e.kind, &e.name))
                    .collect();
                names.dedup();
                names.len()
            };
            let (status, message) = if evidence.is_empty() {
                (Status::Pass, format!("none of {scope}"))
            } else {
                let what = match id {
                    CheckId::SecretsInEnv => "read Secrets into environment variables",
                    CheckId::SecretsAsFiles => "mount native Kubernetes Secrets",
                    _ => "take Key Vault credentials from a Secret",
                };
                (id.severity(), format!("{workloads} of {scope} {what}"))
            };
            Check::new(id, &address, cluster, status, message).with_evidence(evidence)
        })
        .collect();
    (checks, Some(result))
}
