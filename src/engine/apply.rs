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

use crate::diff::action::Action;
use crate::diff::change::ResourceChange;
use crate::engine::backend::{Backend, BackendError, ClusterRef, Locks};
use crate::engine::events::{Event, Reporter};
use crate::engine::node::{ChangeError, NodeContext};
use crate::engine::observe::cluster_of;
use crate::engine::plan::Planned;
use crate::engine::schedule::{Lane, lanes, walk_graph, weight};
use crate::engine::state_writer::StateWriter;
use crate::graph::walker::{NodeOutcome, Schedule, StopFlag, walk_scheduled};
use crate::plan::address::{Address, ResourceKind};
use crate::plan::dependencies;
use crate::plan::model::Plan;
use crate::resources::Context;
use crate::state::StateError;
use crate::state::model::ResourceState;
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
#[derive(Debug, Clone, Default)]
pub struct ApplyReport {
    pub succeeded: BTreeMap<Address, Action>,
    pub failed: BTreeMap<Address, ChangeError>,
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
            let plan_graph = dependencies::build(&plan);
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
    let planned_derived = planned.derived.clone();
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
        serial: Lane::serial,
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
