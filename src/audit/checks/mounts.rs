//! `spc-pods-mount`: the pods that mount a SecretProviderClass of the plan are not stuck in
//! `ContainerCreating` with the kubelet's `FailedMount` Events. Judged from the pods' status
//! and those Events only: no secret value is read. Pure.

use serde_json::Value;

use super::spc::Subject;
use crate::audit::catalog::CheckId;
use crate::audit::gather::{FailedMount, Gathered};
use crate::audit::model::{Check, Evidence, Status};
use crate::audit::scan::WorkloadKind;
use crate::plan::model::{Plan, Spc};
use crate::providers::kube::{mount_failure_summary, mounts_class};

pub fn check(plan: &Plan, key: &str, spc: &Spc, gathered: &Gathered) -> Check {
    let subject = Subject::of(plan, key, spc);
    let skip = |reason: &str| subject.check(CheckId::SpcPodsMount, Status::Skip, reason);
    let Some(kubernetes) = gathered
        .clusters
        .get(spc.addon.as_str())
        .and_then(|cluster| cluster.kubernetes.as_ref())
    else {
        return skip("the cluster was not read");
    };
    let pods: Vec<&Value> = kubernetes
        .objects
        .workloads
        .get(&WorkloadKind::Pod)
        .into_iter()
        .flatten()
        .filter(|pod| mounts(pod, &subject.namespace, &subject.name))
        .collect();
    if pods.is_empty() {
        return skip("no pod mounts it");
    }
    let mut evidence = Vec::new();
    for pod in &pods {
        let name = text(pod, "/metadata/name");
        let uid = text(pod, "/metadata/uid");
        let phase = text(pod, "/status/phase");
        if phase == "Running" || phase == "Succeeded" {
            continue;
        }
        let latest = kubernetes.failed_mounts.iter().rev().find(|event| {
            event.namespace == subject.namespace
                && event.pod == name
                && (event.uid.is_empty() || event.uid == uid)
        });
        if let Some(event) = latest {
            evidence.push(Evidence {
                resource: format!("{}/{}/Pod/{name}", subject.cluster, subject.namespace),
                namespace: Some(subject.namespace.clone()),
                kind: "Pod".to_owned(),
                name: name.to_owned(),
                field: Some("events/FailedMount".to_owned()),
                secret: None,
                detail: reason(event),
            });
        }
    }
    let running = pods
        .iter()
        .filter(|pod| matches!(text(pod, "/status/phase"), "Running" | "Succeeded"))
        .count();
    let (status, message) = if evidence.is_empty() {
        let message = if running == pods.len() {
            format!("{} pod(s) mount it and run", pods.len())
        } else {
            format!(
                "{} pod(s) mount it: {running} run, {} wait without a FailedMount event",
                pods.len(),
                pods.len() - running
            )
        };
        (Status::Pass, message)
    } else {
        (
            CheckId::SpcPodsMount.severity(),
            format!(
                "{} of {} pod(s) that mount it fail to (FailedMount)",
                evidence.len(),
                pods.len()
            ),
        )
    };
    subject
        .check(CheckId::SpcPodsMount, status, message)
        .with_evidence(evidence)
}

/// Whether `pod` in `namespace` has a CSI volume of the Secrets Store driver naming `class`.
fn mounts(pod: &Value, namespace: &str, class: &str) -> bool {
    text(pod, "/metadata/namespace") == namespace && mounts_class(pod, class)
}

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The Event's message, down to what it says went wrong (`mount_failure_summary`).
fn reason(event: &FailedMount) -> String {
    mount_failure_summary(&event.message, event.count)
}
