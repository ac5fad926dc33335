//! Everything the audit read, as plain data: what the checks judge.
//!
//! Built by [`gather`](super::gather) from an [`AuditSource`](super::AuditSource), or by hand
//! in tests. Holds no secret values: Secrets are listed metadata-only, vault secrets by name.

use std::collections::{BTreeMap, BTreeSet};

use crate::audit::scan::ClusterObjects;
use crate::plan::model::SpcIdentity;
use crate::providers::azure::aks::LiveAddon;
use crate::providers::azure::keyvault::LiveVault;
use crate::providers::azure::msi::{FederatedCredential, LiveIdentity};
use crate::providers::azure::rbac::RoleAssignment;
use crate::providers::kube::LiveSpc;

/// What the audit read, by plan key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gathered {
    /// By `[addon.KEY]`.
    pub clusters: BTreeMap<String, ClusterData>,
    /// By `[vault.KEY]`.
    pub vaults: BTreeMap<String, VaultData>,
    /// The federated credentials of the workload identities SecretProviderClasses use, by
    /// lower-cased client ID; `None` when the subscription has no such user-assigned identity.
    pub identities: BTreeMap<String, Option<Vec<FederatedCredential>>>,
    /// The plan's managed identities that exist, by `[identity.KEY]`.
    pub managed_identities: BTreeMap<String, LiveIdentity>,
}

impl Gathered {
    /// The client ID a SecretProviderClass's workload identity has, lowercase: as the plan
    /// writes it, or as its `[identity]` exists live. `None` for the add-on identity and for
    /// an identity that does not exist.
    pub fn workload_client_id(&self, spc: &crate::plan::model::Spc) -> Option<String> {
        match &spc.identity.value {
            SpcIdentity::WorkloadIdentity { client_id } => Some(client_id.to_ascii_lowercase()),
            SpcIdentity::Identity(key) => self
                .managed_identities
                .get(key.as_str())
                .map(|identity| identity.client_id.to_ascii_lowercase()),
            SpcIdentity::Addon(_) => None,
        }
    }
}

/// One AKS cluster.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterData {
    /// The add-on as AKS reports it; `None` when the cluster does not exist.
    pub addon: Option<LiveAddon>,
    /// The cluster's Kubernetes API; `None` when the cluster does not exist.
    pub kubernetes: Option<KubeData>,
    /// Where its pods reach Key Vault from; `None` when the cluster does not exist.
    pub egress: Option<Egress>,
    /// The OIDC issuer URL its service-account tokens carry, while the issuer is enabled.
    pub oidc_issuer: Option<String>,
}

/// Where a cluster's pods reach a vault from, as a vault firewall sees them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Egress {
    /// The addresses of the load balancer's outbound public IPs, sorted.
    pub addresses: Vec<String>,
    /// The node pools' subnets (resource IDs), sorted.
    pub subnets: Vec<String>,
}

/// What the Kubernetes API of one cluster holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KubeData {
    /// Every SecretProviderClass; `None` when the cluster does not serve the API (the CSI
    /// driver, that is the add-on, is not installed).
    pub spcs: Option<Vec<LiveSpc>>,
    pub objects: ClusterObjects,
    /// The kubelets' `FailedMount` Events, across all namespaces.
    pub failed_mounts: Vec<FailedMount>,
}

/// A kubelet's `FailedMount` Event: a pod whose volumes could not be mounted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailedMount {
    pub namespace: String,
    pub pod: String,
    /// The pod's uid, to tell a pod from an earlier one of the same name.
    pub uid: String,
    pub message: String,
    pub count: i64,
    /// `lastTimestamp`, as the Event has it.
    pub last_seen: String,
}

/// One Key Vault.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VaultData {
    /// `None` when the vault does not exist.
    pub vault: Option<LiveVault>,
    /// Role assignments at or above the vault's scope (RBAC vaults only).
    pub role_assignments: Vec<RoleAssignment>,
    pub secrets: SecretListing,
}

/// The names of a vault's secrets, or why they are not known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SecretListing {
    /// Names of every secret, certificates' backing secrets included, lowercase (Key Vault
    /// names are case-insensitive).
    Listed(BTreeSet<String>),
    /// The caller may not list the vault's secrets (HTTP 403): Key Vault's reason.
    Denied { reason: String },
    /// Not read: the vault does not exist, or no SecretProviderClass of the plan uses it.
    #[default]
    NotRead,
}
