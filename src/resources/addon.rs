//! `addon.KEY`: the Key Vault secrets provider add-on of an existing cluster.
//!
//! The poll interval compares by length, so `120s` in the plan matches `2m` live.

use serde_json::{Value, json};

use crate::diff::compute::Schema;
use crate::plan::duration::GoDuration;
use crate::plan::model::Addon;
use crate::resources::context::Context;
use crate::state::model::{Attributes, attribute_map};

pub const SCHEMA: Schema = Schema {
    forces_replacement,
    same,
};

/// Pointing the address at another cluster means disabling here and enabling there.
fn forces_replacement(property: &str, _desired: &Value, _live: &Value) -> bool {
    matches!(property, "cluster" | "resource_group")
}

fn same(property: &str, desired: &Value, live: &Value) -> bool {
    if property == "rotation_poll_interval"
        && let (Some(desired), Some(live)) = (desired.as_str(), live.as_str())
        && let (Ok(desired), Ok(live)) = (GoDuration::parse(desired), GoDuration::parse(live))
    {
        return desired.same_length(&live);
    }
    if matches!(property, "cluster" | "resource_group")
        && let (Some(desired), Some(live)) = (desired.as_str(), live.as_str())
    {
        // ARM names are case-insensitive.
        return desired.eq_ignore_ascii_case(live);
    }
    desired == live
}

pub fn id(context: &Context, addon: &Addon) -> String {
    context.cluster_id(&addon.resource_group, &addon.cluster)
}

/// The add-on's properties; `workload_identity` only when the plan asks for it (vaultwire
/// never turns a cluster's issuer off).
pub fn desired(addon: &Addon) -> Attributes {
    let mut desired: Attributes = attribute_map([
        ("cluster", json!(addon.cluster.value)),
        ("resource_group", json!(addon.resource_group.value)),
        ("enabled", json!(true)),
        ("secret_rotation", json!(addon.secret_rotation.value)),
        (
            "rotation_poll_interval",
            json!(addon.rotation_poll_interval.value.as_str()),
        ),
    ]);
    if addon.workload_identity.value {
        desired.insert("workload_identity".to_owned(), json!(true));
    }
    desired
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_intervals_compare_by_length() {
        assert!(same("rotation_poll_interval", &json!("120s"), &json!("2m")));
        assert!(!same("rotation_poll_interval", &json!("1m"), &json!("2m")));
        assert!(same("cluster", &json!("AKS-Demo"), &json!("aks-demo")));
    }
}
