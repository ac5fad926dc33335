//! The state during a run: every change is recorded at once, with the serial bumped and the
//! file written atomically, so an interrupted or killed run loses nothing already done.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::plan::address::Address;
use crate::state::model::{ResourceState, StateFile};
use crate::state::store::{self, StateError};

/// The state of one run, and where it is saved (`None`: in memory only, for tests).
#[derive(Debug)]
pub struct StateWriter {
    state: StateFile,
    path: Option<PathBuf>,
}

impl StateWriter {
    pub fn new(state: StateFile, path: Option<PathBuf>) -> Self {
        Self { state, path }
    }

    pub fn state(&self) -> &StateFile {
        &self.state
    }

    pub fn into_state(self) -> StateFile {
        self.state
    }

    /// Records one address (`None` removes it) and saves, if anything changed.
    pub fn record(
        &mut self,
        address: &Address,
        record: Option<ResourceState>,
    ) -> Result<(), StateError> {
        let changed = match record {
            Some(record) => {
                self.state.resources.insert(address.clone(), record.clone()) != Some(record)
            }
            None => self.state.resources.remove(address).is_some(),
        };
        if changed { self.save() } else { Ok(()) }
    }

    /// Replaces the records of `selected` addresses with what refresh found live, and saves if
    /// that changed anything.
    pub fn merge_refreshed(
        &mut self,
        selected: &BTreeSet<Address>,
        refreshed: &BTreeMap<Address, ResourceState>,
    ) -> Result<(), StateError> {
        let before = self.state.resources.clone();
        self.state
            .resources
            .retain(|address, _| !selected.contains(address) || refreshed.contains_key(address));
        for (address, record) in refreshed {
            self.state.resources.insert(address.clone(), record.clone());
        }
        if self.state.resources != before {
            self.save()
        } else {
            Ok(())
        }
    }

    fn save(&mut self) -> Result<(), StateError> {
        self.state.serial += 1;
        match &self.path {
            Some(path) => store::save(path, &self.state),
            None => Ok(()),
        }
    }
}
