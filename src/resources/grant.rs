//! `grant.KEY`: a role assignment on an RBAC vault, or an access-policy entry on an
//! access-policy vault.
//!
//! A role assignment cannot change: any difference replaces it. An access-policy entry keeps
//! its vault and object and updates its permissions in place.

use serde_json::{Value, json};

use crate::diff::change::UNKNOWN;
use crate::diff::compute::{Schema, equal};
use crate::plan::model::{Authorization, Grant, Plan, Principal, PrincipalType};
use crate::resources::context::{Context, Derived};
use crate::state::model::Attributes;

pub const SCHEMA: Schema = Schema {
    forces_replacement,
    same,
};

fn forces_replacement(property: &str, _desired: &Value, _live: &Value) -> bool {
    property != "permissions"
}

fn same(property: &str, desired: &Value, live: &Value) -> bool {
    // IDs and GUIDs are case-insensitive in ARM.
    if let (Some(desired), Some(live)) = (desired.as_str(), live.as_str())
        && property != "mode"
    {
        return desired.eq_ignore_ascii_case(live);
    }
    equal(property, desired, live)
}

/// The principal's object ID, or [`UNKNOWN`] while the add-on identity or managed identity
/// does not exist yet.
pub fn principal_object_id(grant: &Grant, derived: &Derived) -> String {
    match &grant.principal.value {
        Principal::Addon(addon) => derived
            .addon_identities
            .get(addon.as_str())
            .map_or_else(|| UNKNOWN.to_owned(), |identity| identity.object_id.clone()),
        Principal::Identity(identity) => derived
            .identities
            .get(identity.as_str())
            .map_or_else(|| UNKNOWN.to_owned(), |ids| ids.principal_id.clone()),
        Principal::WorkloadIdentity { object_id, .. } | Principal::Object { object_id, .. } => {
            object_id.to_ascii_lowercase()
        }
    }
}

/// `principalType` of the role assignment: managed and workload identities are service
/// principals (saying so avoids Entra replication-delay errors on new identities).
pub fn principal_type(grant: &Grant) -> PrincipalType {
    match &grant.principal.value {
        Principal::Addon(_) | Principal::Identity(_) | Principal::WorkloadIdentity { .. } => {
            PrincipalType::ServicePrincipal
        }
        Principal::Object { principal_type, .. } => *principal_type,
    }
}

/// The desired properties, or `None` when the grant's vault is not in the plan (validation
/// reports that before the engine runs).
pub fn desired(
    plan: &Plan,
    grant: &Grant,
    context: &Context,
    derived: &Derived,
) -> Option<Attributes> {
    let vault = plan.vaults.get(grant.vault.as_str())?;
    let vault_id = context.vault_id(&vault.resource_group, &vault.name);
    let principal_id = principal_object_id(grant, derived);
    let attributes: Vec<(&str, Value)> = match vault.authorization.value {
        Authorization::Rbac => {
            let role = grant.role.as_ref()?;
            vec![
                ("mode", json!("role-assignment")),
                ("scope", json!(vault_id)),
                (
                    "role_definition_id",
                    json!(context.role_definition_id(role.definition_guid())),
                ),
                ("principal_id", json!(principal_id)),
                ("principal_type", json!(principal_type(grant).as_str())),
            ]
        }
        Authorization::AccessPolicies => {
            let list = |permissions: &Option<crate::plan::model::Spanned<Vec<String>>>| {
                let mut names: Vec<String> = permissions
                    .iter()
                    .flat_map(|p| p.value.iter())
                    .map(|name| name.to_ascii_lowercase())
                    .collect();
                names.sort();
                names.dedup();
                names
            };
            vec![
                ("mode", json!("access-policy")),
                ("vault_id", json!(vault_id)),
                ("tenant_id", json!(context.tenant_id)),
                ("object_id", json!(principal_id)),
                (
                    "permissions",
                    json!({
                        "certificates": list(&grant.certificate_permissions),
                        "keys": list(&grant.key_permissions),
                        "secrets": list(&grant.secret_permissions),
                    }),
                ),
            ]
        }
    };
    Some(
        attributes
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_permissions_change_in_place() {
        assert!(!forces_replacement("permissions", &json!({}), &json!({})));
        assert!(forces_replacement("principal_id", &json!("a"), &json!("b")));
        assert!(same(
            "scope",
            &json!("/SUBSCRIPTIONS/x"),
            &json!("/subscriptions/X")
        ));
    }
}
