//! Microsoft.Authorization/roleDefinitions: the built-in roles, by ID or listed with
//! `$filter=roleName eq '…'` (how azure-cli resolves a role name).

use http::StatusCode;
use serde_json::{Value, json};

use crate::arm::call::Call;
use crate::arm::response;
use crate::exchange::Resp;
use crate::model::BuiltinRole;
use crate::model::rbac::{BUILTIN_ROLES, builtin_role};
use crate::world::World;

/// A built-in role as ARM returns it at any scope: its ID is the subscription-level one
/// (`/subscriptions/{sub}/providers/…/roleDefinitions/{guid}`, as the GetRoleDefinitionByName
/// example shows for a scope argument), the same ID role assignments carry — az matches role
/// names to assignments by it.
fn definition_json(world: &World, role: &BuiltinRole) -> Value {
    json!({
        "id": format!(
            "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{}",
            world.subscription_id, role.id
        ),
        "name": role.id,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": role.name,
            "type": "BuiltInRole",
            "description": role.description,
            "assignableScopes": ["/"],
            "permissions": [{
                "actions": role.actions,
                "notActions": [],
                "dataActions": role.data_actions,
                "notDataActions": [],
            }],
            "createdOn": "2020-05-19T17:52:46.2349235Z",
            "updatedOn": "2025-01-14T16:00:00.0000000Z",
            "createdBy": null,
            "updatedBy": null,
        }
    })
}

pub fn get(_call: &Call<'_>, world: &mut World, id: &str) -> Resp {
    match builtin_role(id) {
        Some(role) => Resp::json(StatusCode::OK, &definition_json(world, role)),
        None => response::error(
            StatusCode::NOT_FOUND,
            "RoleDefinitionDoesNotExist",
            format!("The specified role definition with ID '{id}' does not exist."),
        ),
    }
}

pub fn list(call: &Call<'_>, world: &mut World) -> Resp {
    let filter = call.req.query_param("$filter").unwrap_or_default();
    let wanted = filter
        .split(" and ")
        .find_map(|clause| {
            let clause = clause.trim();
            clause
                .get(..11)
                .filter(|head| head.eq_ignore_ascii_case("rolename eq"))
                .and_then(|_| clause.get(11..))
        })
        .map(|name| name.trim().trim_matches('\'').to_owned());
    let value: Vec<Value> = BUILTIN_ROLES
        .iter()
        .filter(|role| {
            wanted
                .as_ref()
                .is_none_or(|name| role.name.eq_ignore_ascii_case(name))
        })
        .map(|role| definition_json(world, role))
        .collect();
    Resp::json(StatusCode::OK, &json!({"value": value}))
}
