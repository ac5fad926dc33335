//! `identity.KEY`: a user-assigned managed identity, and `federation.KEY`: one of its
//! federated credentials.
//!
//! An identity's name, resource group and location cannot change: a new one is a new
//! principal, and everything granted to the old one follows it (its client and principal IDs
//! are derived values). Tags change in place. A credential keeps its name and identity; its
//! issuer, subject and audiences change in place (a PUT of the same name).

use serde_json::{Value, json};

use crate::diff::change::UNKNOWN;
use crate::diff::compute::Schema;
use crate::plan::model::{Federation, Identity, Plan, TOKEN_EXCHANGE_AUDIENCE};
use crate::resources::context::Derived;
use crate::state::model::{Attributes, attribute_map};

pub const IDENTITY_SCHEMA: Schema = Schema {
    forces_replacement: identity_replaced,
    same: same_ignoring_case,
};

pub const FEDERATION_SCHEMA: Schema = Schema {
    forces_replacement: federation_replaced,
    same: same_ignoring_case,
};

fn identity_replaced(property: &str, _desired: &Value, _live: &Value) -> bool {
    property != "tags"
}

fn federation_replaced(property: &str, _desired: &Value, _live: &Value) -> bool {
    matches!(property, "resource_group" | "identity" | "name")
}

/// ARM names and locations compare case-insensitively; issuers and subjects do not (Entra
/// matches them exactly).
fn same_ignoring_case(property: &str, desired: &Value, live: &Value) -> bool {
    if matches!(
        property,
        "resource_group" | "identity" | "name" | "location"
    ) && let (Some(desired), Some(live)) = (desired.as_str(), live.as_str())
    {
        return desired.eq_ignore_ascii_case(live);
    }
    desired == live
}

pub fn desired_identity(identity: &Identity) -> Attributes {
    attribute_map([
        ("name", json!(identity.name.value)),
        ("resource_group", json!(identity.resource_group.value)),
        ("location", json!(identity.location.value)),
        ("tags", json!(identity.tags)),
    ])
}

/// The desired properties, or `None` when the federation's identity or add-on is not in the
/// plan (validation reports that first). The issuer is the cluster's: unknown until the
/// add-on has turned it on.
pub fn desired_federation(
    plan: &Plan,
    federation: &Federation,
    derived: &Derived,
) -> Option<Attributes> {
    let identity = plan.identities.get(federation.identity.as_str())?;
    plan.addons.get(federation.addon.as_str())?;
    let issuer = derived
        .issuers
        .get(federation.addon.as_str())
        .map_or(UNKNOWN, String::as_str);
    Some(attribute_map([
        ("resource_group", json!(identity.resource_group.value)),
        ("identity", json!(identity.name.value)),
        ("name", json!(federation.name.value)),
        ("issuer", json!(issuer)),
        ("subject", json!(federation.subject())),
        ("audiences", json!([TOKEN_EXCHANGE_AUDIENCE])),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tags_and_a_credentials_claims_change_in_place() {
        assert!(!identity_replaced("tags", &json!({}), &json!({})));
        assert!(identity_replaced("location", &json!("a"), &json!("b")));
        assert!(!federation_replaced("subject", &json!("a"), &json!("b")));
        assert!(!federation_replaced("issuer", &json!("a"), &json!("b")));
        assert!(federation_replaced("name", &json!("a"), &json!("b")));
        assert!(same_ignoring_case(
            "location",
            &json!("WestEurope"),
            &json!("westeurope")
        ));
        assert!(!same_ignoring_case(
            "subject",
            &json!("system:serviceaccount:A:b"),
            &json!("system:serviceaccount:a:b")
        ));
    }
}
