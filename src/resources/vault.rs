//! `vault.KEY`: the desired properties of a Key Vault and how they compare.
//!
//! Only what the plan manages is compared: `network_acls` and `tags` are managed when the plan
//! sets them, so a policy-applied tag or firewall is left alone otherwise.

use serde_json::{Value, json};

use crate::diff::compute::{Schema, equal};
use crate::plan::model::{
    Authorization, NetworkAcls, NetworkBypass, NetworkDefaultAction, PublicNetworkAccess, Sku,
    Vault,
};
use crate::resources::context::Context;
use crate::state::model::Attributes;

pub const SCHEMA: Schema = Schema {
    forces_replacement,
    same,
};

/// A vault cannot move or be renamed; its soft-delete retention is fixed at creation, and
/// purge protection, once on, cannot be turned off.
fn forces_replacement(property: &str, desired: &Value, live: &Value) -> bool {
    match property {
        "name" | "resource_group" | "location" | "soft_delete_retention_days" => true,
        "purge_protection" => live == &Value::Bool(true) && desired == &Value::Bool(false),
        _ => false,
    }
}

/// Names compare without case (ARM does), and the plan's tags only need to be present live:
/// tags others set (Azure Policy, people) are left alone.
fn same(property: &str, desired: &Value, live: &Value) -> bool {
    match property {
        "name" | "resource_group" | "location" => match (desired.as_str(), live.as_str()) {
            (Some(desired), Some(live)) => desired.eq_ignore_ascii_case(live),
            _ => desired == live,
        },
        "tags" => match (desired.as_object(), live.as_object()) {
            (Some(desired), Some(live)) => desired
                .iter()
                .all(|(key, value)| live.get(key) == Some(value)),
            _ => desired == live,
        },
        _ => equal(property, desired, live),
    }
}

pub fn id(context: &Context, vault: &Vault) -> String {
    context.vault_id(&vault.resource_group, &vault.name)
}

pub fn desired(vault: &Vault) -> Attributes {
    let mut attributes = Attributes::new();
    let mut set = |key: &str, value: Value| {
        attributes.insert(key.to_owned(), value);
    };
    set("name", json!(vault.name.value));
    set("resource_group", json!(vault.resource_group.value));
    set("location", json!(vault.location.value));
    set("sku", json!(sku(vault.sku)));
    set(
        "authorization",
        json!(authorization(vault.authorization.value)),
    );
    set(
        "soft_delete_retention_days",
        json!(vault.soft_delete_retention_days.value),
    );
    set("purge_protection", json!(vault.purge_protection.value));
    set(
        "public_network_access",
        json!(public_network_access(vault.public_network_access)),
    );
    if let Some(acls) = &vault.network_acls {
        set("network_acls", network_acls(acls));
    }
    if !vault.tags.is_empty() {
        set("tags", json!(vault.tags));
    }
    attributes
}

/// The firewall as a property value; the same function serves desired and live values so
/// they compare field for field.
pub fn network_acls(acls: &NetworkAcls) -> Value {
    let mut ip_rules = acls.ip_rules.clone();
    ip_rules.sort();
    let mut subnets: Vec<String> = acls
        .virtual_network_subnet_ids
        .iter()
        .map(|id| id.to_ascii_lowercase())
        .collect();
    subnets.sort();
    json!({
        "bypass": match acls.bypass {
            NetworkBypass::AzureServices => "AzureServices",
            NetworkBypass::None => "None",
        },
        "default_action": match acls.default_action {
            NetworkDefaultAction::Allow => "Allow",
            NetworkDefaultAction::Deny => "Deny",
        },
        "ip_rules": ip_rules,
        "virtual_network_subnet_ids": subnets,
    })
}

pub fn sku(sku: Sku) -> &'static str {
    match sku {
        Sku::Standard => "standard",
        Sku::Premium => "premium",
    }
}

pub fn authorization(authorization: Authorization) -> &'static str {
    match authorization {
        Authorization::Rbac => "rbac",
        Authorization::AccessPolicies => "access-policies",
    }
}

pub fn public_network_access(access: PublicNetworkAccess) -> &'static str {
    match access {
        PublicNetworkAccess::Enabled => "enabled",
        PublicNetworkAccess::Disabled => "disabled",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purge_protection_can_be_turned_on_in_place_but_never_off() {
        assert!(!forces_replacement(
            "purge_protection",
            &json!(true),
            &json!(false)
        ));
        assert!(forces_replacement(
            "purge_protection",
            &json!(false),
            &json!(true)
        ));
        assert!(forces_replacement("name", &json!("a"), &json!("b")));
        assert!(!forces_replacement(
            "sku",
            &json!("premium"),
            &json!("standard")
        ));
    }
}
