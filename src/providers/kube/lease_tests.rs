//! The Lease lock: the pure decision as a table, then the protocol against a scripted API.

use serde_json::{Value, json};

use super::*;
use crate::providers::testing::{ScriptedKube, kube_status};

const PATH: &str = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/vaultwire-lock";
const COLLECTION: &str = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases";

fn now() -> Timestamp {
    "2026-11-26T15:00:00Z".parse().unwrap()
}

fn me() -> LockHolder {
    LockHolder::new(
        &Environment::from_pairs([("USER", "ci"), ("HOSTNAME", "runner-1")]),
        4242,
        Uuid::nil(),
    )
}

fn lease_json(holder: Option<&str>, renewed: &str, duration: i32) -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "vaultwire-lock", "namespace": "kube-system", "resourceVersion": "5"},
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": duration,
            "acquireTime": renewed,
            "renewTime": renewed,
            "leaseTransitions": 2,
        }
    })
}

fn lease(holder: Option<&str>, renewed: &str, duration: i32) -> Lease {
    serde_json::from_value(lease_json(holder, renewed, duration)).unwrap()
}

fn lock(kube: &ScriptedKube) -> LeaseLock {
    LeaseLock::new(kube.client(), "aks-demo", me(), Duration::from_secs(60))
}

#[test]
fn the_holder_names_user_host_process_and_run() {
    assert_eq!(
        me().as_str(),
        "ci@runner-1 pid 4242 run 00000000-0000-0000-0000-000000000000"
    );
}

#[test]
fn decisions() {
    let other = "alice@laptop pid 7 run 1";
    let fresh = "2026-11-26T14:59:50.000000Z";
    let stale = "2026-11-26T14:58:00.000000Z";
    let cases = [
        (None, LockDecision::Create),
        (Some(lease(None, fresh, 60)), LockDecision::Take),
        (Some(lease(Some(""), fresh, 60)), LockDecision::Take),
        (
            Some(lease(Some(me().as_str()), fresh, 60)),
            LockDecision::Renew,
        ),
        (Some(lease(Some(other), stale, 60)), LockDecision::Take),
        (
            Some(lease(Some(other), fresh, 60)),
            LockDecision::Held {
                holder: other.into(),
                expires_at: "2026-11-26T15:00:50Z".parse().unwrap(),
            },
        ),
    ];
    for (lease, expected) in cases {
        assert_eq!(decide(lease.as_ref(), &me(), now()), expected, "{lease:?}");
    }
}

#[tokio::test]
async fn a_free_lock_is_one_request_creating_the_lease_with_us_as_holder() {
    let kube = ScriptedKube::new();
    kube.expect(
        "POST",
        COLLECTION,
        201,
        lease_json(Some(me().as_str()), "2026-11-26T15:00:00.000000Z", 60),
    );
    lock(&kube).acquire(now()).await.unwrap();
    kube.assert_done();
    let created = &kube.requests()[0].body;
    assert_eq!(created["spec"]["holderIdentity"], me().as_str());
    assert_eq!(created["spec"]["leaseDurationSeconds"], 60);
    assert_eq!(created["spec"]["renewTime"], "2026-11-26T15:00:00.000000Z");
    assert_eq!(
        created["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "vaultwire"
    );
}

#[tokio::test]
async fn a_held_lock_fails_fast_naming_the_holder_and_expiry() {
    let kube = ScriptedKube::new();
    kube.expect(
        "POST",
        COLLECTION,
        409,
        kube_status(
            409,
            "AlreadyExists",
            "leases \"vaultwire-lock\" already exists",
        ),
    )
    .expect(
        "GET",
        PATH,
        200,
        lease_json(
            Some("alice@laptop pid 7 run 1"),
            "2026-11-26T14:59:50.000000Z",
            60,
        ),
    );
    let error = lock(&kube).acquire(now()).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "cluster `aks-demo` is locked by alice@laptop pid 7 run 1 until 2026-11-26T15:00:50Z"
    );
    assert!(error.help().is_some());
    kube.assert_done();
}

#[tokio::test]
async fn losing_the_creation_race_reads_again_and_reports_the_winner() {
    let kube = ScriptedKube::new();
    kube.expect(
        "POST",
        COLLECTION,
        409,
        kube_status(
            409,
            "AlreadyExists",
            "leases \"vaultwire-lock\" already exists",
        ),
    )
    .expect(
        "GET",
        PATH,
        200,
        lease_json(
            Some("bob@ci pid 9 run 2"),
            "2026-11-26T15:00:00.000000Z",
            60,
        ),
    );
    let error = lock(&kube).acquire(now()).await.unwrap_err();
    assert!(matches!(error, LockError::Held { ref holder, .. } if holder == "bob@ci pid 9 run 2"));
}

#[tokio::test]
async fn an_expired_lock_is_taken_over_with_its_resource_version() {
    let kube = ScriptedKube::new();
    kube.expect(
        "POST",
        COLLECTION,
        409,
        kube_status(
            409,
            "AlreadyExists",
            "leases \"vaultwire-lock\" already exists",
        ),
    )
    .expect(
        "GET",
        PATH,
        200,
        lease_json(
            Some("alice@laptop pid 7 run 1"),
            "2026-11-26T14:50:00.000000Z",
            60,
        ),
    )
    .expect(
        "PUT",
        PATH,
        200,
        lease_json(Some(me().as_str()), "2026-11-26T15:00:00.000000Z", 60),
    );
    lock(&kube).acquire(now()).await.unwrap();
    let written = &kube.requests()[2].body;
    assert_eq!(written["metadata"]["resourceVersion"], "5");
    assert_eq!(written["spec"]["holderIdentity"], me().as_str());
    assert_eq!(written["spec"]["leaseTransitions"], 3);
    assert_eq!(
        written["spec"]["acquireTime"],
        "2026-11-26T15:00:00.000000Z"
    );
}

#[tokio::test]
async fn a_conflicting_write_is_decided_again_on_a_fresh_read() {
    let kube = ScriptedKube::new();
    kube.expect(
        "POST",
        COLLECTION,
        409,
        kube_status(
            409,
            "AlreadyExists",
            "leases \"vaultwire-lock\" already exists",
        ),
    )
    .expect(
        "GET",
        PATH,
        200,
        lease_json(None, "2026-11-26T14:50:00.000000Z", 60),
    )
    .expect(
        "PUT",
        PATH,
        409,
        kube_status(409, "Conflict", "the object has been modified"),
    )
    .expect(
        "GET",
        PATH,
        200,
        lease_json(None, "2026-11-26T14:50:00.000000Z", 60),
    )
    .expect(
        "PUT",
        PATH,
        200,
        lease_json(Some(me().as_str()), "2026-11-26T15:00:00.000000Z", 60),
    );
    lock(&kube).acquire(now()).await.unwrap();
    kube.assert_done();
}

#[tokio::test]
async fn renewing_moves_the_renew_time_and_keeps_the_acquire_time() {
    let kube = ScriptedKube::new();
    kube.expect(
        "GET",
        PATH,
        200,
        lease_json(Some(me().as_str()), "2026-11-26T14:59:30.000000Z", 60),
    )
    .expect(
        "PUT",
        PATH,
        200,
        lease_json(Some(me().as_str()), "2026-11-26T15:00:00.000000Z", 60),
    );
    lock(&kube).renew(now()).await.unwrap();
    let written = &kube.requests()[1].body;
    assert_eq!(written["spec"]["renewTime"], "2026-11-26T15:00:00.000000Z");
    assert_eq!(
        written["spec"]["acquireTime"],
        "2026-11-26T14:59:30.000000Z"
    );
    assert_eq!(written["spec"]["leaseTransitions"], 2);
}

#[tokio::test]
async fn a_lock_taken_over_by_another_run_is_lost() {
    let kube = ScriptedKube::new();
    kube.expect(
        "GET",
        PATH,
        200,
        lease_json(
            Some("bob@ci pid 9 run 2"),
            "2026-11-26T14:59:59.000000Z",
            60,
        ),
    );
    let error = lock(&kube).renew(now()).await.unwrap_err();
    assert!(matches!(error, LockError::Lost { .. }), "{error}");
}

fn calls(kube: &ScriptedKube) -> Vec<String> {
    kube.requests()
        .iter()
        .map(|request| format!("{} {}", request.method, request.path))
        .collect()
}

#[tokio::test]
async fn a_held_lock_is_renewed_and_released_in_one_request_each_on_what_it_wrote() {
    let kube = ScriptedKube::new();
    let mut renewed = lease_json(Some(me().as_str()), "2026-11-26T15:00:30.000000Z", 60);
    renewed["metadata"]["resourceVersion"] = json!("6");
    kube.expect(
        "POST",
        COLLECTION,
        201,
        lease_json(Some(me().as_str()), "2026-11-26T15:00:00.000000Z", 60),
    )
    .expect("PUT", PATH, 200, renewed)
    .expect("DELETE", PATH, 200, kube_status(200, "", ""));
    let lock = lock(&kube);
    lock.acquire(now()).await.unwrap();
    lock.renew("2026-11-26T15:00:30Z".parse().unwrap())
        .await
        .unwrap();
    lock.release().await.unwrap();
    kube.assert_done();
    assert_eq!(
        calls(&kube),
        [
            format!("POST {COLLECTION}"),
            format!("PUT {PATH}"),
            format!("DELETE {PATH}")
        ]
    );
    let requests = kube.requests();
    assert_eq!(requests[1].body["metadata"]["resourceVersion"], "5");
    assert_eq!(
        requests[1].body["spec"]["renewTime"],
        "2026-11-26T15:00:30.000000Z"
    );
    assert_eq!(
        requests[2].body["preconditions"]["resourceVersion"], "6",
        "only the Lease as this run last wrote it is deleted"
    );
}

#[tokio::test]
async fn release_deletes_the_lease_only_when_it_is_ours() {
    let kube = ScriptedKube::new();
    kube.expect(
        "GET",
        PATH,
        200,
        lease_json(Some(me().as_str()), "2026-11-26T14:59:59.000000Z", 60),
    )
    .expect("DELETE", PATH, 200, kube_status(200, "", ""))
    .expect(
        "GET",
        PATH,
        200,
        lease_json(
            Some("bob@ci pid 9 run 2"),
            "2026-11-26T14:59:59.000000Z",
            60,
        ),
    );
    let lock = lock(&kube);
    lock.release().await.unwrap();
    assert_eq!(
        kube.requests()[1].body["preconditions"]["resourceVersion"],
        "5"
    );
    lock.release().await.unwrap();
    kube.assert_done();
    assert_eq!(
        calls(&kube),
        [
            format!("GET {PATH}"),
            format!("DELETE {PATH}"),
            format!("GET {PATH}")
        ],
        "someone else's lock is left alone"
    );
}

#[tokio::test]
async fn a_lock_taken_over_before_release_is_left_to_its_new_holder() {
    let kube = ScriptedKube::new();
    kube.expect(
        "POST",
        COLLECTION,
        201,
        lease_json(Some(me().as_str()), "2026-11-26T15:00:00.000000Z", 60),
    )
    .expect(
        "DELETE",
        PATH,
        409,
        kube_status(
            409,
            "Conflict",
            "Precondition failed: ResourceVersion in precondition: 5",
        ),
    )
    .expect(
        "GET",
        PATH,
        200,
        lease_json(
            Some("bob@ci pid 9 run 2"),
            "2026-11-26T15:02:00.000000Z",
            60,
        ),
    );
    let lock = lock(&kube);
    lock.acquire(now()).await.unwrap();
    lock.release().await.unwrap();
    kube.assert_done();
}

#[test]
fn a_dead_run_on_this_machine_is_recognised_by_host_and_pid() {
    let me = LockHolder::from_identity(format!("ci@runner-1 pid {} run a", std::process::id()));
    // Above PID_MAX_LIMIT (2^22), so never a running process.
    assert!(me.is_dead_local_run("ci@runner-1 pid 4194305 run b"));
    assert!(!me.is_dead_local_run(&format!("ci@runner-1 pid {} run c", std::process::id())));
    assert!(!me.is_dead_local_run("ci@runner-2 pid 4194305 run b"));
    assert!(!me.is_dead_local_run("not an identity"));
}

/// A run killed but not yet reaped by its parent (a zombie) still has its `/proc` entry, and
/// its lock was waited out until it expired (regression).
#[test]
fn a_killed_run_not_yet_reaped_is_dead() {
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .expect("run sleep");
    let me = LockHolder::from_identity("ci@runner-1 pid 1 run a".to_owned());
    let identity = format!("ci@runner-1 pid {} run z", child.id());
    assert!(!me.is_dead_local_run(&identity), "running");
    child.kill().expect("kill sleep");
    let proc = std::path::Path::new("/proc").join(child.id().to_string());
    // Until the kernel has made it a zombie.
    while std::fs::read_to_string(proc.join("stat")).is_ok_and(|stat| !stat.contains(") Z")) {
        std::thread::yield_now();
    }
    assert!(proc.exists(), "not reaped yet");
    assert!(me.is_dead_local_run(&identity), "a zombie");
    child.wait().expect("reap sleep");
    assert!(me.is_dead_local_run(&identity), "reaped");
}
