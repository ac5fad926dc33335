//! `plan`: refresh, then diff desired against live for every selected address, and report
//! drift (state against live) on its own. The result is everything `apply` needs.

use std::collections::{BTreeMap, BTreeSet};

use crate::diff::action::Action;
use crate::diff::change::{ChangeSet, Drift, Reason, ResourceChange};
use crate::diff::compute::{
    Schema, compute, compute_from_changes, differing_known_properties, differing_properties,
    is_unknown,
};
use crate::engine::backend::{Backend, BackendError};
use crate::engine::observe::Observed;
use crate::engine::refresh::{Batch, Refresh, enabled_identity, identity_ids, issuer};
use crate::graph::Dag;
use crate::plan::address::{Address, ResourceKind};
use crate::plan::dependencies;
use crate::plan::model::Plan;
use crate::resources::{self, Context, Derived};
use crate::state::model::{Attributes, ResourceState, StateFile};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

/// Which kind of run run a plan is for; a saved change set records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Normal,
    Destroy,
    RefreshOnly,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    pub mode: Mode,
    /// Limit to these addresses and what they depend on.
    pub targets: Vec<Address>,
    pub parallelism: usize,
    /// Whether [`Planned::refreshed`] is filled. Apply, import, saved change sets and
    /// `--refresh-only` start from the live records; a plan that is only shown does not, and
    /// then skips a copy of every live resource (hundreds of SecretProviderClass manifests).
    pub keep_refreshed: bool,
    /// Also read the pods that mount the plan's workload-identity classes, and warn of those
    /// on a service account their identity does not trust (`engine::preflight`). For the
    /// plans a user reviews, not for import's or verify's.
    pub preflight: bool,
}

/// Everything `plan` computed; what `apply` executes.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub change_set: ChangeSet,
    /// Derived values known at plan time (add-on identities and issuers, managed identities).
    pub derived: Derived,
    /// The state's records as refresh found them live (what `--refresh-only` saves, and what
    /// apply starts from). Addresses not live are absent.
    pub refreshed: BTreeMap<Address, ResourceState>,
    /// The addresses this run covers.
    pub selected: BTreeSet<Address>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error(
        "cluster `{cluster}` of `{address}` was not found in resource group `{resource_group}`"
    )]
    ClusterNotFound {
        address: Address,
        cluster: String,
        resource_group: String,
    },
    #[error(
        "key vault `{name}` of `{address}` is soft-deleted and `recover_soft_deleted` is false"
    )]
    SoftDeletedVault { address: Address, name: String },
    #[error("`{0}` is not in the plan file or the state")]
    UnknownTarget(Address),
}

impl PlanError {
    pub fn help(&self) -> Option<String> {
        match self {
            PlanError::Backend(error) => error.help(),
            PlanError::ClusterNotFound { .. } => Some(
                "vaultwire manages the add-on of an existing AKS cluster: create the cluster first, or fix `cluster`/`resource_group`"
                    .to_owned(),
            ),
            PlanError::SoftDeletedVault { .. } => Some(
                "set `recover_soft_deleted = true` to recover it, purge it, or choose another name"
                    .to_owned(),
            ),
            PlanError::UnknownTarget(_) => {
                Some("run `vaultwire state list PLAN` to see the addresses".to_owned())
            }
        }
    }
}

/// The addresses a run covers: the plan file's and the state's, or with `--target`, the
/// targets and everything they depend on.
pub fn select(
    plan: &Plan,
    state: Option<&StateFile>,
    targets: &[Address],
) -> Result<BTreeSet<Address>, PlanError> {
    if targets.is_empty() {
        // Only the graph's nodes: its edges are needed to close over targets, and the diff
        // builds it anyway (off the refresh's path, while reads are on the network).
        let mut all: BTreeSet<Address> = dependencies::addresses(plan).collect();
        if let Some(state) = state {
            all.extend(state.resources.keys().cloned());
        }
        return Ok(all);
    }
    let dag = dependencies::build(plan);
    let in_state = |address: &Address| state.is_some_and(|s| s.resources.contains_key(address));
    let mut selected = BTreeSet::new();
    for target in targets {
        if dag.contains(target) {
            selected.extend(dag.closure(std::slice::from_ref(target)));
        } else if in_state(target) {
            selected.insert(target.clone());
        } else {
            return Err(PlanError::UnknownTarget(target.clone()));
        }
    }
    Ok(selected)
}

/// Plans `plan` against the `state` and live Azure and clusters.
///
/// Each batch of the refresh is diffed as soon as it is observed — above all each cluster's
/// SecretProviderClasses as soon as its list is in — so what is left after the last read is
/// that read's share of the work.
pub async fn plan<B: Backend>(
    backend: &B,
    plan: &Plan,
    state: Option<&StateFile>,
    options: &PlanOptions,
) -> Result<Planned, PlanError> {
    let context = Context::of(plan);
    let selected = select(plan, state, &options.targets)?;
    let refreshing = std::time::Instant::now();
    let (reads, mut refresh) = Refresh::start(plan, state, &selected, &context);
    let (arrived, mut arrivals) = futures::channel::mpsc::unbounded();
    let addresses = selected.len();
    let reading = async move {
        let mut hand_over = |found| {
            // Only fails once the diff stopped on an error of its own.
            let _ = arrived.unbounded_send(found);
        };
        let read = backend
            .read(&reads, options.parallelism, &mut hand_over)
            .await;
        tracing::debug!(
            elapsed_ms = refreshing.elapsed().as_millis(),
            addresses,
            "refreshed"
        );
        read
    };
    let diffing = async {
        // The groundwork is laid while the reads are on the network (yielding first, so
        // they are sent before it starts).
        tokio::task::yield_now().await;
        let groundwork = Groundwork::lay(plan, state, &selected, &context, options.mode);
        let mut diff = Diff::new(groundwork, &selected);
        while let Some(found) = arrivals.next().await {
            refresh.add(found);
            while let Some(batch) = refresh.next_batch(plan, state, &context) {
                diff.all(plan, state, batch, refresh.derived(), &context, options)?;
            }
        }
        Ok::<_, PlanError>(diff)
    };
    let preflight = async {
        if options.preflight && options.mode == Mode::Normal {
            crate::engine::preflight::federation_warnings(backend, plan).await
        } else {
            Vec::new()
        }
    };
    let (read, diffed, warnings) = futures::join!(reading, diffing, preflight);
    // A failed read first: the diff may have stopped only for want of what it would have read.
    read?;
    let mut diff = diffed?;
    let rest = refresh.rest(plan, state, &context);
    diff.all(plan, state, rest, refresh.derived(), &context, options)?;
    let mut planned = diff.finish(&selected, options);
    planned.change_set.warnings.extend(warnings);
    tracing::debug!(elapsed_ms = refreshing.elapsed().as_millis(), "diffed");
    Ok(planned)
}

/// What the diff needs that nothing live changes, worked out while the refresh waits on the
/// network: the dependency graph, and the desired properties of every address as they are
/// with the add-on identities the state recorded — which a plan that changes no identity
/// (every plan run twice) goes on to use. For hundreds of SecretProviderClasses, rendering
/// their manifests was half the diff.
pub struct Groundwork {
    dag: Dag<Address>,
    /// The identities `desired` was computed with.
    derived: Derived,
    /// Desired properties of every selected address but the add-ons, which are few and set
    /// the identities.
    desired: BTreeMap<Address, Laid>,
}

/// An address's desired properties as the groundwork worked them out.
struct Laid {
    /// `None`: not in the plan file.
    desired: Option<Attributes>,
    /// Whether they are exactly what the state records, with no value known only after
    /// apply — as they are for most addresses of a plan run twice. Then live differs from
    /// desired where it differs from the state, and one comparison, which need not look for
    /// unknown values, serves both the drift and the change.
    as_recorded: bool,
}

impl Groundwork {
    pub fn lay(
        plan: &Plan,
        state: Option<&StateFile>,
        selected: &BTreeSet<Address>,
        context: &Context,
        mode: Mode,
    ) -> Self {
        let derived = recorded_identities(state);
        let desired = match mode {
            Mode::Destroy => BTreeMap::new(),
            _ => selected
                .iter()
                .filter(|address| address.kind != ResourceKind::Addon)
                .map(|address| {
                    let desired = resources::desired(plan, address, context, &derived);
                    let recorded = state
                        .and_then(|state| state.resources.get(address))
                        .map(|record| &record.attributes);
                    let as_recorded = desired.as_ref().is_some_and(|desired| {
                        Some(desired) == recorded && !desired.values().any(is_unknown)
                    });
                    (
                        address.clone(),
                        Laid {
                            desired,
                            as_recorded,
                        },
                    )
                })
                .collect(),
        };
        Self {
            dag: dependencies::build(plan),
            derived,
            desired,
        }
    }

    /// `address`'s desired properties, computed with [`Groundwork::derived`].
    fn take_desired(&mut self, address: &Address) -> Option<Laid> {
        self.desired.remove(address)
    }
}

/// The derived values the state records — the identities of the add-ons it records as
/// enabled, their clusters' issuers, the managed identities' IDs — as refresh reads live ones.
pub(crate) fn recorded_identities(state: Option<&StateFile>) -> Derived {
    let mut derived = Derived::default();
    for (address, record) in state.iter().flat_map(|state| &state.resources) {
        let key = address.key.clone();
        match address.kind {
            ResourceKind::Addon => {
                if let Some(identity) = enabled_identity(&record.attributes, &record.derived) {
                    derived.addon_identities.insert(key.clone(), identity);
                }
                if let Some(issuer) = issuer(&record.derived) {
                    derived.issuers.insert(key, issuer);
                }
            }
            ResourceKind::Identity => {
                if let Some(ids) = identity_ids(&record.derived) {
                    derived.identities.insert(key, ids);
                }
            }
            _ => {}
        }
    }
    derived
}

/// The pure half of [`plan`]: from observations to the change set, one batch at a time as
/// the refresh makes them — add-ons in the first, so their planned action decides whether
/// their identity is known before anything uses it.
pub struct Diff {
    /// Identities known at plan time; those that will change during apply are unknown until
    /// then. Set by the first batch.
    derived: Option<Derived>,
    groundwork: Groundwork,
    /// Whether the groundwork's desired properties hold: known once the add-ons are diffed.
    groundwork_holds: Option<bool>,
    changes: Vec<ResourceChange>,
    drift: Vec<Drift>,
    records: BTreeMap<Address, ResourceState>,
}

impl Diff {
    /// A diff of `selected` with the `groundwork` laid while reads were on the network.
    pub fn new(groundwork: Groundwork, selected: &BTreeSet<Address>) -> Self {
        Self {
            derived: None,
            groundwork,
            groundwork_holds: None,
            // Sized once: growing a vector of hundreds of changes reallocates it again and
            // again, each time after the refresh freed thousands of small values (mimalloc
            // then sweeps its pages for room).
            changes: Vec::with_capacity(selected.len()),
            drift: Vec::new(),
            records: BTreeMap::new(),
        }
    }

    /// Diffs one batch of observed addresses. `live` are the add-on identities the refresh
    /// read; the diff starts from those it has at the first batch, which holds every add-on.
    pub fn all(
        &mut self,
        plan: &Plan,
        state: Option<&StateFile>,
        batch: Batch,
        live: &Derived,
        context: &Context,
        options: &PlanOptions,
    ) -> Result<(), PlanError> {
        self.derived.get_or_insert_with(|| live.clone());
        for (address, observed) in batch {
            self.one(plan, state, &address, observed, context, options)?;
        }
        Ok(())
    }

    fn one(
        &mut self,
        plan: &Plan,
        state: Option<&StateFile>,
        address: &Address,
        observed: Observed,
        context: &Context,
        options: &PlanOptions,
    ) -> Result<(), PlanError> {
        let derived = self.derived.get_or_insert_with(Derived::default);
        let prior = state.and_then(|s| s.resources.get(address));
        let laid = if address.kind == ResourceKind::Addon {
            None
        } else {
            let holds = *self
                .groundwork_holds
                .get_or_insert_with(|| self.groundwork.derived == *derived);
            holds
                .then(|| self.groundwork.take_desired(address))
                .flatten()
        };
        let (desired, as_recorded) = match (options.mode, laid) {
            (Mode::Destroy, _) => (None, false),
            (_, Some(laid)) => (laid.desired, laid.as_recorded),
            (_, None) => (resources::desired(plan, address, context, derived), false),
        };
        if let (Some(desired), None) = (&desired, &observed.live) {
            check_creatable(plan, address, desired, observed.soft_deleted)?;
        }
        let schema = resources::schema(address.kind);
        // What live changed of the state's record (the drift), and so of the desired
        // properties when they are the record's.
        let mut drifted = None;
        if let Some(prior) = prior {
            let live = observed.live.as_ref().map(|live| &live.attributes);
            let (entry, changed) = drift_of(address, prior, live, schema, as_recorded);
            self.drift.extend(entry);
            drifted = changed.filter(|_| as_recorded);
        }
        let (live_attributes, live) = match observed.live {
            Some(live) if options.keep_refreshed => (Some(live.attributes.clone()), Some(live)),
            Some(live) => (Some(live.attributes), None),
            None => (None, None),
        };
        let mut change = match drifted {
            Some(changed) => {
                compute_from_changes(address, desired, live_attributes, schema, changed)
            }
            None => compute(address, desired, live_attributes, schema),
        };
        if change.action == Action::Create && prior.is_some() {
            change.reason = Some(Reason::DeletedOutside);
        }
        if change.action == Action::Create && observed.soft_deleted {
            change.reason = Some(Reason::RecoverSoftDeleted);
        }
        if change.action == Action::Delete
            && matches!(address.kind, ResourceKind::Vault | ResourceKind::Identity)
            && retains(prior, plan, address)
        {
            change.reason = Some(Reason::Retain);
        }
        let recreated = matches!(change.action, Action::Create | Action::Replace);
        if address.kind == ResourceKind::Addon && (recreated || identity_changes(&change)) {
            derived.addon_identities.remove(&address.key);
        }
        if address.kind == ResourceKind::Addon && (recreated || issuer_turns_on(&change)) {
            derived.issuers.remove(&address.key);
        }
        if address.kind == ResourceKind::Identity && recreated {
            derived.identities.remove(&address.key);
        }
        if let Some(live) = live {
            let dependencies = self
                .groundwork
                .dag
                .dependencies_of(address)
                .cloned()
                .collect::<Vec<_>>();
            let dependencies = if dependencies.is_empty() {
                prior.map(|p| p.dependencies.clone()).unwrap_or_default()
            } else {
                dependencies
            };
            let settings = if plan_defines(plan, address) {
                resources::settings(plan, address)
            } else {
                prior.map(|p| p.settings.clone()).unwrap_or_default()
            };
            self.records
                .insert(address.clone(), live.into_state(dependencies, settings));
        }
        if options.mode == Mode::RefreshOnly {
            change.action = Action::NoOp;
            change.after = change.before.clone();
            change.replace_paths.clear();
            change.reason = None;
        }
        self.changes.push(change);
        Ok(())
    }

    /// The change set of every batch diffed.
    pub fn finish(self, selected: &BTreeSet<Address>, options: &PlanOptions) -> Planned {
        let mut change_set = ChangeSet {
            changes: self.changes,
            drift: self.drift,
            warnings: Vec::new(),
        };
        if !options.targets.is_empty() {
            change_set.warnings.push(format!(
                "only {} and what they depend on are planned (--target); the rest of the plan file may not match live. Use --target only in exceptional circumstances.",
                options
                    .targets
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        change_set.normalize();
        Planned {
            change_set,
            derived: self.derived.unwrap_or_default(),
            refreshed: self.records,
            selected: selected.clone(),
        }
    }
}

fn plan_defines(plan: &Plan, address: &Address) -> bool {
    let key = address.key.as_str();
    match address.kind {
        ResourceKind::Vault => plan.vaults.contains_key(key),
        ResourceKind::Addon => plan.addons.contains_key(key),
        ResourceKind::Identity => plan.identities.contains_key(key),
        ResourceKind::Federation => plan.federations.contains_key(key),
        ResourceKind::Grant => plan.grants.contains_key(key),
        ResourceKind::Spc => plan.spcs.contains_key(key),
    }
}

/// Refuses what cannot be created: an add-on of a missing cluster, a soft-deleted vault the
/// plan does not allow to recover.
fn check_creatable(
    plan: &Plan,
    address: &Address,
    desired: &crate::state::model::Attributes,
    soft_deleted: bool,
) -> Result<(), PlanError> {
    let text = |key: &str| {
        desired
            .get(key)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    match address.kind {
        ResourceKind::Addon => Err(PlanError::ClusterNotFound {
            address: address.clone(),
            cluster: text("cluster"),
            resource_group: text("resource_group"),
        }),
        ResourceKind::Vault if soft_deleted => {
            let recover = plan
                .vaults
                .get(&address.key)
                .is_none_or(|vault| vault.recover_soft_deleted);
            if recover {
                Ok(())
            } else {
                Err(PlanError::SoftDeletedVault {
                    address: address.clone(),
                    name: text("name"),
                })
            }
        }
        _ => Ok(()),
    }
}

/// Whether deleting a vault or identity only forgets it: as the plan file says, else as the
/// state recorded, else as each kind's default (a vault is retained, an identity deleted).
fn retains(prior: Option<&ResourceState>, plan: &Plan, address: &Address) -> bool {
    let retain = crate::plan::model::OnDestroy::Retain;
    let from_plan = match address.kind {
        ResourceKind::Vault => plan
            .vaults
            .get(&address.key)
            .map(|vault| vault.on_destroy.value == retain),
        _ => plan
            .identities
            .get(&address.key)
            .map(|identity| identity.on_destroy.value == retain),
    };
    let from_state = prior
        .and_then(|p| p.settings.get("on_destroy"))
        .and_then(serde_json::Value::as_str)
        .map(|value| value == "retain");
    from_plan
        .or(from_state)
        .unwrap_or(address.kind == ResourceKind::Vault)
}

/// Whether an add-on change turns its cluster's OIDC issuer on (the issuer URL is then known
/// only after apply).
fn issuer_turns_on(change: &ResourceChange) -> bool {
    let on = |attributes: &Option<Attributes>| {
        attributes
            .as_ref()
            .and_then(|attributes| attributes.get("workload_identity"))
            .and_then(serde_json::Value::as_bool)
            == Some(true)
    };
    on(&change.after) && !on(&change.before)
}

/// Whether an add-on update changes its identity (disabling it, or moving it).
fn identity_changes(change: &ResourceChange) -> bool {
    change.address.kind == ResourceKind::Addon
        && change
            .after
            .as_ref()
            .and_then(|after| after.get("enabled"))
            .and_then(serde_json::Value::as_bool)
            != change
                .before
                .as_ref()
                .and_then(|before| before.get("enabled"))
                .and_then(serde_json::Value::as_bool)
}

/// The drift of `address` from its state record, and the recorded properties live differs
/// in (`None` when it is not live). `known`: the record holds no value known only after apply.
fn drift_of(
    address: &Address,
    prior: &ResourceState,
    live: Option<&crate::state::model::Attributes>,
    schema: &Schema,
    known: bool,
) -> (Option<Drift>, Option<Vec<String>>) {
    match live {
        None => (
            Some(Drift {
                address: address.clone(),
                before: Some(prior.attributes.clone()),
                after: None,
            }),
            None,
        ),
        Some(live) => {
            let changed = if known {
                differing_known_properties(&prior.attributes, live, schema)
            } else {
                differing_properties(&prior.attributes, live, schema)
            };
            let drift = (!changed.is_empty()).then(|| Drift {
                address: address.clone(),
                before: Some(prior.attributes.clone()),
                after: Some(live.clone()),
            });
            (drift, Some(changed))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testing::example_plan;
    use crate::resources::AddonIdentity;

    fn record(
        attributes: Attributes,
        derived: BTreeMap<String, serde_json::Value>,
    ) -> ResourceState {
        ResourceState {
            id: "id".into(),
            attributes,
            derived,
            version: None,
            dependencies: Vec::new(),
            settings: Attributes::new(),
        }
    }

    #[test]
    fn desired_properties_are_taken_as_recorded_only_when_equal_and_known() {
        let (plan, _) = example_plan();
        let context = Context::of(&plan);
        let selected = select(&plan, None, &[]).unwrap();
        let spc = Address::spc("payments-db");
        let as_laid = |state: &StateFile| {
            let mut laid = Groundwork::lay(&plan, Some(state), &selected, &context, Mode::Normal);
            laid.take_desired(&spc).unwrap()
        };
        // No add-on recorded: its identity, and so the manifest's client ID, is unknown.
        let mut state = StateFile::new();
        let unknown = as_laid(&state).desired.unwrap();
        assert!(unknown.values().any(is_unknown));
        state
            .resources
            .insert(spc.clone(), record(unknown, BTreeMap::new()));
        assert!(!as_laid(&state).as_recorded, "an unknown value");
        // The add-on recorded with its identity: every value known.
        let identity = AddonIdentity {
            client_id: "client".into(),
            object_id: "object".into(),
            resource_id: "resource".into(),
        };
        state.resources.insert(
            Address::addon("demo"),
            record(
                [("enabled".to_owned(), serde_json::json!(true))].into(),
                [(
                    "identity".to_owned(),
                    serde_json::to_value(identity).unwrap(),
                )]
                .into(),
            ),
        );
        let known = as_laid(&state).desired.unwrap();
        assert!(!known.values().any(is_unknown));
        state
            .resources
            .insert(spc.clone(), record(known.clone(), BTreeMap::new()));
        assert!(as_laid(&state).as_recorded);
        let mut changed = known;
        changed.insert("namespace".into(), serde_json::json!("elsewhere"));
        state
            .resources
            .insert(spc.clone(), record(changed, BTreeMap::new()));
        assert!(!as_laid(&state).as_recorded, "a value differs");
    }
}
