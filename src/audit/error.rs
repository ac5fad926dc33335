//! Why an audit could not run to the end. A check that merely could not be evaluated (a 403
//! on the vault's data plane) is a `skip` in the report, not an error.

use crate::providers::ProviderError;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot connect to the plan's target")]
    Connect {
        #[source]
        source: Box<ProviderError>,
    },
    #[error("cannot read {what}")]
    Read {
        /// Such as "aks cluster `aks-demo`" or "the workloads of `aks-demo`".
        what: String,
        #[source]
        source: Box<ProviderError>,
    },
}

impl AuditError {
    pub fn read(what: impl Into<String>, source: impl Into<ProviderError>) -> Self {
        AuditError::Read {
            what: what.into(),
            source: Box::new(source.into()),
        }
    }

    pub fn help(&self) -> Option<String> {
        match self {
            AuditError::Connect { source } => source.help(),
            AuditError::Read { source, .. } => source.help().or_else(|| {
                Some(
                    "the audit reads only: it needs `Reader` on the vaults and clusters, \
                     `Azure Kubernetes Service Cluster User Role` (or a kubeconfig context), \
                     and permission to list pods, workloads and Secret metadata in every namespace"
                        .to_owned(),
                )
            }),
        }
    }
}
