//! Kubeconfig files pointing at the sandbox's per-cluster Kubernetes APIs, with the sandbox CA
//! and a bearer token per user.
//!
//! Rendering only (YAML text); tokens are issued by the caller.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

/// One context: a cluster of the sandbox and the user (with its token) to reach it as.
#[derive(Debug, Clone)]
pub struct Context {
    pub cluster: String,
    pub user: String,
    pub token: String,
}

/// The per-cluster API URL: `{endpoint}/k8s/clusters/{cluster}`.
pub fn server_url(endpoint: &str, cluster: &str) -> String {
    format!("{endpoint}/k8s/clusters/{cluster}")
}

/// A kubeconfig with one context per entry; the first is current.
pub fn render(endpoint: &str, ca_pem: &str, contexts: &[Context]) -> String {
    let ca = STANDARD.encode(ca_pem);
    let document = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": contexts.iter().map(|c| json!({
            "name": c.cluster,
            "cluster": {"server": server_url(endpoint, &c.cluster), "certificate-authority-data": ca},
        })).collect::<Vec<_>>(),
        "users": contexts.iter().map(|c| json!({
            "name": c.user,
            "user": {"token": c.token},
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
            "https://127.0.0.1:9443",
            "-----BEGIN CERTIFICATE-----\n",
            &[Context {
                cluster: "aks-demo".into(),
                user: "u".into(),
                token: "t0k".into(),
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
}
