//! Kubernetes failures, with the object and operation they concern and the API server's
//! `Status` reason and message.

use std::path::PathBuf;

use kube::config::KubeconfigError;

#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("no kubeconfig found (set `KUBECONFIG` or create `~/.kube/config`)")]
    NoKubeconfig,
    #[error("cannot read kubeconfig `{}`", path.display())]
    ReadKubeconfig {
        path: PathBuf,
        #[source]
        source: Box<KubeconfigError>,
    },
    #[error("kubeconfig context `{context}` cannot be used")]
    Context {
        context: String,
        #[source]
        source: Box<KubeconfigError>,
    },
    #[error("the kubeconfig azure returned for aks cluster `{cluster}` cannot be used")]
    ArmKubeconfig {
        cluster: String,
        #[source]
        source: Box<KubeconfigError>,
    },
    #[error("cannot get an entra token for the kubernetes api of `{cluster}`")]
    Token {
        cluster: String,
        #[source]
        source: Box<azure_core::Error>,
    },
    #[error("cannot choose a proxy for the kubernetes api of `{cluster}`")]
    Proxy {
        cluster: String,
        #[source]
        source: super::proxy::ProxyVariableError,
    },
    #[error("cannot set up a kubernetes client for `{cluster}`")]
    Client {
        cluster: String,
        #[source]
        source: Box<kube::Error>,
    },
    /// The API server answered with a `Status` error.
    #[error("{operation} {object} failed with {code} `{reason}`: {message}")]
    Api {
        operation: &'static str,
        object: String,
        code: u16,
        reason: String,
        message: String,
    },
    /// No answer, or one that could not be read.
    #[error("{operation} {object} failed")]
    Request {
        operation: &'static str,
        object: String,
        #[source]
        source: Box<kube::Error>,
    },
}

impl KubeError {
    /// Wraps a kube-rs error from `operation` (such as "apply") on `object` (such as
    /// "SecretProviderClass `payments/payments-db`").
    pub(crate) fn from_kube(operation: &'static str, object: String, error: kube::Error) -> Self {
        match error {
            kube::Error::Api(status) => KubeError::Api {
                operation,
                object,
                code: status.code,
                reason: status.reason.clone(),
                message: status.message.clone(),
            },
            other => KubeError::Request {
                operation,
                object,
                source: Box::new(other),
            },
        }
    }

    pub fn code(&self) -> Option<u16> {
        match self {
            KubeError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub fn is_conflict(&self) -> bool {
        matches!(self, KubeError::Api { code: 409, .. })
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, KubeError::Api { code: 404, .. })
    }
}
