//! Role assignments over a scripted ARM, fed the published examples.

use http::Method;
use serde_json::json;

use super::*;
use crate::plan::model::{BuiltInRole, PrincipalType, Role};
use crate::providers::azure::rbac::{
    create_role_assignment, list_role_assignments, role_assignment_name,
};
use crate::providers::testing::{Reply, ScriptedHttp, arm_client, spec_response};

const SUB: &str = crate::sandbox::ids::SUBSCRIPTION_ID;
const SCOPE: &str = "/subscriptions/3f2a1b4c-5d6e-4f70-8192-a3b4c5d6e7f8/resourceGroups/rg-demo/providers/Microsoft.KeyVault/vaults/kv-vaultwire-demo";
const PRINCIPAL: &str = "aaaaaaaa-0000-0000-0000-000000000002";

fn spec() -> RoleAssignmentSpec {
    RoleAssignmentSpec {
        scope: SCOPE.into(),
        subscription_id: SUB.into(),
        role: Role::BuiltIn(BuiltInRole::SecretsUser),
        principal_id: PRINCIPAL.into(),
        principal_type: PrincipalType::ServicePrincipal,
    }
}

fn assignments() -> String {
    format!("{SCOPE}/providers/Microsoft.Authorization/roleAssignments")
}

fn existing(name: &str) -> serde_json::Value {
    json!({
        "id": format!("{}/{name}", assignments()),
        "name": name,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "roleDefinitionId": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6"),
            "principalId": PRINCIPAL,
            "principalType": "ServicePrincipal",
            "scope": SCOPE,
        }
    })
}

#[test]
fn names_are_deterministic_and_ignore_case() {
    let name = role_assignment_name(SCOPE, "4633458B-17de-408a-b874-0445c86b69e6", PRINCIPAL);
    assert_eq!(
        name,
        role_assignment_name(
            &SCOPE.to_uppercase(),
            "4633458b-17de-408a-b874-0445c86b69e6",
            &PRINCIPAL.to_uppercase()
        )
    );
    assert_eq!(name, spec().name());
    assert_ne!(
        name,
        role_assignment_name(SCOPE, "b86a8fe4-44ce-4948-aee5-eccb2c155cd7", PRINCIPAL)
    );
    // Pinned: a different value would make every re-run duplicate existing assignments.
    assert_eq!(
        role_assignment_name("/s", "r", "p").to_string(),
        "c98fbdfd-1c7e-5bf5-acbd-492fa54cf851"
    );
}

#[test]
fn the_request_names_the_full_role_definition_and_the_principal_type() {
    let request = create_role_assignment(&spec());
    assert_eq!(request.method, Method::PUT);
    assert_eq!(request.path, format!("{}/{}", assignments(), spec().name()));
    assert_eq!(request.api_version, "2022-04-01");
    let body = request.body.unwrap();
    assert_eq!(
        body["properties"]["roleDefinitionId"],
        format!(
            "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6"
        )
    );
    assert_eq!(body["properties"]["principalType"], "ServicePrincipal");
    assert_eq!(body["properties"]["principalId"], PRINCIPAL);
}

#[test]
fn listing_by_principal_filters_with_a_quoted_id() {
    let request = list_role_assignments(SCOPE, Some(PRINCIPAL));
    assert_eq!(
        request.query,
        [(
            "$filter".to_owned(),
            format!("principalId eq '{PRINCIPAL}'")
        )]
    );
}

#[tokio::test]
async fn a_new_assignment_is_created_under_its_deterministic_name() {
    let http = ScriptedHttp::new();
    let name = spec().name().to_string();
    http.expect(
        "PUT",
        &format!("{}/{name}", assignments()),
        Reply::json(201, existing(&name)),
    );
    let (arm, _) = arm_client(&http);
    let outcome = RbacClient::new(arm, RbacOptions::default())
        .assign(&spec())
        .await
        .unwrap();
    assert!(!outcome.adopted);
    assert_eq!(outcome.assignment.name, name);
}

#[tokio::test]
async fn an_existing_assignment_under_another_name_is_adopted() {
    let http = ScriptedHttp::new();
    let name = spec().name().to_string();
    let other = "b0f43c54-e787-4862-89b1-a653fa9cf747";
    let mut above = existing("11111111-2222-3333-4444-555555555555");
    above["properties"]["scope"] = json!(format!("/subscriptions/{SUB}"));
    http.expect(
        "PUT",
        &format!("{}/{name}", assignments()),
        Reply::arm_error(
            409,
            "RoleAssignmentExists",
            "The role assignment already exists.",
        ),
    )
    .expect(
        "GET",
        &assignments(),
        Reply::json(200, json!({"value": [above, existing(other)]})),
    );
    let (arm, _) = arm_client(&http);
    let outcome = RbacClient::new(arm, RbacOptions::default())
        .assign(&spec())
        .await
        .unwrap();
    assert!(outcome.adopted);
    assert_eq!(outcome.assignment.name, other);
    assert_eq!(
        http.requests()[1].query("$filter").as_deref(),
        Some(format!("principalId eq '{PRINCIPAL}'").as_str())
    );
}

#[tokio::test]
async fn a_principal_not_yet_replicated_is_waited_for() {
    let http = ScriptedHttp::new();
    let name = spec().name().to_string();
    let path = format!("{}/{name}", assignments());
    http.expect(
        "PUT",
        &path,
        Reply::arm_error(
            400,
            "PrincipalNotFound",
            "Principal aaaa does not exist in the directory.",
        ),
    )
    .expect(
        "PUT",
        &path,
        Reply::arm_error(
            400,
            "PrincipalNotFound",
            "Principal aaaa does not exist in the directory.",
        ),
    )
    .expect("PUT", &path, Reply::json(201, existing(&name)));
    let (arm, timer) = arm_client(&http);
    let waits = std::sync::Mutex::new(Vec::new());
    RbacClient::new(arm, RbacOptions::default())
        .assign_reporting(&spec(), &|wait| waits.lock().unwrap().push(wait))
        .await
        .unwrap();
    assert_eq!(timer.sleeps().len(), 2);
    let waits = waits.into_inner().unwrap();
    assert_eq!(
        waits.iter().map(|wait| wait.attempt).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(waits[1].wait, timer.sleeps()[1]);
    let said = waits[0].to_string();
    assert!(
        said.starts_with(&format!(
            "principal `{PRINCIPAL}` is not replicated in Entra yet (PrincipalNotFound); retrying in"
        )) && said.ends_with("[attempt 2 of 6]"),
        "{said}"
    );
}

#[tokio::test]
async fn a_principal_that_never_appears_is_an_error_with_help() {
    let http = ScriptedHttp::new();
    let path = format!("{}/{}", assignments(), spec().name());
    let options = RbacOptions {
        max_attempts: 2,
        ..RbacOptions::default()
    };
    for _ in 0..2 {
        http.expect(
            "PUT",
            &path,
            Reply::arm_error(400, "PrincipalNotFound", "Principal does not exist."),
        );
    }
    let (arm, _) = arm_client(&http);
    let error = RbacClient::new(arm, options)
        .assign(&spec())
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        RbacError::PrincipalNotFound { attempts: 2, .. }
    ));
    assert!(error.help().is_some());
}

#[tokio::test]
async fn delete_tells_whether_there_was_an_assignment() {
    let http = ScriptedHttp::new();
    let id = "/subscriptions/a925f2f7-5c63-4b7b-8799-25a5f97bc3b2/providers/Microsoft.Authorization/roleAssignments/b0f43c54-e787-4862-89b1-a653fa9cf747";
    http.expect(
        "DELETE",
        id,
        Reply::json(
            200,
            spec_response("authorization/RoleAssignments_Delete.json", 200),
        ),
    )
    .expect("DELETE", id, Reply::empty(204));
    let (arm, _) = arm_client(&http);
    let client = RbacClient::new(arm, RbacOptions::default());
    assert!(client.delete(id).await.unwrap());
    assert!(!client.delete(id).await.unwrap());
}

#[test]
fn the_published_assignment_examples_parse() {
    for (file, status) in [
        ("authorization/RoleAssignments_CreateForResource.json", 201),
        ("authorization/RoleAssignments_CreateForResource.json", 200),
        ("authorization/RoleAssignments_Get.json", 200),
        ("authorization/RoleAssignments_Delete.json", 200),
    ] {
        let assignment = RoleAssignment::from_document(&spec_response(file, status))
            .unwrap_or_else(|| panic!("{file} {status}"));
        assert_eq!(
            assignment.principal_id,
            "ce2ce14e-85d7-4629-bdbc-454d0519d987"
        );
        assert_eq!(
            assignment.role_definition_guid(),
            "0b5fe924-9a61-425c-96af-cfe6e287ca2d"
        );
        assert_eq!(assignment.principal_type.as_deref(), Some("User"));
    }
    let listed = spec_response("authorization/RoleAssignments_ListForScope.json", 200);
    let first = RoleAssignment::from_document(&listed["value"][0]).unwrap();
    assert!(first.is_at_scope("/subscriptions/A925F2F7-5c63-4b7b-8799-25a5f97bc3b2/"));
    assert_eq!(first.name, "b0f43c54-e787-4862-89b1-a653fa9cf747");
}

#[test]
fn the_published_role_definition_examples_parse() {
    let by_id = RoleDefinition::from_document(&spec_response(
        "authorization/GetRoleDefinitionById.json",
        200,
    ))
    .unwrap();
    assert_eq!(by_id.role_name, "Role name");
    assert_eq!(by_id.name, "roleDefinitionId");
    let by_name = RoleDefinition::from_document(&spec_response(
        "authorization/GetRoleDefinitionByName.json",
        200,
    ))
    .unwrap();
    assert!(!by_name.id.is_empty());
}
