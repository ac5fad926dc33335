//! User-assigned managed identities and their federated identity credentials, read-only: what
//! the audit needs to check that a workload identity trusts the service accounts its pods run
//! as.

use serde_json::Value;

use super::arm::{ArmClient, ArmError, ArmRequest, api_version};

/// A federated identity credential of an identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedCredential {
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
        let credentials = self
            .arm
            .list(&ArmRequest::get(
                format!("{id}/federatedIdentityCredentials"),
                api_version::MANAGED_IDENTITY,
            ))
            .await?;
        let text = |value: &Value, pointer: &str| {
            value
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let mut credentials: Vec<FederatedCredential> = credentials
            .iter()
            .map(|credential| FederatedCredential {
                name: text(credential, "/name"),
                issuer: text(credential, "/properties/issuer"),
                subject: text(credential, "/properties/subject"),
                audiences: credential
                    .pointer("/properties/audiences")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
            })
            .collect();
        credentials.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Some(credentials))
    }
}
