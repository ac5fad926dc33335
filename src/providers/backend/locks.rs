//! The run lock: a Lease in each target cluster, taken before any change and released at the
//! end; a run that dies leaves it to expire (or, on the same machine, to be taken over).

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
    let mut taken = Locks {
        clusters: Vec::new(),
        holder: holder.to_owned(),
    };
    for cluster in clusters {
        let client = backend.kube(cluster).await?;
        let lock = LeaseLock::new(
            client,
            &cluster.key.name,
            LockHolder::from_identity(holder),
            LOCK_DURATION,
        );
        match lock.acquire(Timestamp::now()).await {
            Ok(()) => {
                taken.clusters.push(cluster.clone());
                if let Ok(mut locks) = backend.locks.lock() {
                    locks.insert(cluster.key.clone(), lock);
                }
            }
            Err(error) => {
                // Give back what this run already took before failing.
                let _ = unlock(backend, &taken).await;
                let held_by = match &error {
                    LockError::Held {
                        holder, expires_at, ..
                    } => Some(format!("{holder} (until {expires_at})")),
                    _ => None,
                };
                let mut failure = provider_error(ProviderError::Lock(error));
                failure.locked_by = held_by;
                return Err(failure);
            }
        }
    }
    Ok(taken)
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

pub async fn renew(backend: &AzureBackend, locks: &Locks) -> Result<(), BackendError> {
    for lock in held(backend, locks) {
        lock.renew(Timestamp::now())
            .await
            .map_err(|error| provider_error(ProviderError::Lock(error)))?;
    }
    Ok(())
}

pub async fn unlock(backend: &AzureBackend, locks: &Locks) -> Result<(), BackendError> {
    let mut first_error = None;
    for lock in held(backend, locks) {
        if let Err(error) = lock.release().await {
            first_error.get_or_insert(provider_error(ProviderError::Lock(error)));
        }
    }
    if let Ok(mut held) = backend.locks.lock() {
        for cluster in &locks.clusters {
            held.remove(&cluster.key);
        }
    }
    first_error.map_or(Ok(()), Err)
}
