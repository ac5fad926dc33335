//! The library API: start a sandbox on its own runtime thread and control it through a
//! handle; find a sandbox that `vaultwire sandbox serve` runs on a directory.
//!
//! Sharing a directory: several instances may use one DIR at once (each request locks and
//! re-reads `world.json`, see `persist.rs`). A `serve` additionally holds `DIR/server.lock`
//! and advertises its endpoint in `DIR/server.json`; [`Sandbox::served`] finds it, so a
//! command can use the served sandbox instead of starting its own.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::answerer::Answerer;
use crate::auth::{self, Principal};
use crate::error::SandboxError;
use crate::faults::FaultState;
use crate::files::{self, ServerInfo};
use crate::instance::{Instance, Timing, lock};
use crate::journal::{Journal, JournalEntry};
use crate::options::{Faults, SandboxOptions};
use crate::persist::Store;
use crate::proxy::Leaves;
use crate::seed_cluster::{add_cluster, valid_cluster_name};
use crate::{admin, ids, kubeconfig, server, tls};

/// Starts sandboxes. See [`Sandbox::start`].
#[derive(Debug)]
pub struct Sandbox;

/// A sandbox that `vaultwire sandbox serve` is running on a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedSandbox {
    pub endpoint: String,
    pub ca_file: PathBuf,
    pub pid: u32,
}

impl Sandbox {
    /// Starts a sandbox on 127.0.0.1 with its own runtime thread. It stops when the handle
    /// is dropped.
    pub fn start(options: SandboxOptions) -> Result<SandboxHandle, SandboxError> {
        if let Some(name) = options
            .extra_clusters
            .iter()
            .find(|name| !valid_cluster_name(name))
        {
            return Err(SandboxError::InvalidClusterName { name: name.clone() });
        }
        let (store, material) = match &options.dir {
            Some(dir) => {
                let mut store = Store::open(dir, options.seed)?;
                let material =
                    store.with_world(false, |_| files::load_or_create_material(dir))??;
                (store, material)
            }
            None => (Store::memory(options.seed), files::ephemeral_material()?),
        };
        let config = tls::server_config(&material.leaf_cert, &material.leaf_key)?;
        let leaves = Arc::new(Leaves::new(material.ca.clone()));
        let listener = std::net::TcpListener::bind(("127.0.0.1", options.port))
            .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
            .map_err(|source| SandboxError::Bind {
                port: options.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
            port: options.port,
            source,
        })?;
        let instance = Arc::new(Instance {
            endpoint: format!("https://127.0.0.1:{}", addr.port()),
            ca_pem: material.ca.cert.clone(),
            dir: options.dir.as_deref().map(files::absolute),
            seed: options.seed,
            extra_clusters: options.extra_clusters.clone(),
            keys: material.token_keys,
            store: Mutex::new(store),
            faults: Mutex::new(FaultState::new(options.faults.clone(), options.seed)),
            journal: Mutex::new(Journal::default()),
            answerer: Answerer::start().map_err(SandboxError::Runtime)?,
            timing: Mutex::new(Timing {
                lro_duration: options.lro_duration,
                rbac_delay: options.rbac_propagation_delay,
                principal_delay: options.principal_replication_delay,
                credential_delay: options.credential_propagation_delay,
            }),
        });
        if !instance.extra_clusters.is_empty() {
            instance.with_world(true, |_, world| {
                for name in &instance.extra_clusters {
                    add_cluster(world, name);
                }
            })?;
        }
        let (shutdown, watcher) = watch::channel(false);
        let served = instance.clone();
        let port = options.port;
        // The runtime is built, used and dropped on its own thread: dropping a runtime inside
        // another one's async context would panic, and callers may be async tests.
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("vaultwire-sandbox".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("vaultwire-sandbox")
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = ready_tx.send(Err(SandboxError::Runtime(error)));
                        return;
                    }
                };
                let listener = {
                    let _guard = runtime.enter();
                    tokio::net::TcpListener::from_std(listener)
                };
                match listener {
                    Ok(listener) => {
                        let _ = ready_tx.send(Ok(()));
                        runtime.block_on(server::run(
                            listener,
                            TlsAcceptor::from(config),
                            leaves,
                            served,
                            watcher,
                        ));
                    }
                    Err(source) => {
                        let _ = ready_tx.send(Err(SandboxError::Bind { port, source }));
                    }
                }
                runtime.shutdown_timeout(Duration::from_secs(2));
            })
            .map_err(SandboxError::Runtime)?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return Err(error),
            Err(_) => {
                return Err(SandboxError::Runtime(std::io::Error::other(
                    "the sandbox thread ended before serving",
                )));
            }
        }
        Ok(SandboxHandle {
            instance,
            addr,
            shutdown,
            thread: Some(thread),
        })
    }

    /// The sandbox `vaultwire sandbox serve` runs on `dir`, if one does.
    pub fn served(dir: &Path) -> Option<ServedSandbox> {
        let lock_file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(dir.join(files::SERVER_LOCK_FILE))
            .ok()?;
        match lock_file.try_lock() {
            Ok(()) => {
                let _ = lock_file.unlock();
                None
            }
            Err(_) => {
                let text = std::fs::read(dir.join(files::SERVER_FILE)).ok()?;
                let info: ServerInfo = serde_json::from_slice(&text).ok()?;
                Some(ServedSandbox {
                    endpoint: info.endpoint,
                    ca_file: info.ca_file,
                    pid: info.pid,
                })
            }
        }
    }
}

/// A running sandbox. Dropping it stops the server (in-flight requests get two seconds).
#[derive(Debug)]
pub struct SandboxHandle {
    instance: Arc<Instance>,
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl SandboxHandle {
    /// `https://127.0.0.1:PORT` (no trailing slash): ARM, Entra (`/{tenant}/…`), Key Vault
    /// (`/vaults/{name}/`) and Kubernetes (`/k8s/clusters/{name}`) all live under it.
    pub fn endpoint(&self) -> &str {
        &self.instance.endpoint
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The CA certificate (PEM) clients must trust.
    pub fn ca_pem(&self) -> &str {
        &self.instance.ca_pem
    }

    /// The directory the world persists in; `None` for a memory-only sandbox.
    pub fn dir(&self) -> Option<&Path> {
        self.instance.dir.as_deref()
    }

    /// Requests answered so far (oldest first; admin requests are not recorded).
    pub fn journal(&self) -> Vec<JournalEntry> {
        lock(&self.instance.journal).entries()
    }

    /// Connections accepted since the journal was last cleared, a request on them or not.
    pub fn connections_accepted(&self) -> u64 {
        lock(&self.instance.journal).connections()
    }

    /// Requests per route, such as `PUT Microsoft.KeyVault/vaults`.
    pub fn counters(&self) -> BTreeMap<String, u64> {
        lock(&self.instance.journal).counters()
    }

    pub fn clear_journal(&self) {
        lock(&self.instance.journal).clear();
    }

    pub fn faults(&self) -> Faults {
        lock(&self.instance.faults).faults.clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        lock(&self.instance.faults).set(faults);
    }

    pub fn set_lro_duration(&self, duration: Duration) {
        lock(&self.instance.timing).lro_duration = duration;
    }

    pub fn set_rbac_propagation_delay(&self, delay: Duration) {
        lock(&self.instance.timing).rbac_delay = delay;
    }

    pub fn set_principal_replication_delay(&self, delay: Duration) {
        lock(&self.instance.timing).principal_delay = delay;
    }

    pub fn set_credential_propagation_delay(&self, delay: Duration) {
        lock(&self.instance.timing).credential_delay = delay;
    }

    /// Restores the seed world (in memory and in the directory).
    pub fn reset(&self) -> Result<(), SandboxError> {
        let seeded = self.instance.seed_world();
        Ok(self.instance.with_world(true, |_, world| *world = seeded)?)
    }

    /// An access token for any principal and audience (`aud` as Entra would put it, such as
    /// `https://vault.azure.net`), for tests and generated kubeconfigs.
    pub fn issue_token(
        &self,
        object_id: &str,
        app_id: Option<&str>,
        aud: &str,
        lifetime: Duration,
    ) -> Result<String, SandboxError> {
        let ctx = self.instance.ctx(jiff::Timestamp::now());
        let principal = Principal {
            object_id: object_id.to_owned(),
            app_id: app_id.map(str::to_owned),
        };
        let seconds = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
        Ok(auth::issue(&ctx, &principal, aud, seconds)?)
    }

    /// A GitHub-style OIDC token the sandbox's Entra accepts as a federated client assertion
    /// for the deploying app when `subject` is [`ids::FEDERATED_SUBJECT`].
    pub fn federated_token(&self, subject: &str) -> Option<String> {
        admin::mint_federated(&self.instance, subject, ids::FEDERATED_AUDIENCE, 600)
    }

    /// A kubeconfig with a context per cluster, authenticating as the deploying app with a
    /// token valid for `lifetime`.
    pub fn kubeconfig(&self, lifetime: Duration) -> Result<String, SandboxError> {
        let clusters: Vec<String> = self.instance.with_world(false, |_, world| {
            world.clusters.values().map(|c| c.name.clone()).collect()
        })?;
        let token = self.issue_token(
            ids::CLIENT_OBJECT_ID,
            Some(ids::CLIENT_ID),
            ids::AKS_SERVER_APP_ID,
            lifetime,
        )?;
        let contexts: Vec<kubeconfig::Context> = clusters
            .into_iter()
            .map(|cluster| kubeconfig::Context {
                user: format!("vaultwire-deployer@{cluster}"),
                server: kubeconfig::server_url(self.endpoint(), &cluster),
                cluster,
                auth: kubeconfig::UserAuth::Token(token.clone()),
            })
            .collect();
        Ok(kubeconfig::render(self.ca_pem(), &contexts))
    }

    /// Whether the Secrets Store CSI driver is installed in `cluster`'s Kubernetes API (it
    /// follows the Key Vault add-on); `None` for an unknown cluster.
    pub fn csi_driver_installed(&self, cluster: &str) -> Result<Option<bool>, SandboxError> {
        let key = cluster.to_ascii_lowercase();
        Ok(self.instance.with_world(false, |_, world| {
            world.kube.get(&key).map(|kube| kube.csi_driver_installed())
        })?)
    }

    /// Reads the world as JSON (secret values included: the sandbox's own store), for tests.
    pub fn world_json(&self) -> Result<serde_json::Value, SandboxError> {
        Ok(self.instance.with_world(false, |_, world| {
            serde_json::to_value(&*world).unwrap_or_default()
        })?)
    }

    /// Stops the server and waits for its thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        self.stop();
    }
}
