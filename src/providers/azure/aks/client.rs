//! The AKS client: reads clusters, sets the Key Vault secrets provider add-on, fetches the
//! cluster user kubeconfig.
//!
//! Setting the add-on is a read-modify-write of the whole managedCluster with `If-Match`, so a
//! concurrent change is never overwritten: on `409 OperationNotAllowed` (another operation is
//! running) or `412` (the document changed since the GET) it reads again and retries with
//! backoff, a bounded number of times.

use std::time::Duration;

use super::{
    AddonSettings, ClusterId, ClusterKubeconfig, LiveAddon, LiveCluster, blocking_spcs,
    get_cluster, get_public_ip, kubeconfig_from_credentials, list_cluster_user_credential,
    put_cluster, with_addon,
};
use crate::providers::azure::arm::{ArmClient, ArmError, RetrySettings, backoff_delay};
use crate::providers::timer::jitter_fraction;

#[derive(Debug, thiserror::Error)]
pub enum AksError {
    #[error("aks cluster `{cluster}` does not exist in resource group `{resource_group}`")]
    ClusterNotFound {
        cluster: String,
        resource_group: String,
    },
    #[error(
        "aks cluster `{cluster}` stayed busy with another operation through {attempts} attempts"
    )]
    StillBusy {
        cluster: String,
        attempts: u32,
        #[source]
        last: ArmError,
    },
    #[error(
        "aks cluster `{cluster}` was still in provisioning state `{state}` after waiting {}s for its running operation",
        .waited.as_secs()
    )]
    OperationStillRunning {
        cluster: String,
        state: String,
        waited: Duration,
    },
    #[error(
        "the key vault secrets provider add-on of `{cluster}` cannot be disabled while SecretProviderClasses exist{}",
        list_suffix(.spcs)
    )]
    DisableBlocked {
        cluster: String,
        /// `namespace/name`, sorted.
        spcs: Vec<String>,
        #[source]
        source: ArmError,
    },
    #[error(
        "aks reports the key vault secrets provider add-on of `{cluster}` enabled but no identity for it"
    )]
    IdentityMissing { cluster: String },
    #[error("azure returned a managed cluster document vaultwire cannot read for `{cluster}`")]
    Unreadable { cluster: String },
    #[error("azure returned no usable kubeconfig for aks cluster `{cluster}`")]
    NoKubeconfig { cluster: String },
    #[error(transparent)]
    Arm(#[from] ArmError),
}

fn list_suffix(spcs: &[String]) -> String {
    if spcs.is_empty() {
        String::new()
    } else {
        let spcs: Vec<String> = spcs.iter().map(|spc| format!("`{spc}`")).collect();
        format!(": {}", spcs.join(", "))
    }
}

impl AksError {
    pub fn help(&self) -> Option<String> {
        match self {
            AksError::DisableBlocked { .. } => Some(
                "delete the SecretProviderClasses first (`vaultwire destroy` does, in order)"
                    .to_owned(),
            ),
            AksError::StillBusy { .. } | AksError::OperationStillRunning { .. } => {
                Some("wait for the cluster's running operation to finish, then run again".into())
            }
            _ => None,
        }
    }
}

/// How hard [`AksClient::set_addon`] tries while the cluster is busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AksOptions {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The first wait after a conflict; it doubles.
    pub conflict_delay: Duration,
    pub max_conflict_delay: Duration,
    /// How long to wait for an operation already running on the cluster (AKS add-on and
    /// node-pool operations take minutes).
    pub max_operation_wait: Duration,
}

impl Default for AksOptions {
    fn default() -> Self {
        // About eleven minutes in all: an add-on or node-pool operation usually ends in that.
        Self {
            max_attempts: 8,
            conflict_delay: Duration::from_secs(15),
            max_conflict_delay: Duration::from_secs(120),
            max_operation_wait: Duration::from_secs(30 * 60),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AksClient {
    arm: ArmClient,
    options: AksOptions,
}

/// The first wait before a cluster with an operation in progress (someone else's, or that of
/// a run that died) is read again, when the read says nothing (`Retry-After`); it doubles up to
/// [`RUNNING_OPERATION_MAX_POLL`]. Short at first: the operation may be about to end.
const RUNNING_OPERATION_FIRST_POLL: Duration = Duration::from_secs(1);

/// The longest wait between reads of a busy cluster without a `Retry-After` (az waits 30 s
/// between polls that carry none).
const RUNNING_OPERATION_MAX_POLL: Duration = Duration::from_secs(30);

/// Whether the cluster reports an operation still running (`Updating`, `Creating`, …).
fn is_operation_running(cluster: &LiveCluster) -> bool {
    cluster.provisioning_state.as_deref().is_some_and(|state| {
        !["Succeeded", "Failed", "Canceled"]
            .iter()
            .any(|done| state.eq_ignore_ascii_case(done))
    })
}

/// Conflicts that go away by themselves: another operation running, or a stale `eTag`.
fn is_transient_conflict(error: &ArmError) -> bool {
    error.is(409, "OperationNotAllowed") || error.status() == Some(412)
}

impl AksClient {
    pub fn new(arm: ArmClient, options: AksOptions) -> Self {
        Self { arm, options }
    }

    /// The cluster, or `None` when it does not exist.
    pub async fn get(&self, id: &ClusterId) -> Result<Option<LiveCluster>, AksError> {
        let Some(response) = self.arm.read(&get_cluster(id)).await? else {
            return Ok(None);
        };
        let document = response.json().map_err(|_| AksError::Unreadable {
            cluster: id.name.clone(),
        })?;
        LiveCluster::from_document(document, response.header("etag"))
            .map(Some)
            .ok_or_else(|| AksError::Unreadable {
                cluster: id.name.clone(),
            })
    }

    /// The address of the public IP resource `id` (a cluster's outbound IP); `None` when it
    /// does not exist or has no address yet.
    pub async fn public_ip_address(&self, id: &str) -> Result<Option<String>, AksError> {
        let Some(response) = self.arm.read(&get_public_ip(id)).await? else {
            return Ok(None);
        };
        let document: serde_json::Value = response.json().unwrap_or_default();
        Ok(document
            .pointer("/properties/ipAddress")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned))
    }

    async fn get_existing(&self, id: &ClusterId) -> Result<LiveCluster, AksError> {
        self.read_existing(id).await.map(|(cluster, _)| cluster)
    }

    /// The cluster, and the wait its answer asks for before the next read (`Retry-After`, in
    /// seconds), which ARM's resource-state polling allows a service to send.
    async fn read_existing(
        &self,
        id: &ClusterId,
    ) -> Result<(LiveCluster, Option<Duration>), AksError> {
        let response =
            self.arm
                .read(&get_cluster(id))
                .await?
                .ok_or_else(|| AksError::ClusterNotFound {
                    cluster: id.name.clone(),
                    resource_group: id.resource_group.clone(),
                })?;
        let retry_after = response
            .header("retry-after")
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let document = response.json().map_err(|_| AksError::Unreadable {
            cluster: id.name.clone(),
        })?;
        let cluster =
            LiveCluster::from_document(document, response.header("etag")).ok_or_else(|| {
                AksError::Unreadable {
                    cluster: id.name.clone(),
                }
            })?;
        Ok((cluster, retry_after))
    }

    /// Sets the add-on as `settings` say, following the operation, and returns the cluster as
    /// AKS reports it afterwards (the add-on with its identity when enabled). A no-op when it
    /// already matches. `known_spcs` (`namespace/name`) are named in the error if AKS refuses
    /// to disable the add-on because SecretProviderClasses exist.
    pub async fn set_addon(
        &self,
        id: &ClusterId,
        settings: &AddonSettings,
        known_spcs: &[String],
    ) -> Result<LiveCluster, AksError> {
        self.set_addon_from(id, settings, known_spcs, None).await
    }

    /// [`Self::set_addon`] starting from `read`, the cluster as read moments ago (by the
    /// plan's refresh), instead of reading it again: the PUT carries its eTag, so if the
    /// cluster changed since, AKS answers 412 and the cluster is read afresh at once.
    pub async fn set_addon_from(
        &self,
        id: &ClusterId,
        settings: &AddonSettings,
        known_spcs: &[String],
        read: Option<LiveCluster>,
    ) -> Result<LiveCluster, AksError> {
        let timer = self.arm.timer();
        let backoff = RetrySettings {
            max_retries: self.options.max_attempts,
            initial_delay: self.options.conflict_delay,
            max_delay: self.options.max_conflict_delay,
            max_retry_after: self.options.max_conflict_delay,
        };
        // A read that already matches is not trusted to skip the change: read again.
        let mut earlier = read.filter(|cluster| !cluster.addon.matches(settings));
        let mut attempt = 0;
        let mut waited_for_operation = Duration::ZERO;
        let mut operation_poll = RUNNING_OPERATION_FIRST_POLL;
        loop {
            attempt += 1;
            let from_earlier = earlier.is_some();
            let (cluster, retry_after) = match earlier.take() {
                Some(cluster) => (cluster, None),
                None => self.read_existing(id).await?,
            };
            if is_operation_running(&cluster) {
                // Another operation (perhaps a run that was killed half-way) is still
                // changing the cluster: its document is not final and a PUT would be refused
                // with OperationNotAllowed. Wait for it, as ARM clients wait for an LRO: as
                // long as the service asks, else briefly at first and longer each time.
                let wait = match retry_after {
                    Some(asked) => asked.min(self.options.max_conflict_delay),
                    None => {
                        let wait = operation_poll;
                        operation_poll = (operation_poll * 2).min(RUNNING_OPERATION_MAX_POLL);
                        wait
                    }
                };
                if waited_for_operation >= self.options.max_operation_wait {
                    return Err(AksError::OperationStillRunning {
                        cluster: id.name.clone(),
                        state: cluster.provisioning_state.unwrap_or_default(),
                        waited: waited_for_operation,
                    });
                }
                waited_for_operation += wait;
                // Waiting for someone else's operation is not a refused attempt of ours.
                attempt -= 1;
                tracing::debug!(cluster = %id.name, wait_ms = wait.as_millis(), "aks operation in progress; waiting");
                timer.sleep(wait).await;
                continue;
            }
            if cluster.addon.matches(settings) {
                return checked(id, settings, cluster);
            }
            let request = put_cluster(
                id,
                with_addon(&cluster.document, settings),
                cluster.etag.as_deref(),
            );
            match self.arm.execute(&request).await {
                Ok(response) => {
                    // For a PUT, what the operation ends with is the cluster as it is now.
                    let after = response.json().ok().and_then(|document| {
                        LiveCluster::from_document(document, response.header("etag"))
                    });
                    let after = match after {
                        Some(after) if checked_addon(settings, &after.addon) => after,
                        _ => self.get_existing(id).await?,
                    };
                    return checked(id, settings, after);
                }
                // The earlier read is stale: read now and try again without waiting.
                Err(error) if from_earlier && error.status() == Some(412) => {}
                Err(error) if !settings.enabled && is_spc_refusal(&error) => {
                    let mut spcs = blocking_spcs(error.message().unwrap_or_default());
                    spcs.extend(known_spcs.iter().cloned());
                    spcs.sort();
                    spcs.dedup();
                    return Err(AksError::DisableBlocked {
                        cluster: id.name.clone(),
                        spcs,
                        source: error,
                    });
                }
                Err(error) if is_transient_conflict(&error) => {
                    if attempt >= self.options.max_attempts {
                        return Err(AksError::StillBusy {
                            cluster: id.name.clone(),
                            attempts: attempt,
                            last: error,
                        });
                    }
                    let wait = backoff_delay(&backoff, attempt, jitter_fraction());
                    tracing::debug!(cluster = %id.name, attempt, wait_ms = wait.as_millis(), "aks cluster busy; retrying");
                    timer.sleep(wait).await;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// The cluster's user kubeconfig from `listClusterUserCredential`.
    pub async fn user_kubeconfig(&self, id: &ClusterId) -> Result<ClusterKubeconfig, AksError> {
        let response = self.arm.send(&list_cluster_user_credential(id)).await?;
        response
            .json()
            .ok()
            .as_ref()
            .and_then(kubeconfig_from_credentials)
            .ok_or_else(|| AksError::NoKubeconfig {
                cluster: id.name.clone(),
            })
    }
}

/// Whether an error is AKS refusing to disable the add-on because of SecretProviderClasses.
/// AKS words the refusal as "… cannot be disabled due to more than 0 Secret Provider
/// Classes"; match it with or without the spaces.
fn is_spc_refusal(error: &ArmError) -> bool {
    error.message().is_some_and(|message| {
        let squeezed: String = message
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        squeezed.contains("secretproviderclass")
    })
}

/// Whether `addon` is complete for `settings`: an enabled add-on has its identity.
fn checked_addon(settings: &AddonSettings, addon: &LiveAddon) -> bool {
    !settings.enabled || addon.identity.is_some()
}

fn checked(
    id: &ClusterId,
    settings: &AddonSettings,
    cluster: LiveCluster,
) -> Result<LiveCluster, AksError> {
    if !checked_addon(settings, &cluster.addon) {
        return Err(AksError::IdentityMissing {
            cluster: id.name.clone(),
        });
    }
    Ok(cluster)
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
