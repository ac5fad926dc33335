//! What a node would have done to the seeded pods: the defaults the API server adds at
//! admission (service account, DNS and restart policy, the projected `kube-api-access-*` token
//! volume, the node) and the status the kubelet reports for a running, waiting or completed pod.
//!
//! Deterministic: addresses and container ids derive from names and an index. The sandbox's
//! kubelet (`kube::node`) reports statuses with the same function.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::super::admission;

pub(in crate::kube) const NODE: &str = "aks-nodepool1-31718369-vmss000000";
const NODE_IP: &str = "10.224.0.4";

/// Admission defaults, including the token volume every pod gets since Kubernetes 1.24.
pub(in crate::kube) fn admit(pod: &mut Value, suffix: &str) {
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let volume = format!("kube-api-access-{suffix}");
    for (key, value) in [
        ("restartPolicy", json!("Always")),
        ("terminationGracePeriodSeconds", json!(30)),
        ("dnsPolicy", json!("ClusterFirst")),
        ("serviceAccountName", json!("default")),
        ("nodeName", json!(NODE)),
        ("securityContext", json!({})),
        ("schedulerName", json!("default-scheduler")),
        ("priority", json!(0)),
        ("enableServiceLinks", json!(true)),
        ("preemptionPolicy", json!("PreemptLowerPriority")),
    ] {
        spec.entry(key).or_insert(value);
    }
    let account = spec
        .get("serviceAccountName")
        .cloned()
        .unwrap_or(Value::Null);
    spec.insert("serviceAccount".to_owned(), account);
    spec.insert(
        "tolerations".to_owned(),
        json!([
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
        ]),
    );
    for list in ["initContainers", "containers"] {
        if let Some(Value::Array(containers)) = spec.get_mut(list) {
            for container in containers.iter_mut().filter_map(Value::as_object_mut) {
                container
                    .entry("imagePullPolicy")
                    .or_insert(json!("IfNotPresent"));
                container.entry("resources").or_insert(json!({}));
                container
                    .entry("terminationMessagePath")
                    .or_insert(json!("/dev/termination-log"));
                container
                    .entry("terminationMessagePolicy")
                    .or_insert(json!("File"));
                let mounts = container.entry("volumeMounts").or_insert_with(|| json!([]));
                if let Value::Array(mounts) = mounts {
                    mounts.push(json!({
                        "name": volume,
                        "readOnly": true,
                        "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                    }));
                }
            }
        }
    }
    let volumes = spec.entry("volumes").or_insert_with(|| json!([]));
    if let Value::Array(volumes) = volumes {
        volumes.push(json!({
            "name": volume,
            "projected": {
                "defaultMode": 420,
                "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                    {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
                ]
            }
        }));
    }
}

fn hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn at(created: Timestamp, seconds: i64) -> String {
    admission::time(
        created
            .saturating_add(SignedDuration::from_secs(seconds))
            .unwrap_or(created),
    )
}

/// The pod's status: `hint.phase` is Running (the default), Pending (with `hint.waiting` as the
/// containers' waiting reason) or Succeeded.
pub(in crate::kube) fn status(
    pod: &Value,
    hint: Option<&Value>,
    created: Timestamp,
    index: u8,
) -> Value {
    let phase = hint
        .and_then(|hint| hint.get("phase"))
        .and_then(Value::as_str)
        .unwrap_or("Running");
    let waiting = hint
        .and_then(|hint| hint.get("waiting"))
        .and_then(Value::as_str)
        .unwrap_or("ContainerCreating");
    let name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (ready, initialized, scheduled_started) = match phase {
        "Running" => ("True", "True", "True"),
        "Succeeded" => ("False", "True", "False"),
        _ => ("False", "True", "False"),
    };
    let condition = |kind: &str, status: &str, reason: Option<&str>| {
        let mut condition = json!({"type": kind, "status": status, "lastProbeTime": null, "lastTransitionTime": at(created, 4)});
        if let Some(reason) = reason {
            condition["reason"] = json!(reason);
        }
        condition
    };
    let not_ready_reason = match phase {
        "Succeeded" => Some("PodCompleted"),
        "Running" => None,
        _ => Some("ContainersNotReady"),
    };
    let mut status = Map::new();
    status.insert("phase".to_owned(), json!(phase));
    status.insert(
        "conditions".to_owned(),
        json!([
            condition("PodReadyToStartContainers", scheduled_started, None),
            condition(
                "Initialized",
                initialized,
                (phase == "Succeeded").then_some("PodCompleted")
            ),
            condition("Ready", ready, not_ready_reason),
            condition("ContainersReady", ready, not_ready_reason),
            condition("PodScheduled", "True", None),
        ]),
    );
    status.insert("hostIP".to_owned(), json!(NODE_IP));
    status.insert("hostIPs".to_owned(), json!([{"ip": NODE_IP}]));
    if phase != "Pending" {
        let ip = if pod.pointer("/spec/hostNetwork") == Some(&json!(true)) {
            NODE_IP.to_owned()
        } else {
            format!("10.244.0.{}", 10 + u16::from(index))
        };
        status.insert("podIP".to_owned(), json!(ip));
        status.insert("podIPs".to_owned(), json!([{"ip": ip}]));
    }
    status.insert("startTime".to_owned(), json!(at(created, 1)));
    let container_status = |container: &Value, init: bool| {
        let container_name = container
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let image = container
            .get("image")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let repository = image
            .rsplit_once(':')
            .map_or(image, |(repository, _)| repository);
        let terminated = json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": at(created, 3), "finishedAt": at(created, 41)}});
        let state = match (phase, init) {
            (_, true) | ("Succeeded", _) => terminated,
            ("Running", _) => json!({"running": {"startedAt": at(created, 3)}}),
            _ => json!({"waiting": {"reason": waiting}}),
        };
        let running = phase == "Running" && !init;
        let mut entry = json!({
            "name": container_name,
            "state": state,
            "ready": running,
            "restartCount": 0,
            "image": image,
            "imageID": format!("{repository}@sha256:{}", hex(image)),
            "started": running,
        });
        if phase != "Pending" || init {
            entry["containerID"] = json!(format!(
                "containerd://{}",
                hex(&format!("{name}/{container_name}"))
            ));
        }
        entry
    };
    let containers = |list: &str, init: bool| -> Vec<Value> {
        pod.pointer(&format!("/spec/{list}"))
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|container| container_status(container, init))
                    .collect()
            })
            .unwrap_or_default()
    };
    let init = containers("initContainers", true);
    if !init.is_empty() {
        status.insert("initContainerStatuses".to_owned(), Value::Array(init));
    }
    status.insert(
        "containerStatuses".to_owned(),
        Value::Array(containers("containers", false)),
    );
    status.insert("qosClass".to_owned(), json!("BestEffort"));
    Value::Object(status)
}
