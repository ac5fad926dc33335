//! Secret operations: set (new version), get (latest or a version), list (paged), versions,
//! update, delete (soft), deleted secrets, purge and recover. Bundles carry the fields of the
//! spec examples.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::sandbox::arm::vaults::vault_uri;
use crate::sandbox::auth::Caller;
use crate::sandbox::context::Ctx;
use crate::sandbox::exchange::{Req, Resp};
use crate::sandbox::keyvault_data::access::{SecretOp, authorize};
use crate::sandbox::keyvault_data::handler::kv_error;
use crate::sandbox::model::{Secret, SecretVersion, Vault};
use crate::sandbox::world::{World, derived_uuid};

pub struct SecretCall<'a> {
    pub ctx: &'a Ctx<'a>,
    pub req: &'a Req,
    pub caller: &'a Caller,
    pub vault_key: String,
}

impl SecretCall<'_> {
    fn vault<'w>(&self, world: &'w World) -> Option<&'w Vault> {
        world.vaults.get(&self.vault_key)
    }

    fn base(&self, vault: &Vault) -> String {
        vault_uri(self.ctx.endpoint, &vault.name)
    }

    /// The vault, once the caller is allowed `op` on `object`.
    fn authorized(&self, world: &World, op: SecretOp, object: &str) -> Result<Vault, Resp> {
        let vault = self.vault(world).cloned().ok_or_else(|| {
            kv_error(
                StatusCode::NOT_FOUND,
                "VaultNotFound",
                "The vault no longer exists.",
            )
        })?;
        authorize(self.ctx, world, &vault, self.caller, op, object)?;
        Ok(vault)
    }
}

fn valid_name(name: &str) -> bool {
    (1..=127).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn not_found(name: &str) -> Resp {
    kv_error(
        StatusCode::NOT_FOUND,
        "SecretNotFound",
        format!(
            "A secret with (name/id) {name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
        ),
    )
}

fn recovery_level(vault: &Vault) -> &'static str {
    let protected = vault.properties.enable_purge_protection == Some(true);
    match (
        vault.properties.soft_delete_retention_in_days >= 90,
        protected,
    ) {
        (true, true) => "Recoverable",
        (true, false) => "Recoverable+Purgeable",
        (false, true) => "CustomizedRecoverable",
        (false, false) => "CustomizedRecoverable+Purgeable",
    }
}

fn attributes(vault: &Vault, version: &SecretVersion) -> Value {
    let mut attributes = json!({
        "enabled": version.enabled,
        "created": version.created,
        "updated": version.updated,
        "recoveryLevel": recovery_level(vault),
        "recoverableDays": vault.properties.soft_delete_retention_in_days,
    });
    if let Some(object) = attributes.as_object_mut() {
        if let Some(nbf) = version.not_before {
            object.insert("nbf".to_owned(), json!(nbf));
        }
        if let Some(exp) = version.expires {
            object.insert("exp".to_owned(), json!(exp));
        }
    }
    attributes
}

/// A SecretBundle; `with_value` is false for the metadata-only answers (update, recover).
fn bundle(
    base: &str,
    vault: &Vault,
    secret: &Secret,
    id: &str,
    version: &SecretVersion,
    with_value: bool,
) -> Value {
    let mut value = json!({
        "id": format!("{base}secrets/{}/{id}", secret.name),
        "attributes": attributes(vault, version),
        "tags": version.tags,
    });
    if let Some(object) = value.as_object_mut() {
        if with_value {
            object.insert("value".to_owned(), json!(version.value));
        }
        if let Some(content_type) = &version.content_type {
            object.insert("contentType".to_owned(), json!(content_type));
        }
        if let Some(previous) = &version.previous_version {
            object.insert("previousVersion".to_owned(), json!(previous));
        }
    }
    value
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SetBody {
    value: Option<String>,
    content_type: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    attributes: Option<AttributesInput>,
}

#[derive(Deserialize, Default)]
struct AttributesInput {
    enabled: Option<bool>,
    nbf: Option<i64>,
    exp: Option<i64>,
}

pub fn set(call: &SecretCall<'_>, world: &mut World, name: &str) -> Resp {
    if !valid_name(name) {
        return kv_error(
            StatusCode::BAD_REQUEST,
            "BadParameter",
            format!("The request URI contains an invalid name: {name}"),
        );
    }
    let vault = match call.authorized(world, SecretOp::Set, name) {
        Ok(vault) => vault,
        Err(denied) => return denied,
    };
    let body: SetBody = match call.req.json() {
        Ok(body) => body,
        Err(error) => {
            return kv_error(
                StatusCode::BAD_REQUEST,
                "BadParameter",
                format!("The request body is not valid: {error}"),
            );
        }
    };
    let Some(value) = body.value else {
        return kv_error(
            StatusCode::BAD_REQUEST,
            "BadParameter",
            "Property 'value' is required.",
        );
    };
    let key = name.to_ascii_lowercase();
    let existing = vault.secrets.get(&key).cloned();
    if existing.as_ref().is_some_and(|s| s.deleted.is_some()) {
        return Resp::json(
            StatusCode::CONFLICT,
            &json!({"error": {
                "code": "Conflict",
                "message": format!("Secret {name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged."),
                "innererror": {"code": "ObjectIsDeletedButRecoverable"}
            }}),
        );
    }
    let mut secret = existing.unwrap_or(Secret {
        name: name.to_owned(),
        versions: BTreeMap::new(),
        current: String::new(),
        version_count: 0,
        deleted: None,
    });
    secret.version_count += 1;
    let id = derived_uuid(
        world.seed,
        &format!(
            "secret:{}/{key}#{}",
            vault.name.to_ascii_lowercase(),
            secret.version_count
        ),
    )
    .replace('-', "");
    let now = call.ctx.now.as_second();
    let attributes = body.attributes.unwrap_or_default();
    let version = SecretVersion {
        value,
        content_type: body.content_type,
        tags: body.tags.unwrap_or_default(),
        enabled: attributes.enabled.unwrap_or(true),
        not_before: attributes.nbf,
        expires: attributes.exp,
        created: now,
        updated: now,
        previous_version: (!secret.current.is_empty()).then(|| secret.current.clone()),
    };
    secret.versions.insert(id.clone(), version.clone());
    secret.current.clone_from(&id);
    let answer = bundle(&call.base(&vault), &vault, &secret, &id, &version, true);
    if let Some(stored) = world.vaults.get_mut(&call.vault_key) {
        stored.secrets.insert(key, secret);
    }
    Resp::json(StatusCode::OK, &answer)
}

pub fn get(call: &SecretCall<'_>, world: &mut World, name: &str, version: Option<&str>) -> Resp {
    let vault = match call.authorized(world, SecretOp::Get, name) {
        Ok(vault) => vault,
        Err(denied) => return denied,
    };
    let Some(secret) = vault
        .secrets
        .get(&name.to_ascii_lowercase())
        .filter(|s| s.deleted.is_none())
    else {
        return not_found(name);
    };
    let id = version
        .filter(|v| !v.is_empty())
        .map_or_else(|| secret.current.clone(), str::to_ascii_lowercase);
    let Some(found) = secret.versions.get(&id) else {
        return not_found(&format!("{name}/{id}"));
    };
    if !found.enabled {
        return Resp::json(
            StatusCode::FORBIDDEN,
            &json!({"error": {"code": "Forbidden", "message": "Operation get is not allowed on a disabled secret.", "innererror": {"code": "SecretDisabled"}}}),
        );
    }
    Resp::json(
        StatusCode::OK,
        &bundle(&call.base(&vault), &vault, secret, &id, found, true),
    )
}

pub fn update(call: &SecretCall<'_>, world: &mut World, name: &str, version: &str) -> Resp {
    let vault = match call.authorized(world, SecretOp::Update, name) {
        Ok(vault) => vault,
        Err(denied) => return denied,
    };
    let body: SetBody = match call.req.json() {
        Ok(body) => body,
        Err(error) => {
            return kv_error(
                StatusCode::BAD_REQUEST,
                "BadParameter",
                format!("The request body is not valid: {error}"),
            );
        }
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
    let id = if version.is_empty() {
        secret.current.clone()
    } else {
        version.to_ascii_lowercase()
    };
    let Some(found) = secret.versions.get_mut(&id) else {
        return not_found(&format!("{name}/{id}"));
    };
    if let Some(content_type) = body.content_type {
        found.content_type = Some(content_type);
    }
    if let Some(tags) = body.tags {
        found.tags = tags;
    }
    if let Some(attributes) = body.attributes {
        found.enabled = attributes.enabled.unwrap_or(found.enabled);
        found.not_before = attributes.nbf.or(found.not_before);
        found.expires = attributes.exp.or(found.expires);
    }
    found.updated = call.ctx.now.as_second();
    let found = found.clone();
    let answer = bundle(&call.base(&vault), &vault, &secret, &id, &found, false);
    if let Some(stored) = world.vaults.get_mut(&call.vault_key) {
        stored.secrets.insert(key, secret);
    }
    Resp::json(StatusCode::OK, &answer)
}

/// Items of a list page: `maxresults` (1-25, default 25) from the position in `$skiptoken`,
/// with a `nextLink` carrying the api-version when more remain.
fn page(call: &SecretCall<'_>, base: &str, path: &str, items: Vec<Value>) -> Resp {
    let max = call
        .req
        .query_param("maxresults")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(25)
        .clamp(1, 25);
    let start = call
        .req
        .query_param("$skiptoken")
        .and_then(|t| URL_SAFE_NO_PAD.decode(t).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.parse::<usize>().ok())
        .unwrap_or(0);
    let end = (start + max).min(items.len());
    let value: Vec<Value> = items
        .get(start..end)
        .map(<[Value]>::to_vec)
        .unwrap_or_default();
    let next = (end < items.len()).then(|| {
        let version = call.req.query_param("api-version").unwrap_or_default();
        format!(
            "{base}{path}?api-version={version}&$skiptoken={}&maxresults={max}",
            URL_SAFE_NO_PAD.encode(end.to_string())
        )
    });
    Resp::json(StatusCode::OK, &json!({"value": value, "nextLink": next}))
}

fn item(base: &str, vault: &Vault, secret: &Secret, id: Option<&str>) -> Option<Value> {
    let version = secret.versions.get(id.unwrap_or(&secret.current))?;
    let mut value = json!({
        "id": match id { Some(id) => format!("{base}secrets/{}/{id}", secret.name), None => format!("{base}secrets/{}", secret.name) },
        "attributes": attributes(vault, version),
        "tags": version.tags,
    });
    if let (Some(content_type), Some(object)) = (&version.content_type, value.as_object_mut()) {
        object.insert("contentType".to_owned(), json!(content_type));
    }
    Some(value)
}

pub fn list(call: &SecretCall<'_>, world: &mut World) -> Resp {
    let vault = match call.authorized(world, SecretOp::List, "") {
        Ok(vault) => vault,
        Err(denied) => return denied,
    };
    let base = call.base(&vault);
    let items = vault
        .secrets
        .values()
        .filter(|s| s.deleted.is_none())
        .filter_map(|s| item(&base, &vault, s, None))
        .collect();
    page(call, &base, "secrets", items)
}

pub fn list_versions(call: &SecretCall<'_>, world: &mut World, name: &str) -> Resp {
    let vault = match call.authorized(world, SecretOp::List, name) {
        Ok(vault) => vault,
        Err(denied) => return denied,
    };
    let Some(secret) = vault
        .secrets
        .get(&name.to_ascii_lowercase())
        .filter(|s| s.deleted.is_none())
    else {
        return not_found(name);
    };
    let base = call.base(&vault);
    let items = secret
        .versions
        .keys()
        .filter_map(|id| item(&base, &vault, secret, Some(id)))
        .collect();
    page(
        call,
        &base,
        &format!("secrets/{}/versions", secret.name),
        items,
    )
}

fn deleted_bundle(base: &str, vault: &Vault, secret: &Secret) -> Option<Value> {
    let deleted = secret.deleted?;
    let version = secret.versions.get(&secret.current)?;
    let mut value = bundle(base, vault, secret, &secret.current, version, false);
    let purge =
        deleted.as_second() + i64::from(vault.properties.soft_delete_retention_in_days) * 86_400;
    if let Some(object) = value.as_object_mut() {
        object.insert(
            "recoveryId".to_owned(),
            json!(format!("{base}deletedsecrets/{}", secret.name)),
        );
        object.insert("deletedDate".to_owned(), json!(deleted.as_second()));
        object.insert("scheduledPurgeDate".to_owned(), json!(purge));
    }
    Some(value)
}

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

fn deleted_not_found(name: &str) -> Resp {
    kv_error(
        StatusCode::NOT_FOUND,
        "SecretNotFound",
        format!("Deleted Secret not found: {name}"),
    )
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
