//! One running sandbox's shared state: its address, keys, world store, fault settings and
//! journal, and the synchronous answer to one request.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::answerer::Answerer;
use crate::arm::operations::settle;
use crate::context::{Addressing, Ctx};
use crate::exchange::{Req, Resp};
use crate::faults::FaultState;
use crate::journal::Journal;
use crate::kubelet;
use crate::persist::{PersistError, Store};
use crate::router;
use crate::seed::seeded_world;
use crate::seed_cluster::add_cluster;
use crate::token::TokenKeys;
use crate::world::World;

/// LRO duration and RBAC propagation delay, changeable at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub lro_duration: Duration,
    pub rbac_delay: Duration,
    pub principal_delay: Duration,
    pub credential_delay: Duration,
}

#[derive(Debug)]
pub struct Instance {
    pub endpoint: String,
    pub ca_pem: String,
    pub dir: Option<PathBuf>,
    pub seed: u64,
    /// Clusters seeded beside `aks-demo` (`SandboxOptions::extra_clusters`).
    pub extra_clusters: Vec<String>,
    pub keys: TokenKeys,
    pub store: Mutex<Store>,
    pub faults: Mutex<FaultState>,
    pub journal: Mutex<Journal>,
    /// Works out every answer, each when its latency has passed.
    pub answerer: Answerer,
    pub timing: Mutex<Timing>,
}

/// Locks a mutex, carrying on after a panic elsewhere (the data stays usable: every writer
/// leaves it consistent between statements).
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Instance {
    pub fn ctx(&self, now: jiff::Timestamp) -> Ctx<'_> {
        let timing = *lock(&self.timing);
        Ctx {
            now,
            endpoint: &self.endpoint,
            addressing: Addressing::Endpoint,
            keys: &self.keys,
            ca_pem: &self.ca_pem,
            lro_duration: timing.lro_duration,
            rbac_delay: timing.rbac_delay,
            principal_delay: timing.principal_delay,
            credential_delay: timing.credential_delay,
            latency: lock(&self.faults).faults.latency,
        }
    }

    /// The seed world of this instance: the seed's, with the extra clusters.
    pub fn seed_world(&self) -> World {
        let mut world = seeded_world(self.seed);
        for name in &self.extra_clusters {
            add_cluster(&mut world, name);
        }
        world
    }

    /// Runs `f` on the world under the store's lock (see `persist.rs`), after finishing the
    /// long-running operations that are due.
    pub fn with_world<R>(
        &self,
        mutating: bool,
        f: impl FnOnce(&Ctx<'_>, &mut World) -> R,
    ) -> Result<R, PersistError> {
        let ctx = self.ctx(jiff::Timestamp::now());
        lock(&self.store).with_world(mutating, |world| {
            settle(&ctx, world);
            f(&ctx, world)
        })
    }

    /// Answers an Entra, ARM, Key Vault or Kubernetes request.
    pub fn answer(&self, req: &Req) -> Resp {
        let addressing = if req.host.is_some() {
            Addressing::AzureHosts
        } else {
            Addressing::Endpoint
        };
        // What the kubelet does shows only in pods, events and synced Secrets: it catches up
        // when they are read, and no other request waits for it.
        let observes_pods = req.is_read()
            && router::Area::of(req) == router::Area::Kube
            && req
                .path
                .split('/')
                .any(|segment| matches!(segment, "pods" | "events" | "secrets"));
        match self.with_world(!req.is_read(), |ctx, world| {
            if observes_pods {
                kubelet::settle(ctx, world);
            }
            router::dispatch(&ctx.addressed(addressing), world, req)
        }) {
            Ok(answer) => answer,
            Err(error) => {
                tracing::error!(%error, "the sandbox cannot use its world");
                Resp::json(
                    http::StatusCode::INTERNAL_SERVER_ERROR,
                    &serde_json::json!({"error": {"code": "SandboxStorageError", "message": error.to_string()}}),
                )
            }
        }
    }
}
