//! User-assigned managed identities (`Microsoft.ManagedIdentity/userAssignedIdentities`): PUT,
//! GET, DELETE and the lists, in the shape of the UserAssignedIdentities examples. The add-on
//! identities AKS creates live in the same table. An identity is a service principal: it can be
//! granted roles and, through its federated credentials, sign in (`entra.rs`).

use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::arm::call::Call;
use crate::arm::response;
use crate::exchange::Resp;
use crate::model::ManagedIdentity;
use crate::seed::create_identity;
use crate::world::World;

const TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";

pub fn document(world: &World, identity: &ManagedIdentity) -> Value {
    json!({
        "id": identity.resource_id(&world.subscription_id),
        "name": identity.name,
        "type": TYPE,
        "location": identity.location,
        "tags": identity.tags,
        "properties": {
            "tenantId": world.tenant_id,
            "principalId": identity.principal_id,
            "clientId": identity.client_id,
        },
    })
}

/// The identity `rg/name`, matched case-insensitively.
pub fn find<'w>(world: &'w World, rg: &str, name: &str) -> Option<&'w ManagedIdentity> {
    world.identities.values().find(|identity| {
        identity.resource_group.eq_ignore_ascii_case(rg) && identity.name.eq_ignore_ascii_case(name)
    })
}

pub fn not_found(rg: &str, name: &str) -> Resp {
    response::resource_not_found(TYPE, name, rg)
}

pub fn list(_call: &Call<'_>, world: &World, rg: Option<&str>) -> Resp {
    let value: Vec<Value> = world
        .identities
        .values()
        .filter(|identity| rg.is_none_or(|rg| identity.resource_group.eq_ignore_ascii_case(rg)))
        .map(|identity| document(world, identity))
        .collect();
    Resp::json(StatusCode::OK, &json!({"value": value}))
}

pub fn get(_call: &Call<'_>, world: &World, rg: &str, name: &str) -> Resp {
    match find(world, rg, name) {
        Some(identity) => Resp::json(StatusCode::OK, &document(world, identity)),
        None => not_found(rg, name),
    }
}

#[derive(Debug, Deserialize)]
struct IdentityPut {
    location: Option<String>,
    #[serde(default)]
    tags: std::collections::BTreeMap<String, String>,
}

pub fn put(call: &Call<'_>, world: &mut World, rg: &str, name: &str) -> Resp {
    let body: IdentityPut = match call.req.json() {
        Ok(body) => body,
        Err(error) => return response::invalid_body(error),
    };
    let Some(group) = world.resource_groups.get(&rg.to_ascii_lowercase()).cloned() else {
        return response::resource_group_not_found(rg);
    };
    // The RP's rule: 3-128 letters, digits, hyphens and underscores, starting with a letter
    // or digit.
    let valid = (3..=128).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return response::error(
            StatusCode::BAD_REQUEST,
            "InvalidResourceName",
            format!(
                "Resource name {name} is invalid. The name can be between 3 and 128 characters long and can contain only letters, digits, hyphens and underscores, starting with a letter or digit."
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
    let existing = find(world, rg, name).cloned();
    let created = existing.is_none();
    let mut identity = match existing {
        Some(identity) => identity,
        None => {
            let mut identity = create_identity(world, &group.name, name);
            identity.created = Some(call.ctx.now);
            identity
        }
    };
    identity.location = location;
    identity.tags = body.tags;
    let key = identity
        .resource_id(&world.subscription_id)
        .to_ascii_lowercase();
    world.identities.insert(key, identity.clone());
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Resp::json(status, &document(world, &identity))
}

pub fn delete(_call: &Call<'_>, world: &mut World, rg: &str, name: &str) -> Resp {
    let Some(identity) = find(world, rg, name).cloned() else {
        return Resp::empty(StatusCode::NO_CONTENT);
    };
    let key = identity
        .resource_id(&world.subscription_id)
        .to_ascii_lowercase();
    world.identities.remove(&key);
    Resp::empty(StatusCode::OK)
}
