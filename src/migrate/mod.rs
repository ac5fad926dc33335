//! `vaultwire migrate`: moving workloads off native Kubernetes Secrets into Key Vault.
//!
//! `compute` is pure: from the plan, the request and what each cluster holds (the audit's
//! workload scan, and the Secrets' contents read into memory by `read`), it decides what
//! moves and what is left alone. `render` shows it for review; `plan_text` and `patches`
//! write it for the plan file and the workloads' owners; `copy` puts the values into Key
//! Vault. Values live in memory only ([`model::SecretBytes`]) and nothing prints them.

pub mod compute;
pub mod copy;
pub mod error;
pub mod finish;
pub mod model;
pub mod names;
pub mod patches;
pub mod plan_text;
pub mod read;
pub mod render;
pub mod restore;
pub mod retire;
pub mod vaults;

pub use compute::{ClusterInput, MigrateError, compute, wanted_secrets};
pub use error::Error;
pub use model::{Migration, Mode, Request, SecretBytes, SecretContent};

#[cfg(test)]
mod tests;
