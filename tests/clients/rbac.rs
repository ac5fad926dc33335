//! The role-assignment client against the sandbox: deterministic names and idempotent re-runs,
//! adopting an assignment made under another name, listing by scope and by principal with
//! `$filter`, deletes answering 200 then 204, role definitions, and principals Azure does not
//! know.

use serde_json::json;
use vaultwire::plan::model::{Authorization, BuiltInRole, PrincipalType, Role};
use vaultwire::providers::azure::rbac::{RbacError, RoleAssignmentSpec, role_definition_id};
use vaultwire::sandbox::ids;

use crate::sandbox_support::AUTHZ_API;
use crate::support::{Clients, SUB, statuses, vault_spec};

const ASSIGNMENT_PUT: &str = "PUT Microsoft.Authorization/roleAssignments";

/// An RBAC vault, and the assignment of Key Vault Secrets User on it to `principal_id`.
async fn vault_and_spec(clients: &Clients, name: &str, principal_id: &str) -> RoleAssignmentSpec {
    let spec = vault_spec(name, Authorization::Rbac);
    clients.session.key_vaults().create(&spec).await.unwrap();
    RoleAssignmentSpec {
        scope: spec.id.path(),
        subscription_id: SUB.to_owned(),
        role: Role::BuiltIn(BuiltInRole::SecretsUser),
        principal_id: principal_id.to_owned(),
        principal_type: PrincipalType::ServicePrincipal,
    }
}

/// The `$filter` of a request's query, decoded.
fn filter_of(query: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "$filter")
        .map(|(_, value)| value.into_owned())
}

#[tokio::test]
async fn assign_uses_a_deterministic_name_and_a_rerun_changes_nothing() {
    let clients = Clients::start().await;
    let rbac = clients.rbac();
    let spec = vault_and_spec(&clients, "kv-clients-assign", ids::CLIENT_OBJECT_ID).await;

    let first = rbac.assign(&spec).await.unwrap();
    assert!(!first.adopted);
    assert_eq!(first.assignment.name, spec.name().to_string());
    assert!(first.assignment.fulfils(&spec));
    assert_eq!(
        first.assignment.principal_type.as_deref(),
        Some("ServicePrincipal")
    );

    let again = rbac.assign(&spec).await.unwrap();
    assert_eq!(again, first, "a re-run lands on the same assignment");
    assert_eq!(statuses(&clients.journal_of(ASSIGNMENT_PUT)), [201, 200]);

    let read = rbac
        .get(&spec.scope, &first.assignment.name)
        .await
        .unwrap()
        .expect("the assignment");
    assert_eq!(read.id, first.assignment.id);
    assert_eq!(
        rbac.get(&spec.scope, &uuid::Uuid::new_v4().to_string())
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn an_assignment_made_under_another_name_is_adopted() {
    let clients = Clients::start().await;
    let rbac = clients.rbac();
    let spec = vault_and_spec(&clients, "kv-clients-adopt", ids::CLIENT_OBJECT_ID).await;
    // Someone assigned the same role to the same principal by hand (a random name).
    let theirs = uuid::Uuid::new_v4().to_string();
    let path = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments/{theirs}?{AUTHZ_API}",
        spec.scope
    );
    clients
        .env
        .arm(
            "PUT",
            &path,
            Some(&json!({"properties": {
                "roleDefinitionId": role_definition_id(SUB, &spec.role),
                "principalId": spec.principal_id,
            }})),
        )
        .await
        .expect(201);

    let adopted = rbac.assign(&spec).await.unwrap();
    assert!(adopted.adopted);
    assert_eq!(adopted.assignment.name, theirs);
    assert_eq!(statuses(&clients.journal_of(ASSIGNMENT_PUT)), [201, 409]);
    assert_eq!(
        rbac.get(&spec.scope, &spec.name().to_string())
            .await
            .unwrap(),
        None,
        "no duplicate under vaultwire's name"
    );
}

#[tokio::test]
async fn assignments_are_listed_by_scope_and_by_principal() {
    let clients = Clients::start().await;
    let rbac = clients.rbac();
    let spec = vault_and_spec(&clients, "kv-clients-list", ids::CLIENT_OBJECT_ID).await;
    let ours = rbac.assign(&spec).await.unwrap().assignment;

    let at_scope = rbac.list_at_scope(&spec.scope).await.unwrap();
    assert!(at_scope.iter().any(|assignment| assignment.id == ours.id));
    assert!(
        at_scope
            .iter()
            .any(|assignment| assignment.is_at_scope(&format!("/subscriptions/{SUB}"))),
        "assignments above the scope apply to it too (the app's Owner): {at_scope:#?}"
    );
    let for_principal = rbac
        .list_for_principal(&format!("/subscriptions/{SUB}"), ids::CLIENT_OBJECT_ID)
        .await
        .unwrap();
    assert!(
        for_principal
            .iter()
            .any(|assignment| assignment.id == ours.id)
    );
    assert!(
        for_principal
            .iter()
            .all(|assignment| assignment.principal_id == ids::CLIENT_OBJECT_ID)
    );
    assert_eq!(rbac.find(&spec).await.unwrap(), Some(ours));

    let filters: Vec<String> = clients
        .wire
        .sent_to("GET", "/providers/Microsoft.Authorization/roleAssignments")
        .iter()
        .filter_map(|sent| filter_of(&sent.query))
        .collect();
    assert!(filters.contains(&"atScope()".to_owned()), "{filters:?}");
    assert!(
        filters.contains(&format!("principalId eq '{}'", ids::CLIENT_OBJECT_ID)),
        "{filters:?}"
    );
}

#[tokio::test]
async fn delete_answers_200_then_204() {
    let clients = Clients::start().await;
    let rbac = clients.rbac();
    let spec = vault_and_spec(&clients, "kv-clients-unassign", ids::CLIENT_OBJECT_ID).await;
    let assignment = rbac.assign(&spec).await.unwrap().assignment;

    assert!(rbac.delete(&assignment.id).await.unwrap());
    assert!(!rbac.delete(&assignment.id).await.unwrap(), "already gone");
    assert_eq!(
        statuses(&clients.journal_of("DELETE Microsoft.Authorization/roleAssignments")),
        [200, 204]
    );
    assert_eq!(rbac.get(&spec.scope, &assignment.name).await.unwrap(), None);
}

#[tokio::test]
async fn built_in_role_definitions_resolve_by_guid() {
    let clients = Clients::start().await;
    let definition = clients
        .rbac()
        .role_definition(
            &format!("/subscriptions/{SUB}"),
            BuiltInRole::SecretsUser.definition_guid(),
        )
        .await
        .unwrap()
        .expect("a built-in role");
    assert_eq!(definition.role_name, "Key Vault Secrets User");
    assert_eq!(definition.name, BuiltInRole::SecretsUser.definition_guid());
}

#[tokio::test]
async fn a_principal_azure_does_not_know_is_retried_then_reported() {
    let clients = Clients::start().await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let spec = vault_and_spec(&clients, "kv-clients-nobody", &unknown).await;
    let error = clients.rbac().assign(&spec).await.unwrap_err();
    assert!(
        matches!(error, RbacError::PrincipalNotFound { attempts: 3, .. }),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        format!("principal `{unknown}` is still unknown to azure after 3 attempts")
    );
    assert_eq!(
        statuses(&clients.journal_of(ASSIGNMENT_PUT)),
        [400, 400, 400]
    );
}
