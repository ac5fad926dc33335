//! `/version` and API discovery, legacy (`/api`, `/api/v1`, `/apis`, `/apis/{g}`,
//! `/apis/{g}/{v}`) and aggregated (`apidiscovery.k8s.io/v2` on `/api` and `/apis`, which
//! kubectl 1.32 asks for first).
//!
//! Both forms are rendered from the one resource table, so they cannot disagree; the
//! SecretProviderClass group appears only while the CSI driver is installed.

use http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};

use super::request;
use super::resources::{self, ResourceDef, VERBS};
use super::status::StatusError;
use super::wire::KubeResponse;

const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// `/version`. The installed kubectl is a dispatcher that runs the binary matching `minor`,
/// so this pins kubectl 1.32 behaviour.
pub(super) fn version() -> KubeResponse {
    KubeResponse::json(
        StatusCode::OK,
        &json!({
            "major": "1",
            "minor": "32",
            "gitVersion": "v1.32.4",
            // Not a real commit: the sandbox is not built from Kubernetes sources.
            "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean",
            "compiler": "gc",
            "platform": "linux/amd64",
        }),
    )
}

/// `/api`.
pub(super) fn core_versions(headers: &HeaderMap, csi: bool) -> KubeResponse {
    if request::wants_aggregated_discovery(headers) {
        let items = vec![aggregated_group("", &["v1"], csi)];
        return aggregated(items);
    }
    let address = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .unwrap_or("127.0.0.1:443");
    KubeResponse::json(
        StatusCode::OK,
        &json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
        }),
    )
}

/// `/apis`.
pub(super) fn groups(headers: &HeaderMap, csi: bool) -> KubeResponse {
    let groups = resources::groups(csi);
    if request::wants_aggregated_discovery(headers) {
        let items = groups
            .iter()
            .map(|(group, versions)| aggregated_group(group, versions, csi))
            .collect();
        return aggregated(items);
    }
    let groups: Vec<Value> = groups
        .iter()
        .map(|(group, versions)| api_group(group, versions))
        .collect();
    KubeResponse::json(
        StatusCode::OK,
        &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
    )
}

/// `/apis/{group}`.
pub(super) fn group(group: &str, csi: bool) -> Result<KubeResponse, StatusError> {
    let groups = resources::groups(csi);
    let (name, versions) = groups
        .iter()
        .find(|(name, _)| *name == group)
        .ok_or_else(StatusError::unknown_path)?;
    let mut body = api_group(name, versions);
    body["kind"] = json!("APIGroup");
    body["apiVersion"] = json!("v1");
    Ok(KubeResponse::json(StatusCode::OK, &body))
}

/// `/api/v1` or `/apis/{group}/{version}`.
pub(super) fn group_version(
    group: &str,
    version: &str,
    csi: bool,
) -> Result<KubeResponse, StatusError> {
    let served: Vec<&ResourceDef> = resources::served(csi)
        .filter(|def| def.group == group && def.served_version(version).is_some())
        .collect();
    if served.is_empty() {
        return Err(StatusError::unknown_path());
    }
    let resources: Vec<Value> = served.iter().map(|def| legacy_resource(def)).collect();
    let mut body = json!({"kind": "APIResourceList"});
    if !group.is_empty() {
        body["apiVersion"] = json!("v1");
    }
    body["groupVersion"] = json!(resources::group_version(group, version));
    body["resources"] = Value::Array(resources);
    Ok(KubeResponse::json(StatusCode::OK, &body))
}

fn api_group(group: &str, versions: &[&str]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|version| {
            json!({"groupVersion": resources::group_version(group, version), "version": version})
        })
        .collect();
    let preferred = versions.first().cloned().unwrap_or(Value::Null);
    json!({"name": group, "versions": versions, "preferredVersion": preferred})
}

fn legacy_resource(def: &ResourceDef) -> Value {
    let mut resource = json!({
        "name": def.plural,
        "singularName": def.singular,
        "namespaced": def.namespaced,
        "kind": def.kind,
        "verbs": VERBS,
    });
    if !def.short_names.is_empty() {
        resource["shortNames"] = json!(def.short_names);
    }
    if !def.categories.is_empty() {
        resource["categories"] = json!(def.categories);
    }
    resource
}

fn aggregated(items: Vec<Value>) -> KubeResponse {
    KubeResponse::json_typed(
        StatusCode::OK,
        &json!({
            "kind": "APIGroupDiscoveryList",
            "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {},
            "items": items,
        }),
        AGGREGATED_CONTENT_TYPE,
    )
}

fn aggregated_group(group: &str, versions: &[&str], csi: bool) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|version| {
            let resources: Vec<Value> = resources::served(csi)
                .filter(|def| def.group == group && def.served_version(version).is_some())
                .map(|def| aggregated_resource(def, version))
                .collect();
            json!({"version": version, "resources": resources, "freshness": "Current"})
        })
        .collect();
    let mut metadata = json!({"creationTimestamp": null});
    if !group.is_empty() {
        metadata["name"] = json!(group);
    }
    json!({"metadata": metadata, "versions": versions})
}

fn aggregated_resource(def: &ResourceDef, version: &str) -> Value {
    let mut resource = json!({
        "resource": def.plural,
        "responseKind": {"group": def.group, "version": version, "kind": def.kind},
        "scope": if def.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": def.singular,
        "verbs": VERBS,
    });
    if !def.short_names.is_empty() {
        resource["shortNames"] = json!(def.short_names);
    }
    if !def.categories.is_empty() {
        resource["categories"] = json!(def.categories);
    }
    resource
}
