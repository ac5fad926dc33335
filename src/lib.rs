//! vaultwire provisions external secret storage for Azure Kubernetes Service as code.
//!
//! A TOML plan file describes Key Vaults, the AKS `azure-keyvault-secrets-provider` add-on,
//! grants and SecretProviderClasses. The pure core (`plan`, `graph`) parses, checks and orders
//! it; `cli` is the command line. See `ARCHITECTURE.md` for the map.

pub mod audit;
pub mod cli;
pub mod diff;
pub mod engine;
pub mod files;
pub mod graph;
pub mod migrate;
pub mod plan;
pub mod providers;
pub mod resources;
#[cfg(feature = "sandbox")]
pub use vaultwire_sandbox as sandbox;
pub mod state;
pub mod task;

#[cfg(test)]
mod layers_tests;
