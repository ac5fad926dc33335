//! The data-plane client of a plan's vault, found by its ARM resource: what copying,
//! retiring and restoring read and write values through.

use crate::plan::model::Vault;
use crate::providers::azure::keyvault::VaultId;
use crate::providers::azure::keyvault_data::SecretsClient;
use crate::providers::{AzureSession, ProviderError};

/// The secrets client of `vault`; `None` when the vault does not exist (or has no URI).
pub async fn secrets_client(
    session: &AzureSession,
    vault: &Vault,
) -> Result<Option<SecretsClient>, ProviderError> {
    let id = VaultId::new(
        session.subscription_id(),
        vault.resource_group.value.clone(),
        vault.name.value.clone(),
    );
    let live = session.key_vaults().get(&id).await?;
    match live.and_then(|live| live.vault_uri) {
        Some(uri) => Ok(Some(session.secrets(&uri)?)),
        None => Ok(None),
    }
}
