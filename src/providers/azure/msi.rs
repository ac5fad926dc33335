//! User-assigned managed identities and their federated identity credentials: what `apply`
//! creates, and what the audit reads to check that a workload identity trusts the service
//! accounts its pods run as.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use super::arm::{ArmClient, ArmError, ArmRequest, RetrySettings, api_version, backoff_delay};
use crate::providers::timer::jitter_fraction;

/// Azure's code for a credential write while another write under the same identity runs.
const CONCURRENT_WRITES: &str =
    "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity";

/// A user-assigned identity as ARM reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveIdentity {
    pub id: String,
    pub name: String,
    pub location: String,
    pub tags: BTreeMap<String, String>,
    pub client_id: String,
    pub principal_id: String,
}

impl LiveIdentity {
    fn from_document(document: &Value) -> Option<Self> {
        let text = |pointer: &str| document.pointer(pointer).and_then(Value::as_str);
        Some(Self {
            id: text("/id")?.to_owned(),
            name: text("/name")?.to_owned(),
            location: text("/location").unwrap_or_default().to_owned(),
            tags: document
                .get("tags")
                .and_then(Value::as_object)
                .map(|tags| {
                    tags.iter()
                        .filter_map(|(name, value)| {
                            Some((name.clone(), value.as_str()?.to_owned()))
                        })
                        .collect()
                })
                .unwrap_or_default(),
            client_id: text("/properties/clientId")?.to_ascii_lowercase(),
            principal_id: text("/properties/principalId")?.to_ascii_lowercase(),
        })
    }
}

/// A federated identity credential of an identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedCredential {
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
}

pub struct MsiClient {
    arm: ArmClient,
}

impl MsiClient {
    pub fn new(arm: ArmClient) -> Self {
        Self { arm }
    }

    /// The federated credentials of the user-assigned identity whose client ID is `client_id`
    /// in `subscription_id`; `None` when the subscription has no such identity (it may be an
    /// app registration, whose credentials live in Microsoft Graph).
    pub async fn federated_credentials(
        &self,
        subscription_id: &str,
        client_id: &str,
    ) -> Result<Option<Vec<FederatedCredential>>, ArmError> {
        let identities = self
            .arm
            .list(&ArmRequest::get(
                format!(
                    "/subscriptions/{subscription_id}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
                ),
                api_version::MANAGED_IDENTITY,
            ))
            .await?;
        let Some(id) = identities.iter().find_map(|identity| {
            let matches = identity
                .pointer("/properties/clientId")
                .and_then(Value::as_str)
                .is_some_and(|id| id.eq_ignore_ascii_case(client_id));
            matches
                .then(|| identity.get("id").and_then(Value::as_str))
                .flatten()
        }) else {
            return Ok(None);
        };
        self.credentials_of(id).await.map(Some)
    }

    /// The identity at `id`, or `None` when it does not exist.
    pub async fn get(&self, id: &str) -> Result<Option<LiveIdentity>, ArmError> {
        let request = ArmRequest::get(id, api_version::MANAGED_IDENTITY);
        let Some(response) = self.arm.read(&request).await? else {
            return Ok(None);
        };
        Ok(response
            .json()
            .ok()
            .as_ref()
            .and_then(LiveIdentity::from_document))
    }

    /// Creates or updates the identity at `id` (a PUT of its location and tags; ARM keeps the
    /// client and principal IDs of an identity that exists).
    pub async fn put(
        &self,
        id: &str,
        location: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<LiveIdentity, ArmError> {
        let request = ArmRequest::put(
            id,
            api_version::MANAGED_IDENTITY,
            json!({"location": location, "tags": tags}),
        );
        let response = self.arm.execute(&request).await?;
        match response
            .json()
            .ok()
            .as_ref()
            .and_then(LiveIdentity::from_document)
        {
            Some(identity) => Ok(identity),
            // A body without the IDs: read it back.
            None => self.get(id).await?.ok_or_else(|| ArmError::Decode {
                request: request.describe(),
                detail: "no identity after the PUT".to_owned(),
            }),
        }
    }

    /// Deletes the identity at `id`; one already gone is fine.
    pub async fn delete(&self, id: &str) -> Result<(), ArmError> {
        let request = ArmRequest::delete(id, api_version::MANAGED_IDENTITY);
        match self.arm.execute(&request).await {
            Err(error) if error.is_not_found() => Ok(()),
            outcome => outcome.map(|_| ()),
        }
    }

    /// The federated credentials of the identity at `identity_id`, sorted by name; none when
    /// the identity does not exist.
    pub async fn credentials_of(
        &self,
        identity_id: &str,
    ) -> Result<Vec<FederatedCredential>, ArmError> {
        let listed = self
            .arm
            .list(&ArmRequest::get(
                format!("{identity_id}/federatedIdentityCredentials"),
                api_version::MANAGED_IDENTITY,
            ))
            .await;
        let listed = match listed {
            Err(error) if error.is_not_found() => return Ok(Vec::new()),
            listed => listed?,
        };
        let mut credentials: Vec<FederatedCredential> = listed
            .iter()
            .map(FederatedCredential::from_document)
            .collect();
        credentials.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(credentials)
    }

    /// Creates or updates a federated credential. A write Azure refuses because another
    /// write under the same identity is running (another tool's: vaultwire writes one at a
    /// time per identity) is tried again after a pause.
    pub async fn put_credential(
        &self,
        identity_id: &str,
        name: &str,
        issuer: &str,
        subject: &str,
        audiences: &[String],
    ) -> Result<FederatedCredential, ArmError> {
        let request = ArmRequest::put(
            format!("{identity_id}/federatedIdentityCredentials/{name}"),
            api_version::MANAGED_IDENTITY,
            json!({"properties": {"issuer": issuer, "subject": subject, "audiences": audiences}}),
        );
        let backoff = RetrySettings {
            max_retries: CONCURRENT_WRITE_ATTEMPTS,
            initial_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(20),
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.arm.execute(&request).await {
                Ok(response) => {
                    let body = response.json().unwrap_or(Value::Null);
                    let mut credential = FederatedCredential::from_document(&body);
                    if credential.name.is_empty() {
                        credential = FederatedCredential {
                            id: format!("{identity_id}/federatedIdentityCredentials/{name}"),
                            name: name.to_owned(),
                            issuer: issuer.to_owned(),
                            subject: subject.to_owned(),
                            audiences: audiences.to_vec(),
                        };
                    }
                    return Ok(credential);
                }
                Err(error)
                    if error.is(409, CONCURRENT_WRITES) && attempt < CONCURRENT_WRITE_ATTEMPTS =>
                {
                    let wait = backoff_delay(&backoff, attempt, jitter_fraction());
                    tracing::debug!(
                        credential = name,
                        attempt,
                        "concurrent credential write; waiting"
                    );
                    self.arm.timer().sleep(wait).await;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Deletes a federated credential; one already gone is fine.
    pub async fn delete_credential(&self, credential_id: &str) -> Result<(), ArmError> {
        let request = ArmRequest::delete(credential_id, api_version::MANAGED_IDENTITY);
        match self.arm.execute(&request).await {
            Err(error) if error.is_not_found() => Ok(()),
            outcome => outcome.map(|_| ()),
        }
    }
}

/// How often a credential write refused for a concurrent write is tried in all.
const CONCURRENT_WRITE_ATTEMPTS: u32 = 5;

impl FederatedCredential {
    fn from_document(credential: &Value) -> Self {
        let text = |pointer: &str| {
            credential
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Self {
            id: text("/id"),
            name: text("/name"),
            issuer: text("/properties/issuer"),
            subject: text("/properties/subject"),
            audiences: credential
                .pointer("/properties/audiences")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::providers::testing::{Reply, ScriptedHttp, arm_client};

    const IDENTITY: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-payments";

    #[tokio::test]
    async fn a_credential_write_refused_for_a_concurrent_write_is_tried_again() {
        let http = ScriptedHttp::new();
        let path = format!("{IDENTITY}/federatedIdentityCredentials/payments-api");
        let written = json!({
            "id": path,
            "name": "payments-api",
            "properties": {
                "issuer": "https://issuer/",
                "subject": "system:serviceaccount:payments:payments-api",
                "audiences": ["api://AzureADTokenExchange"],
            }
        });
        http.expect(
            "PUT",
            &path,
            Reply::arm_error(409, CONCURRENT_WRITES, "written concurrently"),
        )
        .expect("PUT", &path, Reply::json(201, written));
        let (arm, timer) = arm_client(&http);
        let credential = MsiClient::new(arm)
            .put_credential(
                IDENTITY,
                "payments-api",
                "https://issuer/",
                "system:serviceaccount:payments:payments-api",
                &["api://AzureADTokenExchange".to_owned()],
            )
            .await
            .unwrap();
        assert_eq!(credential.id, path);
        assert_eq!(timer.sleeps().len(), 1);
    }

    #[tokio::test]
    async fn another_refusal_of_a_credential_write_is_an_error_at_once() {
        let http = ScriptedHttp::new();
        let path = format!("{IDENTITY}/federatedIdentityCredentials/payments-api");
        http.expect(
            "PUT",
            &path,
            Reply::arm_error(400, "BadRequest", "issuer must be https"),
        );
        let (arm, timer) = arm_client(&http);
        let error = MsiClient::new(arm)
            .put_credential(IDENTITY, "payments-api", "http://issuer/", "s", &[])
            .await
            .unwrap_err();
        assert!(error.is(400, "BadRequest"), "{error}");
        assert!(timer.sleeps().is_empty());
    }
}
