//! Making one change of an apply's walk — a node of its graph: checking that what it is
//! about to write is what was planned, writing or deleting through the backend, and recording
//! the outcome in the state before it counts as done. Resources the change set leaves alone
//! are checked too, once an add-on's identity moved during the apply.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::diff::action::Action;
use crate::diff::change::ResourceChange;
use crate::engine::backend::{
    Backend, BackendError, ClusterRef, Delete, Settings, Write, WriteProgress, with_causes,
};
use crate::engine::events::{Event, Reporter};
use crate::engine::refresh::learn_derived;
use crate::engine::state_writer::{StateWriter, Ticket};
use crate::graph::walker::LaneSlot;
use crate::plan::address::{Address, ResourceKind};
use crate::plan::model::{OnDestroy, Plan};
use crate::resources::{self, Context, Derived};
use crate::state::StateError;
use crate::state::model::{Attributes, ResourceState};

/// Why one change failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ChangeError {
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The change was made, but the state file could not record it.
    #[error("cannot record it in the state")]
    State(#[source] Arc<StateError>),
    #[error("`{0}` is not in the plan file")]
    NotInPlan(Address),
    #[error("`{0}` is not in the state")]
    NotInState(Address),
    #[error("`{property}` of `{address}` is still unknown at apply time")]
    StillUnknown { address: Address, property: String },
    #[error(
        "`{property}` of `{address}` changed since the plan was made; run `vaultwire plan` again"
    )]
    ChangedSincePlan { address: Address, property: String },
    /// It was planned for values of `moved` (add-ons' identities or issuers, managed
    /// identities' IDs) this apply changed.
    #[error(
        "planned for the identity {} had, which came out of this apply with a new one; `{address}` was left as it was: run `vaultwire plan` again to review the change, or apply with `--update-dependents`",
        moved.iter().map(|address| format!("`{address}`")).collect::<Vec<_>>().join(", ")
    )]
    PlannedForOldIdentity {
        address: Address,
        moved: Vec<Address>,
    },
    /// Another change panicked while holding the run's shared values.
    #[error("the run's shared values were poisoned by a failed change")]
    Poisoned,
}

impl ChangeError {
    fn state(error: StateError) -> Self {
        ChangeError::State(Arc::new(error))
    }

    /// The error and its causes on one line, for a progress or summary line.
    pub fn described(&self) -> String {
        with_causes(self.to_string(), self, ": ")
    }
}

/// What every node task shares.
pub(super) struct NodeContext<B> {
    pub(super) backend: Arc<B>,
    pub(super) plan: Arc<Plan>,
    pub(super) context: Arc<Context>,
    pub(super) changes: Arc<BTreeMap<Address, ResourceChange>>,
    /// The derived values as they are now: the plan's, and what add-ons came out with.
    pub(super) derived: Arc<Mutex<Derived>>,
    /// The derived values the change set was planned with.
    pub(super) planned_derived: Arc<Derived>,
    pub(super) update_dependents: bool,
    /// The action each change ran as, where it differs from the planned one (a dependent
    /// updated for a new identity).
    pub(super) executed: Arc<Mutex<BTreeMap<Address, Action>>>,
    pub(super) writer: Arc<StateWriter>,
    pub(super) reporter: Arc<dyn Reporter>,
    pub(super) progress_interval: Duration,
    pub(super) dependencies: Arc<BTreeMap<Address, Vec<Address>>>,
    /// The addresses other changes of the walk wait for.
    pub(super) depended_on: Arc<BTreeSet<Address>>,
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
    pub(super) async fn run(
        &self,
        address: Address,
        mut slot: LaneSlot,
    ) -> Result<(), ChangeError> {
        let Some(change) = self.changes.get(&address).cloned() else {
            return Ok(());
        };
        let change = if change.action.is_change() {
            change
        } else {
            match self.left_behind(&change) {
                Ok(None) => return Ok(()),
                Ok(Some(update)) => update,
                Err(error) => {
                    self.reporter.event(Event::Failed {
                        address,
                        action: Action::Update,
                        message: error.described(),
                    });
                    return Err(error);
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
                saving.map(|()| id).map_err(ChangeError::state)
            }
            Err(error) => Err(error),
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
            Err(error) => {
                self.reporter.event(Event::Failed {
                    address,
                    action: change.action,
                    message: error.described(),
                });
                Err(error)
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
    fn desired_now(&self, address: &Address) -> Result<Option<Attributes>, ChangeError> {
        let derived = self
            .derived
            .lock()
            .map_err(|_| ChangeError::Poisoned)?
            .clone();
        Ok(resources::desired(
            &self.plan,
            address,
            &self.context,
            &derived,
        ))
    }

    /// The add-ons and identities whose derived values were known when the change set was
    /// planned and are others now (this apply changed them).
    fn moved_identities(&self) -> Result<Vec<Address>, ChangeError> {
        let now = self.derived.lock().map_err(|_| ChangeError::Poisoned)?;
        let planned = &*self.planned_derived;
        fn moved<'a, T: PartialEq>(
            planned: &'a BTreeMap<String, T>,
            now: &'a BTreeMap<String, T>,
        ) -> impl Iterator<Item = &'a String> {
            planned
                .iter()
                .filter(move |(key, value)| now.get(*key) != Some(*value))
                .map(|(key, _)| key)
        }
        let mut addresses: BTreeSet<Address> =
            moved(&planned.addon_identities, &now.addon_identities)
                .chain(moved(&planned.issuers, &now.issuers))
                .map(Address::addon)
                .collect();
        addresses.extend(moved(&planned.identities, &now.identities).map(Address::identity));
        Ok(addresses.into_iter().collect())
    }

    /// For a resource the change set leaves alone: `None` while what it was planned with
    /// still holds; else it was planned for an add-on identity this apply changed, and is the
    /// update (or replacement) that follows it when the user asked for that, or an error
    /// naming it.
    fn left_behind(&self, change: &ResourceChange) -> Result<Option<ResourceChange>, ChangeError> {
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
            return Err(ChangeError::PlannedForOldIdentity {
                address: address.clone(),
                moved,
            });
        }
        let followed = crate::diff::compute::compute(
            address,
            Some(desired),
            change.before.clone(),
            resources::schema(address.kind),
        );
        self.executed
            .lock()
            .map_err(|_| ChangeError::Poisoned)?
            .insert(address.clone(), followed.action);
        Ok(Some(followed))
    }

    /// [`check_consistent`], unless the difference comes only from an add-on identity this
    /// apply changed and the user asked for dependents to follow it.
    fn check_planned(
        &self,
        change: &ResourceChange,
        desired: &Attributes,
    ) -> Result<(), ChangeError> {
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
            Some(Ok(())) => Err(ChangeError::PlannedForOldIdentity {
                address: change.address.clone(),
                moved,
            }),
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
    ) -> Result<(Option<String>, Ticket), ChangeError> {
        let address = &change.address;
        match change.action {
            Action::NoOp => Ok((None, Ticket::default())),
            Action::Delete => {
                let state = prior.ok_or_else(|| ChangeError::NotInState(address.clone()))?;
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

    async fn delete(&self, address: &Address, state: ResourceState) -> Result<Ticket, ChangeError> {
        let settings = self.settings(address, Some(&state));
        let cluster = cluster_for(address, &state.attributes, &state.settings);
        self.backend
            .delete(Delete {
                address: address.clone(),
                state,
                settings,
                cluster,
            })
            .await?;
        self.record(address, None)
    }

    async fn write(
        &self,
        change: &ResourceChange,
        prior: Option<ResourceState>,
    ) -> Result<(String, Ticket), ChangeError> {
        let address = &change.address;
        let desired = self
            .desired_now(address)?
            .ok_or_else(|| ChangeError::NotInPlan(address.clone()))?;
        self.check_planned(change, &desired)?;
        let settings_map = resources::settings(&self.plan, address);
        let progress = {
            let (reporter, address) = (self.reporter.clone(), address.clone());
            WriteProgress::new(move |reason| {
                reporter.event(Event::Waiting {
                    address: address.clone(),
                    reason,
                });
            })
        };
        let live = self
            .backend
            .write(Write {
                address: address.clone(),
                cluster: cluster_for(address, &desired, &settings_map),
                desired,
                prior,
                settings: self.settings(address, None),
                progress,
            })
            .await?;
        if matches!(address.kind, ResourceKind::Addon | ResourceKind::Identity) {
            let mut derived = self.derived.lock().map_err(|_| ChangeError::Poisoned)?;
            learn_derived(&mut derived, address, &live);
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
    fn record(
        &self,
        address: &Address,
        record: Option<ResourceState>,
    ) -> Result<Ticket, ChangeError> {
        self.writer
            .record(address, record)
            .map_err(ChangeError::state)
    }
}

fn cluster_for(
    address: &Address,
    attributes: &Attributes,
    settings: &Attributes,
) -> Option<ClusterRef> {
    matches!(address.kind, ResourceKind::Addon | ResourceKind::Spc)
        .then(|| ClusterRef::of(attributes, settings))
}

/// Every value the plan knew must be what apply is about to write.
fn check_consistent(change: &ResourceChange, desired: &Attributes) -> Result<(), ChangeError> {
    let Some(planned) = &change.after else {
        return Ok(());
    };
    for (property, value) in desired {
        if crate::diff::compute::is_unknown(value) {
            return Err(ChangeError::StillUnknown {
                address: change.address.clone(),
                property: property.clone(),
            });
        }
        if let Some(planned_value) = planned.get(property)
            && !crate::diff::compute::is_unknown(planned_value)
            && planned_value != value
        {
            return Err(ChangeError::ChangedSincePlan {
                address: change.address.clone(),
                property: property.clone(),
            });
        }
    }
    Ok(())
}
