//! Role-assignment requests and documents, as pure functions.
//!
//! Assignment names are deterministic — a v5 UUID of (scope, role definition, principal),
//! lowercased — so a re-run PUTs the same name and ARM answers "already there" instead of
//! creating a duplicate, and state can always be rebuilt from the plan.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::plan::model::{PrincipalType, Role};
use crate::providers::azure::arm::{ArmRequest, api_version, encode_segment, subscription_path};

const API: &str = api_version::AUTHORIZATION;

/// The namespace of role-assignment names. Changing it would make every re-run create
/// duplicates of existing assignments: never change it.
fn name_namespace() -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        b"https://vaultwire.dev/role-assignment",
    )
}

fn normalize_scope(scope: &str) -> String {
    scope.trim_end_matches('/').to_ascii_lowercase()
}

/// The deterministic name of the assignment of `role_definition_guid` to `principal_id` at
/// `scope`.
pub fn role_assignment_name(scope: &str, role_definition_guid: &str, principal_id: &str) -> Uuid {
    let key = format!(
        "{}\n{}\n{}",
        normalize_scope(scope),
        role_definition_guid.to_ascii_lowercase(),
        principal_id.to_ascii_lowercase()
    );
    Uuid::new_v5(&name_namespace(), key.as_bytes())
}

/// The full `roleDefinitionId` of a role in a subscription.
pub fn role_definition_id(subscription_id: &str, role: &Role) -> String {
    format!(
        "{}/providers/Microsoft.Authorization/roleDefinitions/{}",
        subscription_path(subscription_id),
        encode_segment(role.definition_guid())
    )
}

/// A role assignment as the plan wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAssignmentSpec {
    /// The resource path the role applies to (a vault's [`VaultId::path`]).
    ///
    /// [`VaultId::path`]: crate::providers::azure::keyvault::VaultId::path
    pub scope: String,
    pub subscription_id: String,
    pub role: Role,
    /// The principal's object ID.
    pub principal_id: String,
    /// Sent so ARM need not look the principal up, which fails for minutes after a managed
    /// identity is created (replication delay). `ServicePrincipal` for managed and workload
    /// identities.
    pub principal_type: PrincipalType,
}

impl RoleAssignmentSpec {
    pub fn name(&self) -> Uuid {
        role_assignment_name(&self.scope, self.role.definition_guid(), &self.principal_id)
    }

    pub fn role_definition_id(&self) -> String {
        role_definition_id(&self.subscription_id, &self.role)
    }
}

fn assignments_path(scope: &str) -> String {
    format!(
        "{}/providers/Microsoft.Authorization/roleAssignments",
        scope.trim_end_matches('/')
    )
}

/// PUT of the assignment under its deterministic name.
pub fn create_role_assignment(spec: &RoleAssignmentSpec) -> ArmRequest {
    ArmRequest::put(
        format!("{}/{}", assignments_path(&spec.scope), spec.name()),
        API,
        json!({
            "properties": {
                "roleDefinitionId": spec.role_definition_id(),
                "principalId": spec.principal_id,
                "principalType": spec.principal_type.as_str(),
                "description": "Managed by vaultwire",
            }
        }),
    )
}

pub fn get_role_assignment(scope: &str, name: &str) -> ArmRequest {
    ArmRequest::get(
        format!("{}/{}", assignments_path(scope), encode_segment(name)),
        API,
    )
}

/// DELETE by full assignment ID (`…/providers/Microsoft.Authorization/roleAssignments/{name}`).
pub fn delete_role_assignment(id: &str) -> ArmRequest {
    ArmRequest::delete(id.to_owned(), API)
}

/// The assignments at `scope` — with `principal_id`, that principal's assignments at, above
/// and below it (ARM's `principalId eq` filter).
pub fn list_role_assignments(scope: &str, principal_id: Option<&str>) -> ArmRequest {
    let request = ArmRequest::get(assignments_path(scope), API);
    match principal_id {
        Some(principal_id) => {
            request.with_query("$filter", format!("principalId eq '{principal_id}'"))
        }
        None => request.with_query("$filter", "atScope()"),
    }
}

/// GET of a role definition by GUID at `scope` (a subscription path works for built-in roles).
pub fn get_role_definition(scope: &str, guid: &str) -> ArmRequest {
    ArmRequest::get(
        format!(
            "{}/providers/Microsoft.Authorization/roleDefinitions/{}",
            scope.trim_end_matches('/'),
            encode_segment(guid)
        ),
        API,
    )
}

/// A live role assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAssignment {
    pub id: String,
    pub name: String,
    pub scope: String,
    pub role_definition_id: String,
    pub principal_id: String,
    pub principal_type: Option<String>,
}

impl RoleAssignment {
    pub fn from_document(value: &Value) -> Option<Self> {
        let text = |pointer: &str| value.pointer(pointer).and_then(Value::as_str);
        Some(Self {
            id: text("/id")?.to_owned(),
            name: text("/name").unwrap_or_default().to_owned(),
            scope: text("/properties/scope").unwrap_or_default().to_owned(),
            role_definition_id: text("/properties/roleDefinitionId")?.to_owned(),
            principal_id: text("/properties/principalId")?.to_owned(),
            principal_type: text("/properties/principalType").map(str::to_owned),
        })
    }

    /// The GUID at the end of `roleDefinitionId` (which ARM writes with or without the
    /// `/subscriptions/{id}` prefix).
    pub fn role_definition_guid(&self) -> &str {
        self.role_definition_id
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default()
    }

    pub fn is_at_scope(&self, scope: &str) -> bool {
        normalize_scope(&self.scope) == normalize_scope(scope)
    }

    /// Whether this is the assignment `spec` asks for.
    pub fn fulfils(&self, spec: &RoleAssignmentSpec) -> bool {
        self.is_at_scope(&spec.scope)
            && self
                .role_definition_guid()
                .eq_ignore_ascii_case(spec.role.definition_guid())
            && self.principal_id.eq_ignore_ascii_case(&spec.principal_id)
    }
}

/// A role definition (name and ID only; vaultwire never changes them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDefinition {
    pub id: String,
    /// The GUID.
    pub name: String,
    /// The display name, such as "Key Vault Secrets User".
    pub role_name: String,
}

impl RoleDefinition {
    pub fn from_document(value: &Value) -> Option<Self> {
        let text = |pointer: &str| value.pointer(pointer).and_then(Value::as_str);
        Some(Self {
            id: text("/id")?.to_owned(),
            name: text("/name").unwrap_or_default().to_owned(),
            role_name: text("/properties/roleName").unwrap_or_default().to_owned(),
        })
    }
}
