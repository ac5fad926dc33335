//! Key Vault's challenge authentication, as an azure_core bearer-token callback.
//!
//! The first request goes out without a token; the vault answers 401 with
//! `WWW-Authenticate: Bearer authorization="…", resource="https://vault.azure.net"` (or a
//! `scope=`); the token for that scope is fetched and the request re-sent, and the scope is
//! remembered for later requests. Like the official SDK, the challenge's resource host must be
//! a suffix of the vault's host, so a hostile endpoint cannot obtain a token for another
//! audience — except for the sandbox, whose vaults live on `127.0.0.1` and whose transport
//! trusts nothing but the sandbox CA anyway.

use std::sync::Mutex;

use azure_core::credentials::TokenRequestOptions;
use azure_core::error::ErrorKind;
use azure_core::http::headers::{Headers, WWW_AUTHENTICATE};
use azure_core::http::policies::auth::{Authorizer, OnChallenge, OnRequest};
use azure_core::http::{ClientMethodOptions, Context, Request, Url};

/// The parameters of a `Bearer` challenge vaultwire uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge {
    /// The token scope: `scope=`, or `resource=` plus `/.default`.
    pub scope: String,
    /// The host of the resource the token is for.
    pub resource_host: Option<String>,
}

/// Parses `Bearer k1="v1", k2="v2"`; `None` for other schemes or without a scope/resource.
pub(crate) fn parse_challenge(header: &str) -> Option<Challenge> {
    let rest = header.trim();
    let (scheme, parameters) = rest.split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut scope = None;
    let mut resource = None;
    for parameter in parameters.split(',') {
        let Some((key, value)) = parameter.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"').to_owned();
        match key.trim().to_ascii_lowercase().as_str() {
            "scope" => scope = Some(value),
            "resource" => resource = Some(value),
            _ => {}
        }
    }
    let scope = scope.or_else(|| {
        resource
            .as_ref()
            .map(|resource| format!("{}/.default", resource.trim_end_matches('/')))
    })?;
    let audience = resource.as_deref().unwrap_or(&scope);
    let resource_host = Url::parse(audience)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned));
    Some(Challenge {
        scope,
        resource_host,
    })
}

/// Whether `vault_host` is under the challenge's resource host (`kv.vault.azure.net` under
/// `vault.azure.net`).
pub(crate) fn host_matches(challenge: &Challenge, vault_host: &str) -> bool {
    challenge.resource_host.as_deref().is_some_and(|resource| {
        let vault_host = vault_host.to_ascii_lowercase();
        let resource = resource.to_ascii_lowercase();
        vault_host.ends_with(&format!(".{resource}"))
    })
}

/// The challenge callback: remembers the scope once a vault has named it.
#[derive(Debug)]
pub(crate) struct KeyVaultChallenge {
    scope: Mutex<Option<String>>,
    verify_host: bool,
}

impl KeyVaultChallenge {
    pub(crate) fn new(verify_host: bool) -> Self {
        Self {
            scope: Mutex::new(None),
            verify_host,
        }
    }

    fn cached_scope(&self) -> Option<String> {
        self.scope
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

fn options(context: &Context<'_>) -> TokenRequestOptions<'static> {
    TokenRequestOptions {
        method_options: ClientMethodOptions {
            context: context.clone().into_owned(),
        },
    }
}

#[async_trait::async_trait]
impl OnRequest for KeyVaultChallenge {
    async fn on_request(
        &self,
        context: &mut Context,
        request: &mut Request,
        authorizer: &dyn Authorizer,
    ) -> azure_core::Result<()> {
        match self.cached_scope() {
            Some(scope) => {
                authorizer
                    .authorize(request, &[scope.as_str()], options(context))
                    .await
            }
            // No token until the vault says which audience it wants.
            None => Ok(()),
        }
    }
}

#[async_trait::async_trait]
impl OnChallenge for KeyVaultChallenge {
    async fn on_challenge(
        &self,
        context: &Context,
        request: &mut Request,
        authorizer: &dyn Authorizer,
        headers: &Headers,
    ) -> azure_core::Result<()> {
        let header = headers.get_str(&WWW_AUTHENTICATE)?;
        let challenge = parse_challenge(header).ok_or_else(|| {
            azure_core::Error::with_message(
                ErrorKind::Credential,
                "the key vault sent an authentication challenge vaultwire cannot read",
            )
        })?;
        let vault_host = request.url().host_str().unwrap_or_default().to_owned();
        if self.verify_host && !host_matches(&challenge, &vault_host) {
            return Err(azure_core::Error::with_message(
                ErrorKind::Credential,
                format!(
                    "the key vault at `{vault_host}` asked for a token for another service (`{}`)",
                    challenge.scope
                ),
            ));
        }
        *self
            .scope
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(challenge.scope.clone());
        authorizer
            .authorize(request, &[challenge.scope.as_str()], options(context))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_resource_form_of_the_challenge() {
        let challenge = parse_challenge(
            r#"Bearer authorization="https://login.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net""#,
        )
        .unwrap();
        assert_eq!(challenge.scope, "https://vault.azure.net/.default");
        assert!(host_matches(&challenge, "kv-demo.vault.azure.net"));
        assert!(!host_matches(&challenge, "kv-demo.vault.evil.example"));
        assert!(!host_matches(&challenge, "vault.azure.net"));
    }

    #[test]
    fn reads_the_scope_form_and_ignores_other_schemes() {
        let challenge = parse_challenge(
            r#"Bearer authorization="https://login.microsoftonline.com/t", scope="https://vault.azure.net/.default""#,
        )
        .unwrap();
        assert_eq!(challenge.scope, "https://vault.azure.net/.default");
        assert!(host_matches(&challenge, "x.vault.azure.net"));
        assert_eq!(parse_challenge(r#"Basic realm="x""#), None);
        assert_eq!(parse_challenge("Bearer error=\"invalid_token\""), None);
    }
}
