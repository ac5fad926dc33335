//! Reading what the audit judges: the only I/O of the audit, read-only.

mod azure;
mod gathered;
mod kubernetes;
mod source;

pub use azure::AzureAuditSource;
pub use gathered::{
    ClusterData, Egress, FailedMount, Gathered, KubeData, SecretListing, VaultData,
};
pub use kubernetes::{read_kubernetes, read_objects};
pub use source::{AuditSource, LiveClusterFacts, gather};

#[cfg(test)]
mod tests;
