//! `spc.KEY`: a SecretProviderClass, rendered exactly as the Azure provider of the Secrets
//! Store CSI driver parses it.
//!
//! The manifest carries `provider: azure` and string parameters: the identity
//! (`useVMManagedIdentity` + `userAssignedIdentityID` for the add-on identity, `clientID` for a
//! workload identity), `keyvaultName`, `tenantId`, `cloudName`, and `objects` — a YAML string
//! whose `array:` holds one YAML string per Key Vault object (the nesting the provider expects).

use serde_json::{Map, Value, json};

use crate::diff::change::UNKNOWN;
use crate::diff::compute::{Schema, equal};
use crate::plan::model::{
    Cloud, ObjectEncoding, ObjectFormat, Plan, Spc, SpcIdentity, SpcObject, SyncSecret,
};
use crate::resources::context::{Context, Derived};
use crate::state::model::Attributes;

pub const API_VERSION: &str = "secrets-store.csi.x-k8s.io/v1";
pub const KIND: &str = "SecretProviderClass";

pub const SCHEMA: Schema = Schema {
    forces_replacement,
    same: equal,
};

/// A SecretProviderClass cannot move between clusters, namespaces or names.
fn forces_replacement(property: &str, _desired: &Value, _live: &Value) -> bool {
    property != "manifest"
}

/// The `cloudName` parameter the provider understands.
pub fn cloud_name(cloud: Cloud) -> &'static str {
    match cloud {
        Cloud::AzureCloud | Cloud::Sandbox => "AzurePublicCloud",
        Cloud::AzureChinaCloud => "AzureChinaCloud",
        Cloud::AzureUsGovernment => "AzureUSGovernmentCloud",
    }
}

/// The desired properties, or `None` when the SPC's add-on or vault is not in the plan
/// (validation reports that first).
pub fn desired(plan: &Plan, spc: &Spc, context: &Context, derived: &Derived) -> Option<Attributes> {
    let addon = plan.addons.get(spc.addon.as_str())?;
    let vault = plan.vaults.get(spc.vault.as_str())?;
    let manifest = manifest(spc, &vault.name, context, derived);
    Some(
        [
            ("cluster", json!(addon.cluster.value)),
            ("resource_group", json!(addon.resource_group.value)),
            ("namespace", json!(spc.namespace.value)),
            ("name", json!(spc.name.value)),
            ("manifest", manifest),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect(),
    )
}

/// The whole SecretProviderClass object vaultwire applies.
pub fn manifest(spc: &Spc, vault_name: &str, context: &Context, derived: &Derived) -> Value {
    let mut parameters = Map::new();
    let mut parameter = |key: &str, value: &str| {
        parameters.insert(key.to_owned(), Value::String(value.to_owned()));
    };
    parameter("usePodIdentity", "false");
    match &spc.identity.value {
        SpcIdentity::Addon(addon) => {
            let client_id = derived
                .addon_identities
                .get(addon.as_str())
                .map_or(UNKNOWN, |identity| identity.client_id.as_str());
            parameter("useVMManagedIdentity", "true");
            parameter("userAssignedIdentityID", client_id);
        }
        SpcIdentity::WorkloadIdentity { client_id } => {
            parameter("clientID", &client_id.to_ascii_lowercase());
        }
    }
    parameter("keyvaultName", vault_name);
    parameter("tenantId", &context.tenant_id);
    parameter("cloudName", cloud_name(context.cloud));
    parameter("objects", &objects_parameter(&spc.objects));
    let mut spec = Map::new();
    spec.insert("provider".to_owned(), json!("azure"));
    spec.insert("parameters".to_owned(), Value::Object(parameters));
    if !spc.sync.is_empty() {
        spec.insert(
            "secretObjects".to_owned(),
            Value::Array(spc.sync.iter().map(secret_object).collect()),
        );
    }
    json!({
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": spc.name.value, "namespace": spc.namespace.value},
        "spec": spec,
    })
}

/// The `objects` parameter: `array:` followed by one block-scalar YAML document per object.
pub fn objects_parameter(objects: &[SpcObject]) -> String {
    let mut text = String::from("array:\n");
    for object in objects {
        text.push_str("  - |\n");
        for (key, value) in object_fields(object) {
            text.push_str(&format!("    {key}: {}\n", yaml_scalar(&value)));
        }
    }
    text
}

fn object_fields(object: &SpcObject) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("objectName", object.name.value.clone()),
        ("objectType", object.object_type.as_str().to_owned()),
        ("objectVersion", object.version.clone().unwrap_or_default()),
    ];
    if let Some(alias) = &object.alias {
        fields.push(("objectAlias", alias.value.clone()));
    }
    if let Some(format) = object.format {
        let format = match format {
            ObjectFormat::Pem => "pem",
            ObjectFormat::Pfx => "pfx",
        };
        fields.push(("objectFormat", format.to_owned()));
    }
    if let Some(encoding) = object.encoding {
        let encoding = match encoding {
            ObjectEncoding::Utf8 => "utf-8",
            ObjectEncoding::Hex => "hex",
            ObjectEncoding::Base64 => "base64",
        };
        fields.push(("objectEncoding", encoding.to_owned()));
    }
    if let Some(permission) = &object.file_permission {
        fields.push(("filePermission", permission.clone()));
    }
    fields
}

/// A scalar as YAML: plain when unambiguous, double-quoted otherwise (empty strings, octal-
/// looking permissions like `0644`, anything YAML would read as another type).
fn yaml_scalar(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && value.starts_with(|c: char| c.is_ascii_alphabetic())
        && !matches!(
            value.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        );
    if plain {
        value.to_owned()
    } else {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

fn secret_object(sync: &SyncSecret) -> Value {
    let mut object = Map::new();
    object.insert("secretName".to_owned(), json!(sync.secret_name.value));
    object.insert("type".to_owned(), json!(sync.secret_type.value));
    if !sync.labels.is_empty() {
        object.insert("labels".to_owned(), json!(sync.labels));
    }
    if !sync.annotations.is_empty() {
        object.insert("annotations".to_owned(), json!(sync.annotations));
    }
    object.insert(
        "data".to_owned(),
        Value::Array(
            sync.data
                .iter()
                .map(|data| json!({"objectName": data.object.value, "key": data.key.value}))
                .collect(),
        ),
    );
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_quoted_only_when_yaml_would_misread_them() {
        assert_eq!(yaml_scalar("db-password"), "db-password");
        assert_eq!(yaml_scalar(""), "\"\"");
        assert_eq!(yaml_scalar("0644"), "\"0644\"");
        assert_eq!(yaml_scalar("true"), "\"true\"");
        assert_eq!(yaml_scalar("123abc"), "\"123abc\"");
    }
}
