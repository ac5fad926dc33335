//! The audit report: checks with their status and evidence, what was excluded and why, the
//! image pull secrets seen, and the verdict that decides the exit code.
//!
//! Data only, built by `audit::evaluate` and rendered by `audit::render`; every list is kept in
//! a deterministic order. Nothing here may ever hold a secret value: evidence names Secrets,
//! keys and fields, never what they contain.

use serde::Serialize;

use super::catalog::{Benchmark, CheckGroup, CheckId};

/// The version of the JSON report format (`docs/audit-format.md`).
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Warn,
    Skip,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Skip => "skip",
        }
    }
}

/// Where a Secret that evidence names comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecretOrigin {
    /// A Kubernetes Secret created in the cluster.
    Native,
    /// Synced from Key Vault by the CSI driver (label `secrets-store.csi.k8s.io/managed=true`).
    SyncedFromKeyVault,
    /// The workload refers to a Secret that does not exist (yet).
    NotFound,
}

/// A Kubernetes Secret named by evidence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SecretRef {
    pub name: String,
    pub origin: SecretOrigin,
}

/// One fact behind a check's status.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Evidence {
    /// The cluster, or the Azure resource (vault, cluster) by name.
    pub resource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The object's kind: `Deployment`, `SecretProviderClass`, `Microsoft.KeyVault/vaults`, …
    pub kind: String,
    pub name: String,
    /// The field the fact is about, such as
    /// `spec.template.spec.containers[0].env[1].valueFrom.secretKeyRef`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The Kubernetes Secret involved, for workload findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretRef>,
    pub detail: String,
}

impl Evidence {
    /// `cluster/namespace/Kind/name` (or `resource/Kind/name`), the SARIF logical location.
    pub fn location(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("{}/{namespace}/{}/{}", self.resource, self.kind, self.name),
            None => format!("{}/{}/{}", self.resource, self.kind, self.name),
        }
    }
}

/// A line in the plan file, for resources the plan defines.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PlanLocation {
    /// The address, such as `spc.payments-db`.
    pub address: String,
    /// 1-based line of the resource's table header, once known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// One evaluation of a check on one subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub id: CheckId,
    pub title: &'static str,
    pub group: CheckGroup,
    pub benchmarks: &'static [Benchmark],
    /// What was checked: a cluster, `namespace/name` of a SecretProviderClass, a vault name.
    pub subject: String,
    pub status: Status,
    /// One sentence: what was found, or why the check was skipped.
    pub message: String,
    pub evidence: Vec<Evidence>,
    /// How to fix it; empty when the check passed.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub remediation: String,
    /// The plan resource the check is about.
    pub plan: PlanLocation,
}

impl Check {
    /// A check of `id` on `subject`, about the plan resource `address`.
    pub fn new(
        id: CheckId,
        address: impl Into<String>,
        subject: impl Into<String>,
        status: Status,
        message: impl Into<String>,
    ) -> Self {
        let remediation = match status {
            Status::Fail | Status::Warn => id.remediation().to_owned(),
            Status::Pass | Status::Skip => String::new(),
        };
        Self {
            id,
            title: id.title(),
            group: id.group(),
            benchmarks: id.benchmarks(),
            subject: subject.into(),
            status,
            message: message.into(),
            evidence: Vec::new(),
            remediation,
            plan: PlanLocation {
                address: address.into(),
                line: None,
            },
        }
    }

    pub fn with_evidence(mut self, evidence: Vec<Evidence>) -> Self {
        self.evidence = evidence;
        self.evidence.sort();
        self
    }
}

/// Why something was left out of the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExclusionReason {
    /// The namespace is in `[audit] exclude_namespaces`.
    ExcludedNamespace,
    /// A `kubernetes.io/service-account-token` Secret.
    ServiceAccountToken,
    /// A `helm.sh/release.v1` Secret: Helm's release storage.
    HelmRelease,
}

impl ExclusionReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ExclusionReason::ExcludedNamespace => "excluded-namespace",
            ExclusionReason::ServiceAccountToken => "service-account-token",
            ExclusionReason::HelmRelease => "helm-release",
        }
    }
}

/// Something the audit saw and deliberately did not judge.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Exclusion {
    pub cluster: String,
    /// The namespace the object is in (for a namespace, its own name).
    pub namespace: String,
    /// `Namespace`, `Secret`, or the kind of a workload whose Secret use was not judged.
    pub kind: String,
    pub name: String,
    pub reason: ExclusionReason,
    pub detail: String,
}

/// A workload that pulls images with a registry Secret: listed, not judged.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ImagePullSecretUse {
    pub cluster: String,
    pub namespace: String,
    pub kind: String,
    pub name: String,
    pub secret: String,
}

/// One audited cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ClusterSummary {
    /// The plan's `[addon.KEY]`.
    pub address: String,
    pub name: String,
    pub resource_group: String,
    /// Namespaces whose workloads were scanned, sorted.
    pub namespaces_scanned: Vec<String>,
    /// Top-level workloads scanned (a Deployment with its ReplicaSets and Pods counts once).
    pub workloads_scanned: usize,
}

/// Where the plan points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportTarget {
    pub cloud: String,
    pub subscription_id: String,
    pub tenant_id: String,
}

/// Whether the audit passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// No check failed (warnings and skips allowed): exit code 0.
    #[default]
    Compliant,
    /// At least one check failed: exit code 4.
    Violations,
}

/// Counts of checks by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub skip: usize,
    pub verdict: Verdict,
}

impl Summary {
    pub fn of(checks: &[Check]) -> Self {
        let count = |status| checks.iter().filter(|c| c.status == status).count();
        let fail = count(Status::Fail);
        Self {
            pass: count(Status::Pass),
            fail,
            warn: count(Status::Warn),
            skip: count(Status::Skip),
            verdict: if fail == 0 {
                Verdict::Compliant
            } else {
                Verdict::Violations
            },
        }
    }
}

/// The whole audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub format_version: u32,
    pub vaultwire_version: &'static str,
    /// The plan file as the user named it.
    pub plan_file: String,
    pub target: ReportTarget,
    pub clusters: Vec<ClusterSummary>,
    /// Sorted by check id, then subject.
    pub checks: Vec<Check>,
    pub excluded: Vec<Exclusion>,
    pub image_pull_secrets: Vec<ImagePullSecretUse>,
    pub summary: Summary,
}
