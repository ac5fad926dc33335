//! The run lock: a Lease in each target cluster, taken before any change and released at the
//! end; a run that dies leaves it to expire (or, on the same machine, to be taken over).
//!
//! Clusters are independent, so their Leases are taken, renewed and released all at once: the
//! lock and the unlock each cost one round trip on the critical path of an apply, however many
//! clusters it touches.

use futures::future::join_all;
use jiff::Timestamp;

use super::{AzureBackend, LOCK_DURATION, provider_error};
use crate::engine::backend::{BackendError, ClusterRef, Locks};
use crate::providers::ProviderError;
use crate::providers::kube::{LeaseLock, LockError, LockHolder};

pub async fn lock(
    backend: &AzureBackend,
    clusters: &[ClusterRef],
    holder: &str,
) -> Result<Locks, BackendError> {
    let attempts = join_all(clusters.iter().map(|cluster| async move {
        let client = backend.kube(cluster).await?;
        let lock = LeaseLock::new(
            client,
            &cluster.key.name,
            LockHolder::from_identity(holder),
            LOCK_DURATION,
        );
        lock.acquire(Timestamp::now())
            .await
            .map(|()| lock)
            .map_err(lock_failure)
    }))
    .await;
    let mut taken = Locks {
        clusters: Vec::new(),
        holder: holder.to_owned(),
    };
    let mut failure = None;
    for (cluster, attempt) in clusters.iter().zip(attempts) {
        match attempt {
            Ok(lock) => {
                taken.clusters.push(cluster.clone());
                if let Ok(mut locks) = backend.locks.lock() {
                    locks.insert(cluster.key.clone(), lock);
                }
            }
            // The first failure in cluster order, so the message is reproducible; another
            // run's lock wins over any other failure.
            Err(error) => {
                let replace = match &failure {
                    None => true,
                    Some(BackendError::Locked { .. }) => false,
                    Some(BackendError::Provider { .. }) => {
                        matches!(error, BackendError::Locked { .. })
                    }
                };
                if replace {
                    failure = Some(error);
                }
            }
        }
    }
    match failure {
        None => Ok(taken),
        Some(failure) => {
            // Give back what this run took before failing.
            let _ = unlock(backend, &taken).await;
            Err(failure)
        }
    }
}

fn lock_failure(error: LockError) -> BackendError {
    match error {
        LockError::Held {
            cluster,
            holder,
            expires_at,
        } => BackendError::Locked {
            cluster,
            holder,
            until: expires_at.to_string(),
        },
        other => provider_error(ProviderError::Lock(other)),
    }
}

fn held(backend: &AzureBackend, locks: &Locks) -> Vec<LeaseLock> {
    backend
        .locks
        .lock()
        .map(|held| {
            locks
                .clusters
                .iter()
                .filter_map(|cluster| held.get(&cluster.key).cloned())
                .collect()
        })
        .unwrap_or_default()
}

/// The first error of `results`, if any.
fn first_error(results: Vec<Result<(), LockError>>) -> Result<(), BackendError> {
    results
        .into_iter()
        .find_map(Result::err)
        .map_or(Ok(()), |error| {
            Err(provider_error(ProviderError::Lock(error)))
        })
}

pub async fn renew(backend: &AzureBackend, locks: &Locks) -> Result<(), BackendError> {
    let now = Timestamp::now();
    let held = held(backend, locks);
    first_error(join_all(held.iter().map(|lock| lock.renew(now))).await)
}

pub async fn unlock(backend: &AzureBackend, locks: &Locks) -> Result<(), BackendError> {
    let held = held(backend, locks);
    let released = join_all(held.iter().map(LeaseLock::release)).await;
    if let Ok(mut held) = backend.locks.lock() {
        for cluster in &locks.clusters {
            held.remove(&cluster.key);
        }
    }
    first_error(released)
}
