//! The Kubernetes API of one sandbox cluster, as a pure request-to-response function over a
//! serializable world.
//!
//! The sandbox's HTTPS server strips the per-cluster prefix `/k8s/clusters/{name}`, checks the
//! bearer token, and hands the rest of the request here. This module does no I/O and never
//! reads the clock: `now` comes from the caller, so tests are deterministic.
//!
//! INTERFACE STUB: the emulator itself is being built on the `sandbox-kube` branch; until it
//! lands every path answers 404.

use http::{HeaderMap, Method, StatusCode};
use serde::{Deserialize, Serialize};

/// One request to a cluster's API, with the cluster prefix already removed from `path`.
#[derive(Debug, Clone, Copy)]
pub struct KubeRequest<'a> {
    pub method: &'a Method,
    /// Such as `/api/v1/namespaces/payments/secrets`.
    pub path: &'a str,
    /// The raw query string without `?`, possibly empty.
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// The answer to a [`KubeRequest`].
#[derive(Debug, Clone)]
pub struct KubeResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Everything one cluster's API server stores.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KubeCluster {
    /// Whether the Secrets Store CSI driver (the Key Vault add-on) is installed, which is what
    /// makes SecretProviderClasses exist.
    csi_driver_installed: bool,
}

impl KubeCluster {
    /// The seeded cluster: namespaces, workloads and Secrets covering every audit case.
    pub fn seeded(_cluster_name: &str) -> Self {
        Self::default()
    }

    /// Answers one request at time `now`.
    pub fn handle(&mut self, _request: &KubeRequest<'_>, _now: jiff::Timestamp) -> KubeResponse {
        status_response(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    /// Installs or removes the CSI driver, as enabling or disabling the add-on does.
    pub fn set_csi_driver_installed(&mut self, installed: bool) {
        self.csi_driver_installed = installed;
    }

    pub fn csi_driver_installed(&self) -> bool {
        self.csi_driver_installed
    }

    /// `(namespace, name)` of every SecretProviderClass, sorted.
    pub fn secret_provider_classes(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// The 401 a request without a valid token gets, in the API server's `Status` shape.
    pub fn unauthorized() -> KubeResponse {
        status_response(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized")
    }
}

fn status_response(status: StatusCode, reason: &str, message: &str) -> KubeResponse {
    let body = serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": status.as_u16(),
    });
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    KubeResponse {
        status,
        headers,
        body: body.to_string().into_bytes(),
    }
}
