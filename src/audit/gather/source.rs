//! Reading everything the audit judges, once, through an [`AuditSource`]: the only I/O of the
//! audit, and read-only by contract (GET and LIST; never a write, never a secret value).
//!
//! [`gather`] decides *what* to read from the plan; the source decides *how*. The real source
//! is [`AzureAuditSource`](super::AzureAuditSource); tests pass a fake.

use std::collections::BTreeSet;
use std::future::Future;

use super::{ClusterData, Egress, Gathered, KubeData, SecretListing, VaultData};
use crate::audit::error::AuditError;
use crate::plan::model::{Addon, Identity, Plan, Vault};
use crate::providers::azure::aks::{ClusterEgress, LiveAddon};
use crate::providers::azure::keyvault::LiveVault;
use crate::providers::azure::msi::{FederatedCredential, LiveIdentity};
use crate::providers::azure::rbac::RoleAssignment;

/// What the audit takes from a cluster's ARM document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveClusterFacts {
    pub addon: LiveAddon,
    pub egress: ClusterEgress,
    /// `oidcIssuerProfile.issuerURL` while the issuer is enabled.
    pub oidc_issuer: Option<String>,
}

/// Read-only access to everything the audit looks at.
pub trait AuditSource: Sync {
    /// The cluster `[addon.KEY]` names; `None` when it does not exist.
    fn cluster(
        &self,
        addon: &Addon,
    ) -> impl Future<Output = Result<Option<LiveClusterFacts>, AuditError>> + Send;

    /// The addresses of the public IP resources `ids` (a cluster's outbound IPs); those that
    /// do not exist are left out.
    fn public_ip_addresses(
        &self,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<String>, AuditError>> + Send;

    /// SecretProviderClasses, workloads and Secret metadata across all namespaces.
    fn kubernetes(
        &self,
        addon: &Addon,
    ) -> impl Future<Output = Result<KubeData, AuditError>> + Send;

    /// The vault; `None` when it does not exist.
    fn vault(
        &self,
        vault: &Vault,
    ) -> impl Future<Output = Result<Option<LiveVault>, AuditError>> + Send;

    /// Role assignments at or above the vault's scope.
    fn role_assignments(
        &self,
        vault: &LiveVault,
    ) -> impl Future<Output = Result<Vec<RoleAssignment>, AuditError>> + Send;

    /// The federated credentials of the user-assigned identity with `client_id`; `None` when
    /// the subscription has none with it.
    fn federated_credentials(
        &self,
        client_id: &str,
    ) -> impl Future<Output = Result<Option<Vec<FederatedCredential>>, AuditError>> + Send;

    /// The plan's managed identity; `None` when it does not exist.
    fn managed_identity(
        &self,
        identity: &Identity,
    ) -> impl Future<Output = Result<Option<LiveIdentity>, AuditError>> + Send;

    /// The names of the vault's secrets (properties only, never values).
    fn secret_names(
        &self,
        vault: &LiveVault,
    ) -> impl Future<Output = Result<SecretListing, AuditError>> + Send;
}

/// Reads what the audit of `plan` needs: every cluster of an `[addon]` (and its outbound IPs and
/// Kubernetes API when it exists), every `[vault]` with its role assignments (RBAC vaults), and the secret
/// names of vaults a SecretProviderClass reads.
pub async fn gather<S: AuditSource>(plan: &Plan, source: &S) -> Result<Gathered, AuditError> {
    let mut gathered = Gathered::default();
    for (key, addon) in &plan.addons {
        let data = match source.cluster(addon).await? {
            Some(live) => {
                let mut addresses = source
                    .public_ip_addresses(&live.egress.outbound_ip_ids)
                    .await?;
                addresses.sort();
                addresses.dedup();
                ClusterData {
                    addon: Some(live.addon),
                    kubernetes: Some(source.kubernetes(addon).await?),
                    egress: Some(Egress {
                        addresses,
                        subnets: live.egress.subnets,
                    }),
                    oidc_issuer: live.oidc_issuer,
                }
            }
            None => ClusterData::default(),
        };
        gathered.clusters.insert(key.clone(), data);
    }
    for (key, identity) in &plan.identities {
        if let Some(live) = source.managed_identity(identity).await? {
            gathered.managed_identities.insert(key.clone(), live);
        }
    }
    let workload_identities: BTreeSet<String> = plan
        .spcs
        .values()
        .filter_map(|spc| gathered.workload_client_id(spc))
        .collect();
    for client_id in workload_identities {
        let credentials = source.federated_credentials(&client_id).await?;
        gathered.identities.insert(client_id, credentials);
    }
    let read_by_spcs: BTreeSet<&str> = plan.spcs.values().map(|spc| spc.vault.as_str()).collect();
    for (key, vault) in &plan.vaults {
        let mut data = VaultData {
            vault: source.vault(vault).await?,
            ..VaultData::default()
        };
        if let Some(live) = &data.vault {
            if live.rbac_authorization {
                data.role_assignments = source.role_assignments(live).await?;
            }
            if read_by_spcs.contains(key.as_str()) {
                data.secrets = source.secret_names(live).await?;
            }
        }
        gathered.vaults.insert(key.clone(), data);
    }
    Ok(gathered)
}
