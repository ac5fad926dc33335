//! `/version`, legacy and aggregated discovery, OpenAPI, and the CSI group appearing only
//! with the driver.

use http::{StatusCode, header};
use serde_json::{Value, json};

use super::super::KubeCluster;
use super::support::{SPC_PATH, get, with_driver};

const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

fn group_names(list: &Value) -> Vec<&str> {
    list["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| g["name"].as_str())
        .collect()
}

#[test]
fn version_pins_kubectl_to_1_32() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let version = get("/version?timeout=5s")
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(
        (version["major"].as_str(), version["minor"].as_str()),
        (Some("1"), Some("32"))
    );
    assert_eq!(version["gitVersion"], "v1.32.4");
}

#[test]
fn the_csi_group_is_served_only_with_the_driver() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let without = get("/apis").send(&mut cluster).expect(StatusCode::OK);
    assert_eq!(
        group_names(&without),
        ["apps", "batch", "coordination.k8s.io"]
    );
    assert_eq!(
        get("/apis/secrets-store.csi.x-k8s.io/v1")
            .send(&mut cluster)
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(SPC_PATH).send(&mut cluster).status(),
        StatusCode::NOT_FOUND
    );

    let mut cluster = with_driver(cluster);
    let with = get("/apis").send(&mut cluster).expect(StatusCode::OK);
    assert_eq!(
        group_names(&with),
        [
            "apps",
            "batch",
            "coordination.k8s.io",
            "secrets-store.csi.x-k8s.io"
        ]
    );
    let spc_group = &with["groups"][3];
    assert_eq!(spc_group["preferredVersion"]["version"], "v1");
    assert_eq!(spc_group["versions"][1]["version"], "v1alpha1");
    assert_eq!(get(SPC_PATH).send(&mut cluster).status(), StatusCode::OK);
}

#[test]
fn legacy_resource_lists_carry_verbs_short_names_and_categories() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let core = get("/api/v1").send(&mut cluster).expect(StatusCode::OK);
    assert_eq!(core["kind"], "APIResourceList");
    assert_eq!(core["groupVersion"], "v1");
    let pods = core["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "pods"))
        .cloned();
    assert_eq!(
        pods,
        Some(json!({
            "name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod",
            "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update"],
            "shortNames": ["po"], "categories": ["all"],
        }))
    );
    let namespaces = core["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "namespaces"))
        .cloned();
    assert_eq!(
        namespaces.map(|n| n["namespaced"].clone()),
        Some(json!(false))
    );

    let apps = get("/apis/apps/v1")
        .send(&mut cluster)
        .expect(StatusCode::OK);
    let in_all: Vec<&str> = apps["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["categories"] == json!(["all"]))
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(
        in_all,
        ["daemonsets", "deployments", "replicasets", "statefulsets"]
    );
    let group = get("/apis/batch").send(&mut cluster).expect(StatusCode::OK);
    assert_eq!(group["kind"], "APIGroup");
    assert_eq!(group["preferredVersion"]["groupVersion"], "batch/v1");
}

#[test]
fn the_secret_provider_class_resource_has_no_short_names_or_categories() {
    let mut cluster = with_driver(KubeCluster::seeded("aks-demo"));
    let list = get("/apis/secrets-store.csi.x-k8s.io/v1")
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(
        list["resources"],
        json!([{
            "name": "secretproviderclasses", "singularName": "secretproviderclass", "namespaced": true,
            "kind": "SecretProviderClass",
            "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update"],
        }])
    );
}

#[test]
fn aggregated_discovery_is_served_when_asked_for() {
    let mut cluster = with_driver(KubeCluster::seeded("aks-demo"));
    let answer = get("/apis")
        .header(header::ACCEPT, AGGREGATED)
        .send(&mut cluster);
    assert_eq!(
        answer
            .0
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
    );
    let body = answer.expect(StatusCode::OK);
    assert_eq!(body["kind"], "APIGroupDiscoveryList");
    let spc = body["items"]
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .find(|i| i["metadata"]["name"] == "secrets-store.csi.x-k8s.io")
        })
        .map(|group| group["versions"][0]["resources"][0].clone());
    assert_eq!(
        spc,
        Some(json!({
            "resource": "secretproviderclasses",
            "responseKind": {"group": "secrets-store.csi.x-k8s.io", "version": "v1", "kind": "SecretProviderClass"},
            "scope": "Namespaced", "singularResource": "secretproviderclass",
            "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update"],
        }))
    );
    let core = get("/api")
        .header(header::ACCEPT, AGGREGATED)
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(core["items"][0]["versions"][0]["version"], "v1");
    assert!(
        core["items"][0]["metadata"].get("name").is_none(),
        "the core group has no name"
    );
}

#[test]
fn openapi_v3_lists_content_addressed_group_versions_with_patch_parameters() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let root = get("/openapi/v3").send(&mut cluster).expect(StatusCode::OK);
    assert!(
        root["paths"]
            .get("apis/secrets-store.csi.x-k8s.io/v1")
            .is_none()
    );
    let mut cluster = with_driver(cluster);
    let root = get("/openapi/v3").send(&mut cluster).expect(StatusCode::OK);
    let url = root["paths"]["apis/secrets-store.csi.x-k8s.io/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        url.starts_with("/openapi/v3/apis/secrets-store.csi.x-k8s.io/v1?hash="),
        "{url}"
    );
    let document = get(&url).send(&mut cluster).expect(StatusCode::OK);
    let patch = &document["paths"]["/apis/secrets-store.csi.x-k8s.io/v1/namespaces/{namespace}/secretproviderclasses/{name}"]
        ["patch"];
    assert_eq!(
        patch["x-kubernetes-group-version-kind"]["kind"],
        "SecretProviderClass"
    );
    let parameters: Vec<&str> = patch["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(parameters.contains(&"fieldValidation"), "{parameters:?}");
}

#[test]
fn unknown_paths_get_the_api_servers_not_found_status() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    for path in [
        "/healthz/x",
        "/apis/example.com/v1",
        "/api/v1/widgets",
        "/api/v1/namespaces/shop/pods/shop-cache-0/log",
    ] {
        let body = get(path).send(&mut cluster).expect(StatusCode::NOT_FOUND);
        assert_eq!(
            body,
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                   "message": "the server could not find the requested resource", "reason": "NotFound",
                   "details": {}, "code": 404}),
            "{path}"
        );
    }
}
