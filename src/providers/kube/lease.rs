//! The run lock: a `coordination.k8s.io/v1` Lease per target cluster, held during `apply` and
//! `destroy` so a second run fails fast naming the holder.
//!
//! The Lease is `vaultwire-lock` in `kube-system`: that namespace exists in every AKS cluster
//! (and the sandbox), so taking the lock never creates anything but the Lease itself. It is
//! free when absent, released (no holder), expired (`renewTime` + `leaseDurationSeconds` in
//! the past) or already ours. Every write carries the `resourceVersion` that was read, so of
//! two racing runs exactly one wins (the other gets 409 and reads again). The decision is pure
//! ([`decide`]); time comes from the caller.
//!
//! The Lease exists only while a run holds it: taking the lock creates it, releasing deletes
//! it (with the `resourceVersion` this run last wrote as a precondition, so a run never
//! deletes a lock another run took over). So the usual lock and unlock are one request each,
//! on the critical path of every apply; only a Lease left by a run that died, or a race, costs
//! a read and a decision. Renewals replace the Lease this run last wrote, also in one request.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, DeleteParams, PostParams, Preconditions};
use uuid::Uuid;

use super::KubeError;
use super::retry::with_retries;
use crate::providers::Environment;
use crate::resources::spc_document::MANAGED_BY;

pub const LOCK_NAMESPACE: &str = "kube-system";
pub const LOCK_NAME: &str = "vaultwire-lock";

/// Who holds the lock: `user@host pid N run <uuid>`, so the message a blocked run prints says
/// whom to ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockHolder(String);

impl LockHolder {
    pub fn new(env: &Environment, pid: u32, run_id: Uuid) -> Self {
        let user = env
            .get("USER")
            .or_else(|| env.get("USERNAME"))
            .unwrap_or("unknown");
        let host = env
            .get("HOSTNAME")
            .or_else(|| env.get("COMPUTERNAME"))
            .unwrap_or("unknown-host");
        Self(format!("{user}@{host} pid {pid} run {run_id}"))
    }

    /// A holder identity made elsewhere in the same `user@host pid N run <uuid>` form.
    pub fn from_identity(identity: impl Into<String>) -> Self {
        Self(identity.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `(host, pid)` of an identity in this form.
    fn host_and_pid(identity: &str) -> Option<(&str, u32)> {
        let (who, rest) = identity.split_once(" pid ")?;
        let host = who.split_once('@')?.1;
        let pid = rest.split_whitespace().next()?.parse().ok()?;
        Some((host, pid))
    }

    /// Whether `other` was a run on this same machine whose process is gone (killed, say):
    /// its lock need not be waited out. Only decidable where `/proc` exists.
    pub fn is_dead_local_run(&self, other: &str) -> bool {
        let (Some((my_host, _)), Some((host, pid))) =
            (Self::host_and_pid(&self.0), Self::host_and_pid(other))
        else {
            return false;
        };
        let proc = std::path::Path::new("/proc");
        host == my_host && proc.is_dir() && !is_running(proc, pid)
    }
}

/// Whether process `pid` runs: it has an entry under `proc` and is not a zombie (killed, and
/// not yet reaped by its parent, a killed run still has its entry).
fn is_running(proc: &std::path::Path, pid: u32) -> bool {
    match std::fs::read_to_string(proc.join(pid.to_string()).join("stat")) {
        // `pid (command) state …`: the command may hold spaces and parentheses.
        Ok(stat) => !stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_some_and(|state| matches!(state, 'Z' | 'X')),
        Err(_) => false,
    }
}

/// What to do about the Lease as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockDecision {
    /// No Lease yet: create one.
    Create,
    /// Free (released or expired): take it over.
    Take,
    /// Ours already: renew it.
    Renew,
    /// Someone else holds it until `expires_at`.
    Held {
        holder: String,
        expires_at: Timestamp,
    },
}

/// When the holder's claim on `spec` lapses.
fn expiry(spec: &LeaseSpec) -> Option<Timestamp> {
    let since = spec
        .renew_time
        .as_ref()
        .or(spec.acquire_time.as_ref())
        .map(|time| time.0)?;
    let seconds = i64::from(spec.lease_duration_seconds?);
    since.checked_add(SignedDuration::from_secs(seconds)).ok()
}

/// The decision for `lease` as read at `now`, for holder `me`.
pub fn decide(lease: Option<&Lease>, me: &LockHolder, now: Timestamp) -> LockDecision {
    let Some(lease) = lease else {
        return LockDecision::Create;
    };
    let Some(spec) = lease.spec.as_ref() else {
        return LockDecision::Take;
    };
    let holder = match spec.holder_identity.as_deref() {
        None | Some("") => return LockDecision::Take,
        Some(holder) => holder,
    };
    if holder == me.as_str() {
        return LockDecision::Renew;
    }
    match expiry(spec) {
        // A claim without renew time or duration cannot expire; treat it as abandoned rather
        // than blocking the cluster forever.
        None => LockDecision::Take,
        Some(expires_at) if expires_at <= now => LockDecision::Take,
        Some(expires_at) => LockDecision::Held {
            holder: holder.to_owned(),
            expires_at,
        },
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cluster `{cluster}` is locked by {holder} until {expires_at}")]
    Held {
        cluster: String,
        holder: String,
        expires_at: Timestamp,
    },
    #[error("the lock on cluster `{cluster}` was taken over by {holder}")]
    Lost { cluster: String, holder: String },
    #[error("the lock on cluster `{cluster}` kept changing while vaultwire tried to take it")]
    Contended { cluster: String },
    #[error(transparent)]
    Kube(#[from] KubeError),
}

impl LockError {
    pub fn help(&self) -> Option<String> {
        match self {
            LockError::Held { .. } => Some(crate::engine::backend::LOCKED_HELP.to_owned()),
            _ => None,
        }
    }
}

/// The Lease lock of one cluster for one run. Clones share what the run last wrote.
#[derive(Clone)]
pub struct LeaseLock {
    api: Api<Lease>,
    cluster: String,
    holder: LockHolder,
    duration: Duration,
    /// The Lease as this run last wrote it (its `resourceVersion` is the precondition of the
    /// next renewal or the release); `None` before the lock is taken and after release.
    written: Arc<Mutex<Option<Lease>>>,
}

impl std::fmt::Debug for LeaseLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaseLock")
            .field("cluster", &self.cluster)
            .field("holder", &self.holder)
            .field("duration", &self.duration)
            .finish_non_exhaustive()
    }
}

/// Attempts in all when other writers keep changing the Lease under us.
const MAX_ATTEMPTS: u32 = 3;

fn object() -> String {
    format!("Lease `{LOCK_NAMESPACE}/{LOCK_NAME}`")
}

impl LeaseLock {
    /// `duration` is how long the lock outlives a run that stops renewing it; renew at least
    /// every third of it.
    pub fn new(
        client: kube::Client,
        cluster: &str,
        holder: LockHolder,
        duration: Duration,
    ) -> Self {
        Self {
            api: Api::namespaced(client, LOCK_NAMESPACE),
            cluster: cluster.to_owned(),
            holder,
            duration,
            written: Arc::new(Mutex::new(None)),
        }
    }

    fn written(&self) -> Option<Lease> {
        self.written
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set_written(&self, lease: Option<Lease>) {
        *self.written.lock().unwrap_or_else(PoisonError::into_inner) = lease;
    }

    fn duration_seconds(&self) -> i32 {
        i32::try_from(self.duration.as_secs()).unwrap_or(i32::MAX)
    }

    async fn read(&self) -> Result<Option<Lease>, KubeError> {
        with_retries(|| self.api.get_opt(LOCK_NAME))
            .await
            .map_err(|error| KubeError::from_kube("read", object(), error))
    }

    /// Takes the lock at `now`, or fails naming who holds it. Creating the Lease is tried
    /// first (the lock is free and absent almost always); when it exists, it is read and
    /// decided on.
    pub async fn acquire(&self, now: Timestamp) -> Result<(), LockError> {
        match self.create(now).await {
            Ok(()) => return Ok(()),
            Err(error) if error.is_conflict() => {}
            Err(error) => return Err(error.into()),
        }
        for _ in 0..MAX_ATTEMPTS {
            let lease = self.read().await?;
            let result = match decide(lease.as_ref(), &self.holder, now) {
                LockDecision::Held { holder, expires_at }
                    if !self.holder.is_dead_local_run(&holder) =>
                {
                    return Err(LockError::Held {
                        cluster: self.cluster.clone(),
                        holder,
                        expires_at,
                    });
                }
                // A run on this machine that died (SIGKILL) cannot release its lock: take it.
                LockDecision::Held { .. } => match lease {
                    Some(lease) => self.write(lease, now, true).await,
                    None => self.create(now).await,
                },
                LockDecision::Create => self.create(now).await,
                LockDecision::Take => match lease {
                    Some(lease) => self.write(lease, now, true).await,
                    None => self.create(now).await,
                },
                LockDecision::Renew => match lease {
                    Some(lease) => self.write(lease, now, false).await,
                    None => self.create(now).await,
                },
            };
            match result {
                Ok(()) => return Ok(()),
                // Another run wrote in between: read again and decide again.
                Err(error) if error.is_conflict() => continue,
                Err(error) => return Err(error.into()),
            }
        }
        Err(LockError::Contended {
            cluster: self.cluster.clone(),
        })
    }

    /// Extends the lock at `now`; fails if another run took it meanwhile.
    pub async fn renew(&self, now: Timestamp) -> Result<(), LockError> {
        if let Some(written) = self.written() {
            match self.write(written, now, false).await {
                Ok(()) => return Ok(()),
                // Changed since this run wrote it: read and decide.
                Err(error) if error.is_conflict() || error.is_not_found() => {}
                Err(error) => return Err(error.into()),
            }
        }
        let lease = self.read().await?;
        match decide(lease.as_ref(), &self.holder, now) {
            LockDecision::Renew => {}
            LockDecision::Held { holder, .. } => {
                return Err(LockError::Lost {
                    cluster: self.cluster.clone(),
                    holder,
                });
            }
            // Expired or released under us but still free: take it back.
            LockDecision::Create | LockDecision::Take => return self.acquire(now).await,
        }
        let Some(lease) = lease else {
            return self.acquire(now).await;
        };
        self.write(lease, now, false).await.map_err(|error| {
            if error.is_conflict() {
                LockError::Lost {
                    cluster: self.cluster.clone(),
                    holder: "another run".to_owned(),
                }
            } else {
                error.into()
            }
        })
    }

    /// Gives the lock up — deletes the Lease — if it is still ours.
    pub async fn release(&self) -> Result<(), LockError> {
        if let Some(written) = self.written() {
            match self.delete(&written).await {
                Ok(()) => return Ok(()),
                // Renewed or taken over since: read to see whose it is.
                Err(error) if error.is_conflict() => {}
                Err(error) => return Err(error.into()),
            }
        }
        let Some(lease) = self.read().await? else {
            self.set_written(None);
            return Ok(());
        };
        let ours = lease
            .spec
            .as_ref()
            .and_then(|spec| spec.holder_identity.as_deref())
            == Some(self.holder.as_str());
        if !ours {
            self.set_written(None);
            return Ok(());
        }
        self.delete(&lease).await.map_err(LockError::from)
    }

    /// Deletes `lease` if it is still at its `resourceVersion`; gone already is fine.
    async fn delete(&self, lease: &Lease) -> Result<(), KubeError> {
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                resource_version: lease.metadata.resource_version.clone(),
                uid: lease.metadata.uid.clone(),
            }),
            ..DeleteParams::default()
        };
        match with_retries(|| self.api.delete(LOCK_NAME, &params)).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.is_not_found() => {}
            Err(error) => return Err(KubeError::from_kube("release", object(), error)),
        }
        self.set_written(None);
        Ok(())
    }

    /// Renews every `interval` in the background until the task is aborted or the lock is lost.
    pub fn keep_alive(
        self: &Arc<Self>,
        interval: Duration,
    ) -> tokio::task::JoinHandle<Result<(), LockError>> {
        let lock = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                lock.renew(Timestamp::now()).await?;
            }
        })
    }

    async fn create(&self, now: Timestamp) -> Result<(), KubeError> {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(LOCK_NAME.to_owned()),
                namespace: Some(LOCK_NAMESPACE.to_owned()),
                labels: Some([(MANAGED_BY.0.to_owned(), MANAGED_BY.1.to_owned())].into()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(self.holder.as_str().to_owned()),
                lease_duration_seconds: Some(self.duration_seconds()),
                acquire_time: Some(MicroTime(now)),
                renew_time: Some(MicroTime(now)),
                lease_transitions: Some(0),
                ..LeaseSpec::default()
            }),
        };
        let params = PostParams::default();
        match with_retries(|| self.api.create(&params, &lease)).await {
            Ok(created) => {
                self.set_written(Some(created));
                Ok(())
            }
            // Someone created it first: report a conflict so the caller reads it again.
            Err(kube::Error::Api(status)) if status.is_already_exists() => Err(KubeError::Api {
                operation: "create",
                object: object(),
                code: 409,
                reason: status.reason.clone(),
                message: status.message.clone(),
            }),
            Err(error) => Err(KubeError::from_kube("create", object(), error)),
        }
    }

    /// Replaces the read `lease` (its `resourceVersion` is the precondition) with us as holder.
    async fn write(
        &self,
        mut lease: Lease,
        now: Timestamp,
        take_over: bool,
    ) -> Result<(), KubeError> {
        let mut spec = lease.spec.take().unwrap_or_default();
        if take_over {
            spec.acquire_time = Some(MicroTime(now));
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0).saturating_add(1));
        }
        spec.holder_identity = Some(self.holder.as_str().to_owned());
        spec.lease_duration_seconds = Some(self.duration_seconds());
        spec.renew_time = Some(MicroTime(now));
        lease.spec = Some(spec);
        let params = PostParams::default();
        let written = with_retries(|| self.api.replace(LOCK_NAME, &params, &lease))
            .await
            .map_err(|error| KubeError::from_kube("update", object(), error))?;
        self.set_written(Some(written));
        Ok(())
    }
}

#[cfg(test)]
#[path = "lease_tests.rs"]
mod tests;
