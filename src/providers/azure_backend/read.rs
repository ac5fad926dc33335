//! One refresh: every vault, cluster, identity, role-assignment, credential and
//! SecretProviderClass list the
//! engine asks for, at most [`READS_PER_SLOT`] × `parallelism` reads at a time, the longest
//! chains first, each handed to the engine as soon as it is in.

use futures::StreamExt;
use futures::stream;

use super::convert::{
    access_policies, addon_observation, credential_observation, identity_observation,
    role_assignment_observation, vault_attributes,
};
use super::{AzureBackend, provider_error};
use crate::engine::backend::{
    BackendError, ClusterKey, ClusterRef, Found, IdentityKey, ReadPlan, SpcObservation, VaultKey,
    VaultObservation,
};
use crate::providers::ProviderError;
use crate::providers::azure::aks::ClusterId;
use crate::providers::azure::keyvault::VaultId;
use crate::providers::kube::{KubeError, SpcClient};
use crate::task::joined;

/// A read waiting its turn.
type PendingRead<'a> = futures::future::BoxFuture<'a, Result<Found, BackendError>>;

/// Reads in flight per `--parallelism` slot. A refresh is one short burst of batched,
/// idempotent reads — one per vault, cluster and role-assignment scope, one
/// SecretProviderClass list per cluster, each covering many resources — within ARM's read
/// budget (the client's token bucket: 250 at once, 25 a second, two and a half times the
/// write budget). Bounding it like changes would queue a ten-cluster plan's reads in four
/// waves; the refresh is on the path of every plan and apply.
pub const READS_PER_SLOT: usize = 4;

pub async fn read(
    backend: &AzureBackend,
    plan: &ReadPlan,
    parallelism: usize,
    found: &mut (dyn FnMut(Found) + Send),
) -> Result<(), BackendError> {
    // Two-request chains first (a cluster's credentials, then its list; a vault, then its
    // soft-deleted namesake), so they never wait behind single reads.
    let mut reads: Vec<PendingRead<'_>> = Vec::new();
    let parse_apart = plan.spc_clusters.len() > 1;
    for cluster in &plan.spc_clusters {
        reads.push(Box::pin(read_spcs(backend, cluster.clone(), parse_apart)));
    }
    for (key, location) in &plan.vaults {
        reads.push(Box::pin(read_vault(backend, key.clone(), location.clone())));
    }
    for key in &plan.clusters {
        reads.push(Box::pin(read_cluster(backend, key.clone())));
    }
    for scope in &plan.role_assignment_scopes {
        reads.push(Box::pin(read_role_assignments(backend, scope.clone())));
    }
    for key in &plan.identities {
        reads.push(Box::pin(read_identity(backend, key.clone())));
    }
    for key in &plan.credential_lists {
        reads.push(Box::pin(read_credentials(backend, key.clone())));
    }
    let reading =
        stream::iter(reads).buffer_unordered(parallelism.max(1).saturating_mul(READS_PER_SLOT));
    hand_over_all(reading, found).await
}

/// Hands each read's findings over as it completes. After a failure — the outcome — the rest
/// still run to their end, unused: dropped instead, a list's task of its own would go on
/// unawaited, and a process exiting on the error while that task is inside a TLS handshake
/// can abort.
async fn hand_over_all(
    mut reads: impl futures::Stream<Item = Result<Found, BackendError>> + Unpin,
    found: &mut (dyn FnMut(Found) + Send),
) -> Result<(), BackendError> {
    let mut failed = None;
    while let Some(read) = reads.next().await {
        match read {
            Ok(read) if failed.is_none() => found(read),
            Ok(_) => {}
            Err(error) => {
                failed.get_or_insert(error);
            }
        }
    }
    failed.map_or(Ok(()), Err)
}

async fn read_vault(
    backend: &AzureBackend,
    key: VaultKey,
    location: Option<String>,
) -> Result<Found, BackendError> {
    let session = backend.session();
    let id = VaultId::new(session.subscription_id(), &key.resource_group, &key.name);
    let vaults = session.key_vaults();
    let live = vaults
        .get(&id)
        .await
        .map_err(|error| provider_error(ProviderError::KeyVault(error)))?;
    let observation = match live {
        Some(live) => VaultObservation::Found {
            id: live.id.clone(),
            attributes: vault_attributes(&live),
            access_policies: access_policies(&live),
            uri: live.vault_uri.clone(),
            version: None,
        },
        None => {
            // Only a vault the plan wants needs the soft-deleted lookup (it has a location).
            let soft_deleted = match location {
                Some(location) => vaults
                    .get_deleted(session.subscription_id(), &location, &key.name)
                    .await
                    .map_err(|error| provider_error(ProviderError::KeyVault(error)))?
                    .is_some(),
                None => false,
            };
            VaultObservation::Missing { soft_deleted }
        }
    };
    Ok(Found::Vault(key, observation))
}

async fn read_cluster(backend: &AzureBackend, key: ClusterKey) -> Result<Found, BackendError> {
    let session = backend.session();
    let id = ClusterId::new(session.subscription_id(), &key.resource_group, &key.name);
    let cluster = session
        .aks()
        .get(&id)
        .await
        .map_err(|error| provider_error(ProviderError::Aks(error)))?;
    if let Some(cluster) = &cluster {
        backend.remember_cluster(&key, cluster);
    }
    let observation = cluster.map(|cluster| addon_observation(&cluster, &key.resource_group));
    Ok(Found::Addon(key, observation))
}

async fn read_role_assignments(
    backend: &AzureBackend,
    scope: String,
) -> Result<Found, BackendError> {
    let assignments = backend
        .session()
        .rbac()
        .list_at_scope(&scope)
        .await
        .map_err(|error| provider_error(ProviderError::Rbac(error)))?;
    Ok(Found::RoleAssignments(
        scope,
        assignments
            .iter()
            .map(role_assignment_observation)
            .collect(),
    ))
}

/// The ARM ID of a managed identity in the target subscription.
pub(super) fn identity_id(backend: &AzureBackend, key: &IdentityKey) -> String {
    crate::resources::Context::identity_path(
        backend.session().subscription_id(),
        &key.resource_group,
        &key.name,
    )
}

async fn read_identity(backend: &AzureBackend, key: IdentityKey) -> Result<Found, BackendError> {
    let live = backend
        .session()
        .msi()
        .get(&identity_id(backend, &key))
        .await
        .map_err(|error| provider_error(ProviderError::Arm(error)))?;
    let observation = live.map(|live| identity_observation(&live, &key.resource_group));
    Ok(Found::Identity(key, observation))
}

async fn read_credentials(backend: &AzureBackend, key: IdentityKey) -> Result<Found, BackendError> {
    let credentials = backend
        .session()
        .msi()
        .credentials_of(&identity_id(backend, &key))
        .await
        .map_err(|error| provider_error(ProviderError::Arm(error)))?;
    Ok(Found::Credentials(
        key,
        credentials.iter().map(credential_observation).collect(),
    ))
}

/// Lists a cluster's SecretProviderClasses; in a task of its own when `apart`.
async fn read_spcs(
    backend: &AzureBackend,
    cluster: ClusterRef,
    apart: bool,
) -> Result<Found, BackendError> {
    let client = backend.kube(&cluster).await?;
    let listed = if apart {
        // Parsing a list of many SecretProviderClasses is real CPU work: in tasks of their
        // own, several clusters' lists are parsed on different cores. (Not for one cluster:
        // nothing to overlap, and the parse on another thread's heap raised the peak memory
        // of a 5,000-SecretProviderClass plan by a quarter.)
        let listing = tokio::spawn(async move { SpcClient::new(client).list_all().await });
        joined(listing).await.unwrap_or_else(|cancelled| {
            Err(KubeError::Request {
                operation: "list",
                object: format!("SecretProviderClasses of `{}`", cluster.key.name),
                source: Box::new(kube::Error::Service(Box::new(cancelled))),
            })
        })
    } else {
        SpcClient::new(client).list_all().await
    };
    let spcs = listed
        .map_err(|error| provider_error(ProviderError::Kube(error)))?
        // No SecretProviderClass API: the add-on (the CSI driver) is not installed.
        .unwrap_or_default();
    Ok(Found::Spcs(
        cluster.key,
        spcs.into_iter()
            .map(|spc| SpcObservation {
                namespace: spc.namespace,
                name: spc.name,
                manifest: spc.manifest,
                resource_version: spc.resource_version,
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures::FutureExt;

    use super::*;
    use crate::engine::backend::ClusterKey;

    #[tokio::test]
    async fn after_a_failed_read_the_others_still_finish_and_nothing_more_is_handed_over() {
        let finished = Arc::new(AtomicUsize::new(0));
        let slow_list = |name: &'static str| {
            let finished = finished.clone();
            async move {
                for _ in 0..5 {
                    tokio::task::yield_now().await;
                }
                finished.fetch_add(1, Ordering::SeqCst);
                Ok(Found::Spcs(ClusterKey::new("rg", name), Vec::new()))
            }
            .boxed()
        };
        let reads: Vec<PendingRead<'_>> = vec![
            async { Err(BackendError::new("403 on the vault")) }.boxed(),
            slow_list("aks-a"),
            slow_list("aks-b"),
        ];
        let mut handed_over = Vec::new();
        let outcome = hand_over_all(stream::iter(reads).buffer_unordered(3), &mut |found| {
            handed_over.push(found)
        })
        .await;
        assert_eq!(outcome.unwrap_err().to_string(), "403 on the vault");
        assert_eq!(
            finished.load(Ordering::SeqCst),
            2,
            "a read was dropped mid-way"
        );
        assert!(handed_over.is_empty(), "{handed_over:?}");
    }

    #[tokio::test]
    async fn every_read_is_handed_over_as_it_completes() {
        let reads: Vec<PendingRead<'_>> = ["aks-a", "aks-b"]
            .into_iter()
            .map(|name| {
                async move { Ok(Found::Spcs(ClusterKey::new("rg", name), Vec::new())) }.boxed()
            })
            .collect();
        let mut handed_over = Vec::new();
        hand_over_all(stream::iter(reads).buffer_unordered(2), &mut |found| {
            handed_over.push(found)
        })
        .await
        .unwrap();
        assert_eq!(handed_over.len(), 2);
    }
}
