//! The state file's contents: what vaultwire created or adopted, and what it last saw.
//!
//! `state/<plan-stem>.state.json` is committed to git, so the format is pretty, sorted JSON with
//! one entry per address, and never holds a secret. `lineage` is set once when the file is
//! created and `serial` grows on every write; a saved change set records both to detect that
//! the state moved on (see `engine::saved`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::plan::address::Address;

/// The only state format this version reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// The largest serial vaultwire writes: half of what a `u64` holds, so a state that loads can be
/// written on for longer than anyone will run vaultwire, and the serial never wraps to go
/// backwards. A state at it (or beyond: vaultwire counts from 0 and never wrote one) is refused.
pub const MAX_SERIAL: u64 = i64::MAX as u64;

/// Managed properties of one resource: property name → JSON value, sorted.
pub type Attributes = BTreeMap<String, serde_json::Value>;

/// An attribute map from `(name, value)` pairs.
pub fn attribute_map<const N: usize>(pairs: [(&str, serde_json::Value); N]) -> Attributes {
    pairs
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

/// Reading an attribute map as the engine and the backends do.
pub trait AttributeText {
    /// The string attribute `key`; empty when it is missing or not a string.
    fn text(&self, key: &str) -> &str;
}

impl AttributeText for Attributes {
    fn text(&self, key: &str) -> &str {
        self.get(key)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateFile {
    pub format_version: u32,
    /// A UUID set when the file is created and never changed.
    pub lineage: String,
    /// Incremented on every write.
    pub serial: u64,
    pub resources: BTreeMap<Address, ResourceState>,
    /// The native Secrets `migrate --finish` retired, by `ADDON/NAMESPACE/NAME`: what
    /// `destroy` needs to write each back from Key Vault.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub migrated: BTreeMap<String, MigratedSecret>,
}

/// A native Secret whose values moved into Key Vault, as `migrate --finish` recorded it
/// (never a value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigratedSecret {
    /// The plan's `[addon]` key of its cluster.
    pub addon: String,
    pub namespace: String,
    pub name: String,
    #[serde(rename = "type")]
    pub secret_type: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The plan's `[vault]` key, and the vault's name.
    pub vault: String,
    pub vault_name: String,
    /// The class that carries it, such as `spc.payments-db-legacy`.
    pub spc: String,
    /// Each Secret key's Key Vault secret and how its value is stored there.
    pub keys: BTreeMap<String, MigratedKey>,
}

/// Where one key's value lives in Key Vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigratedKey {
    pub object: String,
    /// `utf-8` or `base64`.
    pub encoding: String,
}

impl StateFile {
    /// The serial of the next write: `None` once the state is at [`MAX_SERIAL`].
    pub fn next_serial(&self) -> Option<u64> {
        self.serial
            .checked_add(1)
            .filter(|next| *next <= MAX_SERIAL)
    }

    /// A new, empty state with a fresh lineage.
    pub fn new() -> Self {
        Self {
            format_version: FORMAT_VERSION,
            lineage: uuid::Uuid::new_v4().to_string(),
            serial: 0,
            resources: BTreeMap::new(),
            migrated: BTreeMap::new(),
        }
    }
}

impl Default for StateFile {
    fn default() -> Self {
        Self::new()
    }
}

/// What the state records for one address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceState {
    /// The resource's ID: an ARM resource ID, a role assignment ID, an access-policy entry ID
    /// (`<vault id>/accessPolicies/<object id>`), or `<cluster id>/namespaces/<ns>/<kind>/<name>`.
    pub id: String,
    /// The managed properties as last applied or seen live.
    pub attributes: Attributes,
    /// Values Azure assigned that other resources use, such as the add-on identity.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub derived: BTreeMap<String, serde_json::Value>,
    /// The live version marker last seen: ARM `eTag` or Kubernetes `resourceVersion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Addresses this resource depended on when it was written, so it can be destroyed in
    /// order even after it left the plan file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Address>,
    /// Behaviour the plan asked for that is not a property of the resource (a vault's
    /// `on_destroy`, an add-on's `kube_context`), kept so it holds after the plan drops it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub settings: Attributes,
}
