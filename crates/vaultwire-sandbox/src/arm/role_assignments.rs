//! Microsoft.Authorization/roleAssignments at any scope: PUT, GET, DELETE and list with
//! `$filter` (`atScope()`, `principalId eq '…'`, `assignedTo('…')`, joined by `and`).

use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::arm::call::Call;
use crate::arm::response;
use crate::context::later;
use crate::exchange::Resp;
use crate::model::RoleAssignment;
use crate::model::rbac::builtin_role;
use crate::world::{World, scope_contains};

const TYPE: &str = "Microsoft.Authorization/roleAssignments";

fn normalized_scope(scope: &str) -> String {
    let trimmed = scope.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        trimmed.to_owned()
    }
}

fn id_of(assignment: &RoleAssignment) -> String {
    let scope = if assignment.scope == "/" {
        ""
    } else {
        assignment.scope.as_str()
    };
    format!("{scope}/providers/{TYPE}/{}", assignment.name)
}

pub fn assignment_json(world: &World, a: &RoleAssignment) -> Value {
    json!({
        "id": id_of(a),
        "name": a.name,
        "type": TYPE,
        "properties": {
            "roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{}", world.subscription_id, a.role_definition),
            "principalId": a.principal_id,
            "principalType": a.principal_type,
            "scope": a.scope,
            "condition": a.condition,
            "conditionVersion": a.condition_version,
            "description": a.description,
            "createdOn": response::timestamp(a.created_on),
            "updatedOn": response::timestamp(a.updated_on),
            "createdBy": a.created_by,
            "updatedBy": a.created_by,
            "delegatedManagedIdentityResourceId": null,
        }
    })
}

fn find<'w>(world: &'w World, scope: &str, name: &str) -> Option<&'w RoleAssignment> {
    world
        .role_assignments
        .get(&name.to_ascii_lowercase())
        .filter(|a| a.scope.eq_ignore_ascii_case(&normalized_scope(scope)))
}

fn not_found(name: &str) -> Resp {
    response::error(
        StatusCode::NOT_FOUND,
        "RoleAssignmentNotFound",
        format!("The role assignment '{name}' is not found."),
    )
}

pub fn get(_call: &Call<'_>, world: &mut World, scope: &str, name: &str) -> Resp {
    match find(world, scope, name) {
        Some(a) => Resp::json(StatusCode::OK, &assignment_json(world, a)),
        None => not_found(name),
    }
}

pub fn delete(_call: &Call<'_>, world: &mut World, scope: &str, name: &str) -> Resp {
    if find(world, scope, name).is_none() {
        return Resp::empty(StatusCode::NO_CONTENT);
    }
    match world.role_assignments.remove(&name.to_ascii_lowercase()) {
        Some(a) => Resp::json(StatusCode::OK, &assignment_json(world, &a)),
        None => Resp::empty(StatusCode::NO_CONTENT),
    }
}

#[derive(Deserialize)]
struct Body {
    properties: BodyProperties,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BodyProperties {
    role_definition_id: String,
    principal_id: String,
    principal_type: Option<String>,
    description: Option<String>,
    condition: Option<String>,
    condition_version: Option<String>,
}

pub fn put(call: &Call<'_>, world: &mut World, scope: &str, name: &str) -> Resp {
    let scope = normalized_scope(scope);
    if uuid::Uuid::parse_str(name).is_err() {
        return response::error(
            StatusCode::BAD_REQUEST,
            "InvalidRoleAssignmentId",
            format!(
                "The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID."
            ),
        );
    }
    if !world.scope_exists(&scope) {
        return response::error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!("The scope '{scope}' of the role assignment does not exist."),
        );
    }
    let body: Body = match call.req.json() {
        Ok(body) => body,
        Err(error) => return response::invalid_body(error),
    };
    let p = body.properties;
    let role_guid = p
        .role_definition_id
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if builtin_role(&role_guid).is_none() {
        return response::error(
            StatusCode::BAD_REQUEST,
            "RoleDefinitionDoesNotExist",
            format!("The specified role definition with ID '{role_guid}' does not exist."),
        );
    }
    let Some(known_type) = world.principal_type(&p.principal_id) else {
        return principal_not_found(world, &p.principal_id);
    };
    // A user-assigned identity created moments ago is not replicated yet (azure-arm-facts.md).
    let replicating = world.identities.values().any(|identity| {
        identity.principal_id.eq_ignore_ascii_case(&p.principal_id)
            && identity
                .created
                .is_some_and(|created| call.ctx.now < later(created, call.ctx.principal_delay))
    });
    if replicating {
        return principal_not_found(world, &p.principal_id);
    }
    let key = name.to_ascii_lowercase();
    let same_triple = |a: &RoleAssignment| {
        a.scope.eq_ignore_ascii_case(&scope)
            && a.role_definition == role_guid
            && a.principal_id.eq_ignore_ascii_case(&p.principal_id)
    };
    if let Some(existing) = world.role_assignments.get(&key) {
        if same_triple(existing) {
            // UNVERIFIED: re-PUT of an identical assignment; answered like a read.
            return Resp::json(StatusCode::OK, &assignment_json(world, existing));
        }
        return response::error(
            StatusCode::CONFLICT,
            "RoleAssignmentUpdateNotPermitted",
            "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
        );
    }
    if world.role_assignments.values().any(same_triple) {
        return response::error(
            StatusCode::CONFLICT,
            "RoleAssignmentExists",
            "The role assignment already exists.",
        );
    }
    let assignment = RoleAssignment {
        name: key.clone(),
        scope,
        role_definition: role_guid,
        principal_id: p.principal_id,
        principal_type: p.principal_type.unwrap_or_else(|| known_type.to_owned()),
        description: p.description,
        condition: p.condition,
        condition_version: p.condition_version,
        created_on: call.ctx.now,
        updated_on: call.ctx.now,
        created_by: Some(call.caller.object_id.clone()),
    };
    let value = assignment_json(world, &assignment);
    world.role_assignments.insert(key, assignment);
    Resp::json(StatusCode::CREATED, &value)
}

/// A parsed `$filter`.
#[derive(Debug, Default, PartialEq, Eq)]
struct Filter {
    at_scope: bool,
    principal: Option<String>,
}

fn parse_filter(text: &str) -> Result<Filter, String> {
    let mut filter = Filter::default();
    for clause in text.split(" and ").map(str::trim).filter(|c| !c.is_empty()) {
        let lower = clause.to_ascii_lowercase();
        if lower == "atscope()" {
            filter.at_scope = true;
        } else if let Some(rest) = lower.strip_prefix("principalid eq ") {
            filter.principal = Some(rest.trim().trim_matches('\'').to_owned());
        } else if let Some(rest) = lower
            .strip_prefix("assignedto(")
            .and_then(|r| r.strip_suffix(')'))
        {
            filter.principal = Some(rest.trim().trim_matches('\'').to_owned());
        } else {
            return Err(clause.to_owned());
        }
    }
    Ok(filter)
}

/// List at `scope`: without `atScope()`, assignments at, above or below it; with it, at or
/// above only.
pub fn list(call: &Call<'_>, world: &mut World, scope: &str) -> Resp {
    let filter = match parse_filter(&call.req.query_param("$filter").unwrap_or_default()) {
        Ok(filter) => filter,
        Err(clause) => {
            return response::error(
                StatusCode::BAD_REQUEST,
                "UnsupportedQuery",
                format!(
                    "The filter '{clause}' is not supported. Supported filters are 'atScope()', 'principalId eq {{value}}' and 'assignedTo('{{value}}')'."
                ),
            );
        }
    };
    let scope = normalized_scope(scope);
    let value: Vec<Value> = world
        .role_assignments
        .values()
        .filter(|a| {
            let above = scope_contains(&a.scope, &scope);
            let below = scope_contains(&scope, &a.scope);
            (above || (!filter.at_scope && below))
                && filter
                    .principal
                    .as_ref()
                    .is_none_or(|p| a.principal_id.eq_ignore_ascii_case(p))
        })
        .map(|a| assignment_json(world, a))
        .collect();
    Resp::json(StatusCode::OK, &json!({"value": value}))
}

fn principal_not_found(world: &World, principal_id: &str) -> Resp {
    response::error(
        StatusCode::BAD_REQUEST,
        "PrincipalNotFound",
        format!(
            "Principal {} does not exist in the directory {}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype",
            principal_id.replace('-', ""),
            world.tenant_id
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_combine_at_scope_and_principal() {
        assert_eq!(
            parse_filter("atScope() and principalId eq 'ABC'"),
            Ok(Filter {
                at_scope: true,
                principal: Some("abc".into())
            })
        );
        assert_eq!(
            parse_filter("assignedTo('x')"),
            Ok(Filter {
                at_scope: false,
                principal: Some("x".into())
            })
        );
        assert!(parse_filter("roleName eq 'x'").is_err());
    }
}
