//! The state as it is written: pretty JSON with every object's keys sorted and a final newline,
//! so the file is deterministic and git diffs stay small.
//!
//! Serialized straight from the model through a sorted view of each resource rather than
//! through `serde_json::Value` (which sorts by rebuilding the whole document as maps first),
//! and assembled from per-resource entries, so the writer of a run re-serializes only the
//! resources that changed: the state is written after every completed resource, and for
//! hundreds of resources re-serializing everything was most of the cost. The result must be
//! exactly the bytes the `Value` route gives; tests hold it to that. Owns the text only; where
//! and how it is written is `store.rs`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::plan::address::Address;
use crate::state::model::{Attributes, ResourceState, StateFile};

/// A resource's fields in sorted order, skipped when empty as the model skips them.
#[derive(Serialize)]
struct SortedResource<'a> {
    attributes: &'a Attributes,
    #[serde(skip_serializing_if = "<[Address]>::is_empty")]
    dependencies: &'a [Address],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    derived: &'a BTreeMap<String, serde_json::Value>,
    id: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    settings: &'a Attributes,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: &'a Option<String>,
}

impl<'a> From<&'a ResourceState> for SortedResource<'a> {
    fn from(record: &'a ResourceState) -> Self {
        // Destructured so a new field cannot be forgotten here.
        let ResourceState {
            id,
            attributes,
            derived,
            version,
            dependencies,
            settings,
        } = record;
        Self {
            attributes,
            dependencies,
            derived,
            id,
            settings,
            version,
        }
    }
}

/// The state as written: pretty JSON, sorted keys, a final newline.
pub fn to_text(state: &StateFile) -> String {
    let entries: BTreeMap<String, String> = state
        .resources
        .iter()
        .map(|(address, record)| (address.to_string(), entry(record)))
        .collect();
    assemble(state, &entries)
}

/// One resource's object as it sits in the file, under `"resources"` (indented for that
/// place), without its key. [`assemble`] puts the entries together, so a writer that keeps
/// them serializes only the resources that changed.
pub fn entry(record: &ResourceState) -> String {
    // Serializing borrowed strings, maps and `Value`s cannot fail; JSON strings hold no raw
    // newline, so indenting line by line is exact.
    let text = serde_json::to_string_pretty(&SortedResource::from(record)).unwrap_or_default();
    let mut indented = String::with_capacity(text.len() + text.len() / 8);
    for (index, line) in text.lines().enumerate() {
        if index > 0 {
            indented.push('\n');
            indented.push_str(ENTRY_INDENT);
        }
        indented.push_str(line);
    }
    indented
}

/// Where an entry sits: inside the document and inside `"resources"`.
const ENTRY_INDENT: &str = "    ";

/// The file from `state`'s own fields and `entries` (address as written → [`entry`]), exactly
/// as serializing the sorted state in one go would write it.
pub fn assemble(state: &StateFile, entries: &BTreeMap<String, String>) -> String {
    let quoted = |text: &str| serde_json::to_string(text).unwrap_or_default();
    let size: usize = entries
        .iter()
        .map(|(key, text)| key.len() + text.len() + 12)
        .sum();
    let mut out = String::with_capacity(size + 256);
    out.push_str("{\n  \"format_version\": ");
    out.push_str(&state.format_version.to_string());
    out.push_str(",\n  \"lineage\": ");
    out.push_str(&quoted(&state.lineage));
    if !state.migrated.is_empty() {
        // Few and small: sorted through `Value`, serialized whole, indented for their place.
        let sorted = serde_json::to_value(&state.migrated).unwrap_or_default();
        let text = serde_json::to_string_pretty(&sorted).unwrap_or_default();
        out.push_str(",\n  \"migrated\": ");
        for (index, line) in text.lines().enumerate() {
            if index > 0 {
                out.push_str("\n  ");
            }
            out.push_str(line);
        }
    }
    out.push_str(",\n  \"resources\": ");
    if entries.is_empty() {
        out.push_str("{}");
    } else {
        out.push_str("{\n");
        for (index, (key, text)) in entries.iter().enumerate() {
            if index > 0 {
                out.push_str(",\n");
            }
            out.push_str(ENTRY_INDENT);
            out.push_str(&quoted(key));
            out.push_str(": ");
            out.push_str(text);
        }
        out.push_str("\n  }");
    }
    out.push_str(",\n  \"serial\": ");
    out.push_str(&state.serial.to_string());
    out.push_str("\n}\n");
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The definition the views replace: through `Value`, whose maps sort every key.
    fn through_value(state: &StateFile) -> String {
        let value = serde_json::to_value(state).unwrap();
        let mut text = serde_json::to_string_pretty(&value).unwrap();
        text.push('\n');
        text
    }

    fn rich_state() -> StateFile {
        let mut state = StateFile::new();
        state.serial = 12;
        state.resources.insert(
            Address::spc("payments-db"),
            ResourceState {
                id: "/subscriptions/s/.../secretproviderclasses/payments-db".into(),
                attributes: [
                    ("namespace".to_owned(), json!("payments")),
                    (
                        "manifest".to_owned(),
                        json!({"spec": {"provider": "azure", "parameters": {"b": "1", "a": "\"quoted\"\n"}}, "kind": "SecretProviderClass"}),
                    ),
                ]
                .into(),
                derived: BTreeMap::new(),
                version: Some("42".into()),
                dependencies: vec![Address::addon("demo"), Address::vault("payments")],
                settings: BTreeMap::new(),
            },
        );
        state.resources.insert(
            Address::addon("demo"),
            ResourceState {
                id: "/subscriptions/s/.../managedClusters/aks-demo".into(),
                attributes: [("enabled".to_owned(), json!(true))].into(),
                derived: [(
                    "identity".to_owned(),
                    json!({"objectId": "o", "clientId": "c"}),
                )]
                .into(),
                version: None,
                dependencies: Vec::new(),
                settings: [("kube_context".to_owned(), json!("ctx"))].into(),
            },
        );
        state.resources.insert(
            Address::vault("a-vault"),
            ResourceState {
                id: "/v".into(),
                attributes: BTreeMap::new(),
                derived: BTreeMap::new(),
                version: None,
                dependencies: Vec::new(),
                settings: BTreeMap::new(),
            },
        );
        state
    }

    #[test]
    fn the_text_is_byte_for_byte_what_sorting_through_value_gives() {
        let mut migrated = rich_state();
        migrated.migrated.insert(
            "demo/payments/db".to_owned(),
            crate::state::model::MigratedSecret {
                addon: "demo".to_owned(),
                namespace: "payments".to_owned(),
                name: "db".to_owned(),
                secret_type: "Opaque".to_owned(),
                labels: BTreeMap::from([("app".to_owned(), "api".to_owned())]),
                vault: "payments".to_owned(),
                vault_name: "kv-x".to_owned(),
                spc: "spc.payments-db".to_owned(),
                keys: BTreeMap::from([(
                    "password".to_owned(),
                    crate::state::model::MigratedKey {
                        object: "payments--db--password".to_owned(),
                        encoding: "utf-8".to_owned(),
                    },
                )]),
            },
        );
        for state in [StateFile::new(), rich_state(), migrated] {
            assert_eq!(to_text(&state), through_value(&state));
        }
    }

    #[test]
    fn entries_kept_from_before_assemble_to_the_same_text() {
        let mut state = rich_state();
        let mut entries: BTreeMap<String, String> = state
            .resources
            .iter()
            .map(|(address, record)| (address.to_string(), entry(record)))
            .collect();
        let changed = Address::vault("a-vault");
        let record = state.resources.get_mut(&changed).unwrap();
        record.version = Some("7".into());
        entries.insert(changed.to_string(), entry(record));
        state.serial += 1;
        assert_eq!(assemble(&state, &entries), through_value(&state));
    }
}
