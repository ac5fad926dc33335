//! The seeded world: its inventory (the table in docs/sandbox-kubernetes.md), determinism,
//! internal consistency, harmless secret values, and a serde round trip of a populated cluster.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{Method, StatusCode};
use serde_json::Value;

use super::super::KubeCluster;
use super::support::{SPC_PATH, apply, call, get, names, spc, with_driver};

/// Every `(namespace, name)` of a resource listed across namespaces.
fn everywhere(cluster: &mut KubeCluster, path: &str) -> Vec<String> {
    let list = get(path).send(cluster).expect(StatusCode::OK);
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            let namespace = item["metadata"]["namespace"].as_str().unwrap_or_default();
            let name = item["metadata"]["name"].as_str().unwrap_or_default();
            if namespace.is_empty() {
                name.to_owned()
            } else {
                format!("{namespace}/{name}")
            }
        })
        .collect()
}

#[test]
fn the_seed_inventory() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let inventory: Vec<(&str, Vec<String>)> = [
        ("namespaces", "/api/v1/namespaces"),
        ("secrets", "/api/v1/secrets"),
        ("pods", "/api/v1/pods"),
        ("serviceaccounts", "/api/v1/serviceaccounts"),
        ("configmaps", "/api/v1/configmaps"),
        ("deployments", "/apis/apps/v1/deployments"),
        ("replicasets", "/apis/apps/v1/replicasets"),
        ("statefulsets", "/apis/apps/v1/statefulsets"),
        ("daemonsets", "/apis/apps/v1/daemonsets"),
        ("jobs", "/apis/batch/v1/jobs"),
        ("cronjobs", "/apis/batch/v1/cronjobs"),
        ("leases", "/apis/coordination.k8s.io/v1/leases"),
    ]
    .into_iter()
    .map(|(resource, path)| (resource, everywhere(&mut cluster, path)))
    .collect();
    let expected: Vec<(&str, Vec<&str>)> = vec![
        (
            "namespaces",
            vec![
                "default",
                "kube-node-lease",
                "kube-public",
                "kube-system",
                "payments",
                "shop",
            ],
        ),
        (
            "secrets",
            vec![
                "default/log-shipper-credentials",
                "kube-system/azure-policy-webhook-cert",
                "kube-system/bootstrap-token-abcdef",
                "payments/payments-db-legacy",
                "payments/secrets-store-creds",
                "shop/cache-tls",
                "shop/registry-creds",
                "shop/report-creds",
                "shop/sh.helm.release.v1.shop.v1",
                "shop/shop-api-synced",
                "shop/shop-config",
                "shop/shop-deployer-token",
            ],
        ),
        (
            "pods",
            vec![
                "default/log-agent-tq8zb",
                "kube-system/azure-policy-7c5d9b8f46-x2lqv",
                "kube-system/azure-policy-webhook-5f8b6d4c9d-k9wzr",
                "kube-system/coredns-6f9b8c7d45-7hnpt",
                "kube-system/kube-proxy-s4mxd",
                "payments/payments-api-7d9c6b8f4d-q2xkz",
                "payments/payments-legacy-sp",
                "payments/payments-worker",
                "shop/shop-api-6b7d5f9c8b-n4rwd",
                "shop/shop-cache-0",
                "shop/shop-report-29927640-9rjmv",
                "shop/shop-web-5c6f8d9b7c-h8pvt",
            ],
        ),
        (
            "serviceaccounts",
            vec![
                "default/default",
                "kube-node-lease/default",
                "kube-public/default",
                "kube-system/azure-policy",
                "kube-system/coredns",
                "kube-system/default",
                "payments/default",
                "shop/default",
                "shop/shop-deployer",
            ],
        ),
        (
            "configmaps",
            vec![
                "default/kube-root-ca.crt",
                "kube-node-lease/kube-root-ca.crt",
                "kube-public/kube-root-ca.crt",
                "kube-system/coredns",
                "kube-system/kube-root-ca.crt",
                "payments/kube-root-ca.crt",
                "shop/kube-root-ca.crt",
            ],
        ),
        (
            "deployments",
            vec![
                "kube-system/azure-policy",
                "kube-system/azure-policy-webhook",
                "kube-system/coredns",
                "payments/payments-api",
                "shop/shop-api",
                "shop/shop-web",
            ],
        ),
        (
            "replicasets",
            vec![
                "kube-system/azure-policy-7c5d9b8f46",
                "kube-system/azure-policy-webhook-5f8b6d4c9d",
                "kube-system/coredns-6f9b8c7d45",
                "payments/payments-api-7d9c6b8f4d",
                "shop/shop-api-6b7d5f9c8b",
                "shop/shop-web-5c6f8d9b7c",
            ],
        ),
        ("statefulsets", vec!["shop/shop-cache"]),
        (
            "daemonsets",
            vec!["default/log-agent", "kube-system/kube-proxy"],
        ),
        ("jobs", vec!["shop/shop-report-29927640"]),
        ("cronjobs", vec!["shop/shop-report"]),
        (
            "leases",
            vec!["kube-node-lease/aks-nodepool1-31718369-vmss000000"],
        ),
    ];
    let expected: Vec<(&str, Vec<String>)> = expected
        .into_iter()
        .map(|(resource, names)| (resource, names.into_iter().map(str::to_owned).collect()))
        .collect();
    assert_eq!(inventory, expected);
    assert!(
        cluster.secret_provider_classes().is_empty(),
        "the add-on starts disabled"
    );
    assert!(!cluster.csi_driver_installed());
}

#[test]
fn seeding_is_deterministic_per_cluster_name() {
    assert_eq!(
        KubeCluster::seeded("aks-demo"),
        KubeCluster::seeded("aks-demo")
    );
    let uid = |cluster: &mut KubeCluster| {
        get("/api/v1/namespaces/shop").send(cluster).body()["metadata"]["uid"].clone()
    };
    assert_ne!(
        uid(&mut KubeCluster::seeded("aks-demo")),
        uid(&mut KubeCluster::seeded("aks-other"))
    );
}

#[test]
fn owner_references_name_the_seeded_owners_by_uid() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let pod = get("/api/v1/namespaces/payments/pods/payments-api-7d9c6b8f4d-q2xkz")
        .send(&mut cluster)
        .body();
    let replica_set = get("/apis/apps/v1/namespaces/payments/replicasets/payments-api-7d9c6b8f4d")
        .send(&mut cluster)
        .body();
    assert_eq!(
        pod["metadata"]["ownerReferences"][0]["uid"],
        replica_set["metadata"]["uid"]
    );
    let deployment = get("/apis/apps/v1/namespaces/payments/deployments/payments-api")
        .send(&mut cluster)
        .body();
    assert_eq!(
        replica_set["metadata"]["ownerReferences"][0]["uid"],
        deployment["metadata"]["uid"]
    );
    let token = get("/api/v1/namespaces/shop/secrets/shop-deployer-token")
        .send(&mut cluster)
        .body();
    let account = get("/api/v1/namespaces/shop/serviceaccounts/shop-deployer")
        .send(&mut cluster)
        .body();
    assert_eq!(
        token["metadata"]["annotations"]["kubernetes.io/service-account.uid"],
        account["metadata"]["uid"]
    );
}

#[test]
fn seeded_pods_look_admitted_and_scheduled() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let pods = get("/api/v1/pods").send(&mut cluster).body();
    for pod in pods["items"].as_array().into_iter().flatten() {
        let name = pod["metadata"]["name"].as_str().unwrap_or_default();
        assert_eq!(
            pod["spec"]["nodeName"], "aks-nodepool1-31718369-vmss000000",
            "{name}"
        );
        let token_volume = pod["spec"]["volumes"].as_array().and_then(|volumes| {
            volumes.iter().find(|v| {
                v["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("kube-api-access-"))
            })
        });
        assert!(
            token_volume.is_some_and(|v| v["projected"]["sources"][0]
                .get("serviceAccountToken")
                .is_some()),
            "{name}"
        );
        assert!(
            pod["status"]["containerStatuses"]
                .as_array()
                .is_some_and(|s| !s.is_empty()),
            "{name}"
        );
    }
}

#[test]
fn seeded_secret_values_are_placeholders() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let secrets = get("/api/v1/secrets").send(&mut cluster).body();
    let harmless = [
        "abcdef",
        "true",
        "payments_app",
        "shop",
        "system:bootstrappers:aks",
    ];
    for secret in secrets["items"].as_array().into_iter().flatten() {
        for (key, value) in secret["data"].as_object().into_iter().flatten() {
            let decoded = STANDARD
                .decode(value.as_str().unwrap_or_default())
                .expect("base64");
            let text = String::from_utf8(decoded).expect("UTF-8 placeholder");
            assert!(
                text.contains("placeholder") || harmless.contains(&text.as_str()),
                "{}/{key} holds {text:?}",
                secret["metadata"]["name"]
            );
        }
    }
}

#[test]
fn a_populated_cluster_round_trips_through_serde() {
    let mut cluster = with_driver(KubeCluster::seeded("aks-demo"));
    let path = format!("{SPC_PATH}/payments-db");
    apply(
        &path,
        "vaultwire",
        true,
        &spc("payments-db", "kv-vaultwire-demo"),
    )
    .send(&mut cluster)
    .expect(StatusCode::CREATED);
    call(
        Method::DELETE,
        "/api/v1/namespaces/payments/pods/payments-worker",
    )
    .send(&mut cluster)
    .expect(StatusCode::OK);
    let saved = serde_json::to_string(&cluster).expect("serialize");
    let mut restored: KubeCluster = serde_json::from_str(&saved).expect("deserialize");
    assert_eq!(restored, cluster);
    assert!(restored.csi_driver_installed());
    assert_eq!(
        restored.secret_provider_classes(),
        [("payments".to_owned(), "payments-db".to_owned())]
    );
    let created = call(Method::POST, "/api/v1/namespaces/shop/configmaps")
        .json(&serde_json::json!({"metadata": {"name": "after-restore"}}))
        .send(&mut restored)
        .expect(StatusCode::CREATED);
    let listed: Value = get("/api/v1/namespaces/shop/configmaps")
        .send(&mut restored)
        .body();
    assert_eq!(
        listed["metadata"]["resourceVersion"], created["metadata"]["resourceVersion"],
        "the counter survives"
    );
    assert_eq!(names(&listed), ["after-restore", "kube-root-ca.crt"]);
    assert!(
        serde_json::from_str::<KubeCluster>(
            r#"{"name":"x","csi_driver_installed":false,"store":{},"extra":1}"#
        )
        .is_err()
    );
}

#[test]
fn unauthorized_is_a_status() {
    let body = KubeCluster::unauthorized().json_body().expect("JSON");
    assert_eq!(
        body,
        serde_json::json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                           "message": "Unauthorized", "reason": "Unauthorized", "code": 401})
    );
}
