//! The Kubernetes objects the workload scan reads, as JSON, and the few accessors it needs.
//!
//! Objects stay `serde_json::Value` (as the API returns them): the scan reads a handful of
//! fields and must not drop or choke on anything else. Lists are kept per kind because list
//! items from an API server carry no `kind`. Pure data; no I/O.

use std::collections::BTreeMap;

use serde_json::Value;

/// The kinds whose pod specs (or pod templates) the scan walks, parents before children.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadKind {
    CronJob,
    Deployment,
    StatefulSet,
    DaemonSet,
    Job,
    ReplicaSet,
    Pod,
}

impl WorkloadKind {
    pub const ALL: [WorkloadKind; 7] = [
        WorkloadKind::CronJob,
        WorkloadKind::Deployment,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
        WorkloadKind::Job,
        WorkloadKind::ReplicaSet,
        WorkloadKind::Pod,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::CronJob => "CronJob",
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::Job => "Job",
            WorkloadKind::ReplicaSet => "ReplicaSet",
            WorkloadKind::Pod => "Pod",
        }
    }

    pub fn from_kind(kind: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == kind)
    }

    /// `(group, version, plural)` of the kind's API.
    pub fn api(self) -> (&'static str, &'static str, &'static str) {
        match self {
            WorkloadKind::CronJob => ("batch", "v1", "cronjobs"),
            WorkloadKind::Deployment => ("apps", "v1", "deployments"),
            WorkloadKind::StatefulSet => ("apps", "v1", "statefulsets"),
            WorkloadKind::DaemonSet => ("apps", "v1", "daemonsets"),
            WorkloadKind::Job => ("batch", "v1", "jobs"),
            WorkloadKind::ReplicaSet => ("apps", "v1", "replicasets"),
            WorkloadKind::Pod => ("", "v1", "pods"),
        }
    }

    /// The dotted path of the pod spec inside an object of this kind.
    pub fn pod_spec_path(self) -> &'static str {
        match self {
            WorkloadKind::Pod => "spec",
            WorkloadKind::CronJob => "spec.jobTemplate.spec.template.spec",
            _ => "spec.template.spec",
        }
    }

    /// The pod spec of `object`, if it has one.
    pub fn pod_spec(self, object: &Value) -> Option<&Value> {
        let pointer = format!("/{}", self.pod_spec_path().replace('.', "/"));
        object.pointer(&pointer).filter(|spec| spec.is_object())
    }
}

/// Everything the scan reads from one cluster.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterObjects {
    /// Items of each kind's list across all namespaces.
    pub workloads: BTreeMap<WorkloadKind, Vec<Value>>,
    /// Secrets across all namespaces: metadata and `type` are all the scan reads (the audit
    /// lists them metadata-only, so values never reach it).
    pub secrets: Vec<Value>,
}

impl ClusterObjects {
    pub fn with(mut self, kind: WorkloadKind, items: Vec<Value>) -> Self {
        self.workloads.insert(kind, items);
        self
    }

    pub fn with_secrets(mut self, secrets: Vec<Value>) -> Self {
        self.secrets = secrets;
        self
    }

    /// Every workload object with its kind, parents' kinds first.
    pub fn iter(&self) -> impl Iterator<Item = (WorkloadKind, &Value)> {
        self.workloads
            .iter()
            .flat_map(|(kind, items)| items.iter().map(move |item| (*kind, item)))
    }
}

pub fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

pub fn name(object: &Value) -> &str {
    text(object, "/metadata/name").unwrap_or_default()
}

pub fn namespace(object: &Value) -> &str {
    text(object, "/metadata/namespace").unwrap_or_default()
}

pub fn label<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object
        .pointer("/metadata/labels")
        .and_then(|labels| labels.get(key))
        .and_then(Value::as_str)
}

pub fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object
        .pointer("/metadata/annotations")
        .and_then(|annotations| annotations.get(key))
        .and_then(Value::as_str)
}

/// The `(kind, name)` of the controller that owns `object`: the owner reference marked
/// `controller: true`, else the only owner reference.
pub fn controller(object: &Value) -> Option<(&str, &str)> {
    let owners = object.pointer("/metadata/ownerReferences")?.as_array()?;
    let pick = owners
        .iter()
        .find(|owner| owner.get("controller").and_then(Value::as_bool) == Some(true))
        .or_else(|| (owners.len() == 1).then(|| owners.first()).flatten())?;
    Some((text(pick, "/kind")?, text(pick, "/name")?))
}

/// Items of an API list response (`{"items": [...]}`).
pub fn list_items(list: &Value) -> Vec<Value> {
    list.get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}
