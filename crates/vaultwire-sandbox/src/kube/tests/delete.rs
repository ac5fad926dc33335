//! DELETE: synchronous removal, the Status or object it answers with, cascading to owned
//! objects and namespace contents, orphaning, preconditions, collections.

use http::{Method, StatusCode};
use serde_json::json;

use super::super::KubeCluster;
use super::support::{call, get, names};

const SECRETS: &str = "/api/v1/namespaces/payments/secrets";

#[test]
fn delete_is_synchronous_and_cascades_to_owned_objects() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let deleted = call(
        Method::DELETE,
        "/apis/apps/v1/namespaces/payments/deployments/payments-api",
    )
    .json(&json!({"propagationPolicy": "Background"}))
    .send(&mut cluster)
    .expect(StatusCode::OK);
    assert_eq!(deleted["status"], "Success");
    assert_eq!(deleted["details"]["name"], "payments-api");
    assert_eq!(deleted["details"]["kind"], "deployments");
    get("/apis/apps/v1/namespaces/payments/deployments/payments-api")
        .send(&mut cluster)
        .expect(StatusCode::NOT_FOUND);
    get("/apis/apps/v1/namespaces/payments/replicasets/payments-api-7d9c6b8f4d")
        .send(&mut cluster)
        .expect(StatusCode::NOT_FOUND);
    get("/api/v1/namespaces/payments/pods/payments-api-7d9c6b8f4d-q2xkz")
        .send(&mut cluster)
        .expect(StatusCode::NOT_FOUND);
    get("/api/v1/namespaces/payments/pods/payments-worker")
        .send(&mut cluster)
        .expect(StatusCode::OK);
}

#[test]
fn orphaning_keeps_dependents_and_drops_their_owner_reference() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    call(
        Method::DELETE,
        "/apis/apps/v1/namespaces/shop/deployments/shop-web?propagationPolicy=Orphan",
    )
    .send(&mut cluster)
    .expect(StatusCode::OK);
    let replica_set = get("/apis/apps/v1/namespaces/shop/replicasets/shop-web-5c6f8d9b7c")
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert!(
        replica_set["metadata"].get("ownerReferences").is_none(),
        "{replica_set:#}"
    );
}

#[test]
fn pods_are_returned_when_deleted_and_namespaces_take_their_contents_along() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let pod = call(
        Method::DELETE,
        "/api/v1/namespaces/payments/pods/payments-worker",
    )
    .send(&mut cluster)
    .expect(StatusCode::OK);
    assert_eq!(pod["kind"], "Pod");
    let namespace = call(Method::DELETE, "/api/v1/namespaces/shop")
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(namespace["kind"], "Namespace");
    let everywhere = get("/api/v1/secrets?fieldSelector=metadata.namespace%3Dshop")
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(names(&everywhere), Vec::<String>::new());
    let forbidden = call(Method::DELETE, "/api/v1/namespaces/kube-system")
        .send(&mut cluster)
        .expect(StatusCode::FORBIDDEN);
    assert_eq!(
        forbidden["message"],
        "namespaces \"kube-system\" is forbidden: this namespace may not be deleted"
    );
}

#[test]
fn delete_preconditions_and_missing_objects() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let stale = json!({"preconditions": {"resourceVersion": "1"}});
    let conflict = call(Method::DELETE, &format!("{SECRETS}/payments-db-legacy"))
        .json(&stale)
        .send(&mut cluster)
        .expect(StatusCode::CONFLICT);
    assert_eq!(conflict["reason"], "Conflict");
    let missing = call(Method::DELETE, &format!("{SECRETS}/nope"))
        .send(&mut cluster)
        .expect(StatusCode::NOT_FOUND);
    assert_eq!(missing["message"], "secrets \"nope\" not found");
}

#[test]
fn delete_collection_removes_what_the_selector_picks() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let deleted = call(
        Method::DELETE,
        "/api/v1/namespaces/payments/secrets?labelSelector=app%3Dpayments-api",
    )
    .send(&mut cluster)
    .expect(StatusCode::OK);
    assert_eq!(names(&deleted), ["payments-db-legacy"]);
    let left = get(SECRETS).send(&mut cluster).expect(StatusCode::OK);
    assert_eq!(names(&left), ["secrets-store-creds"]);
}
