//! `labelSelector` and `fieldSelector` on lists, across one namespace and all of them.

use http::StatusCode;

use super::super::KubeCluster;
use super::support::{get, names};

fn pods(cluster: &mut KubeCluster, query: &str) -> Vec<String> {
    names(
        &get(&format!("/api/v1/pods?{query}"))
            .send(cluster)
            .expect(StatusCode::OK),
    )
}

#[test]
fn label_selector_operators() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let cases: &[(&str, &[&str])] = &[
        (
            "labelSelector=app%3Dshop-web",
            &["shop-web-5c6f8d9b7c-h8pvt"],
        ),
        (
            "labelSelector=app%3D%3Dshop-api",
            &["shop-api-6b7d5f9c8b-n4rwd"],
        ),
        (
            "labelSelector=app+in+(payments-worker,payments-legacy-sp)",
            &["payments-legacy-sp", "payments-worker"],
        ),
        ("labelSelector=k8s-app", &["coredns-6f9b8c7d45-7hnpt"]),
        (
            "labelSelector=component,pod-template-generation%3D1",
            &["kube-proxy-s4mxd"],
        ),
        (
            "labelSelector=app,!pod-template-hash,app+notin+(shop-report,log-agent)",
            &["payments-legacy-sp", "payments-worker", "shop-cache-0"],
        ),
    ];
    for (query, expected) in cases {
        assert_eq!(pods(&mut cluster, query), *expected, "{query}");
    }
    let not_shop = pods(&mut cluster, "labelSelector=app!%3Dshop-web");
    assert!(
        not_shop.contains(&"kube-proxy-s4mxd".to_owned()),
        "`!=` matches pods without the label"
    );
    assert!(!not_shop.contains(&"shop-web-5c6f8d9b7c-h8pvt".to_owned()));
}

#[test]
fn field_selectors_on_name_namespace_and_per_resource_fields() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    assert_eq!(
        pods(&mut cluster, "fieldSelector=metadata.name%3Dshop-cache-0"),
        ["shop-cache-0"]
    );
    assert_eq!(
        pods(
            &mut cluster,
            "fieldSelector=metadata.namespace%3Dpayments,status.phase!%3DRunning"
        ),
        ["payments-legacy-sp", "payments-worker"]
    );
    let tls = get("/api/v1/secrets?fieldSelector=type%3Dkubernetes.io/tls")
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(names(&tls), ["azure-policy-webhook-cert", "cache-tls"]);
}

#[test]
fn bad_selectors_are_bad_requests() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    for query in [
        "labelSelector=app+in+shop",
        "labelSelector=a%3D%3D%3Db",
        "fieldSelector=spec.replicas%3D1",
    ] {
        let body = get(&format!("/api/v1/pods?{query}"))
            .send(&mut cluster)
            .expect(StatusCode::BAD_REQUEST);
        assert_eq!(body["reason"], "BadRequest", "{query}");
    }
    let body = get("/api/v1/pods?fieldSelector=spec.replicas%3D1")
        .send(&mut cluster)
        .body();
    assert_eq!(body["message"], "field label not supported: spec.replicas");
}
