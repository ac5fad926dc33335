//! The sandbox's HTTP APIs as a client sees them: each service's requests and answers checked
//! against the published examples, Entra's token flows, and injected faults. One binary, one
//! module per service.

mod support;

mod arm_clusters;
mod arm_discovery;
mod arm_rbac;
mod arm_vaults;
mod azure_hosts;
mod entra;
mod faults;
mod graph;
mod keyvault;
mod mounts;
