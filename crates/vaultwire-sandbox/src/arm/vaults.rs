//! Microsoft.KeyVault/vaults: create or update (PUT), read, PATCH, soft delete, access-policy
//! updates and name availability.

use std::collections::BTreeMap;

use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::arm::call::Call;
use crate::arm::vault_input::{
    CreateMode, PropertiesInput, VaultBody, invalid_name, merged_properties, new_properties,
    valid_vault_name,
};
use crate::arm::{api_version, response};
use crate::context::Ctx;
use crate::exchange::Resp;
use crate::model::{AccessPolicyEntry, DeletedVault, Vault};
use crate::world::World;

const TYPE: &str = "Microsoft.KeyVault/vaults";

/// A vault as ARM returns it, with every field of the spec examples.
pub fn vault_json(world: &World, ctx: &Ctx<'_>, vault: &Vault) -> Value {
    let p = &vault.properties;
    let mut properties = json!({
        "sku": p.sku,
        "tenantId": p.tenant_id,
        "networkAcls": p.network_acls,
        "accessPolicies": p.access_policies,
        "privateEndpointConnections": [],
        "enabledForDeployment": p.enabled_for_deployment,
        "enabledForDiskEncryption": p.enabled_for_disk_encryption,
        "enabledForTemplateDeployment": p.enabled_for_template_deployment,
        "enableSoftDelete": p.enable_soft_delete,
        "softDeleteRetentionInDays": p.soft_delete_retention_in_days,
        "enableRbacAuthorization": p.enable_rbac_authorization,
        // Only premium vaults backed by a managed HSM pool have one; the field is always
        // present in the examples, so it is sent as null.
        "hsmPoolResourceId": null,
        "vaultUri": ctx.vault_uri(&vault.name),
        "provisioningState": "Succeeded",
        "publicNetworkAccess": p.public_network_access,
    });
    if let (Some(true), Some(object)) = (p.enable_purge_protection, properties.as_object_mut()) {
        object.insert("enablePurgeProtection".to_owned(), json!(true));
    }
    json!({
        "id": world.vault_id(vault),
        "name": vault.name,
        "type": TYPE,
        "location": vault.location,
        "tags": vault.tags,
        "systemData": {
            "createdBy": vault.created_by,
            "createdByType": "Application",
            "createdAt": response::timestamp(vault.created_at),
            "lastModifiedBy": vault.modified_by,
            "lastModifiedByType": "Application",
            "lastModifiedAt": response::timestamp(vault.modified_at),
        },
        "properties": properties,
    })
}

pub fn not_found(rg: &str, name: &str) -> Resp {
    response::resource_not_found(TYPE, name, rg)
}

pub fn get(call: &Call<'_>, world: &mut World, rg: &str, name: &str) -> Resp {
    match world.vault(rg, name) {
        Some(vault) => Resp::json(StatusCode::OK, &vault_json(world, call.ctx, vault)),
        None => not_found(rg, name),
    }
}

pub fn list(call: &Call<'_>, world: &mut World, rg: Option<&str>) -> Resp {
    if let Some(rg) = rg
        && !world.resource_groups.contains_key(&rg.to_ascii_lowercase())
    {
        return response::resource_group_not_found(rg);
    }
    let value: Vec<Value> = world
        .vaults
        .values()
        .filter(|vault| rg.is_none_or(|rg| vault.resource_group.eq_ignore_ascii_case(rg)))
        .map(|vault| vault_json(world, call.ctx, vault))
        .collect();
    Resp::json(StatusCode::OK, &json!({"value": value}))
}

pub fn put(call: &Call<'_>, world: &mut World, rg: &str, name: &str) -> Resp {
    if !valid_vault_name(name) {
        return invalid_name(name);
    }
    let Some(group) = world.resource_groups.get(&rg.to_ascii_lowercase()).cloned() else {
        return response::resource_group_not_found(rg);
    };
    let body: VaultBody = match call.req.json() {
        Ok(body) => body,
        Err(error) => return response::invalid_body(error),
    };
    let Some(location) = body.location.clone() else {
        return response::error(
            StatusCode::BAD_REQUEST,
            "LocationRequired",
            "The location property is required for this definition.",
        );
    };
    let input = body.properties.clone().unwrap_or_default();
    let key = name.to_ascii_lowercase();
    let now = call.ctx.now;
    if let Some(existing) = world.vaults.get(&key).cloned() {
        if !existing.resource_group.eq_ignore_ascii_case(&group.name) {
            return already_exists(name);
        }
        let properties = match merged_properties(&existing.properties, &input) {
            Ok(properties) => properties,
            Err(error) => return error,
        };
        let vault = Vault {
            tags: body.tags.clone().unwrap_or(existing.tags.clone()),
            policy_granted_at: granted_at(&existing, &properties.access_policies, now),
            properties,
            modified_at: now,
            modified_by: call.actor(),
            ..existing
        };
        let value = vault_json(world, call.ctx, &vault);
        world.vaults.insert(key, vault);
        return Resp::json(StatusCode::OK, &value);
    }
    if let Some(deleted) = world.deleted_vaults.get(&key).cloned() {
        if input.create_mode != Some(CreateMode::Recover) {
            if !deleted
                .vault
                .resource_group
                .eq_ignore_ascii_case(&group.name)
            {
                return already_exists(name);
            }
            return response::error(
                StatusCode::CONFLICT,
                "ConflictError",
                "A vault with the same name already exists in deleted state. You need to either recover or purge existing key vault. Follow this link https://go.microsoft.com/fwlink/?linkid=2149745 for more information on soft delete.",
            );
        }
        return recover(call, world, deleted, &group.name, &body);
    }
    if input.create_mode == Some(CreateMode::Recover) {
        // UNVERIFIED: the real code and status for recovering a vault that was never deleted.
        return response::error(
            StatusCode::NOT_FOUND,
            "DeletedVaultNotFound",
            format!(
                "A deleted vault named '{name}' was not found in location '{location}'; there is nothing to recover."
            ),
        );
    }
    let rbac_default = api_version::vault_rbac_default(call.api_version);
    let properties = match new_properties(&input, rbac_default) {
        Ok(properties) => properties,
        Err(error) => return error,
    };
    let mut vault = Vault {
        name: name.to_owned(),
        resource_group: group.name.clone(),
        location: location.to_ascii_lowercase().replace(' ', ""),
        tags: body.tags.clone().unwrap_or_default(),
        properties,
        created_at: now,
        created_by: call.actor(),
        modified_at: now,
        modified_by: call.actor(),
        secrets: BTreeMap::new(),
        policy_granted_at: BTreeMap::new(),
    };
    vault.policy_granted_at = granted_at(&vault, &vault.properties.access_policies, now);
    let value = vault_json(world, call.ctx, &vault);
    world.vaults.insert(key, vault);
    Resp::json(StatusCode::CREATED, &value)
}

fn recover(
    call: &Call<'_>,
    world: &mut World,
    deleted: DeletedVault,
    rg: &str,
    body: &VaultBody,
) -> Resp {
    if deleted.purging.is_some() {
        return response::error(
            StatusCode::CONFLICT,
            "ConflictError",
            format!(
                "The vault '{}' is being purged and cannot be recovered.",
                deleted.vault.name
            ),
        );
    }
    let mut vault = deleted.vault;
    vault.resource_group = rg.to_owned();
    if let Some(tags) = &body.tags {
        vault.tags.clone_from(tags);
    }
    vault.modified_at = call.ctx.now;
    vault.modified_by = call.actor();
    let key = vault.name.to_ascii_lowercase();
    world.deleted_vaults.remove(&key);
    let value = vault_json(world, call.ctx, &vault);
    world.vaults.insert(key, vault);
    Resp::json(StatusCode::CREATED, &value)
}

fn already_exists(name: &str) -> Resp {
    // UNVERIFIED status: 409, like every other name conflict.
    response::error(
        StatusCode::CONFLICT,
        "VaultAlreadyExists",
        format!(
            "The vault name '{name}' is already in use. Vault names are globally unique so it is possible that the name is already taken. If you are sure that the vault name was not taken then it is possible that a vault with the same name was recently deleted but not purged after being placed in a recoverable state. If the vault is in a recoverable state then the vault will need to be explicitly purged before being recreated. Follow this link https://go.microsoft.com/fwlink/?linkid=2147740 for more information on soft delete."
        ),
    )
}

/// The grant times of `policies`: kept for principals whose permissions did not grow, `now`
/// for new or widened entries (the propagation delay starts again).
pub fn granted_at(
    vault: &Vault,
    policies: &[AccessPolicyEntry],
    now: jiff::Timestamp,
) -> BTreeMap<String, jiff::Timestamp> {
    policies
        .iter()
        .map(|entry| {
            let key = entry.object_id.to_ascii_lowercase();
            let before = vault
                .properties
                .access_policies
                .iter()
                .find(|old| old.same_identity(entry));
            let widened = before.is_none_or(|old| {
                entry
                    .permissions
                    .secrets
                    .iter()
                    .any(|p| !old.permissions.secrets.contains(p))
            });
            let time = match vault.policy_granted_at.get(&key) {
                Some(time) if !widened => *time,
                _ => now,
            };
            (key, time)
        })
        .collect()
}

#[derive(Deserialize)]
struct PatchBody {
    tags: Option<BTreeMap<String, String>>,
    properties: Option<PropertiesInput>,
}

pub fn patch(call: &Call<'_>, world: &mut World, rg: &str, name: &str) -> Resp {
    let Some(existing) = world.vault(rg, name).cloned() else {
        return not_found(rg, name);
    };
    let body: PatchBody = match call.req.json() {
        Ok(body) => body,
        Err(error) => return response::invalid_body(error),
    };
    let input = body.properties.unwrap_or_default();
    let properties = match merged_properties(&existing.properties, &input) {
        Ok(properties) => properties,
        Err(error) => return error,
    };
    let vault = Vault {
        tags: body.tags.unwrap_or(existing.tags.clone()),
        policy_granted_at: granted_at(&existing, &properties.access_policies, call.ctx.now),
        properties,
        modified_at: call.ctx.now,
        modified_by: call.actor(),
        ..existing
    };
    let value = vault_json(world, call.ctx, &vault);
    world.vaults.insert(name.to_ascii_lowercase(), vault);
    Resp::json(StatusCode::OK, &value)
}

/// DELETE soft-deletes: the vault (with its secrets) moves to deletedVaults until purged or
/// its retention ends.
pub fn delete(call: &Call<'_>, world: &mut World, rg: &str, name: &str) -> Resp {
    if world.vault(rg, name).is_none() {
        return Resp::empty(StatusCode::NO_CONTENT);
    }
    let key = name.to_ascii_lowercase();
    let Some(vault) = world.vaults.remove(&key) else {
        return Resp::empty(StatusCode::NO_CONTENT);
    };
    let days = i64::from(vault.properties.soft_delete_retention_in_days);
    let deleted = DeletedVault {
        scheduled_purge_date: call
            .ctx
            .now
            .checked_add(jiff::SignedDuration::from_hours(24 * days))
            .unwrap_or(call.ctx.now),
        deletion_date: call.ctx.now,
        purging: None,
        vault,
    };
    world.deleted_vaults.insert(key, deleted);
    Resp::empty(StatusCode::OK)
}

#[derive(Deserialize)]
struct NameCheck {
    name: String,
}

pub fn check_name(call: &Call<'_>, world: &mut World) -> Resp {
    let body: NameCheck = match call.req.json() {
        Ok(body) => body,
        Err(error) => return response::invalid_body(error),
    };
    let key = body.name.to_ascii_lowercase();
    let value = if !valid_vault_name(&body.name) {
        json!({"nameAvailable": false, "reason": "AccountNameInvalid", "message": format!("Vault name '{}' is invalid. A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens.", body.name)})
    } else if world.vaults.contains_key(&key) || world.deleted_vaults.contains_key(&key) {
        json!({"nameAvailable": false, "reason": "AlreadyExists", "message": format!("The vault name '{}' is already in use.", body.name)})
    } else {
        json!({"nameAvailable": true})
    };
    Resp::json(StatusCode::OK, &value)
}
