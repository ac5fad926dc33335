//! Kubeconfig files pointing at the sandbox's per-cluster Kubernetes APIs, with the sandbox CA
//! and, per user, a bearer token or the `kubelogin` exec plugin AKS writes for Entra-integrated
//! clusters.
//!
//! Rendering only (YAML text); tokens are issued by the caller.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::ids;

/// How a kubeconfig user authenticates.
#[derive(Debug, Clone)]
pub enum UserAuth {
    /// A bearer token (the sandbox's own kubeconfig, admin credentials).
    Token(String),
    /// `kubelogin get-token` for the AKS server application, as AKS's user credential of an
    /// Entra-integrated cluster has it: the client brings its own Entra token.
    Kubelogin { tenant_id: String },
}

/// One context: a cluster of the sandbox and the user to reach it as.
#[derive(Debug, Clone)]
pub struct Context {
    pub cluster: String,
    /// The API server's URL ([`server_url`] or, through the proxy, the cluster's FQDN).
    pub server: String,
    pub user: String,
    pub auth: UserAuth,
}

/// The `user` entry of a kubeconfig.
fn user(auth: &UserAuth) -> Value {
    match auth {
        UserAuth::Token(token) => json!({"token": token}),
        // The shape `az aks get-credentials` writes (exec format, the default since
        // Kubernetes 1.24). The exact arguments are UNVERIFIED against a live cluster; the
        // client ID is the Azure CLI's well-known application.
        UserAuth::Kubelogin { tenant_id } => json!({
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": "kubelogin",
                "args": [
                    "get-token",
                    "--environment", "AzurePublicCloud",
                    "--server-id", ids::AKS_SERVER_APP_ID,
                    "--client-id", "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
                    "--tenant-id", tenant_id,
                    "--login", "devicecode",
                ],
                "env": null,
                "installHint": "\nkubelogin is not installed which is required to connect to AAD enabled cluster.\n\nTo learn more, please go to https://aka.ms/aks/kubelogin\n",
                "interactiveMode": "IfAvailable",
                "provideClusterInfo": false,
            }
        }),
    }
}

/// The per-cluster API URL: `{endpoint}/k8s/clusters/{cluster}`.
pub fn server_url(endpoint: &str, cluster: &str) -> String {
    format!("{endpoint}/k8s/clusters/{cluster}")
}

/// A kubeconfig with one context per entry; the first is current.
pub fn render(ca_pem: &str, contexts: &[Context]) -> String {
    let ca = STANDARD.encode(ca_pem);
    let document = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": contexts.iter().map(|c| json!({
            "name": c.cluster,
            "cluster": {"server": c.server, "certificate-authority-data": ca},
        })).collect::<Vec<_>>(),
        "users": contexts.iter().map(|c| json!({
            "name": c.user,
            "user": user(&c.auth),
        })).collect::<Vec<_>>(),
        "contexts": contexts.iter().map(|c| json!({
            "name": c.cluster,
            "context": {"cluster": c.cluster, "user": c.user},
        })).collect::<Vec<_>>(),
        "current-context": contexts.first().map(|c| c.cluster.clone()).unwrap_or_default(),
        "preferences": {},
    });
    serde_norway::to_string(&document).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kubeconfig_has_a_context_per_cluster_with_the_ca_and_token() {
        let text = render(
            "-----BEGIN CERTIFICATE-----\n",
            &[Context {
                cluster: "aks-demo".into(),
                server: server_url("https://127.0.0.1:9443", "aks-demo"),
                user: "u".into(),
                auth: UserAuth::Token("t0k".into()),
            }],
        );
        let value: serde_json::Value = serde_norway::from_str(&text).unwrap();
        assert_eq!(value["current-context"], "aks-demo");
        assert_eq!(
            value["clusters"][0]["cluster"]["server"],
            "https://127.0.0.1:9443/k8s/clusters/aks-demo"
        );
        assert_eq!(value["users"][0]["user"]["token"], "t0k");
        assert!(
            value["clusters"][0]["cluster"]["certificate-authority-data"]
                .as_str()
                .unwrap()
                .len()
                > 10
        );
    }

    #[test]
    fn an_entra_user_runs_kubelogin_for_the_aks_server_application() {
        let text = render(
            "-----BEGIN CERTIFICATE-----\n",
            &[Context {
                cluster: "aks-demo".into(),
                server: server_url("https://127.0.0.1:9443", "aks-demo"),
                user: "clusterUser_rg-demo_aks-demo".into(),
                auth: UserAuth::Kubelogin {
                    tenant_id: ids::TENANT_ID.into(),
                },
            }],
        );
        let value: serde_json::Value = serde_norway::from_str(&text).unwrap();
        let exec = &value["users"][0]["user"]["exec"];
        assert_eq!(exec["command"], "kubelogin");
        let args: Vec<&str> = exec["args"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(serde_json::Value::as_str)
            .collect();
        assert!(
            args.windows(2)
                .any(|pair| pair == ["--server-id", ids::AKS_SERVER_APP_ID])
        );
        assert!(value["users"][0]["user"].get("token").is_none());
    }
}
