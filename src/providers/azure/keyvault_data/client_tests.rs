//! The secrets client over a scripted vault: challenge authentication, pages, no values.

use serde_json::json;

use super::*;
use crate::providers::testing::{
    FAKE_TOKEN, FakeCredential, FakeTimer, Reply, ScriptedHttp, spec_response,
};

const CHALLENGE: &str = r#"Bearer authorization="https://login.windows.net/7c1e5a3b-2d4f-4e6a-8b9c-0d1e2f3a4b5c", resource="https://vault.azure.net""#;

fn client(
    http: &std::sync::Arc<ScriptedHttp>,
    cloud: AzureCloud,
) -> (SecretsClient, std::sync::Arc<FakeCredential>) {
    let credential = FakeCredential::new();
    let cloud = cloud.with_http_client(http.clone());
    let client = SecretsClient::new(
        &cloud,
        credential.clone(),
        "https://myvault.vault.azure.net",
        FakeTimer::new(),
        RetrySettings::default(),
    )
    .unwrap();
    (client, credential)
}

fn unauthorized(challenge: &str) -> Reply {
    Reply::json(401, json!({"error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}}))
        .header("www-authenticate", challenge)
}

#[tokio::test]
async fn the_first_request_learns_the_scope_from_the_challenge_and_later_ones_reuse_it() {
    let http = ScriptedHttp::new();
    http.expect("GET", "/secrets", unauthorized(CHALLENGE))
        .expect("GET", "/secrets", Reply::json(200, spec_response("keyvault-data/GetSecrets-example.json", 200)))
        .expect("GET", "/secrets", Reply::json(200, json!({"value": [{"id": "https://myvault.vault.azure.net/secrets/second", "attributes": {"enabled": false}}]})));
    let (client, credential) = client(&http, AzureCloud::public());
    let secrets = client.list_secret_properties().await.unwrap();
    let names: Vec<&str> = secrets.iter().map(|secret| secret.name.as_str()).collect();
    assert_eq!(names, ["listsecrettest0", "second"]);

    let requests = http.requests();
    assert_eq!(
        requests[0].header("authorization"),
        None,
        "no token before the challenge"
    );
    assert_eq!(
        requests[1].header("authorization"),
        Some(format!("Bearer {FAKE_TOKEN}").as_str())
    );
    assert_eq!(
        requests[1].query("api-version").as_deref(),
        Some("2025-07-01")
    );
    assert!(
        requests[2].header("authorization").is_some(),
        "the next page reuses the scope"
    );
    assert!(requests[2].query("$skiptoken").is_some());
    assert_eq!(credential.scopes()[0], "https://vault.azure.net/.default");
}

#[tokio::test]
async fn a_challenge_for_another_service_gets_no_token() {
    let http = ScriptedHttp::new();
    http.expect(
        "GET",
        "/secrets",
        unauthorized(r#"Bearer authorization="https://login.windows.net/t", resource="https://management.azure.com""#),
    );
    let (client, credential) = client(&http, AzureCloud::public());
    let error = client.list_secret_properties().await.unwrap_err();
    assert!(
        matches!(
            error,
            KeyVaultDataError::Request(ArmError::Credential { .. })
        ),
        "{error}"
    );
    assert!(credential.scopes().is_empty());
}

#[tokio::test]
async fn secret_properties_are_read_without_exposing_the_value() {
    let http = ScriptedHttp::new();
    http.expect("GET", "/secrets/mysecretname", unauthorized(CHALLENGE))
        .expect("GET", "/secrets/mysecretname", Reply::json(200, spec_response("keyvault-data/GetSecret-example.json", 200)))
        .expect("GET", "/secrets/absent", Reply::json(404, json!({"error": {"code": "SecretNotFound", "message": "A secret with (name/id) absent was not found in this key vault."}})));
    let (client, _) = client(&http, AzureCloud::public());
    let properties = client
        .get_secret_properties("mysecretname")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        properties.version.as_deref(),
        Some("4387e9f3d6e14c459867679a90fd0f79")
    );
    assert!(!format!("{properties:?}").contains("mysecretvalue"));
    assert_eq!(client.get_secret_properties("absent").await.unwrap(), None);
}

#[tokio::test]
async fn a_forbidden_read_keeps_the_vaults_error() {
    let http = ScriptedHttp::new();
    http.expect("GET", "/secrets", unauthorized(CHALLENGE)).expect(
        "GET",
        "/secrets",
        Reply::json(403, json!({"error": {"code": "Forbidden", "message": "Caller is not authorized to perform action on resource.", "innererror": {"code": "ForbiddenByRbac"}}}))
            .header("x-ms-request-id", "kv-req-1"),
    );
    let (client, _) = client(&http, AzureCloud::public());
    let KeyVaultDataError::Request(error) = client.list_secret_properties().await.unwrap_err()
    else {
        panic!("a 403 is a request error");
    };
    assert!(error.is(403, "Forbidden"));
    assert_eq!(error.request_id(), Some("kv-req-1"));
}

#[test]
fn only_https_vault_uris_are_accepted() {
    let error = SecretsClient::new(
        &AzureCloud::public(),
        FakeCredential::new(),
        "http://kv",
        FakeTimer::new(),
        RetrySettings::default(),
    )
    .unwrap_err();
    assert!(matches!(error, KeyVaultDataError::InvalidVaultUri { .. }));
}
