//! The engine's [`Backend`] over the real clients: one signed-in [`AzureSession`] and one
//! Kubernetes connection per cluster, opened once and shared by every request of the run.
//!
//! This is glue only: it maps attribute maps to client calls and results back, and leaves
//! retries, rate limits and long-running operations to the clients.

mod convert;
mod locks;
mod read;
mod write;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use crate::engine::backend::{
    Backend, BackendError, Causes, ClusterKey, ClusterRef, Delete, Found, Live, Locks,
    MountFailure, MountingPod, ReadPlan, Write,
};
use crate::providers::azure::aks::LiveCluster;
use crate::providers::kube::{ClusterConnection, LeaseLock};
use crate::providers::session::AzureSession;
use crate::providers::{Environment, ProviderError};

/// How long a cluster's run lock outlives a run that stops renewing it.
pub const LOCK_DURATION: std::time::Duration = std::time::Duration::from_secs(60);

pub struct AzureBackend {
    session: AzureSession,
    env: Environment,
    connections: Mutex<BTreeMap<ClusterKey, Arc<OnceCell<Arc<ClusterConnection>>>>>,
    locks: Mutex<BTreeMap<ClusterKey, LeaseLock>>,
    /// Clusters as the refresh read them: the add-on change starts its read-modify-write from
    /// this document (taken once) instead of reading the cluster again; its eTag guards it.
    clusters_read: Mutex<BTreeMap<ClusterKey, LiveCluster>>,
}

impl AzureBackend {
    pub fn new(session: AzureSession, env: Environment) -> Self {
        Self {
            session,
            env,
            connections: Mutex::new(BTreeMap::new()),
            locks: Mutex::new(BTreeMap::new()),
            clusters_read: Mutex::new(BTreeMap::new()),
        }
    }

    fn remember_cluster(&self, key: &ClusterKey, cluster: &LiveCluster) {
        if let Ok(mut read) = self.clusters_read.lock() {
            read.insert(key.clone(), cluster.clone());
        }
    }

    /// The cluster as the refresh read it, if it did and nobody used it yet.
    fn take_cluster(&self, key: &ClusterKey) -> Option<LiveCluster> {
        self.clusters_read.lock().ok()?.remove(key)
    }

    pub fn session(&self) -> &AzureSession {
        &self.session
    }

    /// The Kubernetes client of `cluster`, connecting on first use.
    async fn kube(&self, cluster: &ClusterRef) -> Result<kube::Client, BackendError> {
        let cell = {
            let mut connections = self
                .connections
                .lock()
                .map_err(|_| BackendError::new("connection table poisoned"))?;
            connections.entry(cluster.key.clone()).or_default().clone()
        };
        let connection = cell
            .get_or_try_init(|| async {
                self.session
                    .cluster_connection_at(
                        &cluster.key.resource_group,
                        &cluster.key.name,
                        cluster.kube_context.as_deref(),
                        &self.env,
                    )
                    .await
                    .map(Arc::new)
            })
            .await
            .map_err(provider_error)?;
        connection
            .client()
            .await
            .map_err(|error| provider_error(error.into()))
    }
}

/// A provider failure as the engine reports it: the message with its causes, and the hint.
pub fn provider_error(error: ProviderError) -> BackendError {
    BackendError::Provider {
        message: error.to_string(),
        help: error.help(),
        source: Causes::of(error),
    }
}

impl Backend for AzureBackend {
    async fn read(
        &self,
        plan: &ReadPlan,
        parallelism: usize,
        found: &mut (dyn FnMut(Found) + Send),
    ) -> Result<(), BackendError> {
        read::read(self, plan, parallelism, found).await
    }

    async fn write(&self, write: Write) -> Result<Live, BackendError> {
        write::write(self, write).await
    }

    async fn delete(&self, delete: Delete) -> Result<(), BackendError> {
        write::delete(self, delete).await
    }

    async fn lock(&self, clusters: &[ClusterRef], holder: &str) -> Result<Locks, BackendError> {
        locks::lock(self, clusters, holder).await
    }

    async fn renew(&self, locks: &Locks) -> Result<(), BackendError> {
        locks::renew(self, locks).await
    }

    async fn unlock(&self, locks: &Locks) -> Result<(), BackendError> {
        locks::unlock(self, locks).await
    }

    async fn mount_failures(
        &self,
        cluster: &ClusterRef,
        classes: &[(String, String)],
    ) -> Result<Vec<MountFailure>, BackendError> {
        let client = self.kube(cluster).await?;
        let failures = crate::providers::kube::failing_pods(&client, classes)
            .await
            .map_err(|error| provider_error(ProviderError::Kube(error)))?;
        Ok(failures
            .into_iter()
            .map(|failure| MountFailure {
                namespace: failure.namespace,
                class: failure.class,
                pod: failure.pod,
                summary: failure.summary,
                last_seen: failure.last_seen,
            })
            .collect())
    }

    async fn pods_mounting(
        &self,
        cluster: &ClusterRef,
        classes: &[(String, String)],
    ) -> Result<Vec<MountingPod>, BackendError> {
        let client = self.kube(cluster).await?;
        let pods = crate::providers::kube::pods_mounting(&client, classes)
            .await
            .map_err(|error| provider_error(ProviderError::Kube(error)))?;
        Ok(pods
            .into_iter()
            .map(|pod| MountingPod {
                namespace: pod.namespace,
                class: pod.class,
                pod: pod.pod,
                service_account: pod.service_account,
            })
            .collect())
    }
}
