//! Key Vault data-plane conformance: secrets with versions, the SecretBundle fields of the
//! published examples, paging, soft delete/recover/purge, and authorization by RBAC role or
//! access policy with the propagation delay.

use std::time::Duration;

use serde_json::{Value, json};
use vaultwire_sandbox::{SandboxOptions, ids};

use crate::support::{
    AUTHZ_API, Env, KV_API, SUB, VAULTS_API, assert_fields, example, start, start_with, vault_body,
    vault_path,
};

const SECRETS_OFFICER: &str = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";
const SECRETS_USER: &str = "4633458b-17de-408a-b874-0445c86b69e6";

async fn create_vault(env: &Env, name: &str, body: &Value) {
    env.arm(
        "PUT",
        &format!("{}?{VAULTS_API}", vault_path("rg-demo", name)),
        Some(body),
    )
    .await
    .expect(201);
}

async fn grant(env: &Env, vault: &str, role: &str, principal: &str) {
    let name = uuid::Uuid::new_v4();
    let path = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments/{name}?{AUTHZ_API}",
        vault_path("rg-demo", vault)
    );
    let body = json!({"properties": {"roleDefinitionId": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{role}"), "principalId": principal}});
    env.arm("PUT", &path, Some(&body)).await.expect(201);
}

fn secret(vault: &str, rest: &str) -> String {
    let sep = if rest.contains('?') { '&' } else { '?' };
    format!("/vaults/{vault}/{rest}{sep}{KV_API}")
}

#[tokio::test]
async fn secrets_get_versions_pages_and_a_soft_delete_lifecycle_with_the_examples_fields() {
    let env = start();
    create_vault(&env, "kv-data", &vault_body(true)).await;
    grant(&env, "kv-data", SECRETS_OFFICER, ids::CLIENT_OBJECT_ID).await;
    let token = env.kv_token().await;
    let kv = |method: &'static str, rest: String, body: Option<Value>| {
        let (env, token) = (&env, token.clone());
        async move {
            env.call(
                method,
                &secret("kv-data", &rest),
                Some(&token),
                body.as_ref(),
            )
            .await
        }
    };

    let first = kv(
        "PUT",
        "secrets/db-password".into(),
        Some(json!({"value": "s3cret-1"})),
    )
    .await
    .expect(200);
    let first_version = first.body["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(first_version.len(), 32);
    assert!(first_version.chars().all(|c| c.is_ascii_hexdigit()));
    let second = kv(
        "PUT",
        "secrets/db-password".into(),
        Some(json!({"value": "s3cret-2", "contentType": "plainText"})),
    )
    .await
    .expect(200);
    assert_fields(
        &second.body,
        &example("keyvault-data/SetSecret-example.json")["responses"]["200"]["body"],
        &[],
    );
    assert_eq!(second.body["previousVersion"], first_version);
    assert_eq!(
        second.body["id"]
            .as_str()
            .unwrap()
            .rsplit_once("/secrets/")
            .unwrap()
            .0,
        format!("{}/vaults/kv-data", env.sandbox.endpoint())
    );

    let latest = kv("GET", "secrets/db-password".into(), None)
        .await
        .expect(200);
    assert_eq!(latest.body["value"], "s3cret-2");
    assert_fields(
        &latest.body,
        &example("keyvault-data/GetSecret-example.json")["responses"]["200"]["body"],
        &[],
    );
    let old = kv("GET", format!("secrets/db-password/{first_version}"), None)
        .await
        .expect(200);
    assert_eq!(old.body["value"], "s3cret-1");

    kv(
        "PUT",
        "secrets/api-key".into(),
        Some(json!({"value": "k", "contentType": "plainText"})),
    )
    .await
    .expect(200);
    let page = kv("GET", "secrets?maxresults=1".into(), None)
        .await
        .expect(200);
    assert_fields(
        &page.body,
        &example("keyvault-data/GetSecrets-example.json")["responses"]["200"]["body"],
        &[],
    );
    assert!(
        page.body["value"][0].get("value").is_none(),
        "lists never carry values"
    );
    let next = page.body["nextLink"]
        .as_str()
        .unwrap()
        .trim_start_matches(env.sandbox.endpoint())
        .to_owned();
    let rest = env.call("GET", &next, Some(&token), None).await.expect(200);
    assert_eq!(rest.body["value"].as_array().unwrap().len(), 1);
    assert!(rest.body["nextLink"].is_null());
    let versions = kv("GET", "secrets/db-password/versions".into(), None)
        .await
        .expect(200);
    assert_eq!(versions.body["value"].as_array().unwrap().len(), 2);

    let deleted = kv("DELETE", "secrets/db-password".into(), None)
        .await
        .expect(200);
    assert_fields(
        &deleted.body,
        &example("keyvault-data/DeleteSecret-example.json")["responses"]["200"]["body"],
        &[],
    );
    let gone = kv("GET", "secrets/db-password".into(), None)
        .await
        .expect(404);
    assert_eq!(gone.code(), "SecretNotFound");
    let reuse = kv(
        "PUT",
        "secrets/db-password".into(),
        Some(json!({"value": "x"})),
    )
    .await
    .expect(409);
    assert_eq!(
        reuse.body["error"]["innererror"]["code"],
        "ObjectIsDeletedButRecoverable"
    );
    kv("GET", "deletedsecrets/db-password".into(), None)
        .await
        .expect(200);
    kv("POST", "deletedsecrets/db-password/recover".into(), None)
        .await
        .expect(200);
    assert_eq!(
        kv("GET", "secrets/db-password".into(), None)
            .await
            .expect(200)
            .body["value"],
        "s3cret-2"
    );
    kv("DELETE", "secrets/db-password".into(), None)
        .await
        .expect(200);
    kv("DELETE", "deletedsecrets/db-password".into(), None)
        .await
        .expect(204);
    kv(
        "PUT",
        "secrets/db-password".into(),
        Some(json!({"value": "fresh"})),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn an_rbac_vault_refuses_callers_without_a_role_until_the_propagation_delay_passes() {
    let env = start_with(SandboxOptions {
        rbac_propagation_delay: Duration::from_secs(3600),
        ..SandboxOptions::default()
    });
    create_vault(&env, "kv-rbac-delay", &vault_body(true)).await;
    let token = env.kv_token().await;
    let path = secret("kv-rbac-delay", "secrets/x");
    let denied = env
        .call("PUT", &path, Some(&token), Some(&json!({"value": "v"})))
        .await
        .expect(403);
    assert_eq!(denied.code(), "Forbidden");
    assert_eq!(
        denied.body["error"]["innererror"]["code"],
        "ForbiddenByRbac"
    );
    assert!(
        denied.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Microsoft.KeyVault/vaults/secrets/setSecret/action")
    );
    grant(
        &env,
        "kv-rbac-delay",
        SECRETS_OFFICER,
        ids::CLIENT_OBJECT_ID,
    )
    .await;
    env.call("PUT", &path, Some(&token), Some(&json!({"value": "v"})))
        .await
        .expect(403);
    env.sandbox.set_rbac_propagation_delay(Duration::ZERO);
    env.call("PUT", &path, Some(&token), Some(&json!({"value": "v"})))
        .await
        .expect(200);
}

#[tokio::test]
async fn the_add_on_identity_reads_with_secrets_user_but_cannot_write() {
    let env = start();
    create_vault(&env, "kv-addon", &vault_body(true)).await;
    grant(&env, "kv-addon", SECRETS_OFFICER, ids::CLIENT_OBJECT_ID).await;
    let writer = env.kv_token().await;
    env.call(
        "PUT",
        &secret("kv-addon", "secrets/db"),
        Some(&writer),
        Some(&json!({"value": "v"})),
    )
    .await
    .expect(200);
    let policy_identity = env.sandbox.world_json().unwrap()["identities"]
        .as_object()
        .unwrap()
        .values()
        .find(|i| i["name"] == "azurepolicy-aks-demo")
        .unwrap()["principalId"]
        .as_str()
        .unwrap()
        .to_owned();
    let identity = env
        .sandbox
        .issue_token(
            &policy_identity,
            None,
            "https://vault.azure.net",
            Duration::from_secs(600),
        )
        .unwrap();
    env.call(
        "GET",
        &secret("kv-addon", "secrets/db"),
        Some(&identity),
        None,
    )
    .await
    .expect(403);
    grant(&env, "kv-addon", SECRETS_USER, &policy_identity).await;
    let reader = env
        .admin(
            "POST",
            "tokens",
            Some(&json!({"objectId": policy_identity, "audience": "keyvault"})),
        )
        .await
        .expect(200);
    let reader = reader.body["accessToken"].as_str().unwrap().to_owned();
    assert_eq!(
        env.call(
            "GET",
            &secret("kv-addon", "secrets/db"),
            Some(&reader),
            None
        )
        .await
        .expect(200)
        .body["value"],
        "v"
    );
    env.call(
        "PUT",
        &secret("kv-addon", "secrets/db"),
        Some(&reader),
        Some(&json!({"value": "w"})),
    )
    .await
    .expect(403);
}

#[tokio::test]
async fn an_access_policy_vault_follows_its_policies() {
    let env = start();
    let mut body = vault_body(false);
    body["properties"]["accessPolicies"] = json!([{"tenantId": ids::TENANT_ID, "objectId": ids::CLIENT_OBJECT_ID, "permissions": {"secrets": ["get", "list"]}}]);
    create_vault(&env, "kv-policy", &body).await;
    let token = env.kv_token().await;
    let denied = env
        .call(
            "PUT",
            &secret("kv-policy", "secrets/a"),
            Some(&token),
            Some(&json!({"value": "v"})),
        )
        .await
        .expect(403);
    assert!(
        denied.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not have secrets set permission")
    );
    env.call("GET", &secret("kv-policy", "secrets"), Some(&token), None)
        .await
        .expect(200);
}

#[tokio::test]
async fn api_version_and_public_network_access_are_enforced() {
    let env = start();
    let mut body = vault_body(true);
    body["properties"]["publicNetworkAccess"] = json!("Disabled");
    create_vault(&env, "kv-private", &body).await;
    let token = env.kv_token().await;
    let missing = env
        .call("GET", "/vaults/kv-private/secrets", Some(&token), None)
        .await
        .expect(400);
    assert_eq!(missing.code(), "BadParameter");
    let blocked = env
        .call("GET", &secret("kv-private", "secrets"), Some(&token), None)
        .await
        .expect(403);
    assert_eq!(
        blocked.body["error"]["innererror"]["code"],
        "ForbiddenByConnection"
    );
}

#[tokio::test]
async fn a_firewall_that_denies_by_default_admits_its_ip_rules_only() {
    let env = start();
    let mut body = vault_body(true);
    body["properties"]["networkAcls"] = json!({"defaultAction": "Deny", "bypass": "AzureServices", "ipRules": [{"value": "203.0.113.0/24"}]});
    create_vault(&env, "kv-walled", &body).await;
    grant(&env, "kv-walled", SECRETS_OFFICER, ids::CLIENT_OBJECT_ID).await;
    let token = env.kv_token().await;
    let blocked = env
        .call("GET", &secret("kv-walled", "secrets"), Some(&token), None)
        .await
        .expect(403);
    assert_eq!(
        blocked.body["error"]["innererror"]["code"],
        "ForbiddenByFirewall"
    );
    let message = blocked.body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Client address is not authorized and caller is not a trusted service.\r\nClient address: 127.0.0.1\r\nCaller: appid="),
        "{message}"
    );
    assert!(
        message.ends_with("\r\nVault: kv-walled;location=westeurope"),
        "{message}"
    );
    assert_eq!(
        blocked.header("x-ms-keyvault-network-info"),
        Some("conn_type=Ipv4;addr=127.0.0.1;act_addr_fam=InterNetwork;")
    );

    body["properties"]["networkAcls"]["ipRules"] =
        json!([{"value": "203.0.113.0/24"}, {"value": "127.0.0.1/32"}]);
    env.arm(
        "PUT",
        &format!("{}?{VAULTS_API}", vault_path("rg-demo", "kv-walled")),
        Some(&body),
    )
    .await
    .expect(200);
    env.call("GET", &secret("kv-walled", "secrets"), Some(&token), None)
        .await
        .expect(200);
}
