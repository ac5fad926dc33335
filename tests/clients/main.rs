//! vaultwire's clients (`vaultwire::providers`: ARM, Key Vault, AKS, RBAC, the Key Vault data
//! plane, Kubernetes) as a library, against the real sandbox over HTTPS. One binary, one module
//! per service, plus faults and logs across them.

mod support;

mod aks;
mod ca_bundle;
mod faults;
mod keyvault;
mod kube;
mod kube_rs;
mod logs;
mod rbac;
mod secrets;

// The sandbox crate's test helpers, shared rather than copied.
#[allow(dead_code)] // each test binary uses its own part of the helpers
#[path = "../../crates/vaultwire-sandbox/tests/api/support.rs"]
mod sandbox_support;
