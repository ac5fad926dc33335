//! The TokenRequest API (`serviceaccounts/{name}/token`): defaults, audiences, validation, the
//! service account and bound objects, with JSON and kubectl's protobuf bodies.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use super::super::{KubeCluster, TokenSigner};
use super::support::{Call, call};

const ISSUER: &str = "https://westeurope.oic.prod-aks.azure.com/tenant/guid/";
const TOKEN_PATH: &str = "/api/v1/namespaces/payments/serviceaccounts/default/token";

/// Signs by spelling out what it was asked for, so tests can see it.
struct Spelled;

impl TokenSigner for Spelled {
    fn issuer(&self) -> String {
        ISSUER.to_owned()
    }

    fn sign(
        &self,
        namespace: &str,
        name: &str,
        audiences: &[String],
        seconds: i64,
    ) -> Option<String> {
        Some(format!(
            "{namespace}/{name} for {} ({seconds}s)",
            audiences.join(",")
        ))
    }
}

/// A signer whose key is unusable.
struct Broken;

impl TokenSigner for Broken {
    fn issuer(&self) -> String {
        ISSUER.to_owned()
    }

    fn sign(&self, _: &str, _: &str, _: &[String], _: i64) -> Option<String> {
        None
    }
}

fn token_request(spec: Value) -> Call {
    call(Method::POST, TOKEN_PATH).json(&json!({
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}))
}

#[test]
fn a_request_without_audiences_or_expiration_gets_the_issuer_and_an_hour() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let created = token_request(json!({}))
        .send_with_tokens(&mut cluster, &Spelled)
        .expect(StatusCode::CREATED);
    assert_eq!(
        created,
        json!({
            "kind": "TokenRequest",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": "default", "namespace": "payments",
                "creationTimestamp": "2026-11-26T12:00:00Z"},
            "spec": {"audiences": [ISSUER], "expirationSeconds": 3600},
            "status": {
                "token": format!("payments/default for {ISSUER} (3600s)"),
                "expirationTimestamp": "2026-11-26T13:00:00Z",
            },
        })
    );
}

#[test]
fn the_audiences_and_expiration_asked_for_are_signed_and_echoed() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let created = token_request(json!({"audiences": ["api://AzureADTokenExchange", "b"],
        "expirationSeconds": 600}))
    .send_with_tokens(&mut cluster, &Spelled)
    .expect(StatusCode::CREATED);
    assert_eq!(
        created["status"]["token"],
        "payments/default for api://AzureADTokenExchange,b (600s)"
    );
    assert_eq!(
        created["spec"]["audiences"],
        json!(["api://AzureADTokenExchange", "b"])
    );
    assert_eq!(
        created["status"]["expirationTimestamp"],
        "2026-11-26T12:10:00Z"
    );
}

#[test]
fn an_expiration_under_ten_minutes_is_invalid() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let refused = token_request(json!({"expirationSeconds": 599}))
        .send_with_tokens(&mut cluster, &Spelled)
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused,
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes",
            "reason": "Invalid",
            "details": {"name": "", "group": "authentication.k8s.io", "kind": "TokenRequest",
                "causes": [{"reason": "FieldValueInvalid", "field": "spec.expirationSeconds",
                    "message": "Invalid value: 599: may not specify a duration less than 10 minutes"}]},
            "code": 422,
        })
    );
    let huge = token_request(json!({"expirationSeconds": (1_i64 << 32) + 1}))
        .send_with_tokens(&mut cluster, &Spelled)
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        huge["message"]
            .as_str()
            .unwrap()
            .ends_with("may not specify a duration larger than 2^32 seconds"),
        "{huge}"
    );
}

#[test]
fn a_missing_service_account_is_not_found_before_validation() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let missing = call(
        Method::POST,
        "/api/v1/namespaces/payments/serviceaccounts/nobody/token",
    )
    .json(&json!({"spec": {"expirationSeconds": 1}}))
    .send_with_tokens(&mut cluster, &Spelled)
    .expect(StatusCode::NOT_FOUND);
    assert_eq!(missing["message"], "serviceaccounts \"nobody\" not found");
    assert_eq!(missing["reason"], "NotFound");
    assert_eq!(
        missing["details"],
        json!({"name": "nobody", "kind": "serviceaccounts"})
    );
}

#[test]
fn a_body_naming_another_account_is_invalid() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let refused = call(Method::POST, TOKEN_PATH)
        .json(&json!({"metadata": {"name": "other"}, "spec": {}}))
        .send_with_tokens(&mut cluster, &Spelled)
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused["message"],
        "TokenRequest.authentication.k8s.io \"default\" is invalid: metadata.name: Invalid value: \"other\": must match the service account name if specified"
    );
}

/// kubectl 1.32.4's body for `create token default --audience api://AzureADTokenExchange
/// --duration=2h` (`-v=9`), as `application/vnd.kubernetes.protobuf`.
const KUBECTL_PROTOBUF: &[u8] =
    b"k8s\x00\x0a\x28\x0a\x18authentication.k8s.io/v1\x12\x0cTokenRequest\
\x12\x39\x0a\x10\x0a\x00\x12\x00\x1a\x00\x22\x00\x2a\x00\x32\x00\x38\x00\x42\x00\
\x12\x1f\x0a\x1aapi://AzureADTokenExchange\x20\xa0\x38\x1a\x04\x0a\x00\x12\x00\x1a\x00\x22\x00";

#[test]
fn kubectls_protobuf_body_is_read_and_answered_in_json() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let answer = call(Method::POST, TOKEN_PATH)
        .raw("application/vnd.kubernetes.protobuf", KUBECTL_PROTOBUF)
        .header(
            http::header::ACCEPT,
            "application/vnd.kubernetes.protobuf,application/json",
        )
        .send_with_tokens(&mut cluster, &Spelled);
    let created = answer.expect(StatusCode::CREATED);
    assert_eq!(
        answer.0.headers[http::header::CONTENT_TYPE],
        "application/json"
    );
    assert_eq!(
        created["status"]["token"],
        "payments/default for api://AzureADTokenExchange (7200s)"
    );
}

#[test]
fn a_malformed_protobuf_body_is_a_bad_request() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let refused = call(Method::POST, TOKEN_PATH)
        .raw(
            "application/vnd.kubernetes.protobuf",
            &KUBECTL_PROTOBUF[..40],
        )
        .send_with_tokens(&mut cluster, &Spelled)
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(
        refused["message"],
        "TokenRequest in version \"v1\" cannot be handled as a TokenRequest: the protobuf data ends inside a field"
    );
}

#[test]
fn protobuf_is_still_refused_everywhere_else() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let refused = call(Method::POST, "/api/v1/namespaces/payments/serviceaccounts")
        .raw("application/vnd.kubernetes.protobuf", KUBECTL_PROTOBUF)
        .send_with_tokens(&mut cluster, &Spelled)
        .expect(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(refused["reason"], "UnsupportedMediaType");
}

#[test]
fn without_a_signer_the_token_subresource_is_not_served() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let answer = token_request(json!({})).send(&mut cluster);
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    let get = call(Method::GET, TOKEN_PATH)
        .send_with_tokens(&mut cluster, &Spelled)
        .expect(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(get["reason"], "MethodNotAllowed");
}

#[test]
fn a_key_that_cannot_sign_is_an_internal_error() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let failed = token_request(json!({}))
        .send_with_tokens(&mut cluster, &Broken)
        .expect(StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        failed["message"],
        "Internal error occurred: failed to generate token"
    );
}

#[test]
fn a_bound_pod_must_exist_run_as_the_account_and_match_its_uid() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let pod = call(Method::POST, "/api/v1/namespaces/payments/pods")
        .json(&json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "namespace": "payments"},
            "spec": {"serviceAccountName": "default", "containers": [{"name": "c", "image": "i"}]}}))
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    let uid = pod["metadata"]["uid"].as_str().unwrap();
    let mut bound = |reference: Value| {
        token_request(json!({"boundObjectRef": reference})).send_with_tokens(&mut cluster, &Spelled)
    };
    let created = bound(json!({"kind": "Pod", "apiVersion": "v1", "name": "web", "uid": uid}))
        .expect(StatusCode::CREATED);
    assert_eq!(created["spec"]["boundObjectRef"]["uid"], uid);
    let stale = bound(json!({"kind": "Pod", "apiVersion": "v1", "name": "web", "uid": "x"}))
        .expect(StatusCode::CONFLICT);
    assert_eq!(
        stale["message"],
        "Operation cannot be fulfilled on Pod \"web\": the UID in the bound object reference (x) does not match the UID in record. The object might have been deleted and then recreated"
    );
    let missing = bound(json!({"kind": "Pod", "apiVersion": "v1", "name": "gone"}))
        .expect(StatusCode::NOT_FOUND);
    assert_eq!(missing["message"], "pods \"gone\" not found");
    let other = bound(json!({"kind": "ConfigMap", "apiVersion": "v1", "name": "x"}))
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(
        other["message"],
        "cannot bind token to object of type /v1, Kind=ConfigMap"
    );
}

#[test]
fn a_bound_pod_of_another_account_is_refused() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    call(Method::POST, "/api/v1/namespaces/payments/pods")
        .json(&json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "namespace": "payments"},
            "spec": {"serviceAccountName": "payments-api", "containers": [{"name": "c", "image": "i"}]}}))
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    let refused = token_request(
        json!({"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "web"}}),
    )
    .send_with_tokens(&mut cluster, &Spelled)
    .expect(StatusCode::BAD_REQUEST);
    assert_eq!(
        refused["message"],
        "cannot bind token for serviceaccount \"default\" to pod running with different serviceaccount name."
    );
}
