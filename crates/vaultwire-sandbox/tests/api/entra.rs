//! Entra ID conformance: the token endpoint (client secret, federated assertion), AADSTS
//! errors, discovery and keys, the official azure_identity credentials, and every service's
//! 401 for a missing or wrong token.

use std::sync::Arc;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::TokenCredential;
use azure_core::http::{ClientOptions, Transport};
use azure_identity::{
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use vaultwire_sandbox::ids;

use crate::support::{Env, jwt_part, start};

fn token_path() -> String {
    format!("/{}/oauth2/v2.0/token", ids::TENANT_ID)
}

#[tokio::test]
async fn a_client_secret_gets_a_signed_expiring_token_for_each_audience() {
    let env = start();
    for (scope, aud) in [
        (
            "https://management.azure.com/.default",
            "https://management.azure.com/",
        ),
        (
            "https://management.core.windows.net//.default",
            "https://management.core.windows.net/",
        ),
        (
            "https://vault.azure.net/.default",
            "https://vault.azure.net",
        ),
        (
            "6dae42f8-4368-4678-94ff-3960e28e3630/.default",
            ids::AKS_SERVER_APP_ID,
        ),
    ] {
        let token = env.token(scope).await;
        let claims = jwt_part(&token, 1);
        assert_eq!(claims["aud"], aud, "{scope}");
        assert_eq!(claims["tid"], ids::TENANT_ID);
        assert_eq!(claims["oid"], ids::CLIENT_OBJECT_ID);
        assert_eq!(claims["appid"], ids::CLIENT_ID);
        assert_eq!(
            claims["iss"],
            format!("https://sts.windows.net/{}/", ids::TENANT_ID)
        );
        let (iat, nbf, exp) = (
            claims["iat"].as_i64().unwrap(),
            claims["nbf"].as_i64().unwrap(),
            claims["exp"].as_i64().unwrap(),
        );
        assert!(nbf <= iat && exp > iat, "{claims}");
        assert_eq!(jwt_part(&token, 0)["alg"], "ES256");
    }
}

#[tokio::test]
async fn the_sandboxs_own_endpoint_is_an_arm_audience() {
    let env = start();
    let scope = format!("{}/.default", env.sandbox.endpoint());
    let token = env.token(&scope).await;
    assert_eq!(
        jwt_part(&token, 1)["aud"],
        format!("{}/", env.sandbox.endpoint())
    );
    let path = format!(
        "/subscriptions/{}?api-version=2022-12-01",
        ids::SUBSCRIPTION_ID
    );
    env.call("GET", &path, Some(&token), None).await.expect(200);
}

#[tokio::test]
async fn a_wrong_secret_an_unknown_app_and_a_bad_scope_get_aadsts_errors() {
    let env = start();
    let cases = [
        (
            vec![
                ("client_id", ids::CLIENT_ID),
                ("client_secret", "nope"),
                ("scope", "https://vault.azure.net/.default"),
            ],
            401,
            "invalid_client",
            7000215,
        ),
        (
            vec![
                ("client_id", "00000000-0000-0000-0000-000000000001"),
                ("client_secret", "x"),
                ("scope", "https://vault.azure.net/.default"),
            ],
            400,
            "unauthorized_client",
            700016,
        ),
        (
            vec![
                ("client_id", ids::CLIENT_ID),
                ("client_secret", ids::CLIENT_SECRET),
                ("scope", "https://vault.azure.net/user_impersonation"),
            ],
            400,
            "invalid_scope",
            1002012,
        ),
        (
            vec![
                ("client_id", ids::CLIENT_ID),
                ("client_secret", ids::CLIENT_SECRET),
                ("scope", "https://graph.example/.default"),
            ],
            400,
            "invalid_resource",
            500011,
        ),
    ];
    for (mut fields, status, error, code) in cases {
        fields.push(("grant_type", "client_credentials"));
        let reply = env.form(&token_path(), &fields).await;
        assert_eq!(reply.status, status, "{}", reply.body);
        assert_eq!(reply.body["error"], error);
        assert_eq!(reply.body["error_codes"], json!([code]));
        assert!(
            reply.body["error_description"]
                .as_str()
                .unwrap()
                .starts_with(&format!("AADSTS{code}:"))
        );
    }
    let reply = env
        .form(
            &format!(
                "/{}/oauth2/v2.0/token",
                "11111111-1111-1111-1111-111111111111"
            ),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(reply.body["error_codes"], json!([90002]));
}

#[tokio::test]
async fn discovery_names_the_token_endpoint_and_the_keys_that_sign_tokens() {
    let env = start();
    let config = env
        .call(
            "GET",
            &format!("/{}/v2.0/.well-known/openid-configuration", ids::TENANT_ID),
            None,
            None,
        )
        .await
        .expect(200);
    assert_eq!(config.body["token_endpoint"], env.url(&token_path()));
    let jwks_uri = config.body["jwks_uri"].as_str().unwrap().to_owned();
    let path = jwks_uri.trim_start_matches(env.sandbox.endpoint());
    let keys = env.call("GET", path, None, None).await.expect(200);
    let token = env.arm_token().await;
    let kid = jwt_part(&token, 0)["kid"].clone();
    assert!(
        keys.body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|key| key["kid"] == kid && key["kty"] == "EC")
    );
}

#[tokio::test]
async fn a_federated_assertion_minted_by_the_sandbox_gets_a_token() {
    let env = start();
    let minted = env
        .admin(
            "POST",
            "oidc/token",
            Some(&json!({"subject": ids::FEDERATED_SUBJECT})),
        )
        .await
        .expect(200);
    let assertion = minted.body["token"].as_str().unwrap().to_owned();
    assert_eq!(jwt_part(&assertion, 1)["aud"], ids::FEDERATED_AUDIENCE);
    let exchange = |assertion: String| {
        let env = &env;
        async move {
            env.form(
                &token_path(),
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", ids::CLIENT_ID),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", &assertion),
                    ("scope", "https://management.azure.com/.default"),
                ],
            )
            .await
        }
    };
    let ok = exchange(assertion.clone()).await.expect(200);
    assert_eq!(
        jwt_part(ok.body["access_token"].as_str().unwrap(), 1)["oid"],
        ids::CLIENT_OBJECT_ID
    );

    let stranger = env
        .admin(
            "POST",
            "oidc/token",
            Some(&json!({"subject": "repo:someone/else:ref:refs/heads/main"})),
        )
        .await;
    let refused = exchange(stranger.body["token"].as_str().unwrap().to_owned()).await;
    assert_eq!(refused.body["error_codes"], json!([700213]));

    let mut forged: Vec<&str> = assertion.split('.').collect();
    let other_payload = URL_SAFE_NO_PAD.encode(json!({"aud": ids::FEDERATED_AUDIENCE, "iss": "https://evil/_sandbox/oidc", "sub": ids::FEDERATED_SUBJECT, "iat": 0, "nbf": 0, "exp": 4_000_000_000_i64}).to_string());
    forged[1] = &other_payload;
    let refused = exchange(forged.join(".")).await;
    assert_eq!(refused.body["error_codes"], json!([50013]));
}

fn sdk_options(env: &Env) -> ClientOptions {
    let mut cloud = CustomConfiguration::default();
    cloud.authority_host = env.sandbox.endpoint().to_owned();
    ClientOptions {
        transport: Some(Transport::new(Arc::new(env.http.clone()))),
        cloud: Some(Arc::new(CloudConfiguration::from(cloud))),
        ..Default::default()
    }
}

#[tokio::test]
async fn azure_identity_client_secret_credential_gets_tokens_from_the_sandbox() {
    let env = start();
    let credential = ClientSecretCredential::new(
        ids::TENANT_ID,
        ids::CLIENT_ID.to_owned(),
        ids::CLIENT_SECRET.to_owned().into(),
        Some(ClientSecretCredentialOptions {
            client_options: sdk_options(&env),
        }),
    )
    .unwrap();
    let token = credential
        .get_token(&["https://management.azure.com/.default"], None)
        .await
        .unwrap();
    let path = format!(
        "/subscriptions/{}/resourcegroups?api-version=2024-11-01",
        ids::SUBSCRIPTION_ID
    );
    let groups = env
        .call("GET", &path, Some(token.token.secret()), None)
        .await
        .expect(200);
    assert!(
        groups.body["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "rg-demo")
    );
    assert!(token.expires_on > time_now_plus_minutes(50));
}

fn time_now_plus_minutes(minutes: i64) -> azure_core::time::OffsetDateTime {
    azure_core::time::OffsetDateTime::now_utc() + azure_core::time::Duration::minutes(minutes)
}

#[tokio::test]
async fn azure_identity_workload_identity_credential_exchanges_a_federated_token() {
    let env = start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("federated-token");
    std::fs::write(
        &file,
        env.sandbox.federated_token(ids::FEDERATED_SUBJECT).unwrap(),
    )
    .unwrap();
    let credential = WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
        credential_options: ClientAssertionCredentialOptions {
            client_options: sdk_options(&env),
        },
        client_id: Some(ids::CLIENT_ID.to_owned()),
        tenant_id: Some(ids::TENANT_ID.to_owned()),
        token_file_path: Some(file),
    }))
    .unwrap();
    let token = credential
        .get_token(&["https://vault.azure.net/.default"], None)
        .await
        .unwrap();
    assert_eq!(
        jwt_part(token.token.secret(), 1)["aud"],
        "https://vault.azure.net"
    );
}

#[tokio::test]
async fn each_service_answers_a_missing_or_wrong_token_in_its_own_401_shape() {
    let env = start();
    let arm_path = format!(
        "/subscriptions/{}/resourceGroups/rg-demo?api-version=2024-11-01",
        ids::SUBSCRIPTION_ID
    );
    let missing = env.call("GET", &arm_path, None, None).await.expect(401);
    assert_eq!(missing.code(), "AuthenticationFailed");
    assert!(
        missing
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer authorization_uri=")
    );
    let kv_token = env.kv_token().await;
    let wrong = env
        .call("GET", &arm_path, Some(&kv_token), None)
        .await
        .expect(401);
    assert_eq!(wrong.code(), "InvalidAuthenticationTokenAudience");
    let garbage = env
        .call("GET", &arm_path, Some("not.a.jwt"), None)
        .await
        .expect(401);
    assert_eq!(garbage.code(), "InvalidAuthenticationToken");

    let kv = env
        .call(
            "GET",
            "/vaults/anything/secrets?api-version=2025-07-01",
            None,
            None,
        )
        .await
        .expect(401);
    assert_eq!(kv.code(), "Unauthorized");
    assert_eq!(
        kv.header("www-authenticate").unwrap(),
        format!(
            "Bearer authorization=\"{}/{}\", resource=\"https://vault.azure.net\"",
            env.sandbox.endpoint(),
            ids::TENANT_ID
        )
    );

    let arm_token = env.arm_token().await;
    let kube = env
        .call(
            "GET",
            "/k8s/clusters/aks-demo/version",
            Some(&arm_token),
            None,
        )
        .await
        .expect(401);
    assert_eq!(kube.body["kind"], "Status");
    assert_eq!(kube.body["reason"], "Unauthorized");
}
