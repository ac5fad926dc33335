//! An extra CA bundle (`VAULTWIRE_CA_BUNDLE`, `REQUESTS_CA_BUNDLE`, `SSL_CERT_FILE`), as users
//! behind a TLS-inspecting proxy name it, trusted by the Azure transport and by Kubernetes
//! connections beside their own roots. The sandbox's CA stands in for the proxy's.

use azure_core::http::{Method, Request, Url};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::Api;
use vaultwire::plan::model::Cloud;
use vaultwire::providers::Environment;
use vaultwire::providers::azure::cloud::AzureCloud;
use vaultwire::providers::ca_bundle::{self, ExtraRoots};
use vaultwire::providers::kube::{ClusterConnection, KubeTransports};

use crate::support::Clients;

/// A CA that did not sign the sandbox's certificates.
const OTHER_CA: &str = include_str!("../fixtures/test-ca.pem");

fn bundle_of(pem: &str, dir: &tempfile::TempDir) -> Environment {
    let path = dir.path().join("corporate-ca.pem");
    std::fs::write(&path, pem).unwrap();
    Environment::default().with("REQUESTS_CA_BUNDLE", path.display().to_string())
}

/// The sandbox's kubeconfig with another CA in place of the sandbox's.
async fn connection_trusting_another_ca(clients: &Clients) -> ClusterConnection {
    let text = clients
        .env
        .sandbox
        .kubeconfig(std::time::Duration::from_secs(3600))
        .unwrap();
    let mut kubeconfig = kube::config::Kubeconfig::from_yaml(&text).unwrap();
    for named in &mut kubeconfig.clusters {
        if let Some(cluster) = named.cluster.as_mut() {
            use base64::Engine;
            cluster.certificate_authority_data =
                Some(base64::engine::general_purpose::STANDARD.encode(OTHER_CA));
        }
    }
    ClusterConnection::from_context(
        "aks-demo",
        kubeconfig,
        "aks-demo",
        &KubeTransports::default(),
    )
    .await
    .unwrap()
}

async fn reaches(connection: &ClusterConnection) -> bool {
    let client = connection.client().await.unwrap();
    Api::<Namespace>::all(client).get("payments").await.is_ok()
}

#[tokio::test]
async fn kubernetes_connections_trust_the_bundle_beside_the_kubeconfigs_ca() {
    let clients = Clients::start().await;
    let dir = tempfile::tempdir().unwrap();
    let roots: ExtraRoots =
        ca_bundle::from_environment(&bundle_of(clients.env.sandbox.ca_pem(), &dir))
            .unwrap()
            .unwrap();
    assert!(
        !reaches(&connection_trusting_another_ca(&clients).await).await,
        "the kubeconfig's CA alone does not trust the server"
    );
    let trusting = connection_trusting_another_ca(&clients)
        .await
        .with_extra_roots(Some(&roots));
    assert!(reaches(&trusting).await, "the bundle is trusted");
}

#[tokio::test]
async fn the_azure_transport_trusts_the_bundle_beside_the_platforms_roots() {
    let clients = Clients::start().await;
    let url = Url::parse(&format!(
        "{}/metadata/endpoints",
        clients.env.sandbox.endpoint()
    ))
    .unwrap();
    let request = Request::new(url, Method::Get);
    let dir = tempfile::tempdir().unwrap();

    // Without a bundle, azure_core's own transport: the sandbox's CA is not a platform root.
    let plain = AzureCloud::for_plan(Cloud::AzureCloud, &Environment::default()).unwrap();
    assert!(plain.http_client().is_none() && plain.extra_roots().is_none());

    let cloud = AzureCloud::for_plan(
        Cloud::AzureCloud,
        &bundle_of(clients.env.sandbox.ca_pem(), &dir),
    )
    .unwrap();
    assert_eq!(cloud.extra_roots().unwrap().variable, "REQUESTS_CA_BUNDLE");
    let transport = cloud
        .http_client()
        .expect("a transport trusting the bundle");
    let answered = transport.execute_request(&request).await;
    assert!(answered.is_ok(), "{answered:?}");

    // A bundle of another CA: the same request fails its TLS handshake.
    let other = AzureCloud::for_plan(Cloud::AzureCloud, &bundle_of(OTHER_CA, &dir)).unwrap();
    let refused = other.http_client().unwrap().execute_request(&request).await;
    assert!(refused.is_err());
}
