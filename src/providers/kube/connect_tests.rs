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
    let connection =
        ClusterConnection::from_arm("aks-demo", &kubeconfig, credential.clone(), AKS_SCOPE)
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
    let connection = ClusterConnection::open("aks-other", access, FakeCredential::new(), AKS_SCOPE)
        .await
        .unwrap();
    assert_eq!(connection.cluster_url().path(), "/k8s/clusters/aks-other");
    assert!(
        !connection.uses_entra_token(),
        "the user's own auth is kept"
    );

    let error = ClusterConnection::from_context("x", kubeconfig, "missing")
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
