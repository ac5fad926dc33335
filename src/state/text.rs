//! The state as it is written: pretty JSON with every object's keys sorted and a final newline,
//! so the file is deterministic and git diffs stay small.
//!
//! Serialized straight from the model through sorted views rather than through
//! `serde_json::Value` (which sorts by rebuilding the whole document as maps first): the state
//! is written after every completed resource, and for hundreds of resources that copy was most
//! of the cost. The views must give exactly the bytes the `Value` route gives; a test holds
//! them to it. Owns the text only; where and how it is written is `store.rs`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::plan::address::Address;
use crate::state::model::{Attributes, ResourceState, StateFile};

/// The state's fields in sorted order.
#[derive(Serialize)]
struct SortedState<'a> {
    format_version: u32,
    lineage: &'a str,
    /// By the address as written (`kind.key`), as a JSON map sorts it.
    resources: BTreeMap<String, SortedResource<'a>>,
    serial: u64,
}

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
    let StateFile {
        format_version,
        lineage,
        serial,
        resources,
    } = state;
    let sorted = SortedState {
        format_version: *format_version,
        lineage,
        resources: resources
            .iter()
            .map(|(address, record)| (address.to_string(), SortedResource::from(record)))
            .collect(),
        serial: *serial,
    };
    // Serializing borrowed strings, maps and `Value`s cannot fail.
    let mut text = serde_json::to_string_pretty(&sorted).unwrap_or_default();
    text.push('\n');
    text
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
        for state in [StateFile::new(), rich_state()] {
            assert_eq!(to_text(&state), through_value(&state));
        }
    }
}
