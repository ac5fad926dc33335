//! SecretProviderClasses rendered exactly as the Azure provider of the Secrets Store CSI
//! driver parses them. Pure: the Kubernetes client (`providers::kube::SpcClient`) only sends
//! the documents rendered here.
//!
//! The provider reads `spec.parameters` (all strings): `usePodIdentity`, `useVMManagedIdentity`
//! plus `userAssignedIdentityID` (the add-on identity's client ID) or `clientID` (workload
//! identity), `keyvaultName`, `tenantID`, `cloudName`, and `objects` — a YAML *string* whose
//! `array:` lists YAML *strings*, each one KeyVaultObject (`objectName`, `objectType`, …).
//! `secretObjects` (from the plan's `sync`) makes the driver mirror mounted objects into a
//! Kubernetes Secret.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::plan::model::{ObjectEncoding, ObjectFormat, Spc, SpcObject, SyncSecret};

/// The `app.kubernetes.io/managed-by` label on objects vaultwire applies.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "vaultwire");

/// The SecretProviderClass CRD's group, version, kind and plural.
pub const GROUP: &str = "secrets-store.csi.x-k8s.io";
pub const VERSION: &str = "v1";
pub const KIND: &str = "SecretProviderClass";
pub const PLURAL: &str = "secretproviderclasses";

/// Which identity the provider uses to read the vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpcIdentityRef {
    /// The add-on's user-assigned managed identity, by client ID.
    AddonIdentity { client_id: String },
    /// A workload identity, by client ID; pods must run as its federated service account.
    WorkloadIdentity { client_id: String },
}

/// A SecretProviderClass with every reference resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpcSpec {
    pub namespace: String,
    pub name: String,
    pub keyvault_name: String,
    pub tenant_id: String,
    /// `AzurePublicCloud`, `AzureChinaCloud`, `AzureUSGovernmentCloud`.
    pub cloud_name: String,
    pub identity: SpcIdentityRef,
    pub objects: Vec<SpcObject>,
    pub sync: Vec<SyncSecret>,
}

impl SpcSpec {
    /// The plan's `[spc.KEY]` with its vault name, tenant, cloud and identity resolved.
    pub fn from_plan(
        spc: &Spc,
        keyvault_name: &str,
        tenant_id: &str,
        cloud_name: &str,
        identity: SpcIdentityRef,
    ) -> Self {
        Self {
            namespace: spc.namespace.value.clone(),
            name: spc.name.value.clone(),
            keyvault_name: keyvault_name.to_owned(),
            tenant_id: tenant_id.to_owned(),
            cloud_name: cloud_name.to_owned(),
            identity,
            objects: spc.objects.clone(),
            sync: spc.sync.clone(),
        }
    }

    /// `spec.parameters`, sorted.
    pub fn parameters(&self) -> BTreeMap<String, String> {
        let mut parameters = BTreeMap::new();
        let mut set = |key: &str, value: &str| {
            parameters.insert(key.to_owned(), value.to_owned());
        };
        set("usePodIdentity", "false");
        match &self.identity {
            SpcIdentityRef::AddonIdentity { client_id } => {
                set("useVMManagedIdentity", "true");
                set("userAssignedIdentityID", client_id);
            }
            SpcIdentityRef::WorkloadIdentity { client_id } => set("clientID", client_id),
        }
        set("keyvaultName", &self.keyvault_name);
        // The provider reads `tenantID` and logs the older `tenantId` as deprecated
        // (pkg/provider/types/parameters.go, provider issue #857); AKS's docs still show the
        // older spelling.
        set("tenantID", &self.tenant_id);
        set("cloudName", &self.cloud_name);
        set("objects", &render_objects(&self.objects));
        parameters
    }

    fn secret_objects(&self) -> Vec<Value> {
        self.sync
            .iter()
            .map(|secret| {
                let mut object = Map::new();
                object.insert("secretName".into(), json!(secret.secret_name.value));
                object.insert("type".into(), json!(secret.secret_type.value));
                if !secret.labels.is_empty() {
                    object.insert("labels".into(), json!(secret.labels));
                }
                if !secret.annotations.is_empty() {
                    object.insert("annotations".into(), json!(secret.annotations));
                }
                let data: Vec<Value> = secret
                    .data
                    .iter()
                    .map(|data| json!({"objectName": data.object.value, "key": data.key.value}))
                    .collect();
                object.insert("data".into(), json!(data));
                Value::Object(object)
            })
            .collect()
    }

    /// The whole object to server-side apply.
    pub fn manifest(&self) -> Value {
        let mut spec = Map::new();
        spec.insert("provider".into(), "azure".into());
        let parameters: Map<String, Value> = self
            .parameters()
            .into_iter()
            .map(|(key, value)| (key, Value::String(value)))
            .collect();
        spec.insert("parameters".into(), Value::Object(parameters));
        if !self.sync.is_empty() {
            spec.insert("secretObjects".into(), Value::Array(self.secret_objects()));
        }
        envelope(
            self.name.as_str().into(),
            self.namespace.as_str().into(),
            Some(MANAGED_BY.1.into()),
            Value::Object(spec),
        )
    }

    /// The manifest as YAML, as `kubectl get -o yaml` would show it.
    pub fn to_yaml(&self) -> String {
        serde_norway::to_string(&self.manifest()).unwrap_or_default()
    }
}

/// A SecretProviderClass as vaultwire applies it and compares it: `apiVersion`, `kind`,
/// `metadata` (`name`, `namespace`, and the `app.kubernetes.io/managed-by` label when there
/// is one) and `spec`. Built from its parts: `json!` would serialize each part into a new
/// value once more, for every SecretProviderClass of a plan.
pub fn envelope(name: Value, namespace: Value, managed_by: Option<String>, spec: Value) -> Value {
    let mut metadata = Map::new();
    metadata.insert("name".into(), name);
    metadata.insert("namespace".into(), namespace);
    if let Some(value) = managed_by {
        let mut labels = Map::new();
        labels.insert(MANAGED_BY.0.into(), Value::String(value));
        metadata.insert("labels".into(), Value::Object(labels));
    }
    let mut manifest = Map::new();
    manifest.insert("apiVersion".into(), format!("{GROUP}/{VERSION}").into());
    manifest.insert("kind".into(), KIND.into());
    manifest.insert("metadata".into(), Value::Object(metadata));
    manifest.insert("spec".into(), spec);
    Value::Object(manifest)
}

/// One KeyVaultObject, in the provider's field names and order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KeyVaultObject<'a> {
    object_name: &'a str,
    object_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    object_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object_alias: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object_format: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object_encoding: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_permission: Option<&'a str>,
}

impl KeyVaultObject<'_> {
    /// The fields serde writes, in order, without the absent ones.
    fn fields(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("objectName", Some(self.object_name)),
            ("objectType", Some(self.object_type)),
            ("objectVersion", self.object_version),
            ("objectAlias", self.object_alias),
            ("objectFormat", self.object_format),
            ("objectEncoding", self.object_encoding),
            ("filePermission", self.file_permission),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some((key, value?)))
    }

    /// The object as a YAML mapping, exactly as `serde_norway` writes it. When every value is a
    /// word YAML can only read as a string, the mapping is written here directly: libyaml's
    /// emitter, twice per SecretProviderClass, was half the CPU of diffing a plan of hundreds.
    fn to_yaml(&self) -> String {
        if self.fields().all(|(_, value)| is_plain_word(value)) {
            let mut yaml = String::with_capacity(96);
            for (key, value) in self.fields() {
                yaml.push_str(key);
                yaml.push_str(": ");
                yaml.push_str(value);
                yaml.push('\n');
            }
            return yaml;
        }
        // serde_norway quotes whatever YAML would misread (`'0644'`, names like `true`).
        serde_norway::to_string(self).unwrap_or_default()
    }
}

/// Words a YAML 1.1 or 1.2 reader takes for a boolean, null or special float: quoted by
/// `serde_norway`, so never written plain.
const NOT_PLAIN: [&str; 12] = [
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "inf", "infinity", "nan",
];

/// Whether `value` reads back as the same string without quotes: a letter, then letters,
/// digits, `-` and `_`, and not one of [`NOT_PLAIN`] (numbers start with a digit, a sign or
/// a dot). Anything else goes through `serde_norway`.
fn is_plain_word(value: &str) -> bool {
    value.starts_with(|c: char| c.is_ascii_alphabetic())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !NOT_PLAIN
            .iter()
            .any(|word| value.eq_ignore_ascii_case(word))
}

impl<'a> KeyVaultObject<'a> {
    fn from_plan(object: &'a SpcObject) -> Self {
        Self {
            object_name: &object.name.value,
            object_type: object.object_type.as_str(),
            object_version: object.version.as_deref(),
            object_alias: object.alias.as_ref().map(|alias| alias.value.as_str()),
            object_format: object.format.map(|format| match format {
                ObjectFormat::Pem => "pem",
                ObjectFormat::Pfx => "pfx",
            }),
            object_encoding: object.encoding.map(|encoding| match encoding {
                ObjectEncoding::Utf8 => "utf-8",
                ObjectEncoding::Hex => "hex",
                ObjectEncoding::Base64 => "base64",
            }),
            file_permission: object.file_permission.as_deref(),
        }
    }
}

/// The `objects` parameter: `array:` and, per object, a block-scalar YAML string.
pub fn render_objects(objects: &[SpcObject]) -> String {
    if objects.is_empty() {
        return "array: []\n".to_owned();
    }
    let mut out = String::from("array:\n");
    for object in objects {
        let yaml = KeyVaultObject::from_plan(object).to_yaml();
        out.push_str("  - |\n");
        for line in yaml.lines() {
            out.push_str("    ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
#[path = "spc_document_tests.rs"]
mod tests;
