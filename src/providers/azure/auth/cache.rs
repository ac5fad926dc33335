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
    /// Scopes with a credential instance of their own. azure_identity's credentials hold one
    /// lock across every scope's token request, so through one instance a second scope's
    /// token waits a whole round trip for the first's.
    own: HashMap<String, Arc<dyn TokenCredential>>,
    /// A slot per scope, so fetching one scope's token never waits for another's.
    tokens: std::sync::Mutex<HashMap<String, Slot>>,
}

impl CachingCredential {
    pub(crate) fn new(inner: Arc<dyn TokenCredential>) -> Self {
        Self {
            inner,
            own: HashMap::new(),
            tokens: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Fetches `scope`'s tokens through `credential` instead of the shared one.
    pub(crate) fn with_own(mut self, scope: &str, credential: Arc<dyn TokenCredential>) -> Self {
        self.own.insert(scope.to_owned(), credential);
        self
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
        let key = scopes.join(" ");
        let inner = self.own.get(&key).unwrap_or(&self.inner).clone();
        let slot = self.slot(key);
        // Held across the fetch on purpose: concurrent callers for a scope wait for one token
        // request.
        let mut cached = slot.lock().await;
        if let Some(token) = cached.as_ref()
            && token.expires_on > OffsetDateTime::now_utc() + REFRESH_MARGIN
        {
            return Ok(token.clone());
        }
        let token = inner.get_token(scopes, options).await?;
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
    async fn a_scope_with_its_own_instance_is_fetched_through_it_alone() {
        let shared = FakeCredential::new();
        let own = FakeCredential::new();
        let cache = CachingCredential::new(shared.clone()).with_own("scope-aks", own.clone());
        cache.get_token(&["scope-arm"], None).await.unwrap();
        cache.get_token(&["scope-aks"], None).await.unwrap();
        cache.get_token(&["scope-aks"], None).await.unwrap();
        assert_eq!(shared.scopes(), ["scope-arm"]);
        assert_eq!(own.scopes(), ["scope-aks"]);
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
