//! The secrets client against the sandbox's Key Vault data plane: the challenge flow, listing
//! properties without values, reading one value on request, and what a caller sees while a new
//! role assignment propagates.
//!
//! The contract for propagation: the client never retries a 403. Until a grant is effective
//! every call fails with `403 Forbidden` (Key Vault's inner code `ForbiddenByRbac`), and the
//! caller that made the grant waits and asks again; once it is effective the same call succeeds.

use std::time::Duration;

use serde_json::json;
use vaultwire::plan::model::{Authorization, BuiltInRole, PrincipalType, Role};
use vaultwire::providers::azure::keyvault_data::{KeyVaultDataError, SecretsClient};
use vaultwire::providers::azure::rbac::RoleAssignmentSpec;
use vaultwire::sandbox::ids;

use crate::sandbox_support::KV_API;
use crate::support::{Clients, SUB, statuses, vault_spec};

/// Creates an RBAC vault and returns its URI.
async fn rbac_vault(clients: &Clients, name: &str) -> String {
    clients
        .session
        .key_vaults()
        .create(&vault_spec(name, Authorization::Rbac))
        .await
        .unwrap()
        .vault_uri
        .expect("a vault URI")
}

/// Grants the deploying app `role` on the vault `name`.
async fn grant_app(clients: &Clients, name: &str, role: BuiltInRole) {
    let spec = RoleAssignmentSpec {
        scope: vault_spec(name, Authorization::Rbac).id.path(),
        subscription_id: SUB.to_owned(),
        role: Role::BuiltIn(role),
        principal_id: ids::CLIENT_OBJECT_ID.to_owned(),
        principal_type: PrincipalType::ServicePrincipal,
    };
    clients.rbac().assign(&spec).await.unwrap();
}

/// Sets a secret through the data plane directly, as a person with access would.
async fn set_secret(clients: &Clients, vault: &str, name: &str, value: &str) {
    let token = clients.env.kv_token().await;
    clients
        .env
        .call(
            "PUT",
            &format!("/vaults/{vault}/secrets/{name}?{KV_API}"),
            Some(&token),
            Some(&json!({"value": value, "contentType": "text/plain"})),
        )
        .await
        .expect(200);
}

fn secrets(clients: &Clients, vault_uri: &str) -> SecretsClient {
    clients.session.secrets(vault_uri).unwrap()
}

fn is_forbidden(error: &KeyVaultDataError) -> bool {
    matches!(error, KeyVaultDataError::Request(inner) if inner.is(403, "Forbidden"))
}

#[tokio::test]
async fn the_challenge_is_answered_once_and_properties_are_listed_without_values() {
    let clients = Clients::start().await;
    let uri = rbac_vault(&clients, "kv-clients-secrets").await;
    grant_app(&clients, "kv-clients-secrets", BuiltInRole::SecretsOfficer).await;
    set_secret(
        &clients,
        "kv-clients-secrets",
        "db-password",
        "s3cr3t-db-value",
    )
    .await;
    set_secret(
        &clients,
        "kv-clients-secrets",
        "api-key",
        "s3cr3t-api-value",
    )
    .await;
    clients.env.sandbox.clear_journal();

    let client = secrets(&clients, &uri);
    let listed = client.list_secret_properties().await.unwrap();
    let mut names: Vec<&str> = listed.iter().map(|secret| secret.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["api-key", "db-password"]);
    assert!(listed.iter().all(|secret| secret.enabled == Some(true)));
    assert_eq!(
        statuses(&clients.journal_of("GET keyvault secrets")),
        [401, 200],
        "the first request goes out without a token and learns the scope"
    );

    let one = client
        .get_secret_properties("db-password")
        .await
        .unwrap()
        .expect("the secret");
    assert_eq!(one.content_type.as_deref(), Some("text/plain"));
    assert!(one.version.is_some());
    assert!(!format!("{one:?}").contains("s3cr3t"));
    assert_eq!(client.get_secret_properties("missing").await.unwrap(), None);
    let value = client
        .get_secret_value("db-password")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(value.expose(), "s3cr3t-db-value");
    assert!(!format!("{value:?}").contains("s3cr3t"));

    let later = statuses(&clients.journal_of("GET keyvault secrets"));
    assert_eq!(
        later.iter().filter(|status| **status == 401).count(),
        1,
        "later requests reuse the scope: {later:?}"
    );
}

#[tokio::test]
async fn forbidden_by_rbac_until_a_grant_propagates_then_allowed() {
    let clients = Clients::start().await;
    let uri = rbac_vault(&clients, "kv-clients-propagation").await;
    let client = secrets(&clients, &uri);

    let before = client.list_secret_properties().await.unwrap_err();
    assert!(is_forbidden(&before), "{before}");
    assert!(before.to_string().contains("403 `Forbidden`"), "{before}");

    // The grant exists but has not reached the data plane yet.
    clients
        .env
        .sandbox
        .set_rbac_propagation_delay(Duration::from_secs(3600));
    grant_app(&clients, "kv-clients-propagation", BuiltInRole::SecretsUser).await;
    let pending = client.list_secret_properties().await.unwrap_err();
    assert!(is_forbidden(&pending), "{pending}");

    // The caller that granted waits and asks again; the client itself does not retry a 403.
    clients
        .env
        .sandbox
        .set_rbac_propagation_delay(Duration::from_millis(200));
    let mut refusals = 0;
    let listed = loop {
        match client.list_secret_properties().await {
            Ok(listed) => break listed,
            Err(error) if is_forbidden(&error) && refusals < 400 => {
                refusals += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(error) => panic!("after {refusals} refusals: {error}"),
        }
    };
    assert!(listed.is_empty());
    let answered = statuses(&clients.journal_of("GET keyvault secrets"));
    let forbidden = answered.iter().filter(|status| **status == 403).count();
    assert_eq!(
        forbidden,
        refusals + 2,
        "each refusal was one request: {answered:?}"
    );
    assert_eq!(answered.last(), Some(&200));
}
