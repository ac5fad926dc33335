//! The sandbox: vaultwire's built-in emulator of Entra ID, ARM, Key Vault and the Kubernetes
//! API, so everything runs and is tested on one machine with no cloud.

pub mod kube;
