//! `apply` and `destroy`: take the clusters' locks, then walk the change set in dependency
//! order (deletes in reverse), writing each completed resource to the state at once.
//!
//! Values planned as "known after apply" (the add-on identity) are computed again as the
//! add-ons finish; every value the plan already knew must come out the same, or the run stops
//! rather than apply something nobody reviewed. That holds for the resources the change set
//! leaves alone too: when an add-on comes out of the apply with a new identity (it was turned
//! off outside vaultwire after a change set was saved, and turning it on made a new one),
//! every grant and SecretProviderClass planned for the old identity fails, named — unless the
//! user asked for them to be updated ([`ApplyOptions::update_dependents`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::diff::action::Action;
use crate::diff::change::ResourceChange;
use crate::engine::backend::{Backend, BackendError, ClusterRef, Delete, Locks, Settings, Write};
use crate::engine::events::{Event, Reporter};
use crate::engine::observe::{cluster_of, cluster_ref};
use crate::engine::plan::Planned;
use crate::engine::refresh::addon_identity;
use crate::engine::schedule::{Lane, lanes, walk_graph, weight};
use crate::engine::state_writer::StateWriter;
use crate::engine::state_writer::Ticket;
use crate::engine::walker::{LaneSlot, NodeOutcome, Schedule, StopFlag, walk_scheduled};
use crate::graph;
use crate::plan::address::{Address, ResourceKind};
use crate::plan::model::{OnDestroy, Plan};
use crate::resources::{self, Context, Derived};
use crate::state::StateError;
use crate::state::model::{Attributes, ResourceState};
use crate::task::joined;

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub parallelism: usize,
    /// Who holds the clusters' locks, as other runs will see it.
    pub holder: String,
    /// How often to report a long-running operation.
    pub progress_interval: Duration,
    /// Update (or replace) the resources planned for an add-on identity that changed during
    /// the apply, instead of failing them.
    pub update_dependents: bool,
}

/// How each address ended, and the counts for the closing line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    pub succeeded: BTreeMap<Address, Action>,
    pub failed: BTreeMap<Address, String>,
    pub skipped: BTreeMap<Address, Address>,
    pub not_started: BTreeSet<Address>,
}

impl ApplyReport {
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty() && self.not_started.is_empty()
    }

    /// "Resources: 2 added, 1 changed, 0 destroyed."
    pub fn counts(&self) -> String {
        let count = |wanted: &[Action]| {
            self.succeeded
                .values()
                .filter(|action| wanted.contains(action))
                .count()
        };
        let replaced = count(&[Action::Replace]);
        format!(
            "Resources: {} added, {} changed, {} destroyed.",
            count(&[Action::Create]) + replaced,
            count(&[Action::Update]),
            count(&[Action::Delete]) + replaced
        )
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApplyError {
    #[error("another run holds the lock of cluster `{cluster}`: {holder} (until {until})")]
    Locked {
        cluster: String,
        holder: String,
        until: String,
    },
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error("cannot save the state")]
    State(#[source] Arc<StateError>),
    #[error("the run lock could not be taken: {0}")]
    LockNotTaken(String),
    /// Another run wrote the state file after this run read it (and before it took the lock).
    #[error("another run changed the state file `{}` after this run read it", path.display())]
    StateChanged { path: std::path::PathBuf },
}

impl ApplyError {
    fn state(error: StateError) -> Self {
        ApplyError::State(Arc::new(error))
    }
}

/// The clusters whose locks a run takes before it writes the state file: every add-on's in the
/// plan file, whatever `--target` selected, and those of the selected addresses only the state
/// still has (a deleted add-on's or SecretProviderClass's). The locks guard the state file as
/// well as the clusters, and a run writes the whole file: a run targeting only a vault, run
/// while another applies the plan, would otherwise write the file beside it, and one of the two
/// would lose the other's records. As `terraform apply -target` still locks the whole state.
pub fn clusters(planned: &Planned, plan: &Plan) -> Vec<ClusterRef> {
    let selected = planned
        .selected
        .iter()
        .map(|address| (address, planned.refreshed.get(address)));
    clusters_of(plan, selected)
}

/// [`clusters`] for a run that touches `addresses` (each with its state record, if any).
pub fn clusters_of<'a>(
    plan: &Plan,
    addresses: impl IntoIterator<Item = (&'a Address, Option<&'a ResourceState>)>,
) -> Vec<ClusterRef> {
    let mut clusters: BTreeMap<_, ClusterRef> = BTreeMap::new();
    let mut add = |address: &Address, recorded: Option<&ResourceState>| {
        if let Some(cluster) = cluster_of(plan, address, recorded) {
            clusters.entry(cluster.key.clone()).or_insert(cluster);
        }
    };
    for key in plan.addons.keys() {
        add(&Address::addon(key.clone()), None);
    }
    for (address, recorded) in addresses {
        if matches!(address.kind, ResourceKind::Addon | ResourceKind::Spc) {
            add(address, recorded);
        }
    }
    clusters.into_values().collect()
}

/// Applies `planned` (already confirmed), persisting state through `writer`.
pub async fn apply<B: Backend>(
    backend: Arc<B>,
    plan: Arc<Plan>,
    planned: &Planned,
    writer: Arc<StateWriter>,
    options: &ApplyOptions,
    reporter: Arc<dyn Reporter>,
    stop: &StopFlag,
) -> Result<ApplyReport, ApplyError> {
    apply_showing(
        backend,
        plan,
        planned,
        writer,
        options,
        reporter,
        stop,
        || {},
    )
    .await
}

/// [`apply`], running `show` (printing the plan of an approved run) while the lock request is
/// on the wire: no change starts before both are done, and the lock is reported after it.
#[expect(
    clippy::too_many_arguments,
    reason = "apply's seven arguments plus the one thing it runs beside the lock"
)]
pub async fn apply_showing<B: Backend>(
    backend: Arc<B>,
    plan: Arc<Plan>,
    planned: &Planned,
    writer: Arc<StateWriter>,
    options: &ApplyOptions,
    reporter: Arc<dyn Reporter>,
    stop: &StopFlag,
    show: impl FnOnce() + Send,
) -> Result<ApplyReport, ApplyError> {
    let context = Arc::new(Context::of(&plan));
    // The walk starts from the state as refresh saw it (gone resources dropped, live ones
    // recorded); the file is changed only once the lock is held, so a run that finds the lock
    // taken leaves the state of the run holding it alone.
    let base = writer.merged(&planned.selected, &planned.refreshed);
    let clusters = clusters(planned, &plan);
    // A task of its own, so the lock requests go out at once even while this task is busy
    // printing the plan.
    let locking = {
        let (backend, clusters, holder, writer) = (
            backend.clone(),
            clusters.clone(),
            options.holder.clone(),
            writer.clone(),
        );
        let task =
            tokio::spawn(async move { lock_as_read(&*backend, &clusters, &holder, &writer).await });
        async move {
            joined(task)
                .await
                .unwrap_or_else(|cancelled| Err(ApplyError::LockNotTaken(cancelled.to_string())))
        }
    };
    let showing = || {
        let showing = Instant::now();
        show();
        tracing::debug!(elapsed_ms = showing.elapsed().as_millis(), "plan shown");
        if !clusters.is_empty() {
            reporter.event(Event::Locking {
                clusters: clusters.iter().map(|c| c.key.name.clone()).collect(),
            });
        }
    };
    // The plan is shown and the walk's bookkeeping computed while the lock request is on the
    // wire.
    let preparing = || {
        let dag = walk_graph(&plan, planned, &base);
        let changes: Arc<BTreeMap<Address, ResourceChange>> = Arc::new(
            planned
                .change_set
                .changes
                .iter()
                .map(|change| (change.address.clone(), change.clone()))
                .collect(),
        );
        let dependencies = {
            let plan_graph = graph::build(&plan);
            dag.nodes()
                .map(|address| {
                    let dependencies = plan_graph.dependencies_of(address).cloned().collect();
                    (address.clone(), dependencies)
                })
                .collect()
        };
        let lanes = lanes(&plan, &base, &dag);
        (dag, changes, dependencies, lanes)
    };
    let (locks, (dag, changes, dependencies, lanes)) =
        tokio::join!(locking, async { beside(showing, preparing) });
    let locks = locks?;
    // Saved with the first change (each change waits until the file holds it), or the flush.
    writer.set_resources(base);
    let renewal = locks.clone().map(|locks| {
        let backend = backend.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                if let Err(error) = backend.renew(&locks).await {
                    tracing::warn!("cannot renew the run lock: {error}");
                }
            }
        })
    });
    let planned_derived = Derived {
        addon_identities: planned.derived.clone(),
    };
    let derived = Arc::new(Mutex::new(planned_derived.clone()));
    let executed = Arc::new(Mutex::new(BTreeMap::new()));
    let node = NodeContext {
        backend: backend.clone(),
        plan: plan.clone(),
        context,
        changes: changes.clone(),
        derived,
        planned_derived: Arc::new(planned_derived),
        update_dependents: options.update_dependents,
        executed: executed.clone(),
        writer: writer.clone(),
        reporter: reporter.clone(),
        progress_interval: options.progress_interval,
        dependencies: Arc::new(dependencies),
        depended_on: Arc::new(
            dag.edges()
                .map(|(_, dependency)| dependency.clone())
                .collect(),
        ),
    };
    let schedule = Schedule {
        parallelism: options.parallelism,
        lane_of: |address: &Address| {
            lanes
                .get(address)
                .cloned()
                .unwrap_or(Lane::ContainerService)
        },
        weight_of: |address: &Address| weight(address, changes.get(address)),
    };
    let walking = Instant::now();
    let outcomes = walk_scheduled(&dag, &schedule, stop, |address, slot| {
        let node = node.clone();
        async move { node.run(address, slot).await }
    })
    .await;
    tracing::debug!(
        elapsed_ms = walking.elapsed().as_millis(),
        nodes = outcomes.len(),
        "walked the change set"
    );
    // Everything done is on disk before the lock goes (and before a Ctrl-C exits).
    let flushing = Instant::now();
    let flushed = writer.flush().await;
    tracing::debug!(
        elapsed_ms = flushing.elapsed().as_millis(),
        saves = writer.saves(),
        "state flushed"
    );
    if let Some(renewal) = renewal {
        renewal.abort();
    }
    release(&*backend, locks.as_ref()).await;
    flushed.map_err(ApplyError::state)?;
    let mut report = ApplyReport::default();
    let executed = executed
        .lock()
        .map(|executed| executed.clone())
        .unwrap_or_default();
    for (address, outcome) in outcomes {
        let action = executed
            .get(&address)
            .or_else(|| changes.get(&address).map(|c| &c.action))
            .copied()
            .unwrap_or(Action::NoOp);
        match outcome {
            NodeOutcome::Succeeded => {
                if action.is_change() {
                    report.succeeded.insert(address, action);
                }
            }
            NodeOutcome::Failed(message) => {
                report.failed.insert(address, message);
            }
            NodeOutcome::Skipped { failed_dependency } => {
                reporter.event(Event::Skipped {
                    address: address.clone(),
                    failed_dependency: failed_dependency.clone(),
                });
                report.skipped.insert(address, failed_dependency);
            }
            NodeOutcome::NotStarted => {
                if action.is_change() {
                    report.not_started.insert(address);
                }
            }
        }
    }
    Ok(report)
}

/// Writes the state file for a run that changes nothing live (`plan --refresh-only`,
/// `import`, `state rm`) as an apply writes it: holding the locks of `clusters` (see
/// [`clusters`]), and only if the file is still as the run read it. `write` records the run's
/// changes in `writer`; they are on disk before the locks are given back.
pub async fn write_state_locked<B: Backend, R>(
    backend: &B,
    clusters: &[ClusterRef],
    writer: &Arc<StateWriter>,
    holder: &str,
    write: impl FnOnce(&Arc<StateWriter>) -> Result<R, StateError>,
) -> Result<R, ApplyError> {
    let locks = lock_as_read(backend, clusters, holder, writer).await?;
    let written = match write(writer) {
        Ok(written) => writer
            .flush()
            .await
            .map(|()| written)
            .map_err(ApplyError::state),
        Err(error) => Err(ApplyError::state(error)),
    };
    release(backend, locks.as_ref()).await;
    written
}

/// Takes the locks of `clusters`, then checks that the state file is still as the run read
/// it: with the locks held nobody else writes it, and if someone did before, the run's plan
/// starts from a state that is no longer the file's — the locks are given back and the run
/// refused. A plan with no add-on has no cluster to lock (`None`): the check is all there is.
async fn lock_as_read<B: Backend>(
    backend: &B,
    clusters: &[ClusterRef],
    holder: &str,
    writer: &StateWriter,
) -> Result<Option<Locks>, ApplyError> {
    let locks = if clusters.is_empty() {
        None
    } else {
        Some(lock(backend, clusters, holder).await?)
    };
    let refused = match writer.unchanged_since_read().await {
        Ok(true) => return Ok(locks),
        Ok(false) => ApplyError::StateChanged {
            path: writer.path().unwrap_or_default(),
        },
        Err(error) => ApplyError::state(error),
    };
    release(backend, locks.as_ref()).await;
    Err(refused)
}

/// Gives the run's locks back; a failure only leaves them to expire, so it is logged.
async fn release<B: Backend>(backend: &B, locks: Option<&Locks>) {
    if let Some(locks) = locks
        && let Err(error) = backend.unlock(locks).await
    {
        tracing::warn!("cannot release the run lock: {error}");
    }
}

async fn lock<B: Backend>(
    backend: &B,
    clusters: &[ClusterRef],
    holder: &str,
) -> Result<Locks, ApplyError> {
    backend
        .lock(clusters, holder)
        .await
        .map_err(|error| match error {
            // The cluster the other run holds, which need not be the plan's first.
            BackendError::Locked {
                cluster,
                holder,
                until,
            } => ApplyError::Locked {
                cluster,
                holder,
                until,
            },
            error => ApplyError::Backend(error),
        })
}

/// What every node task shares.
struct NodeContext<B> {
    backend: Arc<B>,
    plan: Arc<Plan>,
    context: Arc<Context>,
    changes: Arc<BTreeMap<Address, ResourceChange>>,
    /// The derived values as they are now: the plan's, and what add-ons came out with.
    derived: Arc<Mutex<Derived>>,
    /// The derived values the change set was planned with.
    planned_derived: Arc<Derived>,
    update_dependents: bool,
    /// The action each change ran as, where it differs from the planned one (a dependent
    /// updated for a new identity).
    executed: Arc<Mutex<BTreeMap<Address, Action>>>,
    writer: Arc<StateWriter>,
    reporter: Arc<dyn Reporter>,
    progress_interval: Duration,
    dependencies: Arc<BTreeMap<Address, Vec<Address>>>,
    /// The addresses other changes of the walk wait for.
    depended_on: Arc<BTreeSet<Address>>,
}

// By hand: a derive would needlessly require `B: Clone`.
impl<B> Clone for NodeContext<B> {
    fn clone(&self) -> Self {
        Self {
            backend: self.backend.clone(),
            plan: self.plan.clone(),
            context: self.context.clone(),
            changes: self.changes.clone(),
            derived: self.derived.clone(),
            planned_derived: self.planned_derived.clone(),
            update_dependents: self.update_dependents,
            executed: self.executed.clone(),
            writer: self.writer.clone(),
            reporter: self.reporter.clone(),
            progress_interval: self.progress_interval,
            dependencies: self.dependencies.clone(),
            depended_on: self.depended_on.clone(),
        }
    }
}

impl<B: Backend> NodeContext<B> {
    /// Makes one change. Its lane slot goes back once the servers are done with it; the
    /// change counts as finished (reported, dependents started) once the state file holds it.
    async fn run(&self, address: Address, mut slot: LaneSlot) -> Result<(), String> {
        let Some(change) = self.changes.get(&address).cloned() else {
            return Ok(());
        };
        let change = if change.action.is_change() {
            change
        } else {
            match self.left_behind(&change) {
                Ok(None) => return Ok(()),
                Ok(Some(update)) => update,
                Err(message) => {
                    self.reporter.event(Event::Failed {
                        address,
                        action: Action::Update,
                        message: message.clone(),
                    });
                    return Err(message);
                }
            }
        };
        let prior = self.recorded(&address);
        self.reporter.event(Event::Started {
            address: address.clone(),
            action: change.action,
            id: prior.as_ref().map(|p| p.id.clone()),
        });
        let started = Instant::now();
        let executed = self
            .with_progress(
                &address,
                change.action,
                started,
                self.execute(&change, prior),
            )
            .await;
        slot.release();
        let result = match executed {
            Ok((id, saved)) => {
                // Only a change others wait for needs its save at once.
                let saving = if self.depended_on.contains(&address) {
                    self.writer.durable(saved).await
                } else {
                    self.writer.durable_lazily(saved).await
                };
                saving.map(|()| id).map_err(|error| error.to_string())
            }
            Err(message) => Err(message),
        };
        match result {
            Ok(id) => {
                self.reporter.event(Event::Finished {
                    address,
                    action: change.action,
                    elapsed: started.elapsed(),
                    id,
                });
                Ok(())
            }
            Err(message) => {
                self.reporter.event(Event::Failed {
                    address,
                    action: change.action,
                    message: message.clone(),
                });
                Err(message)
            }
        }
    }

    /// Runs `future`, reporting "still waiting" every `progress_interval`.
    async fn with_progress<T>(
        &self,
        address: &Address,
        action: Action,
        started: Instant,
        future: impl std::future::Future<Output = T>,
    ) -> T {
        tokio::pin!(future);
        let mut ticker = tokio::time::interval(self.progress_interval);
        ticker.tick().await;
        loop {
            tokio::select! {
                output = &mut future => return output,
                _ = ticker.tick() => self.reporter.event(Event::StillWaiting {
                    address: address.clone(),
                    action,
                    elapsed: started.elapsed(),
                }),
            }
        }
    }

    /// The desired properties of `address` with the derived values as they are now (`None`:
    /// it is not in the plan file).
    fn desired_now(&self, address: &Address) -> Result<Option<Attributes>, String> {
        let derived = self
            .derived
            .lock()
            .map_err(|_| "lock poisoned".to_owned())?
            .clone();
        Ok(resources::desired(
            &self.plan,
            address,
            &self.context,
            &derived,
        ))
    }

    /// The add-ons whose identity was known when the change set was planned and is another
    /// one now (this apply changed it).
    fn moved_identities(&self) -> Result<Vec<String>, String> {
        let now = self
            .derived
            .lock()
            .map_err(|_| "lock poisoned".to_owned())?;
        Ok(self
            .planned_derived
            .addon_identities
            .iter()
            .filter(|(key, planned)| now.addon_identities.get(*key) != Some(*planned))
            .map(|(key, _)| key.clone())
            .collect())
    }

    /// For a resource the change set leaves alone: `None` while what it was planned with
    /// still holds; else it was planned for an add-on identity this apply changed, and is the
    /// update (or replacement) that follows it when the user asked for that, or an error
    /// naming it.
    fn left_behind(&self, change: &ResourceChange) -> Result<Option<ResourceChange>, String> {
        let moved = self.moved_identities()?;
        if moved.is_empty() {
            return Ok(None);
        }
        let address = &change.address;
        let Some(desired) = self.desired_now(address)? else {
            return Ok(None);
        };
        if check_consistent(change, &desired).is_ok() {
            return Ok(None);
        }
        if !self.update_dependents {
            return Err(planned_for_old_identity(address, &moved));
        }
        let followed = crate::diff::compute::compute(
            address,
            Some(desired),
            change.before.clone(),
            resources::schema(address.kind),
        );
        self.executed
            .lock()
            .map_err(|_| "lock poisoned".to_owned())?
            .insert(address.clone(), followed.action);
        Ok(Some(followed))
    }

    /// [`check_consistent`], unless the difference comes only from an add-on identity this
    /// apply changed and the user asked for dependents to follow it.
    fn check_planned(&self, change: &ResourceChange, desired: &Attributes) -> Result<(), String> {
        let Err(inconsistent) = check_consistent(change, desired) else {
            return Ok(());
        };
        let moved = self.moved_identities()?;
        if moved.is_empty() {
            return Err(inconsistent);
        }
        // Desired as planned: if that is consistent, the new identity is the only difference.
        let as_planned = resources::desired(
            &self.plan,
            &change.address,
            &self.context,
            &self.planned_derived,
        );
        match as_planned.map(|planned| check_consistent(change, &planned)) {
            Some(Ok(())) if self.update_dependents => Ok(()),
            Some(Ok(())) => Err(planned_for_old_identity(&change.address, &moved)),
            _ => Err(inconsistent),
        }
    }

    fn recorded(&self, address: &Address) -> Option<ResourceState> {
        self.writer
            .read(|state| state.resources.get(address).cloned())
    }

    /// Does the change and records it; returns the resource ID for the progress line and the
    /// ticket of the save that will hold the record.
    async fn execute(
        &self,
        change: &ResourceChange,
        prior: Option<ResourceState>,
    ) -> Result<(Option<String>, Ticket), String> {
        let address = &change.address;
        match change.action {
            Action::NoOp => Ok((None, Ticket::default())),
            Action::Delete => {
                let state = prior.ok_or_else(|| format!("`{address}` is not in the state"))?;
                let saved = self.delete(address, state).await?;
                Ok((None, saved))
            }
            Action::Replace => {
                if let Some(state) = prior {
                    self.delete(address, state).await?;
                }
                let (id, saved) = self.write(change, None).await?;
                Ok((Some(id), saved))
            }
            Action::Create | Action::Update => {
                let (id, saved) = self.write(change, prior).await?;
                Ok((Some(id), saved))
            }
        }
    }

    async fn delete(&self, address: &Address, state: ResourceState) -> Result<Ticket, String> {
        let settings = self.settings(address, Some(&state));
        let cluster = cluster_for(address, &state.attributes, &state.settings);
        self.backend
            .delete(Delete {
                address: address.clone(),
                state,
                settings,
                cluster,
            })
            .await
            .map_err(|error| error.to_string())?;
        self.record(address, None)
    }

    async fn write(
        &self,
        change: &ResourceChange,
        prior: Option<ResourceState>,
    ) -> Result<(String, Ticket), String> {
        let address = &change.address;
        let desired = self
            .desired_now(address)?
            .ok_or_else(|| format!("`{address}` is not in the plan file"))?;
        self.check_planned(change, &desired)?;
        let settings_map = resources::settings(&self.plan, address);
        let live = self
            .backend
            .write(Write {
                address: address.clone(),
                cluster: cluster_for(address, &desired, &settings_map),
                desired,
                prior,
                settings: self.settings(address, None),
            })
            .await
            .map_err(|error| error.to_string())?;
        if address.kind == ResourceKind::Addon {
            let mut derived = self
                .derived
                .lock()
                .map_err(|_| "lock poisoned".to_owned())?;
            match addon_identity(&live) {
                Some(identity) => {
                    derived
                        .addon_identities
                        .insert(address.key.clone(), identity);
                }
                None => {
                    derived.addon_identities.remove(&address.key);
                }
            }
        }
        let id = live.id.clone();
        let dependencies = self.dependencies.get(address).cloned().unwrap_or_default();
        let saved = self.record(address, Some(live.into_state(dependencies, settings_map)))?;
        Ok((id, saved))
    }

    fn settings(&self, address: &Address, state: Option<&ResourceState>) -> Settings {
        let from_plan = resources::settings(&self.plan, address);
        let settings = if from_plan.is_empty() {
            state.map(|s| s.settings.clone()).unwrap_or_default()
        } else {
            from_plan
        };
        let on_destroy = match settings.get("on_destroy").and_then(Value::as_str) {
            Some("delete") => OnDestroy::Delete,
            Some("purge") => OnDestroy::Purge,
            _ => OnDestroy::Retain,
        };
        Settings {
            recover_soft_deleted: settings
                .get("recover_soft_deleted")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            on_destroy,
        }
    }

    /// Records the outcome; the resource counts as done only once the save of the returned
    /// ticket is on disk (see [`Self::run`]).
    fn record(&self, address: &Address, record: Option<ResourceState>) -> Result<Ticket, String> {
        self.writer
            .record(address, record)
            .map_err(|error| error.to_string())
    }
}

fn cluster_for(
    address: &Address,
    attributes: &Attributes,
    settings: &Attributes,
) -> Option<ClusterRef> {
    matches!(address.kind, ResourceKind::Addon | ResourceKind::Spc)
        .then(|| cluster_ref(attributes, settings))
}

/// Why a resource planned for an add-on identity that this apply changed is not applied.
fn planned_for_old_identity(address: &Address, moved: &[String]) -> String {
    let addons = moved
        .iter()
        .map(|key| format!("`addon.{key}`"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "planned for the identity {addons} had, which came out of this apply with a new one; \
         `{address}` was left as it was: run `vaultwire plan` again to review the change, or \
         apply with `--update-dependents`"
    )
}

/// Every value the plan knew must be what apply is about to write.
fn check_consistent(change: &ResourceChange, desired: &Attributes) -> Result<(), String> {
    let Some(planned) = &change.after else {
        return Ok(());
    };
    for (property, value) in desired {
        if crate::diff::compute::is_unknown(value) {
            return Err(format!(
                "`{}` of `{}` is still unknown at apply time",
                property, change.address
            ));
        }
        if let Some(planned_value) = planned.get(property)
            && !crate::diff::compute::is_unknown(planned_value)
            && planned_value != value
        {
            return Err(format!(
                "`{property}` of `{}` changed since the plan was made; run `vaultwire plan` again",
                change.address
            ));
        }
    }
    Ok(())
}

/// Runs `first` and `second` (CPU work: printing a large plan, the walk's bookkeeping) on two
/// threads at once, off the runtime's workers so tasks woken meanwhile (the lock request's
/// connection) run elsewhere. On a single-threaded runtime (tests) one after the other.
fn beside<T: Send>(first: impl FnOnce() + Send, second: impl FnOnce() -> T + Send) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|handle| handle.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(|| {
            std::thread::scope(|scope| {
                let other = scope.spawn(second);
                first();
                other
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
        }),
        _ => {
            first();
            second()
        }
    }
}

#[cfg(test)]
mod beside_tests {
    use std::sync::mpsc::channel;
    use std::time::Duration;

    use super::beside;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn both_run_at_once_on_a_multi_threaded_runtime() {
        // Each tells the other it started and waits to hear the same: run one after the other,
        // the first gives up after a while.
        let (to_second, from_first) = channel();
        let (to_first, from_second) = channel();
        let patience = Duration::from_secs(5);
        let met = std::sync::Mutex::new(None);
        let first_met = &met;
        let second_met = beside(
            move || {
                let _ = to_second.send(());
                *first_met.lock().unwrap() = Some(from_second.recv_timeout(patience).is_ok());
            },
            move || {
                let _ = to_first.send(());
                from_first.recv_timeout(patience).is_ok()
            },
        );
        assert_eq!(*met.lock().unwrap(), Some(true));
        assert!(second_met);
    }

    #[tokio::test]
    async fn one_after_the_other_on_a_single_threaded_runtime() {
        let order = std::sync::Mutex::new(Vec::new());
        let second = beside(
            || order.lock().unwrap().push("first"),
            || {
                order.lock().unwrap().push("second");
                "done"
            },
        );
        assert_eq!(second, "done");
        assert_eq!(*order.lock().unwrap(), ["first", "second"]);
    }
}
