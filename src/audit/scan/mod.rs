//! The workload scan (CIS AKS 4.5.1 and 4.5.2): which workloads consume Kubernetes Secrets,
//! and how. Pure functions over the objects as the API lists them.

pub mod objects;
pub mod owners;
pub mod pod_spec;
pub mod workloads;

pub use objects::{ClusterObjects, WorkloadKind, controller, list_items};
pub use owners::{Owners, WorkloadRef};
pub use pod_spec::{CSI_DRIVER, Reader, SecretUse, UseKind, image_pull_secrets, secret_uses};
pub use workloads::{Consumer, SYNCED_LABEL, Scan, consumers, scan};

#[cfg(test)]
mod tests;
