//! Refresh: read every selected address live, in one batched round of reads observed as they
//! come in, keeping the state's view (prior) and the live view apart so drift can be reported
//! on its own.
//!
//! An address recorded in the state is looked up where the state says it is, so a renamed or
//! moved resource shows as a replacement rather than a silent orphan; a new address is looked
//! up where the plan file puts it, so an existing resource is adopted rather than duplicated.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use crate::engine::backend::{ClusterKey, ClusterRef, Found, Live, LiveWorld, ReadPlan};
use crate::engine::observe::{Observed, add_reads, observe, taken};
use crate::plan::address::{Address, ResourceKind};
use crate::plan::model::Plan;
use crate::resources::{self, AddonIdentity, Context, Derived, IdentityIds};
use crate::state::model::{Attributes, StateFile};

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

/// Observations made once the reads they need are in.
pub type Batch = Vec<(Address, Observed)>;

/// One refresh of the selected addresses, observed as its reads come in: the add-ons, vaults
/// and grants once every Azure read is in (add-ons first: their identities tell where grants
/// are), then each cluster's SecretProviderClasses as soon as that cluster's list is — rather
/// than all of it after the last list, which left matching and diffing hundreds of
/// SecretProviderClasses for after the network wait.
pub struct Refresh {
    world: LiveWorld,
    /// Azure reads (vaults, clusters, role-assignment lists) not yet in.
    azure_reads_left: usize,
    /// Add-ons, then the other addresses but SecretProviderClasses listed by cluster; `None`
    /// once observed.
    azure: Option<Vec<Address>>,
    /// The SecretProviderClass addresses of each listed cluster, until observed.
    listed: BTreeMap<ClusterKey, Vec<Address>>,
    /// Add-on identities read live, by addon key.
    derived: Derived,
    /// Who took each SecretProviderClass's manifest out of `world`, by live ID.
    manifest_taken_by: BTreeMap<String, Address>,
}

impl Refresh {
    /// What to read for `addresses`, and the refresh that observes them from it.
    pub fn start(
        plan: &Plan,
        state: Option<&StateFile>,
        addresses: &BTreeSet<Address>,
        context: &Context,
    ) -> (ReadPlan, Self) {
        let unknown = Derived::default();
        let mut read_plan = ReadPlan::default();
        let mut listed: BTreeMap<ClusterKey, Vec<Address>> = BTreeMap::new();
        let (mut addons, mut others) = (Vec::new(), Vec::new());
        for address in addresses {
            let located = lookup_attributes(plan, state, address, context, &unknown);
            if let Some((attributes, settings)) = &located {
                add_reads(&mut read_plan, address, attributes, settings);
            }
            match (address.kind, located) {
                // Add-ons, then identities: their derived values say where grants are.
                (ResourceKind::Addon | ResourceKind::Identity, _) => addons.push(address.clone()),
                (ResourceKind::Spc, Some((attributes, settings))) => listed
                    .entry(ClusterRef::of(&attributes, &settings).key)
                    .or_default()
                    .push(address.clone()),
                _ => others.push(address.clone()),
            }
        }
        addons.extend(others);
        let azure_reads_left = read_plan.azure_reads();
        let refresh = Self {
            world: LiveWorld::default(),
            azure_reads_left,
            azure: Some(addons),
            listed,
            derived: Derived::default(),
            manifest_taken_by: BTreeMap::new(),
        };
        (read_plan, refresh)
    }

    /// Takes in what one read found.
    pub fn add(&mut self, found: Found) {
        if found.from_azure() {
            self.azure_reads_left = self.azure_reads_left.saturating_sub(1);
        }
        self.world.add(found);
    }

    /// The next addresses whose reads are all in, observed: the Azure batch first, then one
    /// listed cluster's SecretProviderClasses at a time. `None` until more reads come in.
    pub fn next_batch(
        &mut self,
        plan: &Plan,
        state: Option<&StateFile>,
        context: &Context,
    ) -> Option<Batch> {
        if self.azure_reads_left == 0
            && let Some(addresses) = self.azure.take()
        {
            return Some(self.observe(plan, state, context, addresses));
        }
        if self.azure.is_some() {
            return None;
        }
        let cluster = self
            .listed
            .keys()
            .find(|cluster| self.world.spcs.contains_key(*cluster))?
            .clone();
        let addresses = self.listed.remove(&cluster).unwrap_or_default();
        Some(self.observe(plan, state, context, addresses))
    }

    /// Every address not observed yet, once the backend handed over every read: none when it
    /// brought all the plan asked for; what it did not bring is observed as not live.
    pub fn rest(&mut self, plan: &Plan, state: Option<&StateFile>, context: &Context) -> Batch {
        let mut addresses = self.azure.take().unwrap_or_default();
        addresses.extend(std::mem::take(&mut self.listed).into_values().flatten());
        self.observe(plan, state, context, addresses)
    }

    /// The add-on identities read live so far, by addon key (all of them once the Azure batch
    /// is out).
    pub fn derived(&self) -> &Derived {
        &self.derived
    }

    fn observe(
        &mut self,
        plan: &Plan,
        state: Option<&StateFile>,
        context: &Context,
        addresses: Vec<Address>,
    ) -> Batch {
        // Kept by address too, for a second address of the same SecretProviderClass.
        let mut batch: BTreeMap<Address, Observed> = BTreeMap::new();
        let mut order = Vec::with_capacity(addresses.len());
        for address in addresses {
            let Some((attributes, settings)) =
                lookup_attributes(plan, state, &address, context, &self.derived)
            else {
                order.push(address.clone());
                batch.insert(address, Observed::default());
                continue;
            };
            let mut observed = observe(&address, &attributes, &settings, &mut self.world, context);
            if address.kind == ResourceKind::Spc
                && let Some(live) = observed.live.as_mut()
            {
                share_manifest(live, &address, &mut self.manifest_taken_by, &batch);
            }
            if let Some(live) = &observed.live {
                learn_derived(&mut self.derived, &address, live);
            }
            order.push(address.clone());
            batch.insert(address, observed);
        }
        order
            .into_iter()
            .map(|address| {
                let observed = batch.remove(&address).unwrap_or_default();
                (address, observed)
            })
            .collect()
    }
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

/// Records the values others use that `address`, live as `live`, has: an add-on's identity
/// and issuer, a managed identity's IDs.
pub fn learn_derived(derived: &mut Derived, address: &Address, live: &Live) {
    let key = address.key.clone();
    match address.kind {
        ResourceKind::Addon => {
            match addon_identity(live) {
                Some(identity) => derived.addon_identities.insert(key.clone(), identity),
                None => derived.addon_identities.remove(&key),
            };
            match issuer(&live.derived) {
                Some(issuer) => derived.issuers.insert(key, issuer),
                None => derived.issuers.remove(&key),
            };
        }
        ResourceKind::Identity => {
            match identity_ids(&live.derived) {
                Some(ids) => derived.identities.insert(key, ids),
                None => derived.identities.remove(&key),
            };
        }
        _ => {}
    }
}

/// The cluster's issuer URL an add-on's derived values hold.
pub fn issuer(derived: &BTreeMap<String, serde_json::Value>) -> Option<String> {
    derived
        .get("issuer")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

/// The client and principal IDs a managed identity's derived values hold.
pub fn identity_ids(derived: &BTreeMap<String, serde_json::Value>) -> Option<IdentityIds> {
    let text = |key: &str| {
        derived
            .get(key)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    Some(IdentityIds {
        client_id: text("client_id")?,
        principal_id: text("principal_id")?,
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::backend::VaultObservation;
    use crate::plan::testing::example_plan;

    fn addresses(batch: &Batch) -> Vec<String> {
        batch
            .iter()
            .map(|(address, _)| address.to_string())
            .collect()
    }

    /// The example plan's refresh from scratch, and what its reads find: one of each kind.
    fn started() -> (Plan, Context, Refresh, [Found; 4]) {
        let (plan, _) = example_plan();
        let context = Context::of(&plan);
        let selected = crate::engine::plan::select(&plan, None, &[]).unwrap();
        let (reads, refresh) = Refresh::start(&plan, None, &selected, &context);
        let one = |n: usize| assert_eq!(n, 1, "{reads:#?}");
        one(reads.vaults.len());
        one(reads.clusters.len());
        one(reads.role_assignment_scopes.len());
        one(reads.spc_clusters.len());
        let found = [
            Found::Vault(
                reads.vaults.keys().next().unwrap().clone(),
                VaultObservation::Missing {
                    soft_deleted: false,
                },
            ),
            Found::Addon(reads.clusters.first().unwrap().clone(), None),
            Found::RoleAssignments(
                reads.role_assignment_scopes.first().unwrap().clone(),
                Vec::new(),
            ),
            Found::Spcs(reads.spc_clusters.first().unwrap().key.clone(), Vec::new()),
        ];
        (plan, context, refresh, found)
    }

    #[test]
    fn a_clusters_list_waits_for_the_azure_reads_then_comes_out_on_its_own() {
        let (plan, context, mut refresh, [vault, addon, assignments, list]) = started();
        // The list is in first: nothing can be observed until every Azure read is.
        refresh.add(list);
        assert!(refresh.next_batch(&plan, None, &context).is_none());
        refresh.add(vault);
        refresh.add(addon);
        assert!(refresh.next_batch(&plan, None, &context).is_none());
        refresh.add(assignments);
        // Add-ons first: their identities say where grants are.
        let azure = refresh.next_batch(&plan, None, &context).unwrap();
        assert_eq!(
            addresses(&azure),
            ["addon.demo", "vault.payments", "grant.demo-reads-payments"]
        );
        let listed = refresh.next_batch(&plan, None, &context).unwrap();
        assert_eq!(addresses(&listed), ["spc.payments-db", "spc.shop-api"]);
        assert!(refresh.next_batch(&plan, None, &context).is_none());
        assert!(refresh.rest(&plan, None, &context).is_empty());
    }

    #[test]
    fn a_clusters_list_is_observed_as_soon_as_it_is_in() {
        let (plan, context, mut refresh, [vault, addon, assignments, list]) = started();
        for found in [vault, addon, assignments] {
            refresh.add(found);
        }
        assert!(refresh.next_batch(&plan, None, &context).is_some());
        assert!(refresh.next_batch(&plan, None, &context).is_none());
        refresh.add(list);
        let listed = refresh.next_batch(&plan, None, &context).unwrap();
        assert_eq!(addresses(&listed), ["spc.payments-db", "spc.shop-api"]);
    }

    #[test]
    fn what_no_read_brought_is_observed_at_the_end_as_not_live() {
        let (plan, context, mut refresh, [vault, _, _, _]) = started();
        refresh.add(vault);
        assert!(refresh.next_batch(&plan, None, &context).is_none());
        let rest = refresh.rest(&plan, None, &context);
        assert_eq!(rest.len(), 5, "{:?}", addresses(&rest));
        assert!(rest.iter().all(|(_, observed)| observed.live.is_none()));
    }
}
