//! The state during a run: every change is recorded at once and is durable — the serial bumped,
//! the file written atomically — before the call recording it returns, so an interrupted or
//! killed run loses nothing it reported done.
//!
//! Saves are group commits: while one save runs, the changes recorded meanwhile wait and go
//! out together in the next one. A run completing hundreds of resources at once therefore
//! writes the (large) state a handful of times rather than once per resource, with the same
//! guarantee for each caller. Saves run on the blocking pool, off the async workers, and
//! serialize only the resources that changed since the last one (`state::text`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

use crate::plan::address::Address;
use crate::state::model::{ResourceState, StateFile};
use crate::state::store::{self, StateError};
use crate::state::text;

/// The state of one run, and where it is saved (`None`: in memory only, for tests).
#[derive(Debug)]
pub struct StateWriter {
    inner: Mutex<Inner>,
    /// How many changes the file on disk holds (the `changes` count of the last save).
    durable: watch::Sender<u64>,
    path: Option<PathBuf>,
}

#[derive(Debug)]
struct Inner {
    state: StateFile,
    /// Each resource's text in the file, by address as written, kept from save to save so a
    /// save serializes only what changed; `None` until the first save (and after a merge).
    entries: Option<BTreeMap<String, String>>,
    /// Changes recorded so far; a change is durable once a save that saw it has finished.
    changes: u64,
    /// Whether a save is running.
    saving: bool,
    /// Saves written (to count group commits in tests).
    saves: u64,
}

impl StateWriter {
    pub fn new(state: StateFile, path: Option<PathBuf>) -> Self {
        Self {
            inner: Mutex::new(Inner {
                state,
                entries: None,
                changes: 0,
                saving: false,
                saves: 0,
            }),
            durable: watch::Sender::new(0),
            path,
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

    pub fn into_state(self) -> StateFile {
        self.inner
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .state
    }

    /// How many times the state was written (or would have been, in memory).
    pub fn saves(&self) -> u64 {
        self.lock().saves
    }

    /// Records one address (`None` removes it) and returns once that is saved, if it changed
    /// anything.
    pub async fn record(
        &self,
        address: &Address,
        record: Option<ResourceState>,
    ) -> Result<(), StateError> {
        let wanted = {
            let mut inner = self.lock();
            let inner = &mut *inner;
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
            if !changed {
                return Ok(());
            }
            if let Some(entries) = inner.entries.as_mut() {
                match inner.state.resources.get(address) {
                    Some(record) => entries.insert(address.to_string(), text::entry(record)),
                    None => entries.remove(&address.to_string()),
                };
            }
            inner.changes += 1;
            inner.changes
        };
        self.durable_at(wanted).await
    }

    /// Replaces the records of `selected` addresses with what refresh found live, and saves if
    /// that changed anything.
    pub async fn merge_refreshed(
        &self,
        selected: &BTreeSet<Address>,
        refreshed: &BTreeMap<Address, ResourceState>,
    ) -> Result<bool, StateError> {
        let wanted = {
            let mut inner = self.lock();
            let resources = &mut inner.state.resources;
            let before = resources.clone();
            resources.retain(|address, _| {
                !selected.contains(address) || refreshed.contains_key(address)
            });
            for (address, record) in refreshed {
                resources.insert(address.clone(), record.clone());
            }
            if *resources == before {
                return Ok(false);
            }
            inner.entries = None;
            inner.changes += 1;
            inner.changes
        };
        self.durable_at(wanted).await.map(|()| true)
    }

    /// Waits until the first `wanted` changes are saved: joins the save that runs, or runs the
    /// next one (which takes every change recorded by then).
    async fn durable_at(&self, wanted: u64) -> Result<(), StateError> {
        let mut saved = self.durable.subscribe();
        loop {
            if *saved.borrow_and_update() >= wanted {
                return Ok(());
            }
            let snapshot = {
                let mut inner = self.lock();
                let inner = &mut *inner;
                if inner.saving {
                    None
                } else {
                    inner.saving = true;
                    inner.saves += 1;
                    inner.state.serial += 1;
                    let state = &inner.state;
                    let entries = inner.entries.get_or_insert_with(|| {
                        state
                            .resources
                            .iter()
                            .map(|(address, record)| (address.to_string(), text::entry(record)))
                            .collect()
                    });
                    Some((text::assemble(state, entries), inner.changes))
                }
            };
            let Some((text, changes)) = snapshot else {
                // Another caller is saving; look again when it is done. (It cannot be
                // dropped mid-save: the flag is cleared by the guard below.)
                let _ = saved.changed().await;
                continue;
            };
            let guard = SavingGuard(self);
            let result = match self.path.clone() {
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
            drop(guard);
            result?;
            self.durable
                .send_modify(|durable| *durable = (*durable).max(changes));
        }
    }
}

/// Clears the `saving` flag and wakes the waiters however the save ends (an error, a panic,
/// or the run's future being dropped).
struct SavingGuard<'a>(&'a StateWriter);

impl Drop for SavingGuard<'_> {
    fn drop(&mut self) {
        self.0.lock().saving = false;
        // Waiters re-check; the durable count itself moves only after a successful save.
        self.0.durable.send_modify(|_| {});
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn record(id: &str) -> ResourceState {
        ResourceState {
            id: id.to_owned(),
            attributes: BTreeMap::new(),
            derived: BTreeMap::new(),
            version: None,
            dependencies: Vec::new(),
            settings: BTreeMap::new(),
        }
    }

    #[tokio::test]
    async fn a_recorded_change_is_on_disk_when_record_returns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state").join("x.state.json");
        let writer = StateWriter::new(StateFile::new(), Some(path.clone()));
        writer
            .record(&Address::vault("payments"), Some(record("/v")))
            .await
            .unwrap();
        let saved = store::load(&path).unwrap().unwrap();
        assert!(saved.resources.contains_key(&Address::vault("payments")));
        assert_eq!(saved.serial, 1);
    }

    #[tokio::test]
    async fn the_file_after_many_changes_is_the_state_as_written_in_one_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.state.json");
        let writer = StateWriter::new(StateFile::new(), Some(path.clone()));
        let (a, b) = (Address::vault("a"), Address::spc("b"));
        writer.record(&a, Some(record("/a"))).await.unwrap();
        writer.record(&b, Some(record("/b"))).await.unwrap();
        writer.record(&a, Some(record("/a2"))).await.unwrap();
        writer.record(&b, None).await.unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        assert_eq!(written, store::to_text(&writer.read(Clone::clone)));
        assert!(written.contains("/a2") && !written.contains("\"/b\""));
    }

    #[tokio::test]
    async fn recording_what_is_already_there_saves_nothing() {
        let writer = StateWriter::new(StateFile::new(), None);
        let address = Address::vault("payments");
        writer.record(&address, Some(record("/v"))).await.unwrap();
        writer.record(&address, Some(record("/v"))).await.unwrap();
        writer.record(&Address::vault("gone"), None).await.unwrap();
        assert_eq!(writer.saves(), 1);
        assert_eq!(writer.read(|state| state.serial), 1);
    }

    /// On one thread, the other records run while the first save is on the blocking pool, so
    /// they wait for it and go out together afterwards.
    #[tokio::test(flavor = "current_thread")]
    async fn concurrent_changes_share_saves_and_all_end_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.state.json");
        let writer = Arc::new(StateWriter::new(StateFile::new(), Some(path.clone())));
        let tasks: Vec<_> = (0..64)
            .map(|n| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    writer
                        .record(&Address::spc(format!("s{n}")), Some(record(&n.to_string())))
                        .await
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let saved = store::load(&path).unwrap().unwrap();
        assert_eq!(saved.resources.len(), 64);
        let saves = writer.saves();
        assert!(saves < 64, "{saves} saves for 64 changes");
        assert_eq!(saved.serial, saves);
    }

    #[tokio::test]
    async fn a_failed_save_is_reported_to_the_caller() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the state directory should be: the save cannot create it.
        std::fs::write(dir.path().join("state"), "").unwrap();
        let path = dir.path().join("state").join("x.state.json");
        let writer = StateWriter::new(StateFile::new(), Some(path));
        let error = writer
            .record(&Address::vault("payments"), Some(record("/v")))
            .await
            .unwrap_err();
        assert!(matches!(error, StateError::Write { .. }), "{error}");
    }
}
