//! The shapes Key Vault answers with: SecretBundle, DeletedSecretBundle, attributes and the
//! common errors, with the fields of the published examples.

use http::StatusCode;
use serde_json::{Value, json};

use crate::exchange::Resp;
use crate::keyvault_data::handler::kv_error;
use crate::model::{Secret, SecretVersion, Vault};

pub fn valid_name(name: &str) -> bool {
    (1..=127).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

pub fn not_found(name: &str) -> Resp {
    kv_error(
        StatusCode::NOT_FOUND,
        "SecretNotFound",
        format!(
            "A secret with (name/id) {name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
        ),
    )
}

pub fn recovery_level(vault: &Vault) -> &'static str {
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

pub fn attributes(vault: &Vault, version: &SecretVersion) -> Value {
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
pub fn bundle(
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

pub fn deleted_bundle(base: &str, vault: &Vault, secret: &Secret) -> Option<Value> {
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

pub fn deleted_not_found(name: &str) -> Resp {
    kv_error(
        StatusCode::NOT_FOUND,
        "SecretNotFound",
        format!("Deleted Secret not found: {name}"),
    )
}
