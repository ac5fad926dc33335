//! Reading everything the audit judges, once, through an [`AuditSource`]: the only I/O of the
//! audit, and read-only by contract (GET and LIST; never a write, never a secret value).
//!
//! [`gather`] decides *what* to read from the plan; the source decides *how*. The real source
//! is [`AzureAuditSource`](super::AzureAuditSource); tests pass a fake.

use std::collections::BTreeSet;
use std::future::Future;

use super::{ClusterData, Gathered, KubeData, SecretListing, VaultData};
use crate::audit::error::AuditError;
use crate::plan::model::{Addon, Plan, Vault};
use crate::providers::azure::aks::LiveAddon;
use crate::providers::azure::keyvault::LiveVault;
use crate::providers::azure::rbac::RoleAssignment;

/// Read-only access to everything the audit looks at.
pub trait AuditSource: Sync {
    /// The add-on of the cluster `[addon.KEY]` names; `None` when the cluster does not exist.
    fn addon(
        &self,
        addon: &Addon,
    ) -> impl Future<Output = Result<Option<LiveAddon>, AuditError>> + Send;

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

    /// The names of the vault's secrets (properties only, never values).
    fn secret_names(
        &self,
        vault: &LiveVault,
    ) -> impl Future<Output = Result<SecretListing, AuditError>> + Send;
}

/// Reads what the audit of `plan` needs: every cluster of an `[addon]` (and its Kubernetes API
/// when it exists), every `[vault]` with its role assignments (RBAC vaults), and the secret
/// names of vaults a SecretProviderClass reads.
pub async fn gather<S: AuditSource>(plan: &Plan, source: &S) -> Result<Gathered, AuditError> {
    let mut gathered = Gathered::default();
    for (key, addon) in &plan.addons {
        let live = source.addon(addon).await?;
        let kubernetes = match live {
            Some(_) => Some(source.kubernetes(addon).await?),
            None => None,
        };
        gathered.clusters.insert(
            key.clone(),
            ClusterData {
                addon: live,
                kubernetes,
            },
        );
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
