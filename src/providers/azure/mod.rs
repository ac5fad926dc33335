//! Azure: clouds, sign-in, the ARM client and one typed module per resource kind.

pub mod aks;
pub mod arm;
pub mod auth;
pub mod cloud;
pub mod keyvault;
pub mod keyvault_data;
pub mod msi;
pub mod rbac;

#[cfg(test)]
mod log_redaction_tests;

pub use arm::{ArmClient, ArmClientOptions, ArmError};
pub use auth::{AuthError, Credential, sign_in};
pub use cloud::{AzureCloud, CloudError};
