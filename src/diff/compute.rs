//! Diffing one address: desired properties against live ones, deciding create, update in
//! place, replace, delete or no-op. Pure.
//!
//! Only the properties vaultwire manages (the keys of the desired attributes) are compared;
//! anything else Azure or Kubernetes reports is left alone. Which properties force a
//! replacement, and which compare by meaning rather than by text, is each resource kind's
//! [`Schema`].

use serde_json::Value;

use crate::diff::action::Action;
use crate::diff::change::{Reason, ResourceChange, UNKNOWN};
use crate::plan::address::Address;
use crate::state::model::Attributes;

/// How one kind of resource compares.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    /// Whether changing `property` from `live` to `desired` needs a replacement (some changes
    /// are one-way: purge protection can be turned on in place, never off).
    pub forces_replacement: fn(property: &str, desired: &Value, live: &Value) -> bool,
    /// Whether a desired and a live value of `property` mean the same thing.
    pub same: fn(property: &str, desired: &Value, live: &Value) -> bool,
}

/// Plain equality, for kinds with no special comparisons.
pub fn equal(_property: &str, desired: &Value, live: &Value) -> bool {
    desired == live
}

/// For kinds where every property can change in place.
pub fn never(_property: &str, _desired: &Value, _live: &Value) -> bool {
    false
}

/// Whether `value` is, or contains, a value known only after apply.
pub fn is_unknown(value: &Value) -> bool {
    match value {
        Value::String(text) => text == UNKNOWN,
        Value::Array(items) => items.iter().any(is_unknown),
        Value::Object(map) => map.values().any(is_unknown),
        _ => false,
    }
}

/// The change for `address` from its desired and live properties (`None`: absent). The
/// desired properties become the change's `after`.
pub fn compute(
    address: &Address,
    desired: Option<Attributes>,
    live: Option<Attributes>,
    schema: &Schema,
) -> ResourceChange {
    let changed = match (desired.as_ref(), live.as_ref()) {
        (Some(desired), Some(live)) => differing_properties(desired, live, schema),
        _ => Vec::new(),
    };
    compute_from_changes(address, desired, live, schema, changed)
}

/// [`compute`], given the properties whose desired value differs from the live one (as
/// [`differing_properties`] finds them; unused unless both are present).
pub fn compute_from_changes(
    address: &Address,
    desired: Option<Attributes>,
    live: Option<Attributes>,
    schema: &Schema,
    changed: Vec<String>,
) -> ResourceChange {
    let (action, replace_paths) = match (desired.as_ref(), live.as_ref()) {
        (None, None) => (Action::NoOp, Vec::new()),
        (Some(_), None) => (Action::Create, Vec::new()),
        (None, Some(_)) => (Action::Delete, Vec::new()),
        (Some(desired), Some(live)) => {
            let replace: Vec<String> = changed
                .iter()
                .filter(|property| {
                    let wanted = desired.get(*property).unwrap_or(&Value::Null);
                    let actual = live.get(*property).unwrap_or(&Value::Null);
                    (schema.forces_replacement)(property, wanted, actual)
                })
                .cloned()
                .collect();
            if !replace.is_empty() {
                (Action::Replace, replace)
            } else if changed.is_empty() {
                (Action::NoOp, Vec::new())
            } else {
                (Action::Update, Vec::new())
            }
        }
    };
    let reason = match action {
        Action::Replace => Some(Reason::CannotUpdate(replace_paths.clone())),
        Action::Delete if desired.is_none() => Some(Reason::NotInPlan),
        _ => None,
    };
    ResourceChange {
        address: address.clone(),
        action,
        before: live,
        after: desired,
        replace_paths,
        reason,
    }
}

/// The managed properties whose desired value differs from the live one, sorted.
pub fn differing_properties(
    desired: &Attributes,
    live: &Attributes,
    schema: &Schema,
) -> Vec<String> {
    differing(desired, live, schema, true)
}

/// [`differing_properties`] of desired properties known to hold no value known only after
/// apply: it skips looking for one, a walk of every value (of every SecretProviderClass
/// manifest, in a plan's diff).
pub fn differing_known_properties(
    desired: &Attributes,
    live: &Attributes,
    schema: &Schema,
) -> Vec<String> {
    differing(desired, live, schema, false)
}

fn differing(
    desired: &Attributes,
    live: &Attributes,
    schema: &Schema,
    may_be_unknown: bool,
) -> Vec<String> {
    desired
        .iter()
        .filter(|(property, wanted)| match live.get(*property) {
            None => !wanted.is_null(),
            Some(_) if may_be_unknown && is_unknown(wanted) => true,
            Some(actual) => !(schema.same)(property, wanted, actual),
        })
        .map(|(property, _)| property.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn name_forces(property: &str, _desired: &Value, _live: &Value) -> bool {
        property == "name"
    }

    const SCHEMA: Schema = Schema {
        forces_replacement: name_forces,
        same: equal,
    };

    fn attributes(pairs: &[(&str, Value)]) -> Attributes {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), value.clone()))
            .collect()
    }

    #[test]
    fn absent_on_either_side_is_create_or_delete() {
        let address = Address::vault("a");
        let some = attributes(&[("name", json!("kv"))]);
        assert_eq!(
            compute(&address, Some(some.clone()), None, &SCHEMA).action,
            Action::Create
        );
        let delete = compute(&address, None, Some(some.clone()), &SCHEMA);
        assert_eq!(delete.action, Action::Delete);
        assert_eq!(delete.reason, Some(Reason::NotInPlan));
        assert_eq!(compute(&address, None, None, &SCHEMA).action, Action::NoOp);
    }

    #[test]
    fn only_managed_properties_are_compared() {
        let desired = attributes(&[("name", json!("kv")), ("sku", json!("standard"))]);
        let live = attributes(&[
            ("name", json!("kv")),
            ("sku", json!("standard")),
            ("vault_uri", json!("https://kv.vault.azure.net")),
        ]);
        let change = compute(
            &Address::vault("a"),
            Some(desired.clone()),
            Some(live.clone()),
            &SCHEMA,
        );
        assert_eq!(change.action, Action::NoOp);
    }

    #[test]
    fn a_replace_forcing_property_wins_over_updates() {
        let desired = attributes(&[("name", json!("kv2")), ("sku", json!("premium"))]);
        let live = attributes(&[("name", json!("kv")), ("sku", json!("standard"))]);
        let change = compute(
            &Address::vault("a"),
            Some(desired.clone()),
            Some(live.clone()),
            &SCHEMA,
        );
        assert_eq!(change.action, Action::Replace);
        assert_eq!(change.replace_paths, ["name"]);
        assert_eq!(
            change.reason,
            Some(Reason::CannotUpdate(vec!["name".into()]))
        );
        let desired = attributes(&[("name", json!("kv")), ("sku", json!("premium"))]);
        let change = compute(
            &Address::vault("a"),
            Some(desired.clone()),
            Some(live.clone()),
            &SCHEMA,
        );
        assert_eq!(change.action, Action::Update);
    }

    #[test]
    fn unknown_values_count_as_changes() {
        let desired = attributes(&[("principal_id", json!(UNKNOWN))]);
        let live = attributes(&[("principal_id", json!("0000"))]);
        let change = compute(
            &Address::grant("g"),
            Some(desired.clone()),
            Some(live.clone()),
            &SCHEMA,
        );
        assert_eq!(change.action, Action::Update);
        assert!(is_unknown(&json!({"a": [1, UNKNOWN]})));
    }

    #[test]
    fn a_schema_can_compare_by_meaning() {
        fn durations(property: &str, desired: &Value, live: &Value) -> bool {
            property == "interval"
                && desired.as_str() == Some("2m")
                && live.as_str() == Some("120s")
                || desired == live
        }
        let schema = Schema {
            forces_replacement: never,
            same: durations,
        };
        let desired = attributes(&[("interval", json!("2m"))]);
        let live = attributes(&[("interval", json!("120s"))]);
        assert_eq!(
            compute(
                &Address::addon("a"),
                Some(desired.clone()),
                Some(live.clone()),
                &schema
            )
            .action,
            Action::NoOp
        );
    }
}
