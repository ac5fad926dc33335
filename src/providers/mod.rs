//! Providers: the typed clients the engine calls to read and change live resources in Azure
//! (ARM, Entra ID, Key Vault) and in Kubernetes clusters.
//!
//! Each submodule reads and changes one kind of resource, the same way against real Azure and
//! the sandbox. Providers decide nothing about *whether* to change something — that is the
//! engine's diff — and never print; they return typed values and typed errors.

pub mod azure;
pub mod azure_backend;
pub mod ca_bundle;
pub mod environment;
pub mod error;
pub mod kube;
pub mod session;
pub mod timer;

#[cfg(test)]
pub(crate) mod testing;

pub use environment::Environment;
pub use error::ProviderError;
pub use session::AzureSession;
pub use timer::{Timer, TokioTimer};
