//! ARM conformance for Microsoft.Authorization: role assignments (PUT, GET, DELETE, list with
//! `$filter`, by ID, RoleAssignmentExists, PrincipalNotFound) and the built-in Key Vault role
//! definitions.

use serde_json::{Value, json};
use vaultwire_sandbox::ids;

use crate::support::{
    AUTHZ_API, SUB, VAULTS_API, assert_fields, example, start, vault_body, vault_path,
};

const SECRETS_USER: &str = "4633458b-17de-408a-b874-0445c86b69e6";

fn assignment_body(principal: &str) -> Value {
    json!({"properties": {
        "roleDefinitionId": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{SECRETS_USER}"),
        "principalId": principal,
        "principalType": "ServicePrincipal",
    }})
}

fn assignment_path(scope: &str, name: &str) -> String {
    format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}?{AUTHZ_API}")
}

#[tokio::test]
async fn a_role_assignment_on_a_vault_is_created_read_listed_and_deleted() {
    let env = start();
    let vault = vault_path("rg-demo", "kv-rbac");
    env.arm(
        "PUT",
        &format!("{vault}?{VAULTS_API}"),
        Some(&vault_body(true)),
    )
    .await
    .expect(201);
    let name = "0e7a4d10-2c1b-4f3e-9a8b-7c6d5e4f3a2b";
    let created = env
        .arm(
            "PUT",
            &assignment_path(&vault, name),
            Some(&assignment_body(ids::CLIENT_OBJECT_ID)),
        )
        .await
        .expect(201);
    let create_example = example("authorization/RoleAssignments_CreateForResource.json");
    assert_fields(
        &created.body,
        &create_example["responses"]["201"]["body"],
        &[],
    );
    assert_eq!(created.body["properties"]["scope"], vault);
    assert_eq!(
        created.body["id"],
        format!("{vault}/providers/Microsoft.Authorization/roleAssignments/{name}")
    );

    let read = env
        .arm("GET", &assignment_path(&vault, name), None)
        .await
        .expect(200);
    assert_fields(
        &read.body,
        &example("authorization/RoleAssignments_Get.json")["responses"]["200"]["body"],
        &[],
    );
    let by_id = env
        .arm(
            "GET",
            &format!(
                "{}?{AUTHZ_API}",
                created.body["id"]
                    .as_str()
                    .unwrap()
                    .to_uppercase()
                    .replace("ROLEASSIGNMENTS", "roleAssignments")
            ),
            None,
        )
        .await
        .expect(200);
    assert_eq!(by_id.body["name"], name);

    let filter = format!("$filter=principalId%20eq%20'{}'", ids::CLIENT_OBJECT_ID);
    let listed = env.arm("GET", &format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments?{AUTHZ_API}&{filter}"), None).await.expect(200);
    let names: Vec<&str> = listed.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&name),
        "below the subscription scope: {names:?}"
    );
    assert_fields(
        &listed.body,
        &example("authorization/RoleAssignments_ListForScope.json")["responses"]["200"]["body"],
        &[],
    );
    let at_scope = env.arm("GET", &format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments?{AUTHZ_API}&$filter=atScope()"), None).await.expect(200);
    let names: Vec<&str> = at_scope.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(
        !names.contains(&name),
        "atScope() excludes assignments below: {names:?}"
    );
    assert_eq!(
        names.len(),
        1,
        "the seeded Owner assignment is at subscription scope"
    );
    let at_vault = env.arm("GET", &format!("{vault}/providers/Microsoft.Authorization/roleAssignments?{AUTHZ_API}&$filter=atScope()"), None).await.expect(200);
    assert_eq!(
        at_vault.body["value"].as_array().unwrap().len(),
        2,
        "the vault's own assignment and the inherited Owner"
    );

    let deleted = env
        .arm("DELETE", &assignment_path(&vault, name), None)
        .await
        .expect(200);
    assert_fields(
        &deleted.body,
        &example("authorization/RoleAssignments_Delete.json")["responses"]["200"]["body"],
        &[],
    );
    env.arm("DELETE", &assignment_path(&vault, name), None)
        .await
        .expect(204);
    env.arm("GET", &assignment_path(&vault, name), None)
        .await
        .expect(404);
}

#[tokio::test]
async fn the_same_scope_role_and_principal_under_another_name_is_role_assignment_exists() {
    let env = start();
    let scope = format!("/subscriptions/{SUB}/resourceGroups/rg-demo");
    env.arm(
        "PUT",
        &assignment_path(&scope, "11111111-2222-4333-8444-555555555555"),
        Some(&assignment_body(ids::CLIENT_OBJECT_ID)),
    )
    .await
    .expect(201);
    let again = env
        .arm(
            "PUT",
            &assignment_path(&scope, "11111111-2222-4333-8444-555555555555"),
            Some(&assignment_body(ids::CLIENT_OBJECT_ID)),
        )
        .await;
    assert_eq!(
        again.status, 200,
        "re-PUTting the same assignment is idempotent"
    );
    let duplicate = env
        .arm(
            "PUT",
            &assignment_path(&scope, "66666666-7777-4888-8999-aaaaaaaaaaaa"),
            Some(&assignment_body(ids::CLIENT_OBJECT_ID)),
        )
        .await
        .expect(409);
    assert_eq!(duplicate.code(), "RoleAssignmentExists");
    assert_eq!(
        duplicate.body["error"]["message"],
        "The role assignment already exists."
    );
}

#[tokio::test]
async fn unknown_principals_roles_and_names_are_refused() {
    let env = start();
    let scope = format!("/subscriptions/{SUB}/resourceGroups/rg-demo");
    let stranger = env
        .arm(
            "PUT",
            &assignment_path(&scope, "22222222-2222-4222-8222-222222222222"),
            Some(&assignment_body("00000000-0000-0000-0000-00000000dead")),
        )
        .await
        .expect(400);
    assert_eq!(stranger.code(), "PrincipalNotFound");
    let mut body = assignment_body(ids::CLIENT_OBJECT_ID);
    body["properties"]["roleDefinitionId"] = json!(
        "/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-0000-0000-000000000000"
    );
    let role = env
        .arm(
            "PUT",
            &assignment_path(&scope, "33333333-3333-4333-8333-333333333333"),
            Some(&body),
        )
        .await
        .expect(400);
    assert_eq!(role.code(), "RoleDefinitionDoesNotExist");
    let name = env
        .arm(
            "PUT",
            &assignment_path(&scope, "not-a-guid"),
            Some(&assignment_body(ids::CLIENT_OBJECT_ID)),
        )
        .await
        .expect(400);
    assert_eq!(name.code(), "InvalidRoleAssignmentId");
}

#[tokio::test]
async fn built_in_key_vault_roles_are_served_by_id_and_by_name() {
    let env = start();
    let by_id = env.arm("GET", &format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{SECRETS_USER}?{AUTHZ_API}"), None).await.expect(200);
    assert_fields(
        &by_id.body,
        &example("authorization/GetRoleDefinitionById.json")["responses"]["200"]["body"],
        &[],
    );
    assert_eq!(
        by_id.body["properties"]["roleName"],
        "Key Vault Secrets User"
    );
    let listed = env.arm("GET", &format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions?{AUTHZ_API}&$filter=roleName%20eq%20'Key%20Vault%20Secrets%20Officer'"), None).await.expect(200);
    assert_eq!(listed.body["value"].as_array().unwrap().len(), 1);
    assert_eq!(
        listed.body["value"][0]["name"],
        "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
    );
    assert_fields(
        &listed.body["value"][0],
        &example("authorization/GetRoleDefinitionByName.json")["responses"]["200"]["body"],
        &[],
    );
}
