//! Secret operations on live secrets: set (a new version), get (latest or a version), update,
//! and the paged lists of secrets and versions.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::exchange::Resp;
use crate::keyvault_data::access::SecretOp;
use crate::keyvault_data::bundle::{attributes, bundle, not_found, valid_name};
use crate::keyvault_data::call::SecretCall;
use crate::keyvault_data::handler::kv_error;
use crate::model::{Secret, SecretVersion, Vault};
use crate::world::{World, derived_uuid};

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
pub fn page(call: &SecretCall<'_>, base: &str, path: &str, items: Vec<Value>) -> Resp {
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
