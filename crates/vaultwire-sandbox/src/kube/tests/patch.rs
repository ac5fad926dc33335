//! Merge, strategic merge and JSON patches: semantics, preconditions, ownership, media types.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use super::super::KubeCluster;
use super::support::{SPC_PATH, apply, call, spc, with_driver};

const SECRET: &str = "/api/v1/namespaces/payments/secrets/payments-db-legacy";

fn merge(path: &str, body: &Value) -> super::support::Call {
    call(Method::PATCH, path).raw("application/merge-patch+json", body.to_string().as_bytes())
}

#[test]
fn merge_patch_merges_objects_and_deletes_with_null() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let patched = merge(
        &format!("{SECRET}?fieldManager=kubectl-label"),
        &json!({"metadata": {"labels": {"app": null, "tier": "db"}}}),
    )
    .send(&mut cluster)
    .expect(StatusCode::OK);
    assert_eq!(patched["metadata"]["labels"], json!({"tier": "db"}));
    assert_eq!(
        patched["data"]["username"], "cGF5bWVudHNfYXBw",
        "untouched fields stay"
    );
    let entry = patched["metadata"]["managedFields"]
        .as_array()
        .and_then(|entries| {
            entries
                .iter()
                .find(|entry| entry["manager"] == "kubectl-label")
        })
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(entry["operation"], "Update");
    assert_eq!(
        entry["fieldsV1"],
        json!({"f:metadata": {"f:labels": {"f:tier": {}}}})
    );
}

#[test]
fn a_resource_version_in_a_patch_is_a_precondition() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let stale = merge(
        SECRET,
        &json!({"metadata": {"resourceVersion": "1"}, "data": {"x": "eA=="}}),
    )
    .send(&mut cluster);
    assert_eq!(stale.expect(StatusCode::CONFLICT)["reason"], "Conflict");
    let missing = merge(
        "/api/v1/namespaces/payments/secrets/nope",
        &json!({"data": {}}),
    )
    .send(&mut cluster);
    assert_eq!(
        missing.expect(StatusCode::NOT_FOUND)["message"],
        "secrets \"nope\" not found"
    );
}

#[test]
fn strategic_merge_patch_merges_containers_by_name() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "api", "image": "vaultwiredemo.azurecr.io/payments-api:2.5.0"}]}}}});
    let patched = call(
        Method::PATCH,
        "/apis/apps/v1/namespaces/payments/deployments/payments-api",
    )
    .raw(
        "application/strategic-merge-patch+json",
        patch.to_string().as_bytes(),
    )
    .send(&mut cluster)
    .expect(StatusCode::OK);
    let container = &patched["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["image"],
        "vaultwiredemo.azurecr.io/payments-api:2.5.0"
    );
    assert_eq!(
        container["env"][1]["valueFrom"]["secretKeyRef"]["name"], "payments-db-legacy",
        "env kept"
    );
    assert_eq!(patched["metadata"]["generation"], 2);
}

#[test]
fn custom_resources_refuse_strategic_merge_patch() {
    let mut cluster = with_driver(KubeCluster::seeded("aks-demo"));
    let path = format!("{SPC_PATH}/payments-db");
    apply(&path, "vaultwire", false, &spc("payments-db", "kv"))
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    let refused = call(Method::PATCH, &path)
        .raw("application/strategic-merge-patch+json", b"{}")
        .send(&mut cluster)
        .expect(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        refused["message"],
        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    );
    let merged = merge(
        &path,
        &json!({"spec": {"parameters": {"keyvaultName": "kv-2"}}}),
    )
    .send(&mut cluster)
    .expect(StatusCode::OK);
    assert_eq!(merged["spec"]["parameters"]["keyvaultName"], "kv-2");
    assert_eq!(
        merged["spec"]["parameters"]["tenantId"],
        "7c1e5a3b-2d4f-4e6a-8b9c-0d1e2f3a4b5c"
    );
}

#[test]
fn json_patch_applies_operations_in_order_and_fails_whole() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let json_patch = |ops: Value| {
        call(Method::PATCH, SECRET).raw("application/json-patch+json", ops.to_string().as_bytes())
    };
    let patched = json_patch(json!([
        {"op": "test", "path": "/type", "value": "Opaque"},
        {"op": "add", "path": "/metadata/labels/tier", "value": "db"},
        {"op": "remove", "path": "/data/username"},
        {"op": "copy", "from": "/data/password", "path": "/data/password-copy"},
    ]))
    .send(&mut cluster)
    .expect(StatusCode::OK);
    assert_eq!(patched["metadata"]["labels"]["tier"], "db");
    assert_eq!(patched["data"].as_object().map(|data| data.len()), Some(2));
    let failed = json_patch(json!([{"op": "test", "path": "/type", "value": "kubernetes.io/tls"}]))
        .send(&mut cluster);
    assert_eq!(
        failed.expect(StatusCode::UNPROCESSABLE_ENTITY)["reason"],
        "Invalid"
    );
}

#[test]
fn unknown_patch_types_are_unsupported() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let answer = call(Method::PATCH, SECRET)
        .raw("text/plain", b"x")
        .send(&mut cluster);
    assert_eq!(
        answer.expect(StatusCode::UNSUPPORTED_MEDIA_TYPE)["reason"],
        "UnsupportedMediaType"
    );
}
