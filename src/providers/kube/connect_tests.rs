//! Cluster connections from kubeconfigs, without a server.

use super::*;
use crate::providers::azure::AzureCloud;
use crate::providers::testing::{FAKE_TOKEN, FakeCredential};

const AKS_SCOPE: &str = "6dae42f8-4368-4678-94ff-3960e28e3630/.default";

fn ca_data() -> String {
    azure_core::base64::encode(include_bytes!("../../../tests/fixtures/test-ca.pem"))
}

/// What `listClusterUserCredential` returns for an AAD-enabled cluster (kubelogin exec user).
fn aad_kubeconfig() -> String {
    format!(
        r#"apiVersion: v1
kind: Config
clusters:
- name: aks-demo
  cluster:
    server: https://127.0.0.1:8443/k8s/clusters/aks-demo
    certificate-authority-data: {ca}
contexts:
- name: aks-demo
  context:
    cluster: aks-demo
    user: clusterUser_rg-demo_aks-demo
current-context: aks-demo
users:
- name: clusterUser_rg-demo_aks-demo
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --login, devicecode, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630]
      interactiveMode: IfAvailable
"#,
        ca = ca_data()
    )
}

#[tokio::test]
async fn an_aad_cluster_gets_vaultwires_entra_token_instead_of_kubelogin() {
    let credential = FakeCredential::new();
    let kubeconfig = ClusterKubeconfig::new(aad_kubeconfig().into_bytes());
    let connection = ClusterConnection::from_arm(
        "aks-demo",
        &kubeconfig,
        credential.clone(),
        AKS_SCOPE,
        &KubeTransports::default(),
    )
    .await
    .unwrap();
    assert!(connection.uses_entra_token());
    assert!(connection.config().auth_info.exec.is_none());
    assert_eq!(connection.cluster_url().path(), "/k8s/clusters/aks-demo");
    assert!(
        connection.config().root_cert.is_some(),
        "the kubeconfig's CA is trusted"
    );

    connection.client().await.unwrap();
    connection.client().await.unwrap();
    assert_eq!(
        credential.scopes(),
        [AKS_SCOPE],
        "one token while it is valid"
    );
    assert_eq!(AzureCloud::public().aks_server_scope(), AKS_SCOPE);
}

#[tokio::test]
async fn a_cluster_with_local_accounts_keeps_its_own_credentials() {
    let credential = FakeCredential::new();
    let yaml = aad_kubeconfig().replace(
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: kubelogin\n      args: [get-token, --login, devicecode, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630]\n      interactiveMode: IfAvailable\n",
        "    token: local-account-token\n",
    );
    let connection = ClusterConnection::from_arm(
        "aks-demo",
        &ClusterKubeconfig::new(yaml.into_bytes()),
        credential.clone(),
        AKS_SCOPE,
        &KubeTransports::default(),
    )
    .await
    .unwrap();
    assert!(!connection.uses_entra_token());
    connection.client().await.unwrap();
    assert!(credential.scopes().is_empty());
    assert!(!format!("{connection:?}").contains("local-account-token"));
    assert!(!format!("{connection:?}").contains(FAKE_TOKEN));
}

#[test]
fn a_kubeconfig_from_azure_reads_as_kubes_own_reader_reads_it_and_so_do_several_documents() {
    let text = aad_kubeconfig();
    let as_json = |kubeconfig: Kubeconfig| serde_json::to_value(kubeconfig).unwrap();
    assert_eq!(
        as_json(read_arm_kubeconfig(&text).unwrap()),
        as_json(Kubeconfig::from_yaml(&text).unwrap())
    );
    // Not what ARM sends, but what kubectl reads: the second document's context is kept.
    let two = format!(
        "{text}---\ncontexts:\n- name: other\n  context:\n    cluster: aks-demo\n    user: u\n"
    );
    let read = read_arm_kubeconfig(&two).unwrap();
    let contexts: Vec<&str> = read.contexts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(contexts, ["aks-demo", "other"]);
}

#[tokio::test]
async fn a_garbled_kubeconfig_from_azure_is_an_error_naming_the_cluster() {
    let error = ClusterConnection::from_arm(
        "aks-demo",
        &ClusterKubeconfig::new(b"credentialValue1".to_vec()),
        FakeCredential::new(),
        AKS_SCOPE,
        &KubeTransports::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the kubeconfig azure returned for aks cluster `aks-demo` cannot be used"
    );
}

#[tokio::test]
async fn the_plans_context_is_used_from_the_users_kubeconfig() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("one");
    let second = dir.path().join("two");
    std::fs::write(&first, aad_kubeconfig()).unwrap();
    std::fs::write(
        &second,
        aad_kubeconfig()
            .replace("aks-demo", "aks-other")
            .replace("clusterUser_rg-demo_aks-other", "other-user"),
    )
    .unwrap();
    let list = std::env::join_paths([&first, &second]).unwrap();
    let env = Environment::from_pairs([("KUBECONFIG", list.to_string_lossy().into_owned())]);
    let kubeconfig = load_kubeconfig(&env).unwrap();
    assert_eq!(kubeconfig.contexts.len(), 2);

    let access = ClusterAccess::Context {
        kubeconfig: Box::new(kubeconfig.clone()),
        context: "aks-other".into(),
    };
    let connection = ClusterConnection::open(
        "aks-other",
        access,
        FakeCredential::new(),
        AKS_SCOPE,
        &KubeTransports::default(),
    )
    .await
    .unwrap();
    assert_eq!(connection.cluster_url().path(), "/k8s/clusters/aks-other");
    assert!(
        !connection.uses_entra_token(),
        "the user's own auth is kept"
    );

    let error =
        ClusterConnection::from_context("x", kubeconfig, "missing", &KubeTransports::default())
            .await
            .unwrap_err();
    assert!(matches!(error, KubeError::Context { ref context, .. } if context == "missing"));
}

#[test]
fn without_any_kubeconfig_the_error_says_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let env = Environment::from_pairs([("HOME", dir.path().to_string_lossy().into_owned())]);
    assert!(matches!(
        load_kubeconfig(&env),
        Err(KubeError::NoKubeconfig)
    ));
}

/// A kubeconfig for `cluster` behind the sandbox's one address, with `user` as its user entry.
fn kubeconfig_with_user(cluster: &str, user: &str) -> ClusterKubeconfig {
    let exec = aad_kubeconfig();
    let start = exec.find("    exec:\n").unwrap();
    let yaml = format!("{}{user}", &exec[..start]).replace("aks-demo", cluster);
    ClusterKubeconfig::new(yaml.into_bytes())
}

#[tokio::test]
async fn clusters_that_trust_the_same_certificates_share_connections_unless_they_show_their_own() {
    let transports = KubeTransports::default();
    let connect = |kubeconfig: ClusterKubeconfig| {
        let transports = transports.clone();
        async move {
            let connection = ClusterConnection::from_arm(
                "aks",
                &kubeconfig,
                FakeCredential::new(),
                AKS_SCOPE,
                &transports,
            )
            .await
            .unwrap();
            connection.client().await.unwrap();
        }
    };
    let token = "    token: local-account-token\n";
    connect(ClusterKubeconfig::new(aad_kubeconfig().into_bytes())).await;
    connect(kubeconfig_with_user("aks-two", token)).await;
    assert_eq!(transports.pools(), 1, "same CA, no client certificate");

    // A certificate of another issuer, trusted as a CA by one cluster and shown as a client
    // certificate by another.
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["other".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let encode = |pem: String| azure_core::base64::encode(pem.as_bytes());
    let other_ca = aad_kubeconfig().replace(&ca_data(), &encode(cert.pem()));
    connect(ClusterKubeconfig::new(other_ca.into_bytes())).await;
    assert_eq!(transports.pools(), 2, "another CA is another pool");
    let insecure = aad_kubeconfig().replace(
        &format!("certificate-authority-data: {}", ca_data()),
        "insecure-skip-tls-verify: true",
    );
    connect(ClusterKubeconfig::new(insecure.into_bytes())).await;
    assert_eq!(transports.pools(), 3, "trusting anything is another pool");

    let certificate_user = format!(
        "    client-certificate-data: {}\n    client-key-data: {}\n",
        encode(cert.pem()),
        encode(key.serialize_pem())
    );
    let three = ClusterConnection::from_arm(
        "aks-three",
        &kubeconfig_with_user("aks-three", &certificate_user),
        FakeCredential::new(),
        AKS_SCOPE,
        &transports,
    )
    .await
    .unwrap();
    three.client().await.unwrap();
    assert!(
        super::super::http::Trust::of(three.config()).is_none(),
        "a client certificate is the cluster's own: never pooled with another"
    );
    assert_eq!(transports.pools(), 3);
}

#[tokio::test]
async fn a_kubeconfig_naming_a_tls_server_name_or_a_proxy_gets_kubes_own_client() {
    // vaultwire's HTTP/2 stack offers neither; kube's client does, with its own connections.
    let transports = KubeTransports::default();
    for (setting, line) in [
        (
            "tls-server-name",
            "    tls-server-name: api.aks-demo.internal\n",
        ),
        ("proxy-url", "    proxy-url: http://127.0.0.1:3128\n"),
    ] {
        let yaml = aad_kubeconfig().replace(
            "    server: https://127.0.0.1:8443/k8s/clusters/aks-demo\n",
            &format!("    server: https://127.0.0.1:8443/k8s/clusters/aks-demo\n{line}"),
        );
        let connection = ClusterConnection::from_arm(
            "aks-demo",
            &ClusterKubeconfig::new(yaml.into_bytes()),
            FakeCredential::new(),
            AKS_SCOPE,
            &transports,
        )
        .await
        .unwrap();
        let config = connection.config();
        assert!(
            config.tls_server_name.is_some() || config.proxy_url.is_some(),
            "{setting} read"
        );
        connection.client().await.unwrap();
        assert_eq!(transports.pools(), 0, "{setting}: no pool of vaultwire's");
    }
}

#[tokio::test]
async fn the_environments_proxy_is_used_unless_the_kubeconfig_names_its_own() {
    let env = Environment::from_pairs([
        ("HTTPS_PROXY", "http://proxy.corp:3128"),
        ("NO_PROXY", ".internal"),
    ]);
    let env = &env;
    let connect = |server: &str, extra: &str| {
        let yaml = aad_kubeconfig().replace(
            "    server: https://127.0.0.1:8443/k8s/clusters/aks-demo\n",
            &format!("    server: {server}\n{extra}"),
        );
        async move {
            ClusterConnection::from_arm(
                "aks-demo",
                &ClusterKubeconfig::new(yaml.into_bytes()),
                FakeCredential::new(),
                AKS_SCOPE,
                &KubeTransports::default(),
            )
            .await
            .unwrap()
            .with_environment_proxy(env)
            .unwrap()
        }
    };
    let proxy_of = |connection: &ClusterConnection| {
        connection
            .config()
            .proxy_url
            .as_ref()
            .map(|url| url.to_string())
    };
    let aks = "https://aks-demo-dns-4f1c.hcp.westeurope.azmk8s.io:443";
    assert_eq!(
        proxy_of(&connect(aks, "").await).as_deref(),
        Some("http://proxy.corp:3128/")
    );
    let own = connect(aks, "    proxy-url: http://own.proxy:8080\n").await;
    assert_eq!(proxy_of(&own).as_deref(), Some("http://own.proxy:8080/"));
    assert_eq!(
        proxy_of(&connect("https://api.aks.internal:443", "").await),
        None
    );
    assert_eq!(proxy_of(&connect("https://127.0.0.1:8443", "").await), None);

    let garbled = Environment::from_pairs([("HTTPS_PROXY", "http://user:s3cret@/")]);
    let error = ClusterConnection::from_arm(
        "aks-demo",
        &ClusterKubeconfig::new(
            aad_kubeconfig()
                .replace("127.0.0.1:8443", "aks.example.com")
                .into_bytes(),
        ),
        FakeCredential::new(),
        AKS_SCOPE,
        &KubeTransports::default(),
    )
    .await
    .unwrap()
    .with_environment_proxy(&garbled)
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot choose a proxy for the kubernetes api of `aks-demo`"
    );
}

/// Tokens that expire within [`REFRESH_MARGIN`], so every client asked for is rebuilt.
#[derive(Debug, Default)]
struct ShortLivedTokens {
    issued: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl TokenCredential for ShortLivedTokens {
    async fn get_token(
        &self,
        _scopes: &[&str],
        _options: Option<azure_core::credentials::TokenRequestOptions<'_>>,
    ) -> azure_core::Result<azure_core::credentials::AccessToken> {
        self.issued
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(azure_core::credentials::AccessToken::new(
            FAKE_TOKEN,
            OffsetDateTime::now_utc() + Duration::minutes(1),
        ))
    }
}

#[tokio::test]
async fn a_client_rebuilt_with_a_fresh_token_keeps_the_clusters_pool() {
    let tokens = Arc::new(ShortLivedTokens::default());
    let transports = KubeTransports::default();
    let connection = ClusterConnection::from_arm(
        "aks-demo",
        &ClusterKubeconfig::new(aad_kubeconfig().into_bytes()),
        tokens.clone(),
        AKS_SCOPE,
        &transports,
    )
    .await
    .unwrap();
    connection.client().await.unwrap();
    connection.client().await.unwrap();
    assert_eq!(
        tokens.issued.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "rebuilt for a fresh token"
    );
    assert_eq!(transports.pools(), 1, "on the pool it had");
}
