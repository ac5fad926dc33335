//! Refresh: read every selected address live, in one batched round of reads, keeping the
//! state's view (prior) and the live view apart so drift can be reported on its own.
//!
//! An address recorded in the state is looked up where the state says it is, so a renamed or
//! moved resource shows as a replacement rather than a silent orphan; a new address is looked
//! up where the plan file puts it, so an existing resource is adopted rather than duplicated.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use crate::engine::backend::{Backend, BackendError, Live, ReadPlan};
use crate::engine::observe::{Observed, add_reads, observe, taken};
use crate::plan::address::{Address, ResourceKind};
use crate::plan::model::Plan;
use crate::resources::{self, AddonIdentity, Context, Derived};
use crate::state::model::{Attributes, StateFile};

/// What refresh found for every selected address.
#[derive(Debug, Clone, Default)]
pub struct Refreshed {
    pub observed: BTreeMap<Address, Observed>,
    /// Add-on identities read live, by addon key.
    pub derived: Derived,
}

/// The attributes that say where `address` is: the state's when it has the address, else the
/// plan file's with what is known of derived values (a grant to the add-on identity is found
/// by that identity). For a SecretProviderClass of the plan file only where it is (cluster,
/// namespace, name): its manifest says nothing about that and is the costly part.
pub fn lookup_attributes<'a>(
    plan: &Plan,
    state: Option<&'a StateFile>,
    address: &Address,
    context: &Context,
    derived: &Derived,
) -> Option<(Cow<'a, Attributes>, Cow<'a, Attributes>)> {
    if let Some(record) = state.and_then(|s| s.resources.get(address)) {
        return Some((
            Cow::Borrowed(&record.attributes),
            Cow::Borrowed(&record.settings),
        ));
    }
    let desired = match address.kind {
        ResourceKind::Spc => resources::spc::location(plan, plan.spcs.get(&address.key)?)?,
        _ => resources::desired(plan, address, context, derived)?,
    };
    Some((
        Cow::Owned(desired),
        Cow::Owned(resources::settings(plan, address)),
    ))
}

/// Reads `addresses` live through `backend`: one batched read, then add-ons first (their
/// identities tell where grants are), then everything else.
pub async fn refresh<B: Backend>(
    backend: &B,
    plan: &Plan,
    state: Option<&StateFile>,
    addresses: &BTreeSet<Address>,
    context: &Context,
    parallelism: usize,
) -> Result<Refreshed, BackendError> {
    let unknown = Derived::default();
    let mut read_plan = ReadPlan::default();
    for address in addresses {
        if let Some((attributes, settings)) =
            lookup_attributes(plan, state, address, context, &unknown)
        {
            add_reads(&mut read_plan, address, &attributes, &settings);
        }
    }
    let mut world = backend.read(&read_plan, parallelism).await?;
    let mut refreshed = Refreshed::default();
    // Who took each SecretProviderClass's manifest out of `world`, by live ID.
    let mut manifest_taken_by: BTreeMap<String, Address> = BTreeMap::new();
    let (addons, others): (Vec<&Address>, Vec<&Address>) = addresses
        .iter()
        .partition(|address| address.kind == ResourceKind::Addon);
    for address in addons.into_iter().chain(others) {
        let Some((attributes, settings)) =
            lookup_attributes(plan, state, address, context, &refreshed.derived)
        else {
            continue;
        };
        let mut observed = observe(address, &attributes, &settings, &mut world, context);
        if address.kind == ResourceKind::Spc
            && let Some(live) = observed.live.as_mut()
        {
            share_manifest(live, address, &mut manifest_taken_by, &refreshed.observed);
        }
        if address.kind == ResourceKind::Addon
            && let Some(identity) = observed.live.as_ref().and_then(addon_identity)
        {
            refreshed
                .derived
                .addon_identities
                .insert(address.key.clone(), identity);
        }
        refreshed.observed.insert(address.clone(), observed);
    }
    Ok(refreshed)
}

/// Records who took a SecretProviderClass's manifest out of the world, or, when an earlier
/// address did, copies it from that address's observation.
fn share_manifest(
    live: &mut Live,
    address: &Address,
    taken_by: &mut BTreeMap<String, Address>,
    observed: &BTreeMap<Address, Observed>,
) {
    let Some(manifest) = live.attributes.get_mut("manifest") else {
        return;
    };
    if !taken(manifest) {
        taken_by.insert(live.id.clone(), address.clone());
        return;
    }
    if let Some(first) = taken_by
        .get(&live.id)
        .and_then(|first| observed.get(first))
        .and_then(|first| first.live.as_ref())
        .and_then(|first| first.attributes.get("manifest"))
    {
        *manifest = first.clone();
    }
}

/// The identity of a live, enabled add-on.
pub fn addon_identity(live: &Live) -> Option<AddonIdentity> {
    enabled_identity(&live.attributes, &live.derived)
}

/// The identity in `derived` when `attributes` say the add-on is enabled: of a live add-on or
/// of one the state records.
pub fn enabled_identity(
    attributes: &Attributes,
    derived: &BTreeMap<String, serde_json::Value>,
) -> Option<AddonIdentity> {
    let enabled = attributes
        .get("enabled")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    if !enabled {
        return None;
    }
    derived
        .get("identity")
        .and_then(|value| serde_json::from_value(value.clone()).ok())
}
