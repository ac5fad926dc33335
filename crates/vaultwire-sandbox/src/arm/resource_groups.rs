//! Subscriptions (read-only: there is one) and resource groups (GET, PUT, list).

use std::collections::BTreeMap;

use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::arm::call::Call;
use crate::arm::response;
use crate::exchange::Resp;
use crate::ids;
use crate::model::ResourceGroup;
use crate::world::World;

fn subscription_json(world: &World) -> Value {
    json!({
        "id": format!("/subscriptions/{}", world.subscription_id),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": world.subscription_id,
        "tenantId": world.tenant_id,
        "displayName": ids::SUBSCRIPTION_NAME,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off"
        }
    })
}

pub fn list_subscriptions(_call: &Call<'_>, world: &mut World) -> Resp {
    Resp::json(
        StatusCode::OK,
        &json!({"value": [subscription_json(world)]}),
    )
}

pub fn get_subscription(_call: &Call<'_>, world: &mut World) -> Resp {
    Resp::json(StatusCode::OK, &subscription_json(world))
}

pub fn group_json(world: &World, group: &ResourceGroup) -> Value {
    let mut value = json!({
        "id": format!("/subscriptions/{}/resourceGroups/{}", world.subscription_id, group.name),
        "name": group.name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": group.location,
        "tags": group.tags,
        "properties": {"provisioningState": "Succeeded"}
    });
    if let (Some(managed_by), Some(object)) = (&group.managed_by, value.as_object_mut()) {
        object.insert("managedBy".to_owned(), json!(managed_by));
    }
    value
}

pub fn list(_call: &Call<'_>, world: &mut World) -> Resp {
    let value: Vec<Value> = world
        .resource_groups
        .values()
        .map(|group| group_json(world, group))
        .collect();
    Resp::json(StatusCode::OK, &json!({"value": value}))
}

pub fn get(_call: &Call<'_>, world: &mut World, name: &str) -> Resp {
    match world.resource_groups.get(&name.to_ascii_lowercase()) {
        Some(group) => Resp::json(StatusCode::OK, &group_json(world, group)),
        None => response::resource_group_not_found(name),
    }
}

/// HEAD (ResourceGroups_CheckExistence): 204 or 404, no body.
pub fn exists(world: &mut World, name: &str) -> Resp {
    if world
        .resource_groups
        .contains_key(&name.to_ascii_lowercase())
    {
        Resp::empty(StatusCode::NO_CONTENT)
    } else {
        Resp::empty(StatusCode::NOT_FOUND)
    }
}

#[derive(Deserialize)]
struct GroupPut {
    location: Option<String>,
    tags: Option<BTreeMap<String, String>>,
}

pub fn put(call: &Call<'_>, world: &mut World, name: &str) -> Resp {
    let body: GroupPut = match call.req.json() {
        Ok(body) => body,
        Err(error) => return response::invalid_body(error),
    };
    let valid = !name.is_empty()
        && name.len() <= 90
        && !name.ends_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'));
    if !valid {
        return response::error(
            StatusCode::BAD_REQUEST,
            "InvalidResourceGroup",
            format!(
                "The provided resource group name '{name}' has these invalid characters. The name can only be a letter, digit, '-', '.', '(', ')' or '_'."
            ),
        );
    }
    let Some(location) = body.location else {
        return response::error(
            StatusCode::BAD_REQUEST,
            "LocationRequired",
            "The location property is required for this definition.",
        );
    };
    let key = name.to_ascii_lowercase();
    let existing = world.resource_groups.get(&key).cloned();
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    if let Some(existing) = &existing
        && !existing.location.eq_ignore_ascii_case(&location)
    {
        return response::error(
            StatusCode::CONFLICT,
            "InvalidResourceGroupLocation",
            format!(
                "Invalid resource group location '{location}'. The Resource group already exists in location '{}'.",
                existing.location
            ),
        );
    }
    let group = ResourceGroup {
        name: existing
            .as_ref()
            .map_or_else(|| name.to_owned(), |g| g.name.clone()),
        location: location.to_ascii_lowercase(),
        tags: body.tags.unwrap_or_default(),
        managed_by: existing.and_then(|g| g.managed_by),
    };
    let value = group_json(world, &group);
    world.resource_groups.insert(key, group);
    Resp::json(status, &value)
}
