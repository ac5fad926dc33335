//! The resource kinds as the engine sees them: for each, the desired properties computed
//! from the plan file (plus derived values such as the add-on identity), and how its
//! properties compare. Pure: no I/O.

pub mod addon;
pub mod context;
pub mod grant;
pub mod identity;
pub mod spc;
pub mod spc_document;
pub mod vault;

pub use context::{AddonIdentity, Context, Derived, IdentityIds};

use serde_json::json;

use crate::diff::compute::Schema;
use crate::plan::address::{Address, ResourceKind};
use crate::plan::model::{OnDestroy, Plan};
use crate::state::model::Attributes;

/// The desired properties of `address`, or `None` when the plan file does not define it.
pub fn desired(
    plan: &Plan,
    address: &Address,
    context: &Context,
    derived: &Derived,
) -> Option<Attributes> {
    let key = address.key.as_str();
    match address.kind {
        ResourceKind::Vault => plan.vaults.get(key).map(vault::desired),
        ResourceKind::Addon => plan.addons.get(key).map(addon::desired),
        ResourceKind::Identity => plan.identities.get(key).map(identity::desired_identity),
        ResourceKind::Federation => plan
            .federations
            .get(key)
            .and_then(|federation| identity::desired_federation(plan, federation, derived)),
        ResourceKind::Grant => plan
            .grants
            .get(key)
            .and_then(|grant| grant::desired(plan, grant, context, derived)),
        ResourceKind::Spc => plan
            .spcs
            .get(key)
            .and_then(|spc| spc::desired(plan, spc, context, derived)),
    }
}

/// The add-on (and so the cluster: `cluster`, `resource_group`, `kube_context`) an `addon` or
/// `spc` address of the plan file belongs to, without computing its properties (a
/// SecretProviderClass's manifest is the costly part of [`desired`]).
pub fn addon_of<'a>(plan: &'a Plan, address: &Address) -> Option<&'a crate::plan::model::Addon> {
    let key = address.key.as_str();
    match address.kind {
        ResourceKind::Addon => plan.addons.get(key),
        ResourceKind::Spc => plan
            .spcs
            .get(key)
            .and_then(|spc| plan.addons.get(spc.addon.as_str())),
        ResourceKind::Vault
        | ResourceKind::Identity
        | ResourceKind::Federation
        | ResourceKind::Grant => None,
    }
}

/// How properties of `kind` compare.
pub fn schema(kind: ResourceKind) -> &'static Schema {
    match kind {
        ResourceKind::Vault => &vault::SCHEMA,
        ResourceKind::Addon => &addon::SCHEMA,
        ResourceKind::Identity => &identity::IDENTITY_SCHEMA,
        ResourceKind::Federation => &identity::FEDERATION_SCHEMA,
        ResourceKind::Grant => &grant::SCHEMA,
        ResourceKind::Spc => &spc::SCHEMA,
    }
}

/// Behaviour the plan asks for that is not a property of the resource, as the state keeps it.
pub fn settings(plan: &Plan, address: &Address) -> Attributes {
    let key = address.key.as_str();
    let mut settings = Attributes::new();
    match address.kind {
        ResourceKind::Vault => {
            if let Some(vault) = plan.vaults.get(key) {
                settings.insert(
                    "on_destroy".to_owned(),
                    json!(on_destroy(vault.on_destroy.value)),
                );
                settings.insert(
                    "recover_soft_deleted".to_owned(),
                    json!(vault.recover_soft_deleted),
                );
            }
        }
        ResourceKind::Addon => {
            if let Some(context) = plan.addons.get(key).and_then(|a| a.kube_context.as_ref()) {
                settings.insert("kube_context".to_owned(), json!(context.value));
            }
        }
        ResourceKind::Spc => {
            let context = plan
                .spcs
                .get(key)
                .and_then(|spc| plan.addons.get(spc.addon.as_str()))
                .and_then(|addon| addon.kube_context.as_ref());
            if let Some(context) = context {
                settings.insert("kube_context".to_owned(), json!(context.value));
            }
        }
        ResourceKind::Identity => {
            if let Some(identity) = plan.identities.get(key) {
                settings.insert(
                    "on_destroy".to_owned(),
                    json!(on_destroy(identity.on_destroy.value)),
                );
            }
        }
        ResourceKind::Federation | ResourceKind::Grant => {}
    }
    settings
}

/// `on_destroy` as plan files and the state spell it.
fn on_destroy(value: OnDestroy) -> &'static str {
    match value {
        OnDestroy::Retain => "retain",
        OnDestroy::Delete => "delete",
        OnDestroy::Purge => "purge",
    }
}
