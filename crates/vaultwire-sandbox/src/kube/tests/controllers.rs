//! The workload controllers: the seeded workloads are left as they are; a Deployment gets a
//! ReplicaSet per template and pods; StatefulSets, DaemonSets and Jobs get theirs.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use super::super::KubeCluster;
use super::support::{call, get, now};

fn deployment(image: &str, replicas: u64) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "payments"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
        },
    })
}

/// `(name, owner kind, owner name)` of the pods in `payments` whose names start with `prefix`.
fn pods(cluster: &mut KubeCluster, prefix: &str) -> Vec<(String, String, String)> {
    let list = get("/api/v1/namespaces/payments/pods")
        .send(cluster)
        .expect(StatusCode::OK);
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|pod| {
            pod["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with(prefix)
        })
        .map(|pod| {
            let owner = &pod["metadata"]["ownerReferences"][0];
            (
                pod["metadata"]["name"].as_str().unwrap().to_owned(),
                owner["kind"].as_str().unwrap_or_default().to_owned(),
                owner["name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_seeded_workloads_already_have_what_their_controllers_want() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let before = cluster.revision();
    assert!(!cluster.reconcile_workloads(now()));
    assert_eq!(cluster.revision(), before);
}

#[test]
fn a_deployment_gets_a_replica_set_and_pods_and_rolls_to_a_new_template() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    call(
        Method::POST,
        "/apis/apps/v1/namespaces/payments/deployments",
    )
    .json(&deployment("nginx:1.27", 2))
    .send(&mut cluster)
    .expect(StatusCode::CREATED);
    assert!(cluster.reconcile_workloads(now()));
    assert!(
        !cluster.reconcile_workloads(now()),
        "a second pass changes nothing"
    );
    let first = pods(&mut cluster, "web-");
    assert_eq!(first.len(), 2, "{first:?}");
    let set = first[0].2.clone();
    assert!(
        first
            .iter()
            .all(|(_, kind, owner)| kind == "ReplicaSet" && *owner == set)
    );
    let replica_set = get(&format!(
        "/apis/apps/v1/namespaces/payments/replicasets/{set}"
    ))
    .send(&mut cluster)
    .expect(StatusCode::OK);
    assert_eq!(replica_set["metadata"]["ownerReferences"][0]["name"], "web");
    let hash = replica_set["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .unwrap();
    assert_eq!(set, format!("web-{hash}"));
    let pod = get(&format!("/api/v1/namespaces/payments/pods/{}", first[0].0))
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(pod["status"]["phase"], "Running");
    assert_eq!(pod["metadata"]["labels"]["pod-template-hash"], hash);

    // A new template: a new ReplicaSet takes the replicas, the old one goes to zero.
    call(
        Method::PUT,
        "/apis/apps/v1/namespaces/payments/deployments/web",
    )
    .json(&deployment("nginx:1.28", 2))
    .send(&mut cluster)
    .expect(StatusCode::OK);
    cluster.reconcile_workloads(now());
    let second = pods(&mut cluster, "web-");
    assert_eq!(second.len(), 2, "{second:?}");
    assert!(second.iter().all(|(_, _, owner)| *owner != set));
    let old = get(&format!(
        "/apis/apps/v1/namespaces/payments/replicasets/{set}"
    ))
    .send(&mut cluster)
    .expect(StatusCode::OK);
    assert_eq!(old["spec"]["replicas"], 0);
    let revision = |name: &str, cluster: &mut KubeCluster| {
        get(&format!(
            "/apis/apps/v1/namespaces/payments/replicasets/{name}"
        ))
        .send(cluster)
        .expect(StatusCode::OK)["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
            .clone()
    };
    assert_eq!(revision(&second[0].2, &mut cluster), "2");

    // Scaled to zero, no pod is left.
    call(
        Method::PUT,
        "/apis/apps/v1/namespaces/payments/deployments/web",
    )
    .json(&deployment("nginx:1.28", 0))
    .send(&mut cluster)
    .expect(StatusCode::OK);
    cluster.reconcile_workloads(now());
    assert_eq!(pods(&mut cluster, "web-"), Vec::new());
}

#[test]
fn stateful_sets_daemon_sets_and_jobs_get_their_pods() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let template = json!({
        "metadata": {"labels": {"app": "x"}},
        "spec": {"containers": [{"name": "x", "image": "busybox:1.36"}], "restartPolicy": "Never"},
    });
    call(Method::POST, "/apis/apps/v1/namespaces/payments/statefulsets")
        .json(&json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "payments"}, "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"app": "x"}}, "template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "x", "image": "busybox:1.36"}]}}}}))
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    call(Method::POST, "/apis/apps/v1/namespaces/payments/daemonsets")
        .json(&json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "payments"}, "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "x", "image": "busybox:1.36"}]}}}}))
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    call(Method::POST, "/apis/batch/v1/namespaces/payments/jobs")
        .json(&json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once", "namespace": "payments"}, "spec": {"template": template}}))
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    cluster.reconcile_workloads(now());
    let names = |prefix: &str, cluster: &mut KubeCluster| -> Vec<String> {
        pods(cluster, prefix)
            .into_iter()
            .map(|(name, _, _)| name)
            .collect()
    };
    assert_eq!(names("db-", &mut cluster), ["db-0", "db-1"]);
    assert_eq!(names("agent-", &mut cluster).len(), 1);
    assert_eq!(names("once-", &mut cluster).len(), 1);
    assert_eq!(pods(&mut cluster, "once-")[0].1, "Job");
}
