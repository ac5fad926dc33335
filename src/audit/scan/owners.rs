//! Which top-level workload an object belongs to: Pod → ReplicaSet → Deployment, Pod → Job →
//! CronJob, Pod → StatefulSet or DaemonSet, by controller `ownerReferences`. Pure.
//!
//! An owner the scan did not list (an operator's custom resource, a node for a static pod)
//! ends the walk: the finding is then reported at the highest object the scan knows.

use std::collections::BTreeMap;

use serde_json::Value;

use super::objects::{ClusterObjects, WorkloadKind, controller, name, namespace};

/// A workload by namespace, kind and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkloadRef {
    pub namespace: String,
    pub kind: WorkloadKind,
    pub name: String,
}

impl WorkloadRef {
    pub fn of(kind: WorkloadKind, object: &Value) -> Self {
        Self {
            namespace: namespace(object).to_owned(),
            kind,
            name: name(object).to_owned(),
        }
    }
}

/// Every listed workload and the workload that controls it, if the scan listed that one too.
#[derive(Debug, Clone, Default)]
pub struct Owners {
    parents: BTreeMap<WorkloadRef, Option<WorkloadRef>>,
}

/// Chains longer than this are cut (an ownerReferences cycle would otherwise never end).
const MAX_DEPTH: usize = 8;

impl Owners {
    pub fn index(objects: &ClusterObjects) -> Self {
        let parents = objects
            .iter()
            .map(|(kind, object)| {
                let me = WorkloadRef::of(kind, object);
                let parent = controller(object).and_then(|(owner_kind, owner_name)| {
                    Some(WorkloadRef {
                        namespace: me.namespace.clone(),
                        kind: WorkloadKind::from_kind(owner_kind)?,
                        name: owner_name.to_owned(),
                    })
                });
                (me, parent)
            })
            .collect::<BTreeMap<_, _>>();
        Self { parents }
    }

    /// The top-level workload `workload` belongs to; itself when it has no listed owner.
    pub fn root(&self, workload: &WorkloadRef) -> WorkloadRef {
        let mut current = workload.clone();
        for _ in 0..MAX_DEPTH {
            match self.parents.get(&current) {
                Some(Some(parent)) if self.parents.contains_key(parent) => {
                    current = parent.clone();
                }
                _ => break,
            }
        }
        current
    }

    /// Whether `workload` is top-level: it has no listed owner.
    pub fn is_root(&self, workload: &WorkloadRef) -> bool {
        self.root(workload) == *workload
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn owned(name: &str, owner: Option<(&str, &str)>) -> Value {
        let mut object = json!({"metadata": {"name": name, "namespace": "ns"}});
        if let Some((kind, owner)) = owner {
            object["metadata"]["ownerReferences"] =
                json!([{"kind": kind, "name": owner, "controller": true}]);
        }
        object
    }

    #[test]
    fn pods_resolve_to_the_deployment_or_cronjob_at_the_top() {
        let objects = ClusterObjects::default()
            .with(WorkloadKind::Deployment, vec![owned("web", None)])
            .with(
                WorkloadKind::ReplicaSet,
                vec![owned("web-1", Some(("Deployment", "web")))],
            )
            .with(WorkloadKind::CronJob, vec![owned("nightly", None)])
            .with(
                WorkloadKind::Job,
                vec![owned("nightly-1", Some(("CronJob", "nightly")))],
            )
            .with(
                WorkloadKind::Pod,
                vec![
                    owned("web-1-a", Some(("ReplicaSet", "web-1"))),
                    owned("nightly-1-b", Some(("Job", "nightly-1"))),
                    owned("operator-pod", Some(("Rollout", "canary"))),
                    owned("orphan", Some(("ReplicaSet", "deleted"))),
                ],
            );
        let owners = Owners::index(&objects);
        let root = |kind, name: &str| {
            let root = owners.root(&WorkloadRef {
                namespace: "ns".into(),
                kind,
                name: name.into(),
            });
            format!("{}/{}", root.kind.as_str(), root.name)
        };
        assert_eq!(root(WorkloadKind::Pod, "web-1-a"), "Deployment/web");
        assert_eq!(root(WorkloadKind::ReplicaSet, "web-1"), "Deployment/web");
        assert_eq!(root(WorkloadKind::Pod, "nightly-1-b"), "CronJob/nightly");
        assert_eq!(root(WorkloadKind::Pod, "operator-pod"), "Pod/operator-pod");
        assert_eq!(root(WorkloadKind::Pod, "orphan"), "Pod/orphan");
    }

    #[test]
    fn an_ownership_cycle_ends() {
        let objects = ClusterObjects::default().with(
            WorkloadKind::ReplicaSet,
            vec![
                owned("a", Some(("ReplicaSet", "b"))),
                owned("b", Some(("ReplicaSet", "a"))),
            ],
        );
        let owners = Owners::index(&objects);
        let start = WorkloadRef {
            namespace: "ns".into(),
            kind: WorkloadKind::ReplicaSet,
            name: "a".into(),
        };
        assert_eq!(owners.root(&start).kind, WorkloadKind::ReplicaSet);
    }
}
