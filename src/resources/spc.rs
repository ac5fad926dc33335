//! `spc.KEY`: a SecretProviderClass — its cluster, namespace and name (fixed for life) and
//! its manifest, rendered exactly as the Azure provider of the Secrets Store CSI driver
//! parses it.

use serde_json::{Value, json};

use crate::diff::change::UNKNOWN;
use crate::diff::compute::{Schema, equal};
use crate::plan::model::{Cloud, Plan, Spc, SpcIdentity};
use crate::resources::context::{Context, Derived};
use crate::resources::spc_document::{SpcIdentityRef, SpcSpec};
use crate::state::model::{Attributes, attribute_map};

pub const SCHEMA: Schema = Schema {
    forces_replacement,
    same: equal,
};

/// A SecretProviderClass cannot move between clusters, namespaces or names.
fn forces_replacement(property: &str, _desired: &Value, _live: &Value) -> bool {
    property != "manifest"
}

/// The `cloudName` parameter the provider understands.
pub fn cloud_name(cloud: Cloud) -> &'static str {
    match cloud {
        Cloud::AzureCloud | Cloud::Sandbox => "AzurePublicCloud",
        Cloud::AzureChinaCloud => "AzureChinaCloud",
        Cloud::AzureUsGovernment => "AzureUSGovernmentCloud",
    }
}

/// Where the SecretProviderClass is — `cluster`, `resource_group`, `namespace`, `name` of
/// [`desired`] without the manifest — or `None` when its add-on is not in the plan.
pub fn location(plan: &Plan, spc: &Spc) -> Option<Attributes> {
    let addon = plan.addons.get(spc.addon.as_str())?;
    Some(attribute_map([
        ("cluster", json!(addon.cluster.value)),
        ("resource_group", json!(addon.resource_group.value)),
        ("namespace", json!(spc.namespace.value)),
        ("name", json!(spc.name.value)),
    ]))
}

/// The desired properties, or `None` when the SPC's add-on or vault is not in the plan
/// (validation reports that first).
pub fn desired(plan: &Plan, spc: &Spc, context: &Context, derived: &Derived) -> Option<Attributes> {
    let addon = plan.addons.get(spc.addon.as_str())?;
    let vault = plan.vaults.get(spc.vault.as_str())?;
    let manifest = manifest(spc, &vault.name, context, derived);
    Some(attribute_map([
        ("cluster", json!(addon.cluster.value)),
        ("resource_group", json!(addon.resource_group.value)),
        ("namespace", json!(spc.namespace.value)),
        ("name", json!(spc.name.value)),
        ("manifest", manifest),
    ]))
}

/// The whole SecretProviderClass object vaultwire applies, rendered by
/// [`SpcSpec`](crate::resources::spc_document::SpcSpec) (pure; shared with the Kubernetes client).
pub fn manifest(spc: &Spc, vault_name: &str, context: &Context, derived: &Derived) -> Value {
    let identity = match &spc.identity.value {
        SpcIdentity::Addon(addon) => SpcIdentityRef::AddonIdentity {
            client_id: derived
                .addon_identities
                .get(addon.as_str())
                .map_or_else(|| UNKNOWN.to_owned(), |identity| identity.client_id.clone()),
        },
        SpcIdentity::Identity(identity) => SpcIdentityRef::WorkloadIdentity {
            client_id: derived
                .identities
                .get(identity.as_str())
                .map_or_else(|| UNKNOWN.to_owned(), |ids| ids.client_id.clone()),
        },
        SpcIdentity::WorkloadIdentity { client_id } => SpcIdentityRef::WorkloadIdentity {
            client_id: client_id.to_ascii_lowercase(),
        },
    };
    SpcSpec::from_plan(
        spc,
        vault_name,
        &context.tenant_id,
        cloud_name(context.cloud),
        identity,
    )
    .manifest()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{PlanSource, check};

    #[test]
    fn the_location_is_the_desired_properties_without_the_manifest() {
        let plan = check(&PlanSource {
            name: "example.toml".into(),
            text: include_str!("../../plans/example.toml").into(),
        })
        .plan
        .expect("the example plan is valid");
        let context = Context::of(&plan);
        for spc in plan.spcs.values() {
            let mut desired = desired(&plan, spc, &context, &Derived::default()).unwrap();
            desired.remove("manifest");
            assert_eq!(location(&plan, spc), Some(desired));
        }
    }
}
