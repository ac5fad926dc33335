//! Key Vaults (`Microsoft.KeyVault/vaults`): what the plan wants, what is live, the requests
//! that get from one to the other, and the client that sends them.

mod access_policy;
mod client;
mod live;
mod requests;
mod spec;

pub use access_policy::{AccessPolicyEntry, AccessPolicyUpdateKind, Permissions};
pub use client::{KeyVaultClient, KeyVaultError};
pub use live::{DeletedVault, LiveVault, NameAvailability};
pub use requests::{
    check_name_availability, create_vault, delete_vault, get_deleted_vault, get_vault,
    list_deleted_vaults, purge_deleted_vault, recover_vault, update_access_policy, update_vault,
};
pub use spec::{VaultId, VaultSpec};
