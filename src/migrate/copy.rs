//! `--copy-values`: each moved key's value from its Secret into Key Vault, in memory only.
//!
//! Idempotent: a Key Vault secret that already holds the value is left alone; one holding a
//! different value is refused unless `overwrite` — and every value is compared before any is
//! written, so a refusal writes nothing. Each written secret is tagged with where it came from.

use std::collections::BTreeMap;

use super::error::Error;
use super::model::{Migration, SecretContent};
use super::vaults::secrets_client;
use crate::plan::model::Plan;
use crate::providers::AzureSession;
use crate::providers::azure::keyvault_data::{KeyVaultDataError, SecretValue, SecretsClient};

/// The tag on every secret `--copy-values` writes: `CLUSTER/NAMESPACE/SECRET/KEY`.
pub const ORIGIN_TAG: &str = "vaultwire-migrated-from";

/// What happened to one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copied {
    Created,
    Unchanged,
    Overwritten,
}

impl Copied {
    pub fn as_str(self) -> &'static str {
        match self {
            Copied::Created => "copied",
            Copied::Unchanged => "unchanged (Key Vault already holds the value)",
            Copied::Overwritten => "overwritten",
        }
    }
}

/// One line of the copy's report: `(vault name, Key Vault secret, what happened)`.
pub type CopyLine = (String, String, Copied);

/// The contents read from each cluster, by `[addon]` key, then `(namespace, name)`.
pub type Contents = BTreeMap<String, BTreeMap<(String, String), SecretContent>>;

struct Pending {
    vault: String,
    client: SecretsClient,
    name: String,
    value: SecretValue,
    origin: String,
    /// Whether Key Vault held the same value (`Some(true)`), another (`Some(false)`), or none.
    existing: Option<bool>,
}

fn forbidden(vault: &str, error: KeyVaultDataError) -> Error {
    match &error {
        KeyVaultDataError::Request(request) if request.status() == Some(403) => {
            Error::NeedsOfficer {
                vault: vault.to_owned(),
                reason: request
                    .message()
                    .map(|m| m.lines().next().unwrap_or_default().to_owned())
                    .unwrap_or_else(|| "HTTP 403".to_owned()),
            }
        }
        _ => Error::Copy {
            vault: vault.to_owned(),
            source: Box::new(error.into()),
        },
    }
}

/// Copies every moved key of `migration` into its vault.
pub async fn copy_values(
    session: &AzureSession,
    plan: &Plan,
    migration: &Migration,
    contents: &Contents,
    overwrite: bool,
) -> Result<Vec<CopyLine>, Error> {
    let mut clients: BTreeMap<String, SecretsClient> = BTreeMap::new();
    let mut pending = Vec::new();
    let mut conflicts = Vec::new();
    for moved in &migration.moves {
        let Some(vault) = plan.vaults.get(&moved.vault) else {
            continue;
        };
        let vault_name = vault.name.value.clone();
        if !clients.contains_key(&moved.vault) {
            let client = secrets_client(session, vault)
                .await
                .map_err(|error| Error::Copy {
                    vault: vault_name.clone(),
                    source: Box::new(error),
                })?
                .ok_or_else(|| Error::VaultMissing {
                    key: moved.vault.clone(),
                    name: vault_name.clone(),
                })?;
            clients.insert(moved.vault.clone(), client);
        }
        let client = clients[&moved.vault].clone();
        let content = contents
            .get(&moved.addon)
            .and_then(|c| c.get(&(moved.namespace.clone(), moved.secret.clone())));
        let Some(content) = content else {
            continue;
        };
        for key in &moved.keys {
            let Some(bytes) = content.data.get(&key.key) else {
                continue;
            };
            let value = SecretValue::new(key.encoding.stored(bytes.expose()));
            let existing = client
                .get_secret_value(&key.vault_secret)
                .await
                .map_err(|error| forbidden(&vault_name, error))?;
            let same = existing.as_ref().map(|e| e.expose() == value.expose());
            match same {
                Some(true) => {}
                Some(false) if !overwrite => conflicts.push(format!(
                    "`{}` in `{vault_name}` (from key `{}` of Secret {}/{})",
                    key.vault_secret, key.key, moved.namespace, moved.secret
                )),
                _ => {}
            }
            pending.push(Pending {
                vault: vault_name.clone(),
                client: client.clone(),
                name: key.vault_secret.clone(),
                value,
                origin: format!(
                    "{}/{}/{}/{}",
                    moved.cluster, moved.namespace, moved.secret, key.key
                ),
                existing: same,
            });
        }
    }
    if !conflicts.is_empty() {
        return Err(Error::DifferentValues { conflicts });
    }
    let mut report = Vec::new();
    // Every value was read above; only those Key Vault lacks or holds differently are set.
    for item in pending {
        if item.existing == Some(true) {
            report.push((item.vault, item.name, Copied::Unchanged));
            continue;
        }
        let tags = BTreeMap::from([(ORIGIN_TAG.to_owned(), item.origin)]);
        item.client
            .set_secret(&item.name, &item.value, &tags)
            .await
            .map_err(|error| forbidden(&item.vault, error))?;
        let outcome = if item.existing.is_some() {
            Copied::Overwritten
        } else {
            Copied::Created
        };
        report.push((item.vault, item.name, outcome));
    }
    Ok(report)
}
