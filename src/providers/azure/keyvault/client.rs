//! The Key Vault client: reads, creates, updates, recovers, deletes and purges vaults, and
//! changes access-policy entries, through the [`ArmClient`].
//!
//! Decides nothing about *whether* to act; maps the ARM errors the engine must tell apart
//! (soft-deleted name, name taken, purge protection) to [`KeyVaultError`] variants with help.

use std::collections::BTreeSet;

use super::{
    AccessPolicyEntry, AccessPolicyUpdateKind, DeletedVault, LiveVault, NameAvailability, VaultId,
    VaultSpec, requests,
};
use crate::providers::azure::arm::{ArmClient, ArmError, ArmResponse};

#[derive(Debug, thiserror::Error)]
pub enum KeyVaultError {
    #[error("key vault `{name}` is soft-deleted")]
    SoftDeleted { name: String },
    #[error("key vault name `{name}` is taken by another vault")]
    NameTaken { name: String },
    #[error("key vault `{name}` has purge protection and cannot be purged before {}", .scheduled_purge_date.as_deref().unwrap_or("its scheduled purge date"))]
    PurgeProtected {
        name: String,
        scheduled_purge_date: Option<String>,
    },
    #[error("no soft-deleted key vault `{name}` in `{location}`")]
    NotSoftDeleted { name: String, location: String },
    #[error("azure returned a vault document vaultwire cannot read for `{name}`")]
    Unreadable { name: String },
    #[error(transparent)]
    Arm(#[from] ArmError),
}

impl KeyVaultError {
    pub fn help(&self) -> Option<String> {
        match self {
            KeyVaultError::SoftDeleted { .. } => Some(
                "set `recover_soft_deleted = true` to recover it, or choose another name".into(),
            ),
            KeyVaultError::NameTaken { .. } => Some(
                "vault names are global across Azure; choose another name (a recently deleted \
                 vault elsewhere may still hold it)"
                    .into(),
            ),
            KeyVaultError::PurgeProtected { .. } => Some(
                "set `on_destroy = \"delete\"` (soft delete) or `\"retain\"`; purge protection \
                 cannot be turned off"
                    .into(),
            ),
            _ => None,
        }
    }
}

/// Vault operations of one subscription.
#[derive(Debug, Clone)]
pub struct KeyVaultClient {
    arm: ArmClient,
}

fn live_vault(name: &str, response: &ArmResponse) -> Result<LiveVault, KeyVaultError> {
    response
        .json()
        .ok()
        .and_then(LiveVault::from_document)
        .ok_or_else(|| KeyVaultError::Unreadable {
            name: name.to_owned(),
        })
}

impl KeyVaultClient {
    pub fn new(arm: ArmClient) -> Self {
        Self { arm }
    }

    /// The live vault, or `None` when it does not exist (it may be soft-deleted: see
    /// [`Self::get_deleted`]).
    pub async fn get(&self, id: &VaultId) -> Result<Option<LiveVault>, KeyVaultError> {
        match self.arm.read(&requests::get_vault(id)).await? {
            Some(response) => live_vault(&id.name, &response).map(Some),
            None => Ok(None),
        }
    }

    /// The soft-deleted vault `name` in `location`, if there is one.
    pub async fn get_deleted(
        &self,
        subscription_id: &str,
        location: &str,
        name: &str,
    ) -> Result<Option<DeletedVault>, KeyVaultError> {
        let request = requests::get_deleted_vault(subscription_id, location, name);
        let Some(response) = self.arm.read(&request).await? else {
            return Ok(None);
        };
        Ok(response
            .json()
            .ok()
            .as_ref()
            .and_then(DeletedVault::from_document))
    }

    /// Every soft-deleted vault of the subscription.
    pub async fn list_deleted(
        &self,
        subscription_id: &str,
    ) -> Result<Vec<DeletedVault>, KeyVaultError> {
        let items = self
            .arm
            .list(&requests::list_deleted_vaults(subscription_id))
            .await?;
        Ok(items
            .iter()
            .filter_map(DeletedVault::from_document)
            .collect())
    }

    /// Whether `name` is free for a new vault anywhere in Azure.
    pub async fn check_name(
        &self,
        subscription_id: &str,
        name: &str,
    ) -> Result<NameAvailability, KeyVaultError> {
        let response = self
            .arm
            .send(&requests::check_name_availability(subscription_id, name))
            .await?;
        response
            .json()
            .ok()
            .as_ref()
            .and_then(NameAvailability::from_document)
            .ok_or_else(|| KeyVaultError::Unreadable {
                name: name.to_owned(),
            })
    }

    /// Creates the vault (PUT, following the operation if ARM makes it long-running).
    pub async fn create(&self, spec: &VaultSpec) -> Result<LiveVault, KeyVaultError> {
        let response = self
            .arm
            .execute(&requests::create_vault(spec))
            .await
            .map_err(|error| map_create_error(&spec.id.name, error))?;
        live_vault(&spec.id.name, &response)
    }

    /// Converges the managed properties of an existing vault (PATCH of what differs); returns
    /// `live` unchanged when nothing does.
    pub async fn update(
        &self,
        spec: &VaultSpec,
        live: LiveVault,
        forget_tags: &BTreeSet<String>,
    ) -> Result<LiveVault, KeyVaultError> {
        match requests::update_vault(spec, &live, forget_tags) {
            None => Ok(live),
            Some(request) => {
                let response = self.arm.execute(&request).await?;
                live_vault(&spec.id.name, &response)
            }
        }
    }

    /// Recovers the soft-deleted vault, then converges it on the plan.
    pub async fn recover(&self, spec: &VaultSpec) -> Result<LiveVault, KeyVaultError> {
        let response = self
            .arm
            .execute(&requests::recover_vault(spec))
            .await
            .map_err(|error| match error {
                // The code for "nothing to recover" is UNVERIFIED; ARM answers 404 or 400.
                error if error.is_not_found() || error.status() == Some(400) => {
                    KeyVaultError::NotSoftDeleted {
                        name: spec.id.name.clone(),
                        location: spec.location.clone(),
                    }
                }
                error => KeyVaultError::Arm(error),
            })?;
        let recovered = live_vault(&spec.id.name, &response)?;
        self.update(spec, recovered, &BTreeSet::new()).await
    }

    /// Deletes (soft-deletes) the vault; `false` when it did not exist.
    pub async fn delete(&self, id: &VaultId) -> Result<bool, KeyVaultError> {
        let response = self.arm.send(&requests::delete_vault(id)).await?;
        Ok(response.status != 204)
    }

    /// Purges a soft-deleted vault, for good. Refused up front when purge protection is on.
    pub async fn purge(
        &self,
        subscription_id: &str,
        location: &str,
        name: &str,
    ) -> Result<(), KeyVaultError> {
        let deleted = self
            .get_deleted(subscription_id, location, name)
            .await?
            .ok_or_else(|| KeyVaultError::NotSoftDeleted {
                name: name.to_owned(),
                location: location.to_owned(),
            })?;
        if deleted.purge_protection {
            return Err(KeyVaultError::PurgeProtected {
                name: name.to_owned(),
                scheduled_purge_date: deleted.scheduled_purge_date,
            });
        }
        self.arm
            .execute(&requests::purge_deleted_vault(
                subscription_id,
                location,
                name,
            ))
            .await?;
        Ok(())
    }

    /// Adds, replaces or removes one access-policy entry, leaving every other entry alone.
    pub async fn update_access_policy(
        &self,
        id: &VaultId,
        kind: AccessPolicyUpdateKind,
        entry: &AccessPolicyEntry,
    ) -> Result<(), KeyVaultError> {
        let request = requests::update_access_policy(id, kind, std::slice::from_ref(entry));
        self.arm.send(&request).await?;
        Ok(())
    }
}

fn map_create_error(name: &str, error: ArmError) -> KeyVaultError {
    if error.is(409, "ConflictError")
        && error
            .message()
            .is_some_and(|message| message.to_ascii_lowercase().contains("deleted state"))
    {
        KeyVaultError::SoftDeleted {
            name: name.to_owned(),
        }
    } else if error
        .code()
        .is_some_and(|code| code.eq_ignore_ascii_case("VaultAlreadyExists"))
    {
        KeyVaultError::NameTaken {
            name: name.to_owned(),
        }
    } else {
        KeyVaultError::Arm(error)
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
