//! Kubernetes: connecting to a target cluster, SecretProviderClasses, the pods that fail to
//! mount them, and the Lease lock that keeps two runs from changing one cluster at once.

mod connect;
mod error;
mod http;
mod lease;
mod mounts;
mod proxy;
mod retry;
mod spc_client;

pub use connect::{ClusterAccess, ClusterConnection, load_kubeconfig};
pub use error::KubeError;
pub use http::KubeTransports;
pub use lease::{LeaseLock, LockDecision, LockError, LockHolder, decide};
pub use mounts::{
    CSI_DRIVER, MountFailure, MountingPod, failing_pods, mounts_class, pods_mounting,
    spec_mounts_class, summary as mount_failure_summary,
};
pub use retry::{Backoff, DEFAULT_BACKOFF, retry, with_retries};
pub use spc_client::{FIELD_MANAGER, LiveSpc, SpcClient, spc_api_resource};
