//! The engine's view of the outside world: what it asks to read, what comes back, and the
//! writes it asks for — all in terms of addresses and attribute maps.
//!
//! `providers::azure_backend` implements this with the real Azure and Kubernetes clients (and so
//! against the sandbox too); engine tests use an in-memory fake. Reads are batched by scope
//! (one vault, one cluster, one role-assignment list per vault, one SecretProviderClass list
//! per cluster) so a no-op plan makes at most one request per resource, fewer where a list
//! covers several.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;

use serde_json::Value;

use crate::plan::address::Address;
use crate::plan::model::OnDestroy;
use crate::resources::{AddonIdentity, IdentityIds};
use crate::state::model::{AttributeText, Attributes, ResourceState};

/// A vault by resource group and name, lowercase (ARM names are case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VaultKey {
    pub resource_group: String,
    pub name: String,
}

impl VaultKey {
    pub fn new(resource_group: &str, name: &str) -> Self {
        Self {
            resource_group: resource_group.to_ascii_lowercase(),
            name: name.to_ascii_lowercase(),
        }
    }

    /// The vault of a vault resource ID (`…/resourceGroups/RG/…/vaults/NAME`).
    pub fn from_id(id: &str) -> Option<Self> {
        let parts: Vec<&str> = id.trim_matches('/').split('/').collect();
        let position = |segment: &str| {
            parts
                .iter()
                .position(|part| part.eq_ignore_ascii_case(segment))
        };
        let resource_group = parts.get(position("resourceGroups")? + 1)?;
        let name = parts.get(position("vaults")? + 1)?;
        Some(Self::new(resource_group, name))
    }
}

/// A cluster by resource group and name, lowercase.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClusterKey {
    pub resource_group: String,
    pub name: String,
}

impl ClusterKey {
    pub fn new(resource_group: &str, name: &str) -> Self {
        Self {
            resource_group: resource_group.to_ascii_lowercase(),
            name: name.to_ascii_lowercase(),
        }
    }
}

/// A user-assigned managed identity by resource group and name, lowercase.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IdentityKey {
    pub resource_group: String,
    pub name: String,
}

impl IdentityKey {
    pub fn new(resource_group: &str, name: &str) -> Self {
        Self {
            resource_group: resource_group.to_ascii_lowercase(),
            name: name.to_ascii_lowercase(),
        }
    }
}

/// A cluster and how to reach its Kubernetes API.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClusterRef {
    pub key: ClusterKey,
    /// A kubeconfig context to use instead of the cluster's ARM credentials.
    pub kube_context: Option<String>,
}

impl ClusterRef {
    /// The cluster an add-on or SecretProviderClass lives in, from its attributes and settings.
    pub fn of(attributes: &Attributes, settings: &Attributes) -> Self {
        Self {
            key: ClusterKey::new(
                attributes.text("resource_group"),
                attributes.text("cluster"),
            ),
            kube_context: settings
                .get("kube_context")
                .and_then(Value::as_str)
                .map(str::to_owned),
        }
    }
}

/// Everything one refresh reads. Built from the plan's desired attributes and the state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadPlan {
    /// Vaults to read, with the location to look for a soft-deleted one in (when known).
    pub vaults: BTreeMap<VaultKey, Option<String>>,
    /// Clusters whose add-on profile to read.
    pub clusters: BTreeSet<ClusterKey>,
    /// Vault IDs (lowercase) whose role assignments, at or above the vault, to list.
    pub role_assignment_scopes: BTreeSet<String>,
    /// Clusters whose SecretProviderClasses to list, and how to reach them.
    pub spc_clusters: BTreeSet<ClusterRef>,
    /// Managed identities to read.
    pub identities: BTreeSet<IdentityKey>,
    /// Managed identities whose federated credentials to list.
    pub credential_lists: BTreeSet<IdentityKey>,
}

impl ReadPlan {
    /// How many of the reads are Azure's (all but the SecretProviderClass lists).
    pub fn azure_reads(&self) -> usize {
        self.vaults.len()
            + self.clusters.len()
            + self.role_assignment_scopes.len()
            + self.identities.len()
            + self.credential_lists.len()
    }
}

/// A vault as read.
#[derive(Debug, Clone, PartialEq)]
pub enum VaultObservation {
    /// Live, with its managed properties and access-policy entries.
    Found {
        id: String,
        attributes: Attributes,
        access_policies: Vec<AccessPolicyObservation>,
        /// `properties.vaultUri`, where applications reach it.
        uri: Option<String>,
        version: Option<String>,
    },
    /// No live vault; `soft_deleted` when a deleted vault holds the name.
    Missing { soft_deleted: bool },
}

/// One access-policy entry of a vault, in a grant's attribute schema.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessPolicyObservation {
    pub object_id: String,
    pub tenant_id: String,
    /// `{certificates: [...], keys: [...], secrets: [...]}`, sorted lowercase names.
    pub permissions: Value,
}

/// A cluster's add-on as read. A missing cluster is an error, not an observation: vaultwire
/// manages the add-on of an existing cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct AddonObservation {
    pub cluster_id: String,
    /// `cluster`, `resource_group`, `enabled`, `secret_rotation`, `rotation_poll_interval`,
    /// `workload_identity` (the cluster's OIDC issuer and workload identity both on).
    pub attributes: Attributes,
    pub identity: Option<AddonIdentity>,
    /// The cluster's OIDC issuer URL, while it is on.
    pub issuer: Option<String>,
    pub version: Option<String>,
}

/// One role assignment as read.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleAssignmentObservation {
    pub id: String,
    pub scope: String,
    pub role_definition_id: String,
    pub principal_id: String,
    pub principal_type: String,
}

/// One SecretProviderClass as read.
#[derive(Debug, Clone, PartialEq)]
pub struct SpcObservation {
    pub namespace: String,
    pub name: String,
    /// apiVersion, kind, metadata (name, namespace) and spec — what vaultwire manages.
    pub manifest: Value,
    pub resource_version: Option<String>,
}

/// A managed identity as read.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityObservation {
    pub id: String,
    /// `name`, `resource_group`, `location`, `tags`.
    pub attributes: Attributes,
    pub ids: IdentityIds,
}

/// One federated credential of an identity as read.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialObservation {
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
}

/// What one refresh found, keyed like the [`ReadPlan`] that asked for it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveWorld {
    pub vaults: BTreeMap<VaultKey, VaultObservation>,
    pub addons: BTreeMap<ClusterKey, AddonObservation>,
    /// By scope (vault ID, lowercase).
    pub role_assignments: BTreeMap<String, Vec<RoleAssignmentObservation>>,
    /// Each cluster's SecretProviderClasses, sorted by namespace, then name (what
    /// `observe` looks them up by).
    pub spcs: BTreeMap<ClusterKey, Vec<SpcObservation>>,
    pub identities: BTreeMap<IdentityKey, IdentityObservation>,
    pub credentials: BTreeMap<IdentityKey, Vec<CredentialObservation>>,
}

impl LiveWorld {
    /// Adds what one read found.
    pub fn add(&mut self, found: Found) {
        match found {
            Found::Vault(key, observation) => {
                self.vaults.insert(key, observation);
            }
            Found::Addon(key, Some(observation)) => {
                self.addons.insert(key, observation);
            }
            Found::Addon(_, None) => {}
            Found::RoleAssignments(scope, assignments) => {
                self.role_assignments.insert(scope, assignments);
            }
            Found::Identity(key, Some(observation)) => {
                self.identities.insert(key, observation);
            }
            Found::Identity(_, None) => {}
            Found::Credentials(key, credentials) => {
                self.credentials.insert(key, credentials);
            }
            Found::Spcs(key, mut spcs) => {
                // Sorted already as listed; the lookup relies on it, so make sure.
                spcs.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
                self.spcs.insert(key, spcs);
            }
        }
    }
}

/// What one read of a [`ReadPlan`] found, handed over as soon as it is in.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    Vault(VaultKey, VaultObservation),
    /// A cluster's add-on; `None` when the cluster does not exist.
    Addon(ClusterKey, Option<AddonObservation>),
    RoleAssignments(String, Vec<RoleAssignmentObservation>),
    /// A cluster's SecretProviderClasses.
    Spcs(ClusterKey, Vec<SpcObservation>),
    /// A managed identity; `None` when it does not exist.
    Identity(IdentityKey, Option<IdentityObservation>),
    /// An identity's federated credentials (none when the identity does not exist).
    Credentials(IdentityKey, Vec<CredentialObservation>),
}

impl Found {
    /// Whether this is an Azure read — a vault, cluster, identity or list of role assignments
    /// or credentials — rather than a cluster's list of SecretProviderClasses.
    pub fn from_azure(&self) -> bool {
        !matches!(self, Found::Spcs(..))
    }
}

/// A resource as it is live after a read or a write: what the state records.
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    pub id: String,
    pub attributes: Attributes,
    pub derived: BTreeMap<String, Value>,
    pub version: Option<String>,
}

impl Live {
    pub fn into_state(self, dependencies: Vec<Address>, settings: Attributes) -> ResourceState {
        ResourceState {
            id: self.id,
            attributes: self.attributes,
            derived: self.derived,
            version: self.version,
            dependencies,
            settings,
        }
    }
}

/// Behaviour the plan asks for that is not a property of the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub recover_soft_deleted: bool,
    pub on_destroy: OnDestroy,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            recover_soft_deleted: true,
            on_destroy: OnDestroy::Retain,
        }
    }
}

/// Create or update one resource to `desired` (every value known).
#[derive(Debug, Clone)]
pub struct Write {
    pub address: Address,
    pub desired: Attributes,
    /// What the state recorded, if anything.
    pub prior: Option<ResourceState>,
    pub settings: Settings,
    /// The cluster an `addon` or `spc` lives in.
    pub cluster: Option<ClusterRef>,
    /// Where the write says what it waits for.
    pub progress: WriteProgress,
}

/// Where a write reports what it waits for (a retry, a replication delay), for the progress
/// output; silent by default.
#[derive(Clone, Default)]
pub struct WriteProgress(Option<Arc<dyn Fn(String) + Send + Sync>>);

impl WriteProgress {
    pub fn new(report: impl Fn(String) + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(report)))
    }

    pub fn note(&self, text: impl Into<String>) {
        if let Some(report) = &self.0 {
            report(text.into());
        }
    }
}

impl std::fmt::Debug for WriteProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteProgress")
    }
}

/// Delete one resource (for a vault: per `on_destroy`; for an add-on: disable it).
#[derive(Debug, Clone)]
pub struct Delete {
    pub address: Address,
    pub state: ResourceState,
    pub settings: Settings,
    pub cluster: Option<ClusterRef>,
}

/// What to do about a run lock another run holds.
pub const LOCKED_HELP: &str =
    "wait for the other run to finish; a lock of a run that died expires on its own";

/// A failure talking to Azure or a cluster, phrased for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// Another run holds the run lock of `cluster` (a cluster name) until `until`.
    #[error("another run holds the lock of cluster `{cluster}`: {holder} (until {until})")]
    Locked {
        cluster: String,
        holder: String,
        until: String,
    },
    /// Azure or a cluster failed a request: `message` says what failed, `source` why (the
    /// client's error chain, kept for printing and for callers that look into it).
    #[error("{message}")]
    Provider {
        message: String,
        help: Option<String>,
        #[source]
        source: Option<Causes>,
    },
}

/// The causes of a provider failure: the chain below a client error, shared so the error
/// stays cheap to clone into every change it failed.
#[derive(Debug, Clone)]
pub struct Causes(Arc<dyn std::error::Error + Send + Sync>);

impl Causes {
    /// The causes of `error` (its sources), or `None` when it has none.
    pub fn of(error: impl std::error::Error + Send + Sync + 'static) -> Option<Self> {
        error.source()?;
        Some(Self(Arc::new(error)))
    }

    fn first(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl std::fmt::Display for Causes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.first() {
            Some(cause) => std::fmt::Display::fmt(cause, f),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Causes {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.first().and_then(std::error::Error::source)
    }
}

/// Causes compare by what they say: two failures with the same chain of messages are one.
impl PartialEq for Causes {
    fn eq(&self, other: &Self) -> bool {
        chain(self) == chain(other)
    }
}

impl Eq for Causes {}

fn chain(error: &dyn std::error::Error) -> Vec<String> {
    let mut texts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        texts.push(cause.to_string());
        source = cause.source();
    }
    texts
}

/// `text` followed by each cause of `error` not already in it, joined by `separator`: client
/// errors often repeat their cause in their own message.
pub fn with_causes(
    mut text: String,
    error: &(dyn std::error::Error + 'static),
    separator: &str,
) -> String {
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !cause_text.is_empty() && !text.contains(&cause_text) {
            text.push_str(separator);
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

impl BackendError {
    /// A provider failure saying `message`.
    pub fn new(message: impl Into<String>) -> Self {
        BackendError::Provider {
            message: message.into(),
            help: None,
            source: None,
        }
    }

    /// This failure with a hint (a provider failure; a held lock has its own).
    pub fn with_help(self, help: impl Into<String>) -> Self {
        match self {
            BackendError::Provider {
                message, source, ..
            } => BackendError::Provider {
                message,
                help: Some(help.into()),
                source,
            },
            locked => locked,
        }
    }

    pub fn help(&self) -> Option<String> {
        match self {
            BackendError::Locked { .. } => Some(LOCKED_HELP.to_owned()),
            BackendError::Provider { help, .. } => help.clone(),
        }
    }
}

/// Held cluster locks; released by [`Backend::unlock`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Locks {
    pub clusters: Vec<ClusterRef>,
    pub holder: String,
}

/// What the engine needs from Azure and the clusters.
pub trait Backend: Send + Sync + 'static {
    /// Reads everything `plan` asks for, up to `parallelism` requests at once, handing what
    /// each read found to `found` as soon as that read is in — so the caller works on it while
    /// the other reads are still on the network.
    fn read(
        &self,
        plan: &ReadPlan,
        parallelism: usize,
        found: &mut (dyn FnMut(Found) + Send),
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    fn write(&self, write: Write) -> impl Future<Output = Result<Live, BackendError>> + Send;

    fn delete(&self, delete: Delete) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// Takes the run lock in every cluster (a Lease), failing fast when another run holds one.
    fn lock(
        &self,
        clusters: &[ClusterRef],
        holder: &str,
    ) -> impl Future<Output = Result<Locks, BackendError>> + Send;

    /// Renews held locks; called periodically while a run lasts.
    fn renew(&self, locks: &Locks) -> impl Future<Output = Result<(), BackendError>> + Send;

    fn unlock(&self, locks: &Locks) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// The pods in `cluster` that mount one of `classes` (`(namespace, name)`) and cannot
    /// start, with their latest `FailedMount` Event; for the warning `apply` prints. Backends
    /// without pods have none.
    fn mount_failures(
        &self,
        cluster: &ClusterRef,
        classes: &[(String, String)],
    ) -> impl Future<Output = Result<Vec<MountFailure>, BackendError>> + Send {
        let _ = (cluster, classes);
        async { Ok(Vec::new()) }
    }

    /// Every pod in `cluster` that mounts one of `classes` (`(namespace, name)`), with its
    /// service account; for the warnings `plan` gives about workload identities. Backends
    /// without pods have none.
    fn pods_mounting(
        &self,
        cluster: &ClusterRef,
        classes: &[(String, String)],
    ) -> impl Future<Output = Result<Vec<MountingPod>, BackendError>> + Send {
        let _ = (cluster, classes);
        async { Ok(Vec::new()) }
    }
}

/// A pod that mounts a SecretProviderClass, and the service account it runs as.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MountingPod {
    pub namespace: String,
    pub class: String,
    pub pod: String,
    pub service_account: String,
}

/// A pod that mounts a SecretProviderClass and cannot start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountFailure {
    pub namespace: String,
    /// The class it mounts.
    pub class: String,
    pub pod: String,
    /// The kubelet's `FailedMount` message, down to its first line and error codes.
    pub summary: String,
    pub last_seen: Option<jiff::Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client error whose message repeats its cause, as many do.
    #[derive(Debug, thiserror::Error)]
    #[error("cannot create vault `kv`: {0}")]
    struct ClientError(#[source] std::io::Error);

    #[test]
    fn a_provider_failure_keeps_its_causes_and_prints_each_once() {
        let client = ClientError(std::io::Error::other("403 Forbidden"));
        let error = BackendError::Provider {
            message: client.to_string(),
            help: None,
            source: Causes::of(client),
        };
        let cause = std::error::Error::source(&error).expect("the client's cause");
        assert_eq!(cause.to_string(), "403 Forbidden");
        assert_eq!(
            with_causes(error.to_string(), &error, ": "),
            "cannot create vault `kv`: 403 Forbidden"
        );
        let no_cause = std::io::Error::other("timed out");
        assert!(Causes::of(no_cause).is_none());
    }
}
