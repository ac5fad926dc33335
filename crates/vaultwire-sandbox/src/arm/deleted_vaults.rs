//! Microsoft.KeyVault/deletedVaults: list, get and purge (an ARM long-running operation that
//! finishes after the configured LRO duration; purge protection refuses it).

use http::StatusCode;
use serde_json::{Value, json};

use crate::arm::call::Call;
use crate::arm::response;
use crate::exchange::Resp;
use crate::model::{DeletedVault, Operation, OperationKind};
use crate::world::World;

fn deleted_json(world: &World, deleted: &DeletedVault) -> Value {
    let vault = &deleted.vault;
    json!({
        "id": format!(
            "/subscriptions/{}/providers/Microsoft.KeyVault/locations/{}/deletedVaults/{}",
            world.subscription_id, vault.location, vault.name
        ),
        "name": vault.name,
        "type": "Microsoft.KeyVault/deletedVaults",
        "properties": {
            "vaultId": world.vault_id(vault),
            "location": vault.location,
            "tags": vault.tags,
            "deletionDate": deleted.deletion_date.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "scheduledPurgeDate": deleted.scheduled_purge_date.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "purgeProtectionEnabled": vault.properties.enable_purge_protection == Some(true),
        }
    })
}

pub fn list(_call: &Call<'_>, world: &mut World) -> Resp {
    let value: Vec<Value> = world
        .deleted_vaults
        .values()
        .map(|deleted| deleted_json(world, deleted))
        .collect();
    Resp::json(StatusCode::OK, &json!({"value": value}))
}

fn find<'w>(world: &'w World, location: &str, name: &str) -> Option<&'w DeletedVault> {
    world
        .deleted_vaults
        .get(&name.to_ascii_lowercase())
        .filter(|deleted| deleted.vault.location.eq_ignore_ascii_case(location))
}

fn not_found(location: &str, name: &str) -> Resp {
    response::error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!(
            "The Resource 'Microsoft.KeyVault/locations/{location}/deletedVaults/{name}' under resource group '<null>' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

pub fn get(_call: &Call<'_>, world: &mut World, location: &str, name: &str) -> Resp {
    match find(world, location, name) {
        Some(deleted) => Resp::json(StatusCode::OK, &deleted_json(world, deleted)),
        None => not_found(location, name),
    }
}

/// Starts a purge: 202 with `Location` (an operation-result URL) and `Retry-After`.
pub fn purge(call: &Call<'_>, world: &mut World, location: &str, name: &str) -> Resp {
    let Some(deleted) = find(world, location, name).cloned() else {
        return not_found(location, name);
    };
    if deleted.vault.properties.enable_purge_protection == Some(true) {
        // UNVERIFIED code and status; the message is the one Key Vault gives for purging
        // under purge protection.
        return response::error(
            StatusCode::CONFLICT,
            "MethodNotAllowed",
            "Operation \"purge\" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.",
        );
    }
    let key = name.to_ascii_lowercase();
    let id = match &deleted.purging {
        Some(id) => id.clone(),
        None => {
            let id = world.next_uuid("purge");
            world.operations.insert(
                id.clone(),
                Operation {
                    id: id.clone(),
                    kind: OperationKind::PurgeVault { vault: key.clone() },
                    started: call.ctx.now,
                    completes: call.ctx.after(call.ctx.lro_duration),
                    finished: None,
                },
            );
            if let Some(entry) = world.deleted_vaults.get_mut(&key) {
                entry.purging = Some(id.clone());
            }
            id
        }
    };
    let location_url = call.url(&format!(
        "/subscriptions/{}/providers/Microsoft.KeyVault/locations/{}/operationResults/{id}?api-version={}",
        world.subscription_id, deleted.vault.location, call.api_version
    ));
    Resp::empty(StatusCode::ACCEPTED)
        .with_header("location", location_url)
        .with_header("retry-after", retry_after(call).to_string())
}

/// Seconds a poller should wait: the LRO duration, rounded up, at most 10.
pub fn retry_after(call: &Call<'_>) -> u64 {
    let millis = u64::try_from(call.ctx.lro_duration.as_millis()).unwrap_or(u64::MAX);
    millis.div_ceil(1000).min(10)
}
