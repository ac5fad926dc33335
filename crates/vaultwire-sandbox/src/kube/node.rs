//! What the cluster's node does through its API server, for the sandbox's kubelet
//! (`crate::kubelet`): the pods that mount Secrets Store CSI volumes, their status as the
//! kubelet reports it, the Events it records, and the Secrets the driver syncs.
//!
//! Pure, like the rest of `kube`: the caller passes `now`.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::cluster::KubeCluster;
use super::object;
use super::resources::{self, CSI_GROUP};
use super::seed::kubelet;

/// The CSI driver name of the Secrets Store CSI driver.
pub const CSI_DRIVER: &str = "secrets-store.csi.k8s.io";

/// A pod with at least one Secrets Store CSI volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsiPod {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub service_account: String,
    /// Whether the pod already runs: its volumes were mounted before the kubelet saw it.
    pub running: bool,
    pub volumes: Vec<CsiVolume>,
}

/// One `csi` volume of driver `secrets-store.csi.k8s.io`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsiVolume {
    /// The pod's name for the volume (`spec.volumes[].name`).
    pub name: String,
    /// `volumeAttributes.secretProviderClass`, if set.
    pub class: Option<String>,
    /// `nodePublishSecretRef.name`: a Secret with a service principal's credentials.
    pub node_publish_secret: Option<String>,
}

/// How the kubelet last left a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodState {
    /// Waiting for its volumes: phase Pending, containers `ContainerCreating`.
    ContainerCreating,
    Running,
}

impl KubeCluster {
    /// The store's revision: it moves on with every write.
    pub fn revision(&self) -> u64 {
        self.store().revision()
    }

    /// Every pod with a Secrets Store CSI volume, in namespace and name order.
    pub fn csi_pods(&self) -> Vec<CsiPod> {
        let Some(def) = resources::by_kind("", "Pod") else {
            return Vec::new();
        };
        self.store()
            .list(def, None)
            .into_iter()
            .filter_map(|stored| csi_pod(&stored.object))
            .collect()
    }

    /// The SecretProviderClass `namespace/name`, whether or not the driver serves the type.
    pub fn secret_provider_class(&self, namespace: &str, name: &str) -> Option<&Value> {
        let def = resources::by_kind(CSI_GROUP, "SecretProviderClass")?;
        self.store().get(def, Some(namespace), name)
    }

    /// Sets the pod's status as the kubelet reports it in `state`; a pod already in that state
    /// is left alone (its resourceVersion does not move).
    pub fn set_pod_state(&mut self, pod: &CsiPod, state: PodState, now: Timestamp) {
        let Some(def) = resources::by_kind("", "Pod") else {
            return;
        };
        let Some(stored) = self.store().get(def, Some(&pod.namespace), &pod.name) else {
            return;
        };
        if pod_state(stored) == Some(state) {
            return;
        }
        let mut object = stored.clone();
        let created = object::meta_str(&object, "creationTimestamp")
            .and_then(|text| text.parse::<Timestamp>().ok())
            .unwrap_or(now);
        let hint = match state {
            PodState::Running => json!({"phase": "Running"}),
            PodState::ContainerCreating => {
                json!({"phase": "Pending", "waiting": "ContainerCreating"})
            }
        };
        let index = u8::try_from(pod.uid.bytes().map(u32::from).sum::<u32>() % 200).unwrap_or(0);
        object["status"] = kubelet::status(&object, Some(&hint), created, index);
        self.store_mut().write(def, object);
    }

    /// Records an Event about `pod` from `component` (`kubelet`, the node's, or the driver's
    /// `csi-secrets-store-rotation`), as client-go's recorder does: an Event with the same
    /// reason and message is counted again (`count`, `lastTimestamp`), otherwise a new one is
    /// written.
    pub fn record_event(
        &mut self,
        pod: &CsiPod,
        component: &str,
        warning: bool,
        reason: &str,
        message: &str,
        now: Timestamp,
    ) {
        let Some(def) = resources::by_kind("", "Event") else {
            return;
        };
        let time = super::admission::time(now);
        let same = self
            .store()
            .list(def, Some(&pod.namespace))
            .into_iter()
            .find(|stored| {
                let event = &stored.object;
                object::str_at(event, "involvedObject.uid") == Some(pod.uid.as_str())
                    && object::str_at(event, "reason") == Some(reason)
                    && object::str_at(event, "source.component") == Some(component)
                    && object::str_at(event, "message") == Some(message)
            })
            .map(|stored| stored.object.clone());
        let event = match same {
            Some(mut event) => {
                let count = event.get("count").and_then(Value::as_i64).unwrap_or(1);
                event["count"] = json!(count + 1);
                event["lastTimestamp"] = json!(time);
                event
            }
            None => {
                let uid = self.store_mut().mint_uid();
                // client-go names an Event after its object and the time; two in the same
                // instant get the next nanosecond.
                let mut nanos = now.as_nanosecond();
                while self
                    .store()
                    .get(
                        def,
                        Some(&pod.namespace),
                        &format!("{}.{nanos:x}", pod.name),
                    )
                    .is_some()
                {
                    nanos += 1;
                }
                // The kubelet names its node; the driver's reconciler leaves the host out.
                let (source, instance) = if component == "kubelet" {
                    (
                        json!({"component": component, "host": kubelet::NODE}),
                        kubelet::NODE,
                    )
                } else {
                    (json!({"component": component}), "")
                };
                json!({
                    "apiVersion": "v1",
                    "kind": "Event",
                    "metadata": {
                        "name": format!("{}.{nanos:x}", pod.name),
                        "namespace": pod.namespace,
                        "uid": uid,
                        "creationTimestamp": time,
                    },
                    "involvedObject": {
                        "kind": "Pod",
                        "namespace": pod.namespace,
                        "name": pod.name,
                        "uid": pod.uid,
                        "apiVersion": "v1",
                    },
                    "reason": reason,
                    "message": message,
                    "source": source,
                    "firstTimestamp": time,
                    "lastTimestamp": time,
                    "count": 1,
                    "type": if warning { "Warning" } else { "Normal" },
                    "eventTime": null,
                    "reportingComponent": component,
                    "reportingInstance": instance,
                })
            }
        };
        self.store_mut().write(def, event);
    }
}

impl KubeCluster {
    /// Creates or updates the Secret `namespace/name` the driver syncs from mounted files,
    /// labelled `secrets-store.csi.k8s.io/managed: "true"` beside `labels`; an unchanged one is
    /// left alone.
    pub fn sync_secret(
        &mut self,
        namespace: &str,
        name: &str,
        kind: &str,
        labels: &Value,
        data: &BTreeMap<String, Vec<u8>>,
        now: Timestamp,
    ) {
        let Some(def) = resources::by_kind("", "Secret") else {
            return;
        };
        let mut all_labels = labels.as_object().cloned().unwrap_or_default();
        all_labels.insert(MANAGED_LABEL.to_owned(), json!("true"));
        let encoded: serde_json::Map<String, Value> = data
            .iter()
            .map(|(key, value)| (key.clone(), json!(STANDARD.encode(value))))
            .collect();
        let existing = self.store().get(def, Some(namespace), name).cloned();
        let mut secret = existing.unwrap_or_else(|| {
            json!({
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "creationTimestamp": super::admission::time(now),
                },
                "type": kind,
            })
        });
        if secret["data"] == Value::Object(encoded.clone())
            && secret["metadata"]["labels"] == Value::Object(all_labels.clone())
        {
            return;
        }
        if secret["metadata"]["uid"].is_null() {
            let uid = self.store_mut().mint_uid();
            secret["metadata"]["uid"] = json!(uid);
        }
        secret["metadata"]["labels"] = Value::Object(all_labels);
        secret["data"] = Value::Object(encoded);
        self.store_mut().write(def, secret);
    }

    /// Deletes the synced Secret `namespace/name`, if it is still one (labelled managed).
    pub fn remove_synced_secret(&mut self, namespace: &str, name: &str) {
        let Some(def) = resources::by_kind("", "Secret") else {
            return;
        };
        let managed = self
            .store()
            .get(def, Some(namespace), name)
            .is_some_and(|secret| secret["metadata"]["labels"][MANAGED_LABEL] == "true");
        if managed {
            self.store_mut().remove(def, Some(namespace), name);
        }
    }
}

/// The label on Secrets the driver syncs.
pub const MANAGED_LABEL: &str = "secrets-store.csi.k8s.io/managed";

fn csi_pod(pod: &Value) -> Option<CsiPod> {
    let volumes: Vec<CsiVolume> = object::array_at(pod, "spec.volumes")
        .iter()
        .filter(|volume| object::str_at(volume, "csi.driver") == Some(CSI_DRIVER))
        .map(|volume| CsiVolume {
            name: object::str_at(volume, "name")
                .unwrap_or_default()
                .to_owned(),
            class: object::str_at(volume, "csi.volumeAttributes.secretProviderClass")
                .map(str::to_owned),
            node_publish_secret: object::str_at(volume, "csi.nodePublishSecretRef.name")
                .map(str::to_owned),
        })
        .collect();
    if volumes.is_empty() {
        return None;
    }
    Some(CsiPod {
        namespace: object::namespace(pod).unwrap_or_default().to_owned(),
        name: object::name(pod).unwrap_or_default().to_owned(),
        uid: object::meta_str(pod, "uid").unwrap_or_default().to_owned(),
        service_account: object::str_at(pod, "spec.serviceAccountName")
            .unwrap_or("default")
            .to_owned(),
        running: pod_state(pod) == Some(PodState::Running),
        volumes,
    })
}

fn pod_state(pod: &Value) -> Option<PodState> {
    match object::str_at(pod, "status.phase") {
        Some("Running") => Some(PodState::Running),
        Some("Pending") => {
            let statuses = object::array_at(pod, "status.containerStatuses");
            let creating = !statuses.is_empty()
                && statuses.iter().all(|status| {
                    object::str_at(status, "state.waiting.reason") == Some("ContainerCreating")
                });
            creating.then_some(PodState::ContainerCreating)
        }
        _ => None,
    }
}
