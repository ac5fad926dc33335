//! The Key Vault data plane (secrets), read-only: which objects exist in a vault, for the
//! audit. Secret values are never read unless a caller asks for one explicitly.

mod challenge;
mod client;
mod secret;

pub use client::{KeyVaultDataError, SecretsClient};
pub use secret::{SecretProperties, SecretValue};
