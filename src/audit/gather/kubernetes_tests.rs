//! [`read_kubernetes`] against the sandbox's Kubernetes emulator (the seeded `aks-demo`),
//! through a real `kube::Client`: what it reads, that it only reads, and that no Secret value
//! crosses the wire.

use std::sync::{Arc, Mutex};

use http::HeaderMap;

use super::read_kubernetes;
use crate::audit::catalog::CheckId;
use crate::audit::scan::{WorkloadKind, scan};
use crate::audit::testing::{now, seeded_objects};
use crate::plan::model::AuditSettings;
use crate::sandbox::kube::{KubeCluster, KubeRequest};

#[derive(Debug, Clone)]
struct Exchange {
    method: String,
    target: String,
    accept: String,
    response: String,
}

/// A client whose requests the emulated `cluster` answers; every exchange is recorded.
fn emulated(cluster: KubeCluster) -> (kube::Client, Arc<Mutex<Vec<Exchange>>>) {
    let cluster = Arc::new(Mutex::new(cluster));
    let log = Arc::new(Mutex::new(Vec::new()));
    let recorded = log.clone();
    let service = tower::service_fn(move |request: http::Request<kube::client::Body>| {
        let (cluster, log) = (cluster.clone(), recorded.clone());
        async move {
            let (parts, body) = request.into_parts();
            let body = body.collect_bytes().await.unwrap_or_default();
            let mut headers = HeaderMap::new();
            for (name, value) in &parts.headers {
                headers.insert(name.clone(), value.clone());
            }
            let response = cluster.lock().unwrap().handle(
                &KubeRequest {
                    method: &parts.method,
                    path: parts.uri.path(),
                    query: parts.uri.query().unwrap_or_default(),
                    headers: &headers,
                    body: &body,
                },
                now(),
            );
            log.lock().unwrap().push(Exchange {
                method: parts.method.to_string(),
                target: format!(
                    "{}?{}",
                    parts.uri.path(),
                    parts.uri.query().unwrap_or_default()
                ),
                accept: headers
                    .get(http::header::ACCEPT)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default()
                    .to_owned(),
                response: String::from_utf8_lossy(&response.body).into_owned(),
            });
            let mut reply = http::Response::builder().status(response.status);
            for (name, value) in &response.headers {
                reply = reply.header(name, value);
            }
            Ok::<_, std::convert::Infallible>(
                reply.body(kube::client::Body::from(response.body)).unwrap(),
            )
        }
    });
    (kube::Client::new(service, "default"), log)
}

#[tokio::test]
async fn the_seeded_cluster_is_read_with_lists_only_and_scans_as_the_emulator_lists_it() {
    let (client, log) = emulated(KubeCluster::seeded("aks-demo"));
    let data = read_kubernetes(&client, "aks-demo").await.unwrap();
    let exchanges = log.lock().unwrap().clone();
    assert!(
        exchanges.iter().all(|e| e.method == "GET"),
        "{exchanges:#?}"
    );
    let targets: Vec<&str> = exchanges.iter().map(|e| e.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "/apis/secrets-store.csi.x-k8s.io/v1/secretproviderclasses?",
            "/apis/batch/v1/cronjobs?",
            "/apis/apps/v1/deployments?",
            "/apis/apps/v1/statefulsets?",
            "/apis/apps/v1/daemonsets?",
            "/apis/batch/v1/jobs?",
            "/apis/apps/v1/replicasets?",
            "/api/v1/pods?",
            "/api/v1/secrets?&fieldSelector=type%3Dkubernetes.io%2Fservice-account-token",
            "/api/v1/secrets?&fieldSelector=type%3Dhelm.sh%2Frelease.v1",
            "/api/v1/secrets?",
            "/api/v1/events?&fieldSelector=reason%3DFailedMount",
        ]
    );
    // The add-on is off in the seed: no SecretProviderClass API.
    assert_eq!(data.spcs, None);

    // What the scan judges is what the emulator's own lists hold, so the findings match.
    let excluded = AuditSettings::default().exclude_namespaces;
    let read = scan("aks-demo", &data.objects, &excluded);
    let listed = scan("aks-demo", &seeded_objects(), &excluded);
    assert_eq!(read, listed);
    assert_eq!(read.findings[&CheckId::SecretsInEnv].len(), 5);
    assert_eq!(data.objects.workloads[&WorkloadKind::Pod].len(), 12);
}

#[tokio::test]
async fn secrets_are_listed_metadata_only_so_no_value_crosses_the_wire() {
    let (client, log) = emulated(KubeCluster::seeded("aks-demo"));
    read_kubernetes(&client, "aks-demo").await.unwrap();
    let exchanges = log.lock().unwrap().clone();
    let secret_lists: Vec<&Exchange> = exchanges
        .iter()
        .filter(|e| e.target.starts_with("/api/v1/secrets"))
        .collect();
    assert_eq!(secret_lists.len(), 3);
    for exchange in secret_lists {
        assert!(
            exchange.accept.contains("as=PartialObjectMetadataList"),
            "{}",
            exchange.accept
        );
        assert!(exchange.response.contains("PartialObjectMetadataList"));
    }
    for exchange in &exchanges {
        for value in [
            "placeholder-db-password",
            "placeholder-client-secret",
            "placeholder-token",
        ] {
            assert!(
                !exchange.response.contains(value),
                "{} carried {value}",
                exchange.target
            );
        }
    }
}

#[tokio::test]
async fn service_account_tokens_and_helm_releases_are_recognised_by_type() {
    let (client, _) = emulated(KubeCluster::seeded("aks-demo"));
    let data = read_kubernetes(&client, "aks-demo").await.unwrap();
    let typed: Vec<String> = data
        .objects
        .secrets
        .iter()
        .filter_map(|s| {
            Some(format!(
                "{}/{} {}",
                s.pointer("/metadata/namespace")?.as_str()?,
                s.pointer("/metadata/name")?.as_str()?,
                s.get("type")?.as_str()?
            ))
        })
        .collect();
    assert_eq!(
        typed,
        [
            "shop/sh.helm.release.v1.shop.v1 helm.sh/release.v1",
            "shop/shop-deployer-token kubernetes.io/service-account-token",
        ]
    );
}

#[tokio::test]
async fn with_the_csi_driver_installed_secret_provider_classes_are_listed() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    cluster.set_csi_driver_installed(true);
    let (client, _) = emulated(cluster);
    let data = read_kubernetes(&client, "aks-demo").await.unwrap();
    assert_eq!(data.spcs, Some(Vec::new()));
}
