//! Test data for the audit: the seeded sandbox cluster's objects, read through the emulator's
//! own list endpoints, so tests judge exactly the world the sandbox serves.

use http::{HeaderMap, Method};
use jiff::Timestamp;
use serde_json::Value;

use crate::audit::scan::{ClusterObjects, WorkloadKind, list_items};
use crate::sandbox::kube::{KubeCluster, KubeRequest};

/// A fixed "now", a few weeks after the seed's objects were created.
pub fn now() -> Timestamp {
    "2026-11-26T12:00:00Z".parse().expect("valid timestamp")
}

/// `GET path` (across all namespaces) on `cluster`, as JSON.
pub fn list(cluster: &mut KubeCluster, path: &str) -> Value {
    let headers = HeaderMap::new();
    let request = KubeRequest {
        method: &Method::GET,
        path,
        query: "",
        headers: &headers,
        body: &[],
    };
    let response = cluster.handle(&request, now());
    assert!(
        response.status.is_success(),
        "GET {path}: {}",
        response.status
    );
    response.json_body().expect("a JSON list")
}

/// The path that lists `kind` across all namespaces.
pub fn all_namespaces_path(kind: WorkloadKind) -> String {
    match kind.api() {
        ("", version, plural) => format!("/api/{version}/{plural}"),
        (group, version, plural) => format!("/apis/{group}/{version}/{plural}"),
    }
}

/// Every workload list and the Secrets of `cluster`.
pub fn objects_of(cluster: &mut KubeCluster) -> ClusterObjects {
    let mut objects = ClusterObjects::default();
    for kind in WorkloadKind::ALL {
        let items = list_items(&list(cluster, &all_namespaces_path(kind)));
        objects = objects.with(kind, items);
    }
    objects.with_secrets(list_items(&list(cluster, "/api/v1/secrets")))
}

/// The objects of the seeded `aks-demo`.
pub fn seeded_objects() -> ClusterObjects {
    objects_of(&mut KubeCluster::seeded("aks-demo"))
}
