//! The workload scan: every consumption of a Kubernetes Secret by a workload in one cluster,
//! reported once at the owning top-level workload, and what was left out and why.
//!
//! Pure: a function of the listed objects and the excluded namespaces. Pods and their
//! controllers' templates are all walked, so a bare Pod is found too; the same use seen in a
//! Pod and in its Deployment counts once, at the Deployment.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::objects::{ClusterObjects, annotation, label, name, namespace, text};
use super::owners::{Owners, WorkloadRef};
use super::pod_spec::{SecretUse, UseKind, image_pull_secrets, secret_uses};
use crate::audit::catalog::CheckId;
use crate::audit::model::{
    Evidence, Exclusion, ExclusionReason, ImagePullSecretUse, SecretOrigin, SecretRef,
};

/// The label the Secrets Store CSI driver puts on the Secrets it syncs from Key Vault.
pub const SYNCED_LABEL: (&str, &str) = ("secrets-store.csi.k8s.io/managed", "true");

/// What the scan of one cluster found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// Evidence for [`CheckId::SecretsInEnv`], [`CheckId::SecretsAsFiles`] and
    /// [`CheckId::CsiNodePublishSecret`], sorted.
    pub findings: BTreeMap<CheckId, Vec<Evidence>>,
    pub excluded: Vec<Exclusion>,
    pub image_pull_secrets: Vec<ImagePullSecretUse>,
    pub namespaces_scanned: Vec<String>,
    pub workloads_scanned: usize,
}

/// What kind of Secret a name refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SecretClass {
    ServiceAccountToken { account: String },
    HelmRelease { release: String },
    Synced,
    Native,
}

fn classify(secret: &Value) -> SecretClass {
    match text(secret, "/type") {
        Some("kubernetes.io/service-account-token") => SecretClass::ServiceAccountToken {
            account: annotation(secret, "kubernetes.io/service-account.name")
                .unwrap_or("?")
                .to_owned(),
        },
        Some("helm.sh/release.v1") => SecretClass::HelmRelease {
            release: label(secret, "name").unwrap_or("?").to_owned(),
        },
        _ if label(secret, SYNCED_LABEL.0) == Some(SYNCED_LABEL.1) => SecretClass::Synced,
        _ => SecretClass::Native,
    }
}

/// What one top-level workload consumes: every Secret use of its own pod spec and its
/// children's, each once, and the image pull secrets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Consumer {
    /// By [`SecretUse::identity`].
    pub uses: BTreeMap<String, SecretUse>,
    pub image_pull_secrets: BTreeSet<String>,
}

/// Every top-level workload of `objects` (the roots of `owners`) and what it consumes.
pub fn consumers(objects: &ClusterObjects, owners: &Owners) -> BTreeMap<WorkloadRef, Consumer> {
    // Parents come first in `objects.iter()`, so a use keeps the first place it was seen at:
    // the top-level workload's own template when it has one.
    let mut found: BTreeMap<WorkloadRef, Consumer> = BTreeMap::new();
    for (kind, object) in objects.iter() {
        let root = owners.root(&WorkloadRef::of(kind, object));
        let consumer = found.entry(root).or_default();
        let Some(spec) = kind.pod_spec(object) else {
            continue;
        };
        for use_ in secret_uses(spec) {
            consumer.uses.entry(use_.identity.clone()).or_insert(use_);
        }
        consumer.image_pull_secrets.extend(image_pull_secrets(spec));
    }
    found
}

fn check_of(kind: UseKind) -> CheckId {
    match kind {
        UseKind::EnvKeyRef | UseKind::EnvFrom => CheckId::SecretsInEnv,
        UseKind::Volume | UseKind::ProjectedVolume => CheckId::SecretsAsFiles,
        UseKind::CsiNodePublish => CheckId::CsiNodePublishSecret,
    }
}

/// Scans `objects` of `cluster`, leaving out the workloads of `excluded_namespaces`.
pub fn scan(cluster: &str, objects: &ClusterObjects, excluded_namespaces: &[String]) -> Scan {
    let excluded_ns: BTreeSet<&str> = excluded_namespaces.iter().map(String::as_str).collect();
    let owners = Owners::index(objects);
    let secrets: BTreeMap<(&str, &str), SecretClass> = objects
        .secrets
        .iter()
        .map(|secret| ((namespace(secret), name(secret)), classify(secret)))
        .collect();

    let consumers = consumers(objects, &owners);
    let roots: BTreeSet<WorkloadRef> = consumers.keys().cloned().collect();
    let uses = consumers
        .iter()
        .flat_map(|(root, found)| found.uses.values().map(move |use_| (root, use_.clone())));
    let pulls: BTreeSet<(WorkloadRef, String)> = consumers
        .iter()
        .flat_map(|(root, found)| {
            found
                .image_pull_secrets
                .iter()
                .map(move |secret| (root.clone(), secret.clone()))
        })
        .collect();

    let mut result = Scan::default();
    for (root, found) in uses {
        let root = root.clone();
        let detail = found.detail.clone();
        let exclude = |reason| Exclusion {
            cluster: cluster.to_owned(),
            namespace: root.namespace.clone(),
            kind: root.kind.as_str().to_owned(),
            name: root.name.clone(),
            reason,
            detail: detail.clone(),
        };
        if excluded_ns.contains(root.namespace.as_str()) {
            result
                .excluded
                .push(exclude(ExclusionReason::ExcludedNamespace));
            continue;
        }
        let origin = match secrets.get(&(root.namespace.as_str(), found.secret.as_str())) {
            Some(SecretClass::ServiceAccountToken { .. }) => {
                result
                    .excluded
                    .push(exclude(ExclusionReason::ServiceAccountToken));
                continue;
            }
            Some(SecretClass::HelmRelease { .. }) => {
                result.excluded.push(exclude(ExclusionReason::HelmRelease));
                continue;
            }
            Some(SecretClass::Synced) => SecretOrigin::SyncedFromKeyVault,
            Some(SecretClass::Native) => SecretOrigin::Native,
            None => SecretOrigin::NotFound,
        };
        let detail = match origin {
            SecretOrigin::SyncedFromKeyVault => {
                format!("{detail} (synced from Key Vault by the CSI driver)")
            }
            SecretOrigin::NotFound => format!("{detail} (the Secret does not exist)"),
            SecretOrigin::Native => detail,
        };
        result
            .findings
            .entry(check_of(found.kind))
            .or_default()
            .push(Evidence {
                resource: cluster.to_owned(),
                namespace: Some(root.namespace.clone()),
                kind: root.kind.as_str().to_owned(),
                name: root.name.clone(),
                field: Some(format!("{}.{}", root.kind.pod_spec_path(), found.field)),
                secret: Some(SecretRef {
                    name: found.secret,
                    origin,
                }),
                detail,
            });
    }
    for evidence in result.findings.values_mut() {
        evidence.sort();
    }

    for secret in &objects.secrets {
        let (secret_ns, secret_name) = (namespace(secret), name(secret));
        if excluded_ns.contains(secret_ns) {
            continue;
        }
        let (reason, detail) = match classify(secret) {
            SecretClass::ServiceAccountToken { account } => (
                ExclusionReason::ServiceAccountToken,
                format!("service-account token of `{account}`"),
            ),
            SecretClass::HelmRelease { release } => (
                ExclusionReason::HelmRelease,
                format!("release storage of Helm release `{release}`"),
            ),
            SecretClass::Synced | SecretClass::Native => continue,
        };
        result.excluded.push(Exclusion {
            cluster: cluster.to_owned(),
            namespace: secret_ns.to_owned(),
            kind: "Secret".to_owned(),
            name: secret_name.to_owned(),
            reason,
            detail,
        });
    }

    let mut scanned_namespaces = BTreeSet::new();
    for excluded in excluded_namespaces {
        let skipped = roots.iter().filter(|r| &r.namespace == excluded).count();
        result.excluded.push(Exclusion {
            cluster: cluster.to_owned(),
            namespace: excluded.clone(),
            kind: "Namespace".to_owned(),
            name: excluded.clone(),
            reason: ExclusionReason::ExcludedNamespace,
            detail: format!(
                "listed in `[audit] exclude_namespaces`: {skipped} workload{} not scanned",
                if skipped == 1 { "" } else { "s" }
            ),
        });
    }
    for root in roots
        .iter()
        .filter(|r| !excluded_ns.contains(r.namespace.as_str()))
    {
        scanned_namespaces.insert(root.namespace.clone());
        result.workloads_scanned += 1;
    }
    scanned_namespaces.extend(
        objects
            .secrets
            .iter()
            .map(namespace)
            .filter(|ns| !excluded_ns.contains(ns))
            .map(str::to_owned),
    );
    result.namespaces_scanned = scanned_namespaces.into_iter().collect();
    result.excluded.sort();

    result.image_pull_secrets = pulls
        .into_iter()
        .filter(|(root, _)| !excluded_ns.contains(root.namespace.as_str()))
        .map(|(root, secret)| ImagePullSecretUse {
            cluster: cluster.to_owned(),
            namespace: root.namespace,
            kind: root.kind.as_str().to_owned(),
            name: root.name,
            secret,
        })
        .collect();
    result.image_pull_secrets.sort();
    result
}
