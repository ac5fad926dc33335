//! The Key Vault data plane (secrets) of every vault, under `/vaults/{name}/`.

pub mod access;
pub mod bundle;
pub mod call;
pub mod deleted;
pub mod firewall;
pub mod handler;
pub mod secrets;

pub use handler::handle;
