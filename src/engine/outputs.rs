//! `vaultwire output`: the values applications need after apply — the identities' client
//! IDs, vault URIs, add-on identities, cluster issuers — read from the state, as `terraform
//! output` reads its state. Pure.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::plan::address::ResourceKind;
use crate::plan::model::Plan;
use crate::state::model::StateFile;

/// Every output the state holds a value for, by name (`identity.payments.client_id`), sorted.
/// `tenant_id` is the plan's, which Helm charts want beside a client ID.
pub fn outputs(plan: &Plan, state: &StateFile) -> BTreeMap<String, String> {
    let mut outputs = BTreeMap::new();
    outputs.insert(
        "tenant_id".to_owned(),
        plan.target.tenant_id.value.to_ascii_lowercase(),
    );
    for (address, record) in &state.resources {
        let derived = |pointer: &str| {
            let mut parts = pointer.trim_start_matches('/').split('/');
            let first = parts.next().and_then(|key| record.derived.get(key))?;
            parts
                .try_fold(first, |value, key| value.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let names: &[(&str, &str)] = match address.kind {
            ResourceKind::Identity => &[
                ("client_id", "/client_id"),
                ("principal_id", "/principal_id"),
            ],
            ResourceKind::Addon => &[
                ("client_id", "/identity/client_id"),
                ("object_id", "/identity/object_id"),
                ("oidc_issuer_url", "/issuer"),
            ],
            ResourceKind::Vault => &[("uri", "/uri")],
            _ => &[],
        };
        for (name, pointer) in names {
            if let Some(value) = derived(pointer) {
                outputs.insert(format!("{address}.{name}"), value);
            }
        }
        if address.kind == ResourceKind::Identity {
            outputs.insert(format!("{address}.id"), record.id.clone());
        }
    }
    outputs
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::plan::address::Address;
    use crate::plan::testing::example_plan;
    use crate::state::model::{Attributes, ResourceState};

    fn record(id: &str, derived: Value) -> ResourceState {
        ResourceState {
            id: id.to_owned(),
            attributes: Attributes::new(),
            derived: serde_json::from_value(derived).unwrap(),
            version: None,
            dependencies: Vec::new(),
            settings: Attributes::new(),
        }
    }

    #[test]
    fn identities_vaults_and_addons_give_their_derived_values() {
        let (plan, _) = example_plan();
        let mut state = StateFile::new();
        state.resources.insert(
            Address::identity("payments"),
            record(
                "/id/payments",
                json!({"client_id": "c", "principal_id": "p"}),
            ),
        );
        state.resources.insert(
            Address::addon("demo"),
            record(
                "/cluster",
                json!({"identity": {"client_id": "ac", "object_id": "ao", "resource_id": "r"},
                       "issuer": "https://issuer/"}),
            ),
        );
        state.resources.insert(
            Address::vault("payments"),
            record("/vault", json!({"uri": "https://kv.vault.azure.net/"})),
        );
        state
            .resources
            .insert(Address::grant("g"), record("/grant", json!({})));
        let outputs = outputs(&plan, &state);
        let expected: BTreeMap<String, String> = [
            ("addon.demo.client_id", "ac"),
            ("addon.demo.object_id", "ao"),
            ("addon.demo.oidc_issuer_url", "https://issuer/"),
            ("identity.payments.client_id", "c"),
            ("identity.payments.id", "/id/payments"),
            ("identity.payments.principal_id", "p"),
            ("tenant_id", "7c1e5a3b-2d4f-4e6a-8b9c-0d1e2f3a4b5c"),
            ("vault.payments.uri", "https://kv.vault.azure.net/"),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
        assert_eq!(outputs, expected);
    }
}
