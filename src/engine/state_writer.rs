//! The state during a run, saved as group commits: [`StateWriter::commit`] records a change
//! in memory and returns once a save holding it is on disk (the serial bumped, the file
//! written and synced, then renamed into place). A resource therefore counts as done, and its
//! dependents start, only when the state file says it exists — a killed process (SIGKILL)
//! loses at most the requests it had in flight, exactly as with one save per resource.
//!
//! One save runs at a time, on the blocking pool, and writes every change recorded until it
//! starts, re-serializing only the resources that changed since the last save
//! (`state::text`). Changes that complete while a save is being written all wait for the next
//! one, so hundreds of resources finishing together take a handful of saves rather than one
//! each (saving per resource was most of a large apply's CPU).
//!
//! A save someone is waiting on to go on ([`StateWriter::durable`]: a resource others depend
//! on, the final flush) starts at once. Changes only waited on "lazily" (a resource nothing
//! depends on: see [`StateWriter::durable_lazily`]) are saved at most every [`PACE`]: a wave of
//! five hundred SecretProviderClasses then takes a dozen saves of the megabyte state file
//! rather than fifty back to back, which took a core of a two-core machine from the API calls.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{Notify, watch};
use tokio::time::{Duration, Instant};

use crate::plan::address::Address;
use crate::state::model::{ResourceState, StateFile};
use crate::state::store::{self, StateError};
use crate::state::text;

/// The least time between the starts of two saves that nobody waits on urgently.
pub const PACE: Duration = Duration::from_millis(20);

/// What [`StateWriter::record`] gives back: the number of changes a save must hold for that
/// record to be on disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket(u64);

/// The state of one run, and where it is saved (`None`: in memory only, for tests).
#[derive(Debug)]
pub struct StateWriter {
    inner: Mutex<Inner>,
    /// How many changes the file on disk holds (the `changes` count of the last save).
    durable: watch::Sender<u64>,
    /// Told when someone starts waiting urgently, so a pacing saver saves at once.
    hurry: Notify,
    /// [`PACE`], but for tests.
    pace: Duration,
    path: Option<PathBuf>,
    /// The file as the run read it (`Some(None)`: there was none), when the run must check
    /// that nobody wrote it since; see [`StateWriter::unchanged_since_read`].
    read_as: Option<Option<store::Stamp>>,
}

#[derive(Debug)]
struct Inner {
    state: StateFile,
    /// Each resource's text in the file, by address as written, kept from save to save so a
    /// save serializes only what changed; `None` until the first save (and after a merge).
    entries: Option<BTreeMap<String, String>>,
    /// Changes recorded so far; a change is durable once a save that saw it has finished.
    changes: u64,
    /// The most changes someone waits urgently to see on disk.
    urgent: u64,
    /// Whether a saver is running.
    saving: bool,
    /// Saves written (to count group commits).
    saves: u64,
    /// Why the last save failed; every later record and flush reports it.
    failed: Option<Arc<StateError>>,
}

/// A save that failed, as every later call reports it.
fn failure(error: &StateError) -> StateError {
    match error {
        StateError::Write { path, source } => StateError::Write {
            path: path.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        StateError::SerialAtLimit { path, serial } => StateError::SerialAtLimit {
            path: path.clone(),
            serial: *serial,
        },
        other => StateError::Write {
            path: PathBuf::new(),
            source: std::io::Error::other(other.to_string()),
        },
    }
}

impl StateWriter {
    pub fn new(state: StateFile, path: Option<PathBuf>) -> Self {
        Self {
            inner: Mutex::new(Inner {
                state,
                entries: None,
                changes: 0,
                urgent: 0,
                saving: false,
                saves: 0,
                failed: None,
            }),
            durable: watch::Sender::new(0),
            hurry: Notify::new(),
            pace: PACE,
            path,
            read_as: None,
        }
    }

    /// Where the state is saved (`None`: in memory only).
    pub fn path(&self) -> Option<PathBuf> {
        self.path.clone()
    }

    /// The writer of a run that read the file as `stamp` (`None`: there was none) before it
    /// took the run lock.
    pub fn read_as(mut self, stamp: Option<store::Stamp>) -> Self {
        self.read_as = Some(stamp);
        self
    }

    /// Whether the file is still as the run read it — to be asked once the run lock is held:
    /// another run that finished between this run's read and its lock has written it, and
    /// this run's plan no longer starts from what the file says. (Writers hold the lock, so
    /// once it is held the answer cannot change.) `true` when nothing is known to compare.
    pub async fn unchanged_since_read(&self) -> Result<bool, StateError> {
        let (Some(path), Some(read_as)) = (self.path.clone(), self.read_as.clone()) else {
            return Ok(true);
        };
        let now = tokio::task::spawn_blocking(move || store::stamp(&path))
            .await
            .map_err(|join| StateError::Read {
                path: self.path.clone().unwrap_or_default(),
                source: std::io::Error::other(join.to_string()),
            })??;
        Ok(now == read_as)
    }

    /// A writer whose lazy saves keep `pace` apart (tests).
    #[cfg(test)]
    fn with_pace(state: StateFile, path: Option<PathBuf>, pace: Duration) -> Self {
        Self {
            pace,
            ..Self::new(state, path)
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every writer leaves `Inner` consistent between statements.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the state as recorded so far.
    pub fn read<R>(&self, f: impl FnOnce(&StateFile) -> R) -> R {
        f(&self.lock().state)
    }

    /// How many times the state was written (or would have been, in memory).
    pub fn saves(&self) -> u64 {
        self.lock().saves
    }

    /// Records one address (`None` removes it) and returns once the state file holds it.
    /// Fails if this or an earlier save failed.
    pub async fn commit(
        self: &Arc<Self>,
        address: &Address,
        record: Option<ResourceState>,
    ) -> Result<(), StateError> {
        let ticket = self.record(address, record)?;
        self.durable(ticket).await
    }

    /// Records one address (`None` removes it) and has it saved soon, if it changed
    /// anything; returns the ticket [`Self::durable`] waits for. Fails if an earlier save
    /// failed.
    pub fn record(
        self: &Arc<Self>,
        address: &Address,
        record: Option<ResourceState>,
    ) -> Result<Ticket, StateError> {
        let mut inner = self.lock();
        let inner = &mut *inner;
        if let Some(error) = &inner.failed {
            return Err(failure(error));
        }
        let changed = match record {
            Some(record) => {
                inner
                    .state
                    .resources
                    .insert(address.clone(), record.clone())
                    != Some(record)
            }
            None => inner.state.resources.remove(address).is_some(),
        };
        if changed {
            if let Some(entries) = inner.entries.as_mut() {
                match inner.state.resources.get(address) {
                    Some(record) => entries.insert(address.to_string(), text::entry(record)),
                    None => entries.remove(&address.to_string()),
                };
            }
            inner.changes += 1;
            self.start_saver(inner);
        }
        // Unchanged: the same record may still be on its way to disk for someone else.
        Ok(Ticket(inner.changes))
    }

    /// The records as they will be once [`Self::merge_refreshed`] has run, without changing
    /// anything.
    pub fn merged(
        &self,
        selected: &BTreeSet<Address>,
        refreshed: &BTreeMap<Address, ResourceState>,
    ) -> BTreeMap<Address, ResourceState> {
        let mut resources = self.read(|state| state.resources.clone());
        merge(&mut resources, selected, refreshed);
        resources
    }

    /// Replaces the records of `selected` addresses with what refresh found live; `true` when
    /// that changed anything (it is then saved soon: a later [`Self::commit`] or
    /// [`Self::flush`] waits for it too).
    pub fn merge_refreshed(
        self: &Arc<Self>,
        selected: &BTreeSet<Address>,
        refreshed: &BTreeMap<Address, ResourceState>,
    ) -> bool {
        self.set_resources(self.merged(selected, refreshed))
    }

    /// Replaces every record (with what [`Self::merged`] gave, say); `true` when that changed
    /// anything (it is then saved soon, as after [`Self::merge_refreshed`]).
    pub fn set_resources(self: &Arc<Self>, resources: BTreeMap<Address, ResourceState>) -> bool {
        let mut inner = self.lock();
        if inner.state.resources == resources {
            return false;
        }
        inner.state.resources = resources;
        inner.entries = None;
        inner.changes += 1;
        self.start_saver(&mut inner);
        true
    }

    /// Records (or with `None` forgets) a native Secret `migrate --finish` retired, and has it
    /// saved soon; a later [`Self::flush`] waits for it.
    pub fn record_migrated(
        self: &Arc<Self>,
        key: &str,
        record: Option<crate::state::model::MigratedSecret>,
    ) -> Result<(), StateError> {
        let mut inner = self.lock();
        if let Some(error) = &inner.failed {
            return Err(failure(error));
        }
        let changed = match record {
            Some(record) => {
                inner.state.migrated.insert(key.to_owned(), record.clone()) != Some(record)
            }
            None => inner.state.migrated.remove(key).is_some(),
        };
        if changed {
            inner.changes += 1;
            self.start_saver(&mut inner);
        }
        Ok(())
    }

    /// Waits until every change recorded so far is on disk.
    pub async fn flush(&self) -> Result<(), StateError> {
        let wanted = Ticket(self.lock().changes);
        self.durable(wanted).await
    }

    /// Waits until a save holding the record of `ticket` (and everything recorded before it)
    /// has finished, asking for that save to start at once. Fails if a save failed.
    pub async fn durable(&self, ticket: Ticket) -> Result<(), StateError> {
        {
            let mut inner = self.lock();
            inner.urgent = inner.urgent.max(ticket.0);
        }
        self.hurry.notify_one();
        self.durable_lazily(ticket).await
    }

    /// [`Self::durable`] at the saver's pace: the save may start up to [`PACE`] after the
    /// previous one, with whatever else was recorded meanwhile.
    pub async fn durable_lazily(&self, ticket: Ticket) -> Result<(), StateError> {
        let Ticket(wanted) = ticket;
        let mut durable = self.durable.subscribe();
        loop {
            if let Some(error) = &self.lock().failed {
                return Err(failure(error));
            }
            if *durable.borrow_and_update() >= wanted {
                return Ok(());
            }
            // The saver sends after every save and when it stops.
            if durable.changed().await.is_err() {
                return Ok(());
            }
        }
    }

    fn start_saver(self: &Arc<Self>, inner: &mut Inner) {
        if inner.saving {
            return;
        }
        inner.saving = true;
        let writer = self.clone();
        tokio::spawn(async move { writer.save_while_changing().await });
    }

    /// Saves until everything recorded is on disk, one save right after another: what is
    /// recorded during a save goes into the next.
    async fn save_while_changing(&self) {
        let mut last_start: Option<Instant> = None;
        loop {
            let pause = {
                let mut inner = self.lock();
                let durable = *self.durable.borrow();
                if durable >= inner.changes {
                    inner.saving = false;
                    return;
                }
                let nobody_hurries = inner.urgent <= durable;
                last_start
                    .map(|start| self.pace.saturating_sub(start.elapsed()))
                    .filter(|pause| nobody_hurries && !pause.is_zero())
            };
            if let Some(pause) = pause {
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = self.hurry.notified() => {}
                }
            }
            last_start = Some(Instant::now());
            let snapshot = {
                let mut inner = self.lock();
                let inner = &mut *inner;
                if *self.durable.borrow() >= inner.changes {
                    inner.saving = false;
                    return;
                }
                // A state at the limit is refused when it is read; this is the last guard.
                let Some(serial) = inner.state.next_serial() else {
                    let path = self.path.clone().unwrap_or_default();
                    let serial = inner.state.serial;
                    self.fail(inner, StateError::SerialAtLimit { path, serial });
                    return;
                };
                inner.saves += 1;
                inner.state.serial = serial;
                let state = &inner.state;
                let entries = inner.entries.get_or_insert_with(|| {
                    state
                        .resources
                        .iter()
                        .map(|(address, record)| (address.to_string(), text::entry(record)))
                        .collect()
                });
                (text::assemble(state, entries), inner.changes)
            };
            let (text, changes) = snapshot;
            let result = match self.path.clone() {
                // A panic in the save becomes a failed save: the saver must go on to report
                // it, or every commit and flush would wait for it forever.
                Some(path) => tokio::task::spawn_blocking(move || store::save_text(&path, &text))
                    .await
                    .unwrap_or_else(|join| {
                        Err(StateError::Write {
                            path: self.path.clone().unwrap_or_default(),
                            source: std::io::Error::other(join.to_string()),
                        })
                    }),
                None => Ok(()),
            };
            if let Err(error) = result {
                self.fail(&mut self.lock(), error);
                return;
            }
            self.durable
                .send_modify(|durable| *durable = (*durable).max(changes));
        }
    }
}

impl StateWriter {
    /// Ends the saver on a failed save (`inner` locked): every waiting and later commit and
    /// flush reports it.
    fn fail(&self, inner: &mut Inner, error: StateError) {
        inner.failed = Some(Arc::new(error));
        inner.saving = false;
        self.durable.send_modify(|_| {});
    }
}

/// Drops the `selected` addresses refresh found gone and records what it found live.
fn merge(
    resources: &mut BTreeMap<Address, ResourceState>,
    selected: &BTreeSet<Address>,
    refreshed: &BTreeMap<Address, ResourceState>,
) {
    resources.retain(|address, _| !selected.contains(address) || refreshed.contains_key(address));
    for (address, record) in refreshed {
        resources.insert(address.clone(), record.clone());
    }
}

#[cfg(test)]
#[path = "state_writer_tests.rs"]
mod tests;
