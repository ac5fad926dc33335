//! Kubernetes: connecting to a target cluster, SecretProviderClasses, and the Lease lock that
//! keeps two runs from changing one cluster at once.

mod connect;
mod error;
mod http;
mod lease;
mod proxy;
mod retry;
mod spc_client;

pub use connect::{ClusterAccess, ClusterConnection, load_kubeconfig};
pub use error::KubeError;
pub use http::KubeTransports;
pub use lease::{LeaseLock, LockDecision, LockError, LockHolder, decide};
pub use retry::{Backoff, DEFAULT_BACKOFF, retry, with_retries};
pub use spc_client::{FIELD_MANAGER, LiveSpc, SpcClient, spc_api_resource};
