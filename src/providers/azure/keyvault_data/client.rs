//! A small secrets client on azure_core's pipeline: list secrets' properties, read one
//! secret's properties, and — only when asked — one value.
//!
//! The official `azure_security_keyvault_secrets` crate would work against real vaults, but its
//! challenge check requires the vault host to end in the challenge's resource host, which a
//! sandbox vault on `127.0.0.1` cannot; three GETs do not justify the extra crate either. The
//! pipeline is the ARM client's (same retry policy and timer), with Key Vault's challenge
//! authentication instead of a fixed scope.
//!
//! A 403 is returned as [`ArmError::Api`] (`403 Forbidden`; Key Vault's inner code says
//! `ForbiddenByRbac` or `AccessDenied`) and never retried — also while a new role assignment or
//! access policy is still propagating: only the caller knows whether it just granted access and
//! should wait and ask again (`tests/clients/secrets.rs` shows the contract).

use std::collections::HashSet;
use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use azure_core::http::policies::Policy;
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::{Pipeline, Request, RetryOptions, Url};
use serde_json::Value;

use super::challenge::KeyVaultChallenge;
use super::{SecretProperties, SecretValue};
use crate::providers::azure::AzureCloud;
use crate::providers::azure::arm::ArmRetryPolicy;
use crate::providers::azure::arm::{ArmError, ArmResponse, RetrySettings, api_version, send};
use crate::providers::timer::Timer;

#[derive(Debug, thiserror::Error)]
pub enum KeyVaultDataError {
    #[error("`{uri}` is not a key vault URI")]
    InvalidVaultUri { uri: String },
    #[error("key vault returned a secret document vaultwire cannot read at `{request}`")]
    Unreadable { request: String },
    #[error(transparent)]
    Request(#[from] ArmError),
}

/// Read access to the secrets of one vault.
#[derive(Debug, Clone)]
pub struct SecretsClient {
    pipeline: Pipeline,
    vault_uri: Url,
}

impl SecretsClient {
    /// A client for the vault at `vault_uri` (a live vault's `properties.vaultUri`), retrying
    /// as `retry` says and waiting on `timer` (a run passes its ARM client's).
    pub fn new(
        cloud: &AzureCloud,
        credential: Arc<dyn TokenCredential>,
        vault_uri: &str,
        timer: Arc<dyn Timer>,
        retry: RetrySettings,
    ) -> Result<Self, KeyVaultDataError> {
        let invalid = || KeyVaultDataError::InvalidVaultUri {
            uri: vault_uri.to_owned(),
        };
        let mut vault = Url::parse(vault_uri).map_err(|_| invalid())?;
        if vault.scheme() != "https" || vault.host_str().is_none() {
            return Err(invalid());
        }
        if !vault.path().ends_with('/') {
            let path = format!("{}/", vault.path());
            vault.set_path(&path);
        }
        let challenge = Arc::new(KeyVaultChallenge::new(!cloud.is_sandbox()));
        let authorization = BearerTokenAuthorizationPolicy::new(credential, Vec::<String>::new())
            .with_on_request(challenge.clone())
            .with_on_challenge(challenge);
        let mut options = cloud.client_options();
        options.retry = RetryOptions::custom(Arc::new(ArmRetryPolicy::new(retry, timer)));
        let per_try: Vec<Arc<dyn Policy>> = vec![Arc::new(authorization)];
        let pipeline = Pipeline::new(
            Some("vaultwire"),
            Some(env!("CARGO_PKG_VERSION")),
            options,
            Vec::new(),
            per_try,
            None,
        );
        Ok(Self {
            pipeline,
            vault_uri: vault,
        })
    }

    fn url(&self, path: &str) -> Result<Url, KeyVaultDataError> {
        let mut url =
            self.vault_uri
                .join(path)
                .map_err(|_| KeyVaultDataError::InvalidVaultUri {
                    uri: self.vault_uri.to_string(),
                })?;
        url.query_pairs_mut()
            .append_pair("api-version", api_version::KEY_VAULT_DATA);
        Ok(url)
    }

    /// The properties of every secret in the vault (no values; needs the `list` permission or
    /// a role with `secrets/readMetadata`).
    pub async fn list_secret_properties(&self) -> Result<Vec<SecretProperties>, KeyVaultDataError> {
        let describe = format!("GET {}secrets", self.vault_uri);
        let mut url = self.url("secrets")?;
        let mut seen = HashSet::new();
        let mut secrets = Vec::new();
        loop {
            let response = self.get(url, &describe).await?;
            if !response.is_success() {
                return Err(ArmError::from_response(&describe, &response).into());
            }
            let body = response.json().map_err(|_| KeyVaultDataError::Unreadable {
                request: describe.clone(),
            })?;
            secrets.extend(
                body.get("value")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(SecretProperties::from_document),
            );
            let Some(next) = body
                .get("nextLink")
                .and_then(Value::as_str)
                .filter(|next| !next.is_empty())
            else {
                return Ok(secrets);
            };
            if !seen.insert(next.to_owned()) {
                return Ok(secrets);
            }
            url = self.same_vault(next, &describe)?;
        }
    }

    /// One secret's properties, or `None` when it does not exist. Reads the latest version
    /// (`get` permission); the value in the response is dropped unread.
    pub async fn get_secret_properties(
        &self,
        name: &str,
    ) -> Result<Option<SecretProperties>, KeyVaultDataError> {
        Ok(self
            .get_secret(name)
            .await?
            .and_then(|body| SecretProperties::from_document(&body)))
    }

    /// One secret's value. Only for callers that truly need it; never log it.
    pub async fn get_secret_value(
        &self,
        name: &str,
    ) -> Result<Option<SecretValue>, KeyVaultDataError> {
        Ok(self.get_secret(name).await?.and_then(|body| {
            body.get("value")
                .and_then(Value::as_str)
                .map(|value| SecretValue::new(value.to_owned()))
        }))
    }

    /// Sets a new version of secret `name` to `value`, with `tags` (`setSecret`: Key Vault
    /// Secrets Officer, or the `set` permission). Never log `value`.
    pub async fn set_secret(
        &self,
        name: &str,
        value: &SecretValue,
        tags: &std::collections::BTreeMap<String, String>,
    ) -> Result<SecretProperties, KeyVaultDataError> {
        let path = format!(
            "secrets/{}",
            crate::providers::azure::arm::encode_segment(name)
        );
        let describe = format!("PUT {}{path}", self.vault_uri);
        let mut request = Request::new(self.url(&path)?, azure_core::http::Method::Put);
        request.insert_header("content-type", "application/json");
        request.set_body(serde_json::json!({"value": value.expose(), "tags": tags}).to_string());
        let response = send(&self.pipeline, &mut request, &describe, "key vault").await?;
        if !response.is_success() {
            return Err(ArmError::from_response(&describe, &response).into());
        }
        response
            .json()
            .ok()
            .as_ref()
            .and_then(SecretProperties::from_document)
            .ok_or(KeyVaultDataError::Unreadable { request: describe })
    }

    async fn get_secret(&self, name: &str) -> Result<Option<Value>, KeyVaultDataError> {
        let path = format!(
            "secrets/{}",
            crate::providers::azure::arm::encode_segment(name)
        );
        let describe = format!("GET {}{path}", self.vault_uri);
        let response = self.get(self.url(&path)?, &describe).await?;
        if response.status == 404 {
            return Ok(None);
        }
        if !response.is_success() {
            return Err(ArmError::from_response(&describe, &response).into());
        }
        response
            .json()
            .map(Some)
            .map_err(|_| KeyVaultDataError::Unreadable { request: describe })
    }

    /// A `nextLink` on this vault; anything else would receive the vault token.
    fn same_vault(&self, link: &str, describe: &str) -> Result<Url, KeyVaultDataError> {
        let url = Url::parse(link).map_err(|_| ArmError::InvalidUrl {
            request: describe.to_owned(),
            url: link.to_owned(),
        })?;
        let vault = &self.vault_uri;
        if url.scheme() != vault.scheme()
            || url.host_str() != vault.host_str()
            || url.port_or_known_default() != vault.port_or_known_default()
        {
            return Err(ArmError::ForeignUrl {
                request: describe.to_owned(),
                url: link.to_owned(),
                endpoint: vault.to_string(),
            }
            .into());
        }
        Ok(url)
    }

    async fn get(&self, url: Url, describe: &str) -> Result<ArmResponse, KeyVaultDataError> {
        let mut request = Request::new(url, azure_core::http::Method::Get);
        Ok(send(&self.pipeline, &mut request, describe, "key vault").await?)
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
