//! A token cache in front of a credential.
//!
//! The Azure CLI credential runs `az` for every token, and each azure_core pipeline keeps its
//! own cache; one shared cache per run means the sign-in probe, ARM, the Key Vault data plane
//! and the Kubernetes API ask the identity provider once per scope and token lifetime.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError};

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::time::{Duration, OffsetDateTime};
use tokio::sync::Mutex;

/// Tokens closer than this to expiry are fetched again (azure_core refreshes at the same
/// margin).
const REFRESH_MARGIN: Duration = Duration::minutes(5);

/// One scope's token; its lock is held while the token is fetched.
type Slot = Arc<Mutex<Option<AccessToken>>>;

#[derive(Debug)]
pub(crate) struct CachingCredential {
    inner: Arc<dyn TokenCredential>,
    /// A slot per scope, so fetching one scope's token never waits for another's.
    tokens: std::sync::Mutex<HashMap<String, Slot>>,
}

impl CachingCredential {
    pub(crate) fn new(inner: Arc<dyn TokenCredential>) -> Self {
        Self {
            inner,
            tokens: std::sync::Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, key: String) -> Slot {
        self.tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_default()
            .clone()
    }
}

#[async_trait::async_trait]
impl TokenCredential for CachingCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let slot = self.slot(scopes.join(" "));
        // Held across the fetch on purpose: concurrent callers for a scope wait for one token
        // request.
        let mut cached = slot.lock().await;
        if let Some(token) = cached.as_ref()
            && token.expires_on > OffsetDateTime::now_utc() + REFRESH_MARGIN
        {
            return Ok(token.clone());
        }
        let token = self.inner.get_token(scopes, options).await?;
        *cached = Some(token.clone());
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

    #[tokio::test]
    async fn concurrent_callers_of_a_scope_share_one_request() {
        let inner = FakeCredential::new();
        let cache = Arc::new(CachingCredential::new(inner.clone()));
        let calls: Vec<_> = (0..8)
            .map(|n| {
                let cache = cache.clone();
                tokio::spawn(async move {
                    let scope = if n % 2 == 0 { "scope-a" } else { "scope-b" };
                    cache.get_token(&[scope], None).await.unwrap();
                })
            })
            .collect();
        for call in calls {
            call.await.unwrap();
        }
        let mut scopes = inner.scopes();
        scopes.sort();
        assert_eq!(scopes, ["scope-a", "scope-b"]);
    }
}
