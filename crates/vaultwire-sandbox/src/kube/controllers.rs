//! The control plane's workload controllers, as far as the sandbox's pods need them: a
//! Deployment keeps one ReplicaSet per pod template (scaling the others to zero), a ReplicaSet
//! keeps `replicas` pods, a StatefulSet keeps pods `NAME-0` … `NAME-(n-1)`, a DaemonSet one pod
//! on the sandbox's one node, and a Job one pod until it completes. CronJobs start nothing: the
//! sandbox runs no schedules. They run with the kubelet (`crate::kubelet`), before reads of
//! pods, events and Secrets, so a workload applied with kubectl gets pods that mount their
//! volumes.
//!
//! As Kubernetes' controllers do, each finds what it owns by controller `ownerReferences` (uid),
//! and a Deployment recognises its ReplicaSet by the pod template without the
//! `pod-template-hash` label; so the seeded workloads, which have their pods, are left as they
//! are. Pure: the caller passes `now`.

use jiff::Timestamp;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::cluster::KubeCluster;
use super::object;
use super::resources::{self, ResourceDef};
use super::seed::kubelet;

const HASH_LABEL: &str = "pod-template-hash";

impl KubeCluster {
    /// Runs every controller once; returns whether anything was written.
    pub fn reconcile_workloads(&mut self, now: Timestamp) -> bool {
        let before = self.revision();
        self.reconcile_deployments(now);
        self.reconcile_pod_owners(now);
        self.revision() != before
    }

    fn reconcile_deployments(&mut self, now: Timestamp) {
        let (Some(deployments), Some(sets)) = (
            resources::by_kind("apps", "Deployment"),
            resources::by_kind("apps", "ReplicaSet"),
        ) else {
            return;
        };
        let all: Vec<Value> = self
            .store()
            .list(deployments, None)
            .into_iter()
            .map(|stored| stored.object.clone())
            .collect();
        for deployment in all {
            let Some(uid) = object::uid(&deployment).map(str::to_owned) else {
                continue;
            };
            let namespace = object::namespace(&deployment)
                .unwrap_or_default()
                .to_owned();
            let template = deployment["spec"]["template"].clone();
            let replicas = replicas(&deployment);
            let owned: Vec<Value> = self
                .store()
                .list(sets, Some(&namespace))
                .into_iter()
                .map(|stored| stored.object.clone())
                .filter(|set| owned_by(set, &uid))
                .collect();
            let current = owned
                .iter()
                .find(|set| without_hash(&set["spec"]["template"]) == without_hash(&template))
                .and_then(|set| object::name(set))
                .map(str::to_owned);
            for set in &owned {
                let is_current = object::name(set) == current.as_deref();
                let wanted = if is_current { replicas } else { 0 };
                if set["spec"]["replicas"].as_u64() != Some(wanted) {
                    let mut set = set.clone();
                    set["spec"]["replicas"] = json!(wanted);
                    self.store_mut().write(sets, set);
                }
            }
            if current.is_none() {
                let revision = owned
                    .iter()
                    .filter_map(|set| {
                        set.pointer("/metadata/annotations/deployment.kubernetes.io~1revision")
                            .and_then(Value::as_str)
                            .and_then(|text| text.parse::<u64>().ok())
                    })
                    .max()
                    .unwrap_or(0)
                    + 1;
                let set = self.new_replica_set(&deployment, &uid, replicas, revision, now);
                self.store_mut().write(sets, set);
            }
        }
    }

    /// A ReplicaSet for `deployment`'s current template, named after its hash.
    fn new_replica_set(
        &mut self,
        deployment: &Value,
        uid: &str,
        replicas: u64,
        revision: u64,
        now: Timestamp,
    ) -> Value {
        let namespace = object::namespace(deployment).unwrap_or_default();
        let name = object::name(deployment).unwrap_or_default();
        let hash = template_hash(&deployment["spec"]["template"]);
        let mut template = deployment["spec"]["template"].clone();
        template["metadata"]["labels"][HASH_LABEL] = json!(hash);
        let mut selector = deployment["spec"]["selector"].clone();
        selector["matchLabels"][HASH_LABEL] = json!(hash);
        let set_uid = self.store_mut().mint_uid();
        json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": format!("{name}-{hash}"),
                "namespace": namespace,
                "uid": set_uid,
                "generation": 1,
                "creationTimestamp": super::admission::time(now),
                "labels": template["metadata"]["labels"],
                "annotations": {
                    "deployment.kubernetes.io/desired-replicas": replicas.to_string(),
                    "deployment.kubernetes.io/max-replicas": (replicas + replicas.div_ceil(4)).to_string(),
                    "deployment.kubernetes.io/revision": revision.to_string(),
                },
                "ownerReferences": [owner("apps/v1", "Deployment", name, uid)],
            },
            "spec": {"replicas": replicas, "selector": selector, "template": template},
        })
    }

    /// ReplicaSets, StatefulSets, DaemonSets and Jobs: each keeps the pods it should have.
    fn reconcile_pod_owners(&mut self, now: Timestamp) {
        let Some(pods) = resources::by_kind("", "Pod") else {
            return;
        };
        for (group, kind) in [
            ("apps", "ReplicaSet"),
            ("apps", "StatefulSet"),
            ("apps", "DaemonSet"),
            ("batch", "Job"),
        ] {
            let Some(def) = resources::by_kind(group, kind) else {
                continue;
            };
            let owners: Vec<Value> = self
                .store()
                .list(def, None)
                .into_iter()
                .map(|stored| stored.object.clone())
                .collect();
            for workload in owners {
                self.keep_pods(def, pods, &workload, now);
            }
        }
    }

    fn keep_pods(
        &mut self,
        def: &ResourceDef,
        pods: &ResourceDef,
        workload: &Value,
        now: Timestamp,
    ) {
        let Some(uid) = object::uid(workload).map(str::to_owned) else {
            return;
        };
        let namespace = object::namespace(workload).unwrap_or_default().to_owned();
        let name = object::name(workload).unwrap_or_default().to_owned();
        let owned: Vec<String> = self
            .store()
            .list(pods, Some(&namespace))
            .into_iter()
            .filter(|stored| owned_by(&stored.object, &uid))
            .filter_map(|stored| object::name(&stored.object).map(str::to_owned))
            .collect();
        let wanted: Vec<Option<String>> = match def.kind {
            "StatefulSet" => (0..replicas(workload))
                .map(|index| Some(format!("{name}-{index}")))
                .collect(),
            "DaemonSet" => vec![None],
            // A Job that ran keeps its pod; the sandbox's Jobs never fail.
            "Job"
                if workload
                    .pointer("/status/succeeded")
                    .and_then(Value::as_u64)
                    > Some(0) =>
            {
                Vec::new()
            }
            "Job" => vec![None],
            _ => vec![None; usize::try_from(replicas(workload)).unwrap_or(0)],
        };
        // Named pods (StatefulSet) are matched by name, the others by count.
        let named: Vec<&String> = wanted.iter().flatten().collect();
        let missing: Vec<Option<String>> = if named.is_empty() {
            let count = wanted.len().saturating_sub(owned.len());
            vec![None; count]
        } else {
            named
                .iter()
                .filter(|pod| !owned.contains(pod))
                .map(|pod| Some((*pod).clone()))
                .collect()
        };
        let surplus: Vec<String> = if named.is_empty() {
            if def.kind == "Job" {
                Vec::new()
            } else {
                owned.iter().skip(wanted.len()).cloned().collect()
            }
        } else {
            owned
                .iter()
                .filter(|pod| !named.contains(pod))
                .cloned()
                .collect()
        };
        for pod_name in missing {
            let pod = self.new_pod(def, workload, &uid, pod_name, now);
            self.store_mut().write(pods, pod);
        }
        for pod_name in surplus {
            self.store_mut().remove(pods, Some(&namespace), &pod_name);
        }
    }

    /// A pod from `workload`'s template, admitted and scheduled on the node.
    fn new_pod(
        &mut self,
        def: &ResourceDef,
        workload: &Value,
        owner_uid: &str,
        name: Option<String>,
        now: Timestamp,
    ) -> Value {
        let namespace = object::namespace(workload).unwrap_or_default();
        let owner_name = object::name(workload).unwrap_or_default();
        let suffix = self.store_mut().mint_suffix();
        let name = name.unwrap_or_else(|| format!("{owner_name}-{suffix}"));
        let template = &workload["spec"]["template"];
        let uid = self.store_mut().mint_uid();
        let mut pod = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": uid,
                "creationTimestamp": super::admission::time(now),
                "labels": template["metadata"]["labels"],
                "ownerReferences": [owner(
                    if def.group == "batch" { "batch/v1" } else { "apps/v1" },
                    def.kind,
                    owner_name,
                    owner_uid,
                )],
            },
            "spec": template["spec"],
        });
        if let Some(annotations) = template["metadata"].get("annotations") {
            pod["metadata"]["annotations"] = annotations.clone();
        }
        if pod["metadata"]["labels"].is_null() {
            object::metadata_mut(&mut pod).remove("labels");
        }
        let suffix = self.store_mut().mint_suffix();
        kubelet::admit(&mut pod, &suffix);
        // A pod with Secrets Store CSI volumes waits for the kubelet to mount them.
        let csi = object::array_at(&pod, "spec.volumes")
            .iter()
            .any(|volume| object::str_at(volume, "csi.driver") == Some(super::node::CSI_DRIVER));
        let hint = if csi {
            json!({"phase": "Pending", "waiting": "ContainerCreating"})
        } else {
            json!({"phase": "Running"})
        };
        let index = u8::try_from(uid.bytes().map(u32::from).sum::<u32>() % 200).unwrap_or(0);
        pod["status"] = kubelet::status(&pod, Some(&hint), now, index);
        pod
    }
}

fn replicas(workload: &Value) -> u64 {
    workload["spec"]["replicas"].as_u64().unwrap_or(1)
}

fn owner(api_version: &str, kind: &str, name: &str, uid: &str) -> Value {
    json!({"apiVersion": api_version, "kind": kind, "name": name, "uid": uid, "controller": true, "blockOwnerDeletion": true})
}

/// Whether `object`'s controller is the object with `uid`.
fn owned_by(object: &Value, uid: &str) -> bool {
    object::metadata(object)
        .and_then(|meta| meta.get("ownerReferences"))
        .and_then(Value::as_array)
        .is_some_and(|owners| {
            owners.iter().any(|owner| {
                owner.get("uid").and_then(Value::as_str) == Some(uid)
                    && owner.get("controller") == Some(&json!(true))
            })
        })
}

/// A pod template without the `pod-template-hash` label (and without labels once empty).
fn without_hash(template: &Value) -> Value {
    let mut template = template.clone();
    if let Some(labels) = template
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(HASH_LABEL);
    }
    template
}

/// Ten characters from the API server's name alphabet, stable for the template.
fn template_hash(template: &Value) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let digest = Sha256::digest(without_hash(template).to_string().as_bytes());
    digest
        .iter()
        .take(10)
        .map(|byte| char::from(ALPHABET[usize::from(*byte) % ALPHABET.len()]))
        .collect()
}
