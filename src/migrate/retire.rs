//! Retiring an original Secret (`--finish`), once [`judge`](super::finish::judge) allows it:
//! its values compared with Key Vault (by SHA-256, in memory), then the Secret deleted.

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams};
use sha2::{Digest, Sha256};

use super::error::Error;
use super::finish::Retiring;
use super::model::{Encoding, SecretContent};
use super::vaults::secrets_client;
use crate::plan::model::Plan;
use crate::providers::kube::{KubeError, with_retries};
use crate::providers::{AzureSession, Environment, ProviderError};
use crate::state::model::MigratedSecret;

/// `None` when every key's value is in Key Vault (SHA-256 compared); else why not.
pub async fn values_in_key_vault(
    session: &AzureSession,
    plan: &Plan,
    item: &Retiring,
    content: Option<&SecretContent>,
) -> Result<Option<String>, Error> {
    let Some(content) = content else {
        return Ok(Some("the Secret could not be read".to_owned()));
    };
    let Some(vault) = plan.vaults.get(&item.record.vault) else {
        return Ok(Some(format!(
            "the plan has no [vault.{}]",
            item.record.vault
        )));
    };
    let failed = |error: ProviderError| Error::ReadVault {
        vault: vault.name.value.clone(),
        source: Box::new(error),
    };
    let Some(client) = secrets_client(session, vault).await.map_err(failed)? else {
        return Ok(Some(format!(
            "key vault `{}` does not exist",
            vault.name.value
        )));
    };
    for (key, stored) in &item.record.keys {
        let Some(bytes) = content.data.get(key) else {
            continue;
        };
        let encoding = if stored.encoding == "base64" {
            Encoding::Base64
        } else {
            Encoding::Utf8
        };
        let want = Sha256::digest(encoding.stored(bytes.expose()).as_bytes());
        let found = client
            .get_secret_value(&stored.object)
            .await
            .map_err(|error| failed(error.into()))?;
        let same = found.is_some_and(|value| Sha256::digest(value.expose().as_bytes()) == want);
        if !same {
            return Ok(Some(format!(
                "key `{key}` is not in key vault `{}` as secret `{}` with the same value: run `migrate --copy-values` first",
                vault.name.value, stored.object
            )));
        }
    }
    Ok(None)
}

/// Deletes the original Secret of `record` (already gone is fine).
pub async fn delete_original(
    session: &AzureSession,
    env: &Environment,
    plan: &Plan,
    record: &MigratedSecret,
) -> Result<(), Error> {
    let failed = |error: ProviderError| Error::Retire {
        namespace: record.namespace.clone(),
        name: record.name.clone(),
        source: Box::new(error),
    };
    let Some(addon) = plan.addons.get(&record.addon) else {
        return Ok(());
    };
    let connection = session
        .cluster_connection(addon, env)
        .await
        .map_err(failed)?;
    let client = connection
        .client()
        .await
        .map_err(|error| failed(error.into()))?;
    let api: Api<Secret> = Api::namespaced(client, &record.namespace);
    let params = DeleteParams::default();
    match with_retries(|| api.delete(&record.name, &params)).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(error) => Err(failed(
            KubeError::from_kube(
                "delete",
                format!("secret `{}/{}`", record.namespace, record.name),
                error,
            )
            .into(),
        )),
    }
}
