//! How a sandbox is started: where it keeps its world, which port it listens on, and the faults
//! and delays it injects.
//!
//! Plain data with defaults; no I/O. `vaultwire sandbox serve` builds these from its flags and
//! tests build them directly.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Settings of one sandbox instance.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Where the certificates, signing key and `world.json` live. `None` keeps everything in
    /// memory (fresh keys and a fresh seed world every start).
    pub dir: Option<PathBuf>,
    /// The port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Latency and failures injected into ARM, Key Vault and Kubernetes requests.
    pub faults: Faults,
    /// How long a managed cluster PUT stays `Creating`/`Updating` before it turns `Succeeded`.
    pub lro_duration: Duration,
    /// How long a new role assignment or access policy takes to take effect on the Key Vault
    /// data plane.
    pub rbac_propagation_delay: Duration,
    /// How long a user-assigned identity created through ARM stays unknown to role
    /// assignments (400 `PrincipalNotFound`), as Entra replicates a new principal.
    pub principal_replication_delay: Duration,
    /// How long Entra ignores a federated credential after it is written (token exchanges
    /// that need it are refused with AADSTS70021), as a new credential propagates.
    pub credential_propagation_delay: Duration,
    /// Seed of every random choice: injected faults, and the IDs the seed world and new
    /// resources get (identities, secret versions).
    pub seed: u64,
    /// More AKS clusters beside `aks-demo`, by name: each is `aks-demo` under that name (in
    /// `rg-demo`, its own node resource group and identities, a seeded Kubernetes API). They
    /// are added at start when missing, and again after a reset through the handle or the
    /// admin API.
    pub extra_clusters: Vec<String>,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            dir: None,
            port: 0,
            faults: Faults::default(),
            lro_duration: Duration::from_millis(0),
            rbac_propagation_delay: Duration::ZERO,
            principal_replication_delay: Duration::ZERO,
            credential_propagation_delay: Duration::ZERO,
            seed: 1,
            extra_clusters: Vec::new(),
        }
    }
}

/// Injected latency and failures. Rates are fractions of requests in `0.0..=1.0`; the choice
/// for each request comes from a generator seeded by [`SandboxOptions::seed`], so a run with the
/// same seed and the same request sequence fails the same requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Faults {
    /// Added before every answer.
    #[serde(default, rename = "latencyMs", with = "millis")]
    pub latency: Duration,
    /// Requests answered 429 with `Retry-After`.
    #[serde(default)]
    pub throttle_rate: f64,
    /// Requests answered 500 or 503.
    #[serde(default)]
    pub error_rate: f64,
    /// Requests dropped without an answer: the connection closed (HTTP/1.1) or the stream reset
    /// (HTTP/2).
    #[serde(default)]
    pub drop_rate: f64,
}

impl Faults {
    /// No latency, no failures.
    pub fn none() -> Self {
        Self::default()
    }
}

/// `Duration` as integer milliseconds in JSON (`latencyMs` reads better than a struct).
mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(u64::try_from(value.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(deserializer)?))
    }
}
