//! ARM conformance for Microsoft.KeyVault vaults: create/update with defaults, the fields of
//! the published examples, soft delete, deleted vaults, purge (LRO) and purge protection,
//! recovery, name conflicts and validation, access policies, api-version checks and headers.

use serde_json::json;
use vaultwire_sandbox::ids;

use crate::support::{SUB, VAULTS_API, assert_fields, example, start, vault_body, vault_path};

fn at(path: &str) -> String {
    format!("{path}?{VAULTS_API}")
}

#[tokio::test]
async fn the_create_example_request_gets_201_then_200_with_every_example_field() {
    let env = start();
    let create = example("keyvault/createVault.json");
    let mut body = create["parameters"]["parameters"].clone();
    body["properties"]["tenantId"] = json!(ids::TENANT_ID);
    let path = at(&vault_path("rg-demo", "sample-vault"));
    let created = env.arm("PUT", &path, Some(&body)).await.expect(201);
    assert_fields(&created.body, &create["responses"]["201"]["body"], &[]);
    assert_eq!(created.body["properties"]["enableSoftDelete"], true);
    assert_eq!(created.body["properties"]["softDeleteRetentionInDays"], 90);
    assert_eq!(
        created.body["properties"]["enableRbacAuthorization"], false,
        "2025-05-01 defaults to access policies"
    );
    assert_eq!(
        created.body["properties"]["vaultUri"],
        format!("{}/vaults/sample-vault/", env.sandbox.endpoint())
    );
    let updated = env.arm("PUT", &path, Some(&body)).await.expect(200);
    assert_fields(&updated.body, &create["responses"]["200"]["body"], &[]);
    let read = env.arm("GET", &path, None).await.expect(200);
    assert_fields(
        &read.body,
        &example("keyvault/getVault.json")["responses"]["200"]["body"],
        &[],
    );
    let mut patch = example("keyvault/updateVault.json")["parameters"]["parameters"].clone();
    patch["properties"]["tenantId"] = json!(ids::TENANT_ID);
    let patched = env.arm("PATCH", &path, Some(&patch)).await.expect(200);
    assert_fields(
        &patched.body,
        &example("keyvault/updateVault.json")["responses"]["200"]["body"],
        &[],
    );
}

#[tokio::test]
async fn from_2026_02_01_new_vaults_default_to_rbac() {
    let env = start();
    let mut body = vault_body(false);
    body["properties"]
        .as_object_mut()
        .unwrap()
        .remove("enableRbacAuthorization");
    let path = format!(
        "{}?api-version=2026-02-01",
        vault_path("rg-demo", "kv-rbac-default")
    );
    let created = env.arm("PUT", &path, Some(&body)).await.expect(201);
    assert_eq!(created.body["properties"]["enableRbacAuthorization"], true);
}

#[tokio::test]
async fn every_arm_response_carries_request_correlation_and_ratelimit_headers() {
    let env = start();
    let token = env.arm_token().await;
    let response = env
        .http
        .get(env.url(&at(&vault_path("rg-demo", "missing-vault"))))
        .bearer_auth(&token)
        .header(
            "x-ms-correlation-request-id",
            "c0ffee00-0000-4000-8000-000000000000",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let reply = crate::support::reply(response).await;
    assert!(reply.header("x-ms-request-id").is_some());
    assert_eq!(
        reply.header("x-ms-correlation-request-id"),
        Some("c0ffee00-0000-4000-8000-000000000000")
    );
    assert!(
        reply
            .header("x-ms-ratelimit-remaining-subscription-reads")
            .is_some()
    );
    assert_eq!(reply.code(), "ResourceNotFound");
    let write = env
        .arm(
            "PUT",
            &at(&vault_path("rg-demo", "kv-headers")),
            Some(&vault_body(true)),
        )
        .await
        .expect(201);
    assert!(
        write
            .header("x-ms-ratelimit-remaining-subscription-writes")
            .is_some()
    );
}

#[tokio::test]
async fn api_version_is_required_and_checked() {
    let env = start();
    let missing = env
        .arm("GET", &vault_path("rg-demo", "kv"), None)
        .await
        .expect(400);
    assert_eq!(missing.code(), "MissingApiVersionParameter");
    let unknown = env
        .arm(
            "GET",
            &format!("{}?api-version=2010-01-01", vault_path("rg-demo", "kv")),
            None,
        )
        .await
        .expect(400);
    assert_eq!(unknown.code(), "NoRegisteredProviderFound");
    let group = env
        .arm(
            "GET",
            &format!("/subscriptions/{SUB}/resourceGroups/rg-demo?api-version=1999-01-01"),
            None,
        )
        .await
        .expect(400);
    assert_eq!(group.code(), "InvalidApiVersionParameter");
}

#[tokio::test]
async fn resource_ids_are_case_insensitive() {
    let env = start();
    env.arm(
        "PUT",
        &at(&vault_path("rg-demo", "kv-Case")),
        Some(&vault_body(true)),
    )
    .await
    .expect(201);
    let upper = at(&format!(
        "/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/RG-DEMO/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV-CASE"
    ));
    let read = env.arm("GET", &upper, None).await.expect(200);
    assert_eq!(read.body["name"], "kv-Case");
    assert_eq!(read.body["id"], vault_path("rg-demo", "kv-Case"));
}

#[tokio::test]
async fn invalid_names_and_missing_groups_are_refused() {
    let env = start();
    for name in [
        "ab",
        "1starts-with-digit",
        "ends-",
        "double--hyphen",
        "under_score",
    ] {
        let reply = env
            .arm(
                "PUT",
                &at(&vault_path("rg-demo", name)),
                Some(&vault_body(true)),
            )
            .await
            .expect(400);
        assert_eq!(reply.code(), "VaultNameNotValid", "{name}");
    }
    let reply = env
        .arm(
            "PUT",
            &at(&vault_path("rg-missing", "kv-orphan")),
            Some(&vault_body(true)),
        )
        .await
        .expect(404);
    assert_eq!(reply.code(), "ResourceGroupNotFound");
    let check = env
        .arm("POST", &format!("/subscriptions/{SUB}/providers/Microsoft.KeyVault/checkNameAvailability?{VAULTS_API}"), Some(&json!({"name": "sample-vault", "type": "Microsoft.KeyVault/vaults"})))
        .await
        .expect(200);
    assert_fields(
        &check.body,
        &example("keyvault/checkVaultNameAvailability.json")["responses"]["200"]["body"],
        &[],
    );
    assert_eq!(check.body["nameAvailable"], true);
}

#[tokio::test]
async fn soft_delete_then_conflict_then_recover_then_purge() {
    let env = start();
    let path = at(&vault_path("rg-demo", "kv-lifecycle"));
    env.arm("PUT", &path, Some(&vault_body(true)))
        .await
        .expect(201);
    env.arm("DELETE", &path, None).await.expect(200);
    env.arm("DELETE", &path, None).await.expect(204);
    env.arm("GET", &path, None).await.expect(404);

    let deleted_list = env
        .arm(
            "GET",
            &format!(
                "/subscriptions/{SUB}/providers/Microsoft.KeyVault/deletedVaults?{VAULTS_API}"
            ),
            None,
        )
        .await
        .expect(200);
    let listed = &deleted_list.body["value"][0];
    assert_fields(
        listed,
        &example("keyvault/listDeletedVaults.json")["responses"]["200"]["body"]["value"][0],
        &[],
    );
    let deleted_path = format!(
        "/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv-lifecycle?{VAULTS_API}"
    );
    let deleted = env.arm("GET", &deleted_path, None).await.expect(200);
    assert_fields(
        &deleted.body,
        &example("keyvault/getDeletedVault.json")["responses"]["200"]["body"],
        &[],
    );

    let conflict = env
        .arm("PUT", &path, Some(&vault_body(true)))
        .await
        .expect(409);
    assert_eq!(conflict.code(), "ConflictError");
    assert!(
        conflict.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already exists in deleted state")
    );
    let other_group = env
        .arm(
            "PUT",
            &at(&vault_path(ids::NODE_RESOURCE_GROUP, "kv-lifecycle")),
            Some(&vault_body(true)),
        )
        .await
        .expect(409);
    assert_eq!(other_group.code(), "VaultAlreadyExists");

    let mut recover = vault_body(true);
    recover["properties"]["createMode"] = json!("recover");
    env.arm("PUT", &path, Some(&recover)).await.expect(201);
    env.arm("GET", &path, None).await.expect(200);

    env.arm("DELETE", &path, None).await.expect(200);
    let purge = env.arm("POST", &format!("/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv-lifecycle/purge?{VAULTS_API}"), None).await.expect(202);
    let location = purge.header("location").unwrap().to_owned();
    assert!(purge.header("retry-after").is_some());
    let poll = env
        .arm(
            "GET",
            location.trim_start_matches(env.sandbox.endpoint()),
            None,
        )
        .await;
    assert_eq!(poll.status, 200, "an instant LRO is done on the first poll");
    env.arm("GET", &deleted_path, None).await.expect(404);
    env.arm("PUT", &path, Some(&vault_body(true)))
        .await
        .expect(201);
}

#[tokio::test]
async fn a_running_purge_answers_202_until_it_finishes() {
    let env = start();
    env.sandbox
        .set_lro_duration(std::time::Duration::from_secs(3600));
    let path = at(&vault_path("rg-demo", "kv-slow-purge"));
    env.arm("PUT", &path, Some(&vault_body(true)))
        .await
        .expect(201);
    env.arm("DELETE", &path, None).await.expect(200);
    let purge = env.arm("POST", &format!("/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv-slow-purge/purge?{VAULTS_API}"), None).await.expect(202);
    let location = purge.header("location").unwrap().to_owned();
    env.arm(
        "GET",
        location.trim_start_matches(env.sandbox.endpoint()),
        None,
    )
    .await
    .expect(202);
    let taken = env
        .arm("PUT", &path, Some(&vault_body(true)))
        .await
        .expect(409);
    assert_eq!(
        taken.code(),
        "ConflictError",
        "the name stays taken until the purge completes"
    );
}

#[tokio::test]
async fn purge_protection_is_irreversible_and_refuses_purge() {
    let env = start();
    let path = at(&vault_path("rg-demo", "kv-protected"));
    let mut body = vault_body(true);
    body["properties"]["enablePurgeProtection"] = json!(true);
    let created = env.arm("PUT", &path, Some(&body)).await.expect(201);
    assert_eq!(created.body["properties"]["enablePurgeProtection"], true);
    let off = env
        .arm(
            "PATCH",
            &path,
            Some(&json!({"properties": {"enablePurgeProtection": false}})),
        )
        .await
        .expect(400);
    assert!(
        off.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("enablePurgeProtection")
    );
    env.arm("DELETE", &path, None).await.expect(200);
    let deleted = env.arm("GET", &format!("/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv-protected?{VAULTS_API}"), None).await.expect(200);
    assert_eq!(deleted.body["properties"]["purgeProtectionEnabled"], true);
    let refused = env.arm("POST", &format!("/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv-protected/purge?{VAULTS_API}"), None).await;
    assert_eq!(refused.status, 409);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("purge protection")
    );
}

#[tokio::test]
async fn access_policies_are_added_replaced_and_removed() {
    let env = start();
    let path = vault_path("rg-demo", "kv-policies");
    env.arm("PUT", &at(&path), Some(&vault_body(false)))
        .await
        .expect(201);
    let add = example("keyvault/updateAccessPoliciesAdd.json");
    let mut body = add["parameters"]["parameters"].clone();
    body["properties"]["accessPolicies"][0]["tenantId"] = json!(ids::TENANT_ID);
    body["properties"]["accessPolicies"][0]["objectId"] = json!(ids::CLIENT_OBJECT_ID);
    let added = env
        .arm(
            "PUT",
            &at(&format!("{path}/accessPolicies/add")),
            Some(&body),
        )
        .await
        .expect(200);
    assert_fields(&added.body, &add["responses"]["200"]["body"], &[]);
    body["properties"]["accessPolicies"][0]["permissions"] = json!({"secrets": ["list"]});
    let merged = env
        .arm(
            "PUT",
            &at(&format!("{path}/accessPolicies/add")),
            Some(&body),
        )
        .await
        .expect(200);
    assert_eq!(
        merged.body["properties"]["accessPolicies"][0]["permissions"]["secrets"],
        json!(["get", "list"])
    );
    let replaced = env
        .arm(
            "PUT",
            &at(&format!("{path}/accessPolicies/replace")),
            Some(&body),
        )
        .await
        .expect(200);
    assert_eq!(
        replaced.body["properties"]["accessPolicies"][0]["permissions"]["secrets"],
        json!(["list"])
    );
    let removed = env
        .arm(
            "PUT",
            &at(&format!("{path}/accessPolicies/remove")),
            Some(&body),
        )
        .await
        .expect(200);
    assert_eq!(removed.body["properties"]["accessPolicies"], json!([]));
    let vault = env.arm("GET", &at(&path), None).await.expect(200);
    assert_eq!(vault.body["properties"]["accessPolicies"], json!([]));
}
