//! Soft delete of secrets and what follows: the deleted secret, the list of them, purge
//! (refused under purge protection) and recovery.

use http::StatusCode;
use serde_json::{Value, json};

use crate::exchange::Resp;
use crate::keyvault_data::access::SecretOp;
use crate::keyvault_data::bundle::{bundle, deleted_bundle, deleted_not_found, not_found};
use crate::keyvault_data::call::SecretCall;
use crate::keyvault_data::secrets::page;
use crate::world::World;

pub fn delete(call: &SecretCall<'_>, world: &mut World, name: &str) -> Resp {
    let vault = match call.authorized(world, SecretOp::Delete, name) {
        Ok(vault) => vault,
        Err(denied) => return denied,
    };
    let key = name.to_ascii_lowercase();
    let Some(mut secret) = vault
        .secrets
        .get(&key)
        .filter(|s| s.deleted.is_none())
        .cloned()
    else {
        return not_found(name);
    };
    secret.deleted = Some(call.ctx.now);
    let answer = deleted_bundle(&call.base(&vault), &vault, &secret).unwrap_or(Value::Null);
    if let Some(stored) = world.vaults.get_mut(&call.vault_key) {
        stored.secrets.insert(key, secret);
    }
    Resp::json(StatusCode::OK, &answer)
}

pub fn get_deleted(call: &SecretCall<'_>, world: &mut World, name: &str) -> Resp {
    let vault = match call.authorized(world, SecretOp::GetDeleted, name) {
        Ok(vault) => vault,
        Err(denied) => return denied,
    };
    match vault
        .secrets
        .get(&name.to_ascii_lowercase())
        .and_then(|s| deleted_bundle(&call.base(&vault), &vault, s))
    {
        Some(answer) => Resp::json(StatusCode::OK, &answer),
        None => deleted_not_found(name),
    }
}

pub fn list_deleted(call: &SecretCall<'_>, world: &mut World) -> Resp {
    let vault = match call.authorized(world, SecretOp::ListDeleted, "") {
        Ok(vault) => vault,
        Err(denied) => return denied,
    };
    let base = call.base(&vault);
    let items = vault
        .secrets
        .values()
        .filter_map(|s| deleted_bundle(&base, &vault, s))
        .collect();
    page(call, &base, "deletedsecrets", items)
}

pub fn purge(call: &SecretCall<'_>, world: &mut World, name: &str) -> Resp {
    let vault = match call.authorized(world, SecretOp::Purge, name) {
        Ok(vault) => vault,
        Err(denied) => return denied,
    };
    let key = name.to_ascii_lowercase();
    if vault.secrets.get(&key).is_none_or(|s| s.deleted.is_none()) {
        return deleted_not_found(name);
    }
    if vault.properties.enable_purge_protection == Some(true) {
        return Resp::json(
            StatusCode::FORBIDDEN,
            &json!({"error": {"code": "Forbidden", "message": "Operation \"purge\" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed."}}),
        );
    }
    if let Some(stored) = world.vaults.get_mut(&call.vault_key) {
        stored.secrets.remove(&key);
    }
    Resp::empty(StatusCode::NO_CONTENT)
}

pub fn recover(call: &SecretCall<'_>, world: &mut World, name: &str) -> Resp {
    let vault = match call.authorized(world, SecretOp::Recover, name) {
        Ok(vault) => vault,
        Err(denied) => return denied,
    };
    let key = name.to_ascii_lowercase();
    let Some(mut secret) = vault
        .secrets
        .get(&key)
        .filter(|s| s.deleted.is_some())
        .cloned()
    else {
        return deleted_not_found(name);
    };
    secret.deleted = None;
    let Some(version) = secret.versions.get(&secret.current).cloned() else {
        return deleted_not_found(name);
    };
    let answer = bundle(
        &call.base(&vault),
        &vault,
        &secret,
        &secret.current,
        &version,
        false,
    );
    if let Some(stored) = world.vaults.get_mut(&call.vault_key) {
        stored.secrets.insert(key, secret);
    }
    Resp::json(StatusCode::OK, &answer)
}
