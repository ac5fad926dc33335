//! The sandbox: vaultwire's built-in emulator of Entra ID, ARM, Key Vault and the Kubernetes
//! API, so everything runs and is tested on one machine with no cloud.
//!
//! Start one with [`Sandbox::start`]; `docs/sandbox.md` describes the URL layout, the seeded
//! world, faults and the admin API.

pub mod admin;
pub mod answerer;
pub mod arm;
pub mod auth;
pub mod context;
pub mod csi_provider;
pub mod entra;
pub mod error;
pub mod exchange;
pub mod faults;
pub mod files;
pub mod graph;
pub mod handle;
pub mod hosts;
pub mod ids;
pub mod instance;
pub mod journal;
pub mod keyvault_data;
pub mod kube;
pub mod kube_gateway;
pub mod kubeconfig;
pub mod kubelet;
pub mod model;
pub mod oidc_issuer;
pub mod options;
pub mod persist;
pub mod proxy;
pub mod router;
pub mod seed;
pub mod seed_cluster;
pub mod server;
pub mod tls;
pub mod token;
pub mod world;

pub use error::SandboxError;
pub use handle::{Sandbox, SandboxHandle, ServedSandbox};
pub use journal::JournalEntry;
pub use options::{Faults, SandboxOptions};
