//! The backout: before `destroy`, each Secret a class recreates (`restore_on_destroy`) or
//! `--finish` retired is written back as a native Secret — same name, type, labels and keys —
//! from the current Key Vault values, in memory only, so workloads keep running once the
//! add-on and the classes are gone.
//!
//! Everything is read and judged first ([`prepare`]): a missing value or a native Secret
//! vaultwire did not write (without `--force`) stops the destroy before anything changes.
//! Writing ([`restore`]) is idempotent: a Secret it restored before with the same data is
//! left alone.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ObjectMeta, PostParams};

use super::error::Error;
use super::finish::carried_record;
use super::model::SecretBytes;
use super::vaults::secrets_client;
use crate::audit::scan::SYNCED_LABEL;
use crate::plan::address::Address;
use crate::plan::model::Plan;
use crate::providers::azure::keyvault_data::SecretsClient;
use crate::providers::kube::{KubeError, with_retries};
use crate::providers::{AzureSession, Environment, ProviderError};
use crate::state::model::{MigratedSecret, StateFile};

/// The annotation on every Secret vaultwire restores: how a later restore knows it may
/// replace it.
pub const RESTORED_ANNOTATION: &str = "vaultwire.io/restored-from";

/// The Secrets a destroy of `state` restores: the state's `migrated` records, and the `sync`
/// Secrets of the plan's classes with `restore_on_destroy` that the state holds. Sorted.
pub fn restores(plan: &Plan, state: &StateFile) -> Vec<MigratedSecret> {
    let mut found: BTreeMap<String, MigratedSecret> = BTreeMap::new();
    for (key, spc) in &plan.spcs {
        if !spc.restore_on_destroy || !state.resources.contains_key(&Address::spc(key.clone())) {
            continue;
        }
        for sync in &spc.sync {
            let keys = sync.data.iter().map(|data| &data.key.value);
            // The plan's checks make every `sync` key name an object of the class.
            let Ok(record) = carried_record(
                plan,
                key,
                spc,
                &sync.secret_name.value,
                &sync.secret_type.value,
                sync.labels.clone(),
                keys,
            ) else {
                continue;
            };
            found.insert(
                format!("{}/{}/{}", record.addon, record.namespace, record.name),
                record,
            );
        }
    }
    // A record outlives its class's destroy as history; only a class still there restores.
    for (key, record) in &state.migrated {
        let class_there = record
            .spc
            .parse::<Address>()
            .is_ok_and(|address| state.resources.contains_key(&address));
        if class_there {
            found.insert(key.clone(), record.clone());
        }
    }
    found.into_values().collect()
}

/// What stands where a Secret is restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existing {
    Nothing,
    /// Restored by vaultwire before.
    Restored {
        resource_version: String,
        same: bool,
    },
    /// The CSI driver's synced copy.
    Synced {
        resource_version: String,
    },
    /// A native Secret vaultwire did not write, replaced only with `--force`.
    Native {
        resource_version: String,
    },
}

/// One Secret ready to restore: its record, its values (in memory), and what is there now.
pub struct Restoring {
    pub record: MigratedSecret,
    pub data: BTreeMap<String, SecretBytes>,
    pub existing: Existing,
    client: kube::Client,
}

impl Restoring {
    /// What the destroy's change set says of it.
    pub fn line(&self) -> String {
        let keys = self.record.keys.len();
        let what = match &self.existing {
            Existing::Nothing => "create",
            Existing::Restored { same: true, .. } => "keep (restored before, same values)",
            Existing::Restored { .. } => "update the Secret restored before",
            Existing::Synced { .. } => "replace the CSI driver's synced copy",
            Existing::Native { .. } => "replace a native Secret (--force)",
        };
        format!(
            "Secret {}/{} ({}, {keys} key{}) from key vault `{}`: {what}",
            self.record.namespace,
            self.record.name,
            self.record.secret_type,
            if keys == 1 { "" } else { "s" },
            self.record.vault_name
        )
    }
}

fn kube_error(record: &MigratedSecret, verb: &'static str, error: kube::Error) -> Error {
    Error::Restore {
        namespace: record.namespace.clone(),
        name: record.name.clone(),
        source: Box::new(
            KubeError::from_kube(
                verb,
                format!("secret `{}/{}`", record.namespace, record.name),
                error,
            )
            .into(),
        ),
    }
}

/// Reads the values and what stands in each place; refuses before anything is written.
pub async fn prepare(
    session: &AzureSession,
    env: &Environment,
    plan: &Plan,
    records: Vec<MigratedSecret>,
    force: bool,
) -> Result<Vec<Restoring>, Error> {
    let mut vaults: BTreeMap<String, SecretsClient> = BTreeMap::new();
    let mut clusters: BTreeMap<String, kube::Client> = BTreeMap::new();
    let mut prepared = Vec::new();
    for record in records {
        let client = match clusters.get(&record.addon) {
            Some(client) => client.clone(),
            None => {
                let addon =
                    plan.addons
                        .get(&record.addon)
                        .ok_or_else(|| Error::RestoreUnknown {
                            what: format!("[addon.{}]", record.addon),
                            name: record.name.clone(),
                        })?;
                let connection = session
                    .cluster_connection(addon, env)
                    .await
                    .map_err(|error| restore_error(&record, error))?;
                let client = connection
                    .client()
                    .await
                    .map_err(|error| restore_error(&record, error))?;
                clusters.insert(record.addon.clone(), client.clone());
                client
            }
        };
        let secrets = match vaults.get(&record.vault) {
            Some(secrets) => secrets.clone(),
            None => {
                let secrets = vault_client(session, plan, &record).await?;
                vaults.insert(record.vault.clone(), secrets.clone());
                secrets
            }
        };
        let mut data = BTreeMap::new();
        for (key, stored) in &record.keys {
            let value = secrets
                .get_secret_value(&stored.object)
                .await
                .map_err(|error| restore_error(&record, error))?
                .ok_or_else(|| Error::RestoreMissing {
                    namespace: record.namespace.clone(),
                    name: record.name.clone(),
                    object: stored.object.clone(),
                    vault: record.vault_name.clone(),
                })?;
            let bytes = if stored.encoding == "base64" {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .decode(value.expose())
                    .map_err(|_| Error::RestoreMissing {
                        namespace: record.namespace.clone(),
                        name: record.name.clone(),
                        object: stored.object.clone(),
                        vault: record.vault_name.clone(),
                    })?
            } else {
                value.expose().as_bytes().to_vec()
            };
            data.insert(key.clone(), SecretBytes::new(bytes));
        }
        let api: Api<Secret> = Api::namespaced(client.clone(), &record.namespace);
        let found = with_retries(|| api.get_opt(&record.name))
            .await
            .map_err(|error| kube_error(&record, "get", error))?;
        let existing = match found {
            None => Existing::Nothing,
            Some(secret) => {
                let resource_version = secret.metadata.resource_version.clone().unwrap_or_default();
                let annotated = secret
                    .metadata
                    .annotations
                    .as_ref()
                    .is_some_and(|a| a.contains_key(RESTORED_ANNOTATION));
                let synced = secret
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|labels| labels.get(SYNCED_LABEL.0))
                    .is_some_and(|value| value == SYNCED_LABEL.1);
                if annotated {
                    let current: BTreeMap<String, Vec<u8>> = secret
                        .data
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(key, bytes)| (key, bytes.0))
                        .collect();
                    let wanted: BTreeMap<String, Vec<u8>> = data
                        .iter()
                        .map(|(key, bytes)| (key.clone(), bytes.expose().to_vec()))
                        .collect();
                    Existing::Restored {
                        resource_version,
                        same: current == wanted,
                    }
                } else if synced {
                    Existing::Synced { resource_version }
                } else if force {
                    Existing::Native { resource_version }
                } else {
                    return Err(Error::RestoreNative {
                        namespace: record.namespace.clone(),
                        name: record.name.clone(),
                    });
                }
            }
        };
        prepared.push(Restoring {
            record,
            data,
            existing,
            client,
        });
    }
    Ok(prepared)
}

fn restore_error(record: &MigratedSecret, error: impl Into<ProviderError>) -> Error {
    Error::Restore {
        namespace: record.namespace.clone(),
        name: record.name.clone(),
        source: Box::new(error.into()),
    }
}

async fn vault_client(
    session: &AzureSession,
    plan: &Plan,
    record: &MigratedSecret,
) -> Result<SecretsClient, Error> {
    let vault = plan
        .vaults
        .get(&record.vault)
        .ok_or_else(|| Error::RestoreUnknown {
            what: format!("[vault.{}]", record.vault),
            name: record.name.clone(),
        })?;
    secrets_client(session, vault)
        .await
        .map_err(|error| restore_error(record, error))?
        .ok_or_else(|| Error::VaultMissing {
            key: record.vault.clone(),
            name: vault.name.value.clone(),
        })
}

/// Writes every prepared Secret; returns a line for each.
pub async fn restore(prepared: Vec<Restoring>) -> Result<Vec<String>, Error> {
    let mut lines = Vec::new();
    for item in prepared {
        let line = format!(
            "Restored Secret {}/{}",
            item.record.namespace, item.record.name
        );
        let resource_version = match &item.existing {
            Existing::Restored { same: true, .. } => {
                lines.push(format!("{line} (unchanged)"));
                continue;
            }
            Existing::Nothing => None,
            Existing::Restored {
                resource_version, ..
            }
            | Existing::Synced { resource_version }
            | Existing::Native { resource_version } => Some(resource_version.clone()),
        };
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(item.record.name.clone()),
                namespace: Some(item.record.namespace.clone()),
                labels: (!item.record.labels.is_empty()).then(|| item.record.labels.clone()),
                annotations: Some(BTreeMap::from([(
                    RESTORED_ANNOTATION.to_owned(),
                    format!("key vault {}", item.record.vault_name),
                )])),
                resource_version: resource_version.clone(),
                ..ObjectMeta::default()
            },
            type_: Some(item.record.secret_type.clone()),
            data: Some(
                item.data
                    .iter()
                    .map(|(key, bytes)| (key.clone(), ByteString(bytes.expose().to_vec())))
                    .collect(),
            ),
            ..Secret::default()
        };
        let api: Api<Secret> = Api::namespaced(item.client.clone(), &item.record.namespace);
        let params = PostParams::default();
        let written = match resource_version {
            None => with_retries(|| api.create(&params, &secret)).await,
            Some(_) => with_retries(|| api.replace(&item.record.name, &params, &secret)).await,
        };
        written.map_err(|error| kube_error(&item.record, "write", error))?;
        lines.push(line);
    }
    Ok(lines)
}
