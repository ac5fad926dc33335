//! Every provider failure in one type, for the edge error: which exit code, which hint.
//!
//! Domain errors stay in their modules; this only gathers them so the engine can use `?` across
//! providers and the command line can map a held lock to exit code 5.

use crate::providers::azure::aks::AksError;
use crate::providers::azure::keyvault::KeyVaultError;
use crate::providers::azure::keyvault_data::KeyVaultDataError;
use crate::providers::azure::rbac::RbacError;
use crate::providers::azure::{ArmError, AuthError, CloudError};
use crate::providers::kube::{KubeError, LockError};

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error(transparent)]
    Cloud(#[from] CloudError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Arm(#[from] ArmError),
    #[error(transparent)]
    KeyVault(#[from] KeyVaultError),
    #[error(transparent)]
    KeyVaultData(#[from] KeyVaultDataError),
    #[error(transparent)]
    Aks(#[from] AksError),
    #[error(transparent)]
    Rbac(#[from] RbacError),
    #[error(transparent)]
    Kube(#[from] KubeError),
    #[error(transparent)]
    Lock(#[from] LockError),
}

impl ProviderError {
    /// A hint to print after the error, if there is one.
    pub fn help(&self) -> Option<String> {
        match self {
            ProviderError::Cloud(error) => error.help(),
            ProviderError::Auth(error) => error.help(),
            ProviderError::KeyVault(error) => error.help(),
            ProviderError::Aks(error) => error.help(),
            ProviderError::Rbac(error) => error.help(),
            ProviderError::Lock(error) => error.help(),
            ProviderError::Arm(_) | ProviderError::KeyVaultData(_) | ProviderError::Kube(_) => None,
        }
    }

    /// Another run holds the lock of a target cluster (exit code 5).
    pub fn is_lock_held(&self) -> bool {
        matches!(self, ProviderError::Lock(LockError::Held { .. }))
    }
}
