//! Leases as a lock: acquire by POST, optimistic concurrency on PUT, the 422 for a PUT without
//! resourceVersion, and patches with a resourceVersion precondition.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use super::super::KubeCluster;
use super::support::{apply, call, get};

const LEASES: &str = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases";

fn lease(holder: &str) -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "vaultwire-lock"},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": 60, "acquireTime": "2026-11-26T12:00:00.000000Z",
                 "renewTime": "2026-11-26T12:00:00.000000Z", "leaseTransitions": 0},
    })
}

fn lock() -> String {
    format!("{LEASES}/vaultwire-lock")
}

#[test]
fn acquiring_is_a_create_that_only_one_writer_wins() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let created = call(Method::POST, LEASES)
        .json(&lease("run-a"))
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    assert_eq!(created["spec"]["holderIdentity"], "run-a");
    let lost = call(Method::POST, LEASES)
        .json(&lease("run-b"))
        .send(&mut cluster)
        .expect(StatusCode::CONFLICT);
    assert_eq!(lost["reason"], "AlreadyExists");
    assert_eq!(
        lost["message"],
        "leases.coordination.k8s.io \"vaultwire-lock\" already exists"
    );
    assert_eq!(
        lost["details"],
        json!({"name": "vaultwire-lock", "group": "coordination.k8s.io", "kind": "leases"})
    );
}

#[test]
fn updates_carry_the_resource_version_they_read() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    call(Method::POST, LEASES)
        .json(&lease("run-a"))
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    let read = get(&lock()).send(&mut cluster).expect(StatusCode::OK);
    let mut renew = read.clone();
    renew["spec"]["renewTime"] = json!("2026-11-26T12:00:30.000000Z");
    let renewed = call(Method::PUT, &lock())
        .json(&renew)
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_ne!(
        renewed["metadata"]["resourceVersion"],
        read["metadata"]["resourceVersion"]
    );

    let mut takeover = read;
    takeover["spec"]["holderIdentity"] = json!("run-b");
    let conflict = call(Method::PUT, &lock())
        .json(&takeover)
        .send(&mut cluster)
        .expect(StatusCode::CONFLICT);
    assert_eq!(
        conflict["message"],
        "Operation cannot be fulfilled on leases.coordination.k8s.io \"vaultwire-lock\": the object has been modified; please apply your changes to the latest version and try again"
    );
    assert_eq!(
        get(&lock()).send(&mut cluster).body()["spec"]["holderIdentity"],
        "run-a"
    );
}

#[test]
fn a_put_without_resource_version_is_invalid_for_leases() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    call(Method::POST, LEASES)
        .json(&lease("run-a"))
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    let invalid = call(Method::PUT, &lock())
        .json(&lease("run-b"))
        .send(&mut cluster)
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        invalid,
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "leases.coordination.k8s.io \"vaultwire-lock\" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update",
            "reason": "Invalid",
            "details": {"name": "vaultwire-lock", "group": "coordination.k8s.io", "kind": "leases",
                        "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: 0: must be specified for an update", "field": "metadata.resourceVersion"}]},
            "code": 422,
        })
    );
}

#[test]
fn patches_and_applies_may_carry_a_resource_version_precondition() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let created = call(Method::POST, LEASES)
        .json(&lease("run-a"))
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    let release = json!({"metadata": {"resourceVersion": created["metadata"]["resourceVersion"]}, "spec": {"holderIdentity": null}});
    let released = call(Method::PATCH, &lock())
        .raw(
            "application/merge-patch+json",
            release.to_string().as_bytes(),
        )
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert!(released["spec"].get("holderIdentity").is_none());
    call(Method::PATCH, &lock())
        .raw(
            "application/merge-patch+json",
            release.to_string().as_bytes(),
        )
        .send(&mut cluster)
        .expect(StatusCode::CONFLICT);
    let mut acquire = lease("run-b");
    acquire["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"].clone();
    apply(&lock(), "run-b", true, &acquire)
        .send(&mut cluster)
        .expect(StatusCode::CONFLICT);
}

#[test]
fn lease_fields_are_validated() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let mut bad = lease("run-a");
    bad["spec"]["leaseDurationSeconds"] = json!(0);
    let invalid = call(Method::POST, LEASES)
        .json(&bad)
        .send(&mut cluster)
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        invalid["message"],
        "Lease.coordination.k8s.io \"vaultwire-lock\" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"
    );
}
