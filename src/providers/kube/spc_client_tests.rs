//! SecretProviderClass operations against a scripted API server.

use serde_json::json;

use super::*;
use crate::providers::testing::{ScriptedKube, kube_status};
use crate::resources::spc_document::{SpcIdentityRef, SpcSpec};

const PATH: &str =
    "/apis/secrets-store.csi.x-k8s.io/v1/namespaces/shop/secretproviderclasses/shop-api";

fn spec() -> SpcSpec {
    SpcSpec {
        namespace: "shop".into(),
        name: "shop-api".into(),
        keyvault_name: "kv-vaultwire-demo".into(),
        tenant_id: crate::sandbox::ids::TENANT_ID.into(),
        cloud_name: "AzurePublicCloud".into(),
        identity: SpcIdentityRef::WorkloadIdentity {
            client_id: "bbbbbbbb-0000-0000-0000-000000000001".into(),
        },
        objects: Vec::new(),
        sync: Vec::new(),
    }
}

fn stored(manifest: &serde_json::Value) -> serde_json::Value {
    let mut stored = manifest.clone();
    stored["metadata"]["resourceVersion"] = json!("42");
    stored["metadata"]["uid"] = json!("u-1");
    stored
}

#[tokio::test]
async fn apply_is_a_forced_server_side_apply_under_vaultwires_field_manager() {
    let kube = ScriptedKube::new();
    kube.expect("PATCH", PATH, 200, stored(&spec().manifest()));
    let live = SpcClient::new(kube.client())
        .apply_manifest("shop", "shop-api", &spec().manifest())
        .await
        .unwrap();
    assert_eq!(live.resource_version.as_deref(), Some("42"));
    assert!(live.managed_by_vaultwire);
    assert_eq!(
        live.parameter("clientID"),
        Some("bbbbbbbb-0000-0000-0000-000000000001")
    );

    let request = &kube.requests()[0];
    assert_eq!(
        request.content_type.as_deref(),
        Some("application/apply-patch+yaml")
    );
    assert!(
        request.query.contains("fieldManager=vaultwire"),
        "{}",
        request.query
    );
    assert!(request.query.contains("force=true"), "{}", request.query);
    assert_eq!(request.body, spec().manifest());
    assert!(request.body["metadata"].get("resourceVersion").is_none());
}

#[tokio::test]
async fn get_and_delete_treat_absence_as_an_answer() {
    let kube = ScriptedKube::new();
    kube.expect(
        "GET",
        PATH,
        404,
        kube_status(
            404,
            "NotFound",
            "secretproviderclasses \"shop-api\" not found",
        ),
    )
    .expect(
        "DELETE",
        PATH,
        404,
        kube_status(404, "NotFound", "not found"),
    )
    .expect(
        "DELETE",
        PATH,
        200,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Success", "metadata": {}}),
    );
    let client = SpcClient::new(kube.client());
    assert_eq!(client.get("shop", "shop-api").await.unwrap(), None);
    assert!(!client.delete("shop", "shop-api").await.unwrap());
    assert!(client.delete("shop", "shop-api").await.unwrap());
}

#[tokio::test]
async fn listing_a_cluster_without_the_csi_driver_says_so() {
    let kube = ScriptedKube::new();
    kube.expect(
        "GET",
        "/apis/secrets-store.csi.x-k8s.io/v1/secretproviderclasses",
        404,
        kube_status(
            404,
            "NotFound",
            "the server could not find the requested resource",
        ),
    );
    assert_eq!(
        SpcClient::new(kube.client()).list_all().await.unwrap(),
        None
    );
}

#[tokio::test]
async fn listing_sorts_by_namespace_and_name() {
    let kube = ScriptedKube::new();
    let item = |namespace: &str, name: &str| {
        json!({"apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClass",
               "metadata": {"name": name, "namespace": namespace, "resourceVersion": "1"},
               "spec": {"provider": "azure", "parameters": {"keyvaultName": "kv"}}})
    };
    kube.expect(
        "GET",
        "/apis/secrets-store.csi.x-k8s.io/v1/secretproviderclasses",
        200,
        json!({"apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClassList", "metadata": {},
               "items": [item("shop", "b"), item("payments", "z"), item("shop", "a")]}),
    );
    let spcs = SpcClient::new(kube.client())
        .list_all()
        .await
        .unwrap()
        .unwrap();
    let names: Vec<String> = spcs
        .iter()
        .map(|spc| format!("{}/{}", spc.namespace, spc.name))
        .collect();
    assert_eq!(names, ["payments/z", "shop/a", "shop/b"]);
    assert!(!spcs[0].managed_by_vaultwire);
}

#[tokio::test]
async fn a_refused_apply_keeps_the_servers_reason() {
    let kube = ScriptedKube::new();
    kube.expect(
        "PATCH",
        PATH,
        403,
        kube_status(
            403,
            "Forbidden",
            "secretproviderclasses is forbidden: User cannot patch",
        ),
    );
    let error = SpcClient::new(kube.client())
        .apply_manifest("shop", "shop-api", &spec().manifest())
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "apply SecretProviderClass `shop/shop-api` failed with 403 `Forbidden`: secretproviderclasses is forbidden: User cannot patch"
    );
}
