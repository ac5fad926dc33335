//! Builds the azure_identity credential for the first usable source and proves it works.
//!
//! "Works" means it returned a token for ARM: a configured but broken credential (an expired
//! federated token, a wrong secret) is reported and the next one tried, and when none works
//! the one error lists every attempt and why it failed. Tokens never reach logs or `Debug`
//! output: azure_core's `Secret` redacts itself and [`Credential`] prints only its kind.

use std::fmt;
use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, AzurePipelinesCredential,
    AzurePipelinesCredentialOptions, ClientAssertionCredentialOptions, ClientSecretCredential,
    ClientSecretCredentialOptions, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    UserAssignedId, WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};

use super::cache::CachingCredential;
use super::source::{CredentialKind, CredentialSource, NotUsable, candidates};
use crate::plan::model::AuthMethod;
use crate::providers::Environment;
use crate::providers::azure::AzureCloud;

/// A working Azure credential for the whole run, caching its tokens.
#[derive(Clone)]
pub struct Credential {
    kind: CredentialKind,
    inner: Arc<dyn TokenCredential>,
}

impl Credential {
    /// Wraps an existing credential (tests, or callers with their own).
    pub fn from_token_credential(kind: CredentialKind, inner: Arc<dyn TokenCredential>) -> Self {
        Self {
            kind,
            inner: Arc::new(CachingCredential::new(inner)),
        }
    }

    pub fn kind(&self) -> CredentialKind {
        self.kind
    }

    /// As [`Credential::from_token_credential`], with `scope`'s tokens fetched through a
    /// credential instance of its own (`own`), so they never wait behind another scope's.
    fn with_own_instance_for(
        kind: CredentialKind,
        inner: Arc<dyn TokenCredential>,
        scope: &str,
        own: Arc<dyn TokenCredential>,
    ) -> Self {
        Self {
            kind,
            inner: Arc::new(CachingCredential::new(inner).with_own(scope, own)),
        }
    }

    /// The credential for azure_core pipelines and kube token requests.
    pub fn token_credential(&self) -> Arc<dyn TokenCredential> {
        self.inner.clone()
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// One credential vaultwire considered, and why it did not work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub kind: CredentialKind,
    pub failure: AttemptFailure,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptFailure {
    NotUsable(NotUsable),
    /// azure_identity refused to build it (say, a malformed tenant ID).
    Invalid(String),
    /// It was built but getting a token failed.
    TokenRequest(String),
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.failure {
            AttemptFailure::NotUsable(reason) => write!(f, "{}: {reason}", self.kind),
            AttemptFailure::Invalid(message) | AttemptFailure::TokenRequest(message) => {
                write!(f, "{}: {message}", self.kind)
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no azure credential worked ({})", render(.attempts))]
    NoCredential { attempts: Vec<Attempt> },
}

fn render(attempts: &[Attempt]) -> String {
    let attempts: Vec<String> = attempts.iter().map(ToString::to_string).collect();
    attempts.join("; ")
}

impl AuthError {
    pub fn help(&self) -> Option<String> {
        Some(
            "set the variables of one sign-in method (see `[target] auth` in the plan reference), \
             or sign in with `az login`"
                .to_owned(),
        )
    }
}

/// Signs in with the credential `method` selects, proving it by getting an ARM token (and
/// fetching, beside it, the token of the AKS API servers).
pub async fn sign_in(
    method: &AuthMethod,
    env: &Environment,
    cloud: &AzureCloud,
    tenant_id: &str,
) -> Result<Credential, AuthError> {
    let mut attempts = Vec::new();
    for candidate in candidates(method, env, tenant_id) {
        let source = match candidate {
            Ok(source) => source,
            Err((kind, reason)) => {
                attempts.push(Attempt {
                    kind,
                    failure: AttemptFailure::NotUsable(reason),
                });
                continue;
            }
        };
        let kind = source.kind();
        let inner = match build(source.clone(), cloud, tenant_id) {
            Ok(inner) => inner,
            Err(error) => {
                attempts.push(Attempt {
                    kind,
                    failure: AttemptFailure::Invalid(first_line(&error)),
                });
                continue;
            }
        };
        // The AKS API servers' token is asked for beside ARM's, through an instance of its
        // own (one instance would fetch them one after the other): it is needed as soon as
        // the first cluster's kubeconfig arrives, and asked for then it would queue behind
        // a refresh's burst of ARM reads. Its outcome matters only when a cluster needs it,
        // which asks again (the run's token cache keeps the answer).
        let credential = match build(source, cloud, tenant_id) {
            Ok(own) => {
                Credential::with_own_instance_for(kind, inner, cloud.aks_server_scope(), own)
            }
            Err(_) => Credential::from_token_credential(kind, inner),
        };
        let (arm, aks) = ([cloud.arm_scope()], [cloud.aks_server_scope()]);
        let (proof, _aks) = tokio::join!(
            credential.inner.get_token(&arm, None),
            credential.inner.get_token(&aks, None)
        );
        match proof {
            Ok(_) => {
                tracing::debug!(credential = %kind, "signed in to azure");
                return Ok(credential);
            }
            Err(error) => attempts.push(Attempt {
                kind,
                failure: AttemptFailure::TokenRequest(first_line(&error)),
            }),
        }
    }
    Err(AuthError::NoCredential { attempts })
}

/// The first line of an azure_identity error, which names the failure; later lines are a
/// troubleshooting link.
fn first_line(error: &azure_core::Error) -> String {
    let text = error.to_string();
    let line = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("unknown error");
    line.chars().take(300).collect()
}

fn build(
    source: CredentialSource,
    cloud: &AzureCloud,
    tenant_id: &str,
) -> azure_core::Result<Arc<dyn TokenCredential>> {
    let client_options = cloud.client_options();
    let assertion_options = || ClientAssertionCredentialOptions {
        client_options: client_options.clone(),
    };
    Ok(match source {
        CredentialSource::WorkloadIdentity {
            client_id,
            token_file,
        } => WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
            credential_options: assertion_options(),
            client_id: Some(client_id),
            tenant_id: Some(tenant_id.to_owned()),
            token_file_path: Some(token_file),
        }))?,
        CredentialSource::AzurePipelines {
            client_id,
            service_connection_id,
            system_access_token,
        } => AzurePipelinesCredential::new(
            tenant_id.to_owned(),
            client_id,
            &service_connection_id,
            system_access_token,
            Some(AzurePipelinesCredentialOptions {
                credential_options: assertion_options(),
            }),
        )?,
        CredentialSource::ClientSecret {
            client_id,
            client_secret,
        } => ClientSecretCredential::new(
            tenant_id,
            client_id,
            client_secret,
            Some(ClientSecretCredentialOptions {
                client_options: client_options.clone(),
            }),
        )?,
        CredentialSource::ManagedIdentity { client_id } => {
            ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                user_assigned_id: client_id.map(UserAssignedId::ClientId),
                client_options: client_options.clone(),
            }))?
        }
        CredentialSource::AzureCli => AzureCliCredential::new(Some(AzureCliCredentialOptions {
            tenant_id: Some(tenant_id.to_owned()),
            ..AzureCliCredentialOptions::default()
        }))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::azure::cloud::AKS_SERVER_APP_SCOPE;
    use crate::providers::testing::{Reply, ScriptedHttp};

    const TENANT: &str = crate::sandbox::ids::TENANT_ID;

    fn client_secret_env(secret: &str) -> Environment {
        Environment::from_pairs([
            ("AZURE_CLIENT_ID", crate::sandbox::ids::CLIENT_ID),
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_CLIENT_SECRET", secret),
        ])
    }

    /// Scripts Entra's answer to the next token request.
    fn token_reply(http: &Arc<ScriptedHttp>, status: u16, body: serde_json::Value) {
        http.expect(
            "POST",
            &format!("/{TENANT}/oauth2/v2.0/token"),
            Reply::json(status, body),
        );
    }

    fn token(access_token: &str) -> serde_json::Value {
        serde_json::json!({"token_type": "Bearer", "expires_in": 3600, "access_token": access_token})
    }

    async fn sign_in_with_secret(
        http: &Arc<ScriptedHttp>,
        secret: &str,
    ) -> Result<Credential, AuthError> {
        let cloud = AzureCloud::public().with_http_client(http.clone());
        sign_in(
            &AuthMethod::ClientSecret,
            &client_secret_env(secret),
            &cloud,
            TENANT,
        )
        .await
    }

    #[tokio::test]
    async fn client_secret_signs_in_at_the_clouds_authority_with_the_arm_scope() {
        let http = ScriptedHttp::new();
        token_reply(&http, 200, token("tok-123"));
        token_reply(&http, 200, token("tok-aks"));
        let credential = sign_in_with_secret(&http, "s3cret").await.unwrap();
        assert_eq!(credential.kind(), CredentialKind::ClientSecret);
        let request = &http.requests()[0];
        assert!(
            request
                .url
                .starts_with("https://login.microsoftonline.com/")
        );
        assert!(
            request
                .body
                .contains("scope=https%3A%2F%2Fmanagement.core.windows.net%2F%2F.default")
        );
        assert!(!format!("{credential:?}").contains("tok-123"));
        // The AKS API servers' token was fetched beside it, and is served from the run's cache.
        assert!(http.requests()[1].body.contains(&format!(
            "scope={}",
            form_urlencoded::byte_serialize(AKS_SERVER_APP_SCOPE.as_bytes()).collect::<String>()
        )));
        let aks = credential
            .token_credential()
            .get_token(&[AKS_SERVER_APP_SCOPE], None)
            .await
            .unwrap();
        assert_eq!(aks.token.secret(), "tok-aks");
        assert_eq!(http.requests().len(), 2);
    }

    #[tokio::test]
    async fn a_failed_aks_token_does_not_fail_the_sign_in() {
        let http = ScriptedHttp::new();
        token_reply(&http, 200, token("tok-arm"));
        token_reply(
            &http,
            400,
            serde_json::json!({"error": "invalid_scope", "error_description": "AADSTS70011: The provided value for scope is not valid."}),
        );
        let credential = sign_in_with_secret(&http, "s3cret").await.unwrap();
        assert_eq!(credential.kind(), CredentialKind::ClientSecret);
        assert_eq!(http.requests().len(), 2);
    }

    #[tokio::test]
    async fn when_nothing_works_one_error_lists_every_attempt_and_why() {
        let http = ScriptedHttp::new();
        // The ARM token, and the AKS token asked for beside it.
        for _ in 0..2 {
            token_reply(
                &http,
                401,
                serde_json::json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}),
            );
        }
        // Only client secret is configured; `auth = "client-secret"` tries just that one.
        let error = sign_in_with_secret(&http, "wrong-secret")
            .await
            .unwrap_err();
        let AuthError::NoCredential { attempts } = &error;
        assert_eq!(attempts.len(), 1);
        assert!(matches!(
            attempts[0].failure,
            AttemptFailure::TokenRequest(ref message) if message.contains("AADSTS7000215")
        ));
        let message = error.to_string();
        assert!(message.starts_with("no azure credential worked (client secret: "));
        assert!(!message.contains("wrong-secret"));
    }

    #[tokio::test]
    async fn auto_reports_unconfigured_methods_before_the_one_that_failed() {
        let env = Environment::from_pairs([("AZURE_TENANT_ID", TENANT)]);
        let found = candidates(&AuthMethod::WorkloadIdentity, &env, TENANT);
        assert_eq!(found.len(), 1);
        let error = sign_in(
            &AuthMethod::WorkloadIdentity,
            &env,
            &AzureCloud::public(),
            TENANT,
        )
        .await
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "no azure credential worked (workload identity federation: `AZURE_CLIENT_ID`, \
             `AZURE_FEDERATED_TOKEN_FILE` are not set)"
        );
    }
}
