//! The typed records the sandbox's world is made of. Plain serde data; behaviour lives in the
//! handlers (`arm/`, `keyvault_data/`) and in `world.rs`.

pub mod cluster;
pub mod mount;
pub mod principal;
pub mod rbac;
pub mod vault;

pub use cluster::{ClusterOperation, ManagedCluster, Operation, OperationKind};
pub use mount::PodMount;
pub use principal::{App, FederatedCredential, ManagedIdentity, ResourceGroup};
pub use rbac::{BuiltinRole, RoleAssignment};
pub use vault::{AccessPolicyEntry, DeletedVault, Permissions, Secret, SecretVersion, Vault};
