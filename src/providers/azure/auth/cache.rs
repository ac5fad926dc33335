//! A token cache in front of a credential.
//!
//! The Azure CLI credential runs `az` for every token, and each azure_core pipeline keeps its
//! own cache; one shared cache per run means the sign-in probe, ARM, the Key Vault data plane
//! and the Kubernetes API ask the identity provider once per scope and token lifetime.

use std::collections::HashMap;
use std::sync::Arc;

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::time::{Duration, OffsetDateTime};
use tokio::sync::Mutex;

/// Tokens closer than this to expiry are fetched again (azure_core refreshes at the same
/// margin).
const REFRESH_MARGIN: Duration = Duration::minutes(5);

#[derive(Debug)]
pub(crate) struct CachingCredential {
    inner: Arc<dyn TokenCredential>,
    tokens: Mutex<HashMap<String, AccessToken>>,
}

impl CachingCredential {
    pub(crate) fn new(inner: Arc<dyn TokenCredential>) -> Self {
        Self {
            inner,
            tokens: Mutex::new(HashMap::new()),
        }
    }
}

#[async_trait::async_trait]
impl TokenCredential for CachingCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let key = scopes.join(" ");
        // Held across the fetch on purpose: concurrent callers wait for one token request.
        let mut tokens = self.tokens.lock().await;
        if let Some(token) = tokens.get(&key)
            && token.expires_on > OffsetDateTime::now_utc() + REFRESH_MARGIN
        {
            return Ok(token.clone());
        }
        let token = self.inner.get_token(scopes, options).await?;
        tokens.insert(key, token.clone());
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::FakeCredential;

    #[tokio::test]
    async fn asks_the_identity_provider_once_per_scope() {
        let inner = FakeCredential::new();
        let cache = CachingCredential::new(inner.clone());
        for _ in 0..3 {
            cache.get_token(&["scope-a"], None).await.unwrap();
        }
        cache.get_token(&["scope-b"], None).await.unwrap();
        assert_eq!(inner.scopes(), ["scope-a", "scope-b"]);
    }
}
