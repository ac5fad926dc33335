//! Saved change sets: `plan --out FILE` writes one, `apply FILE` executes exactly it — unless
//! the world moved on, which it refuses (exit 3).
//!
//! Staleness closes Terraform's known hole too: a change set planned against *no* state is
//! refused once a state exists, so applying the same file twice cannot create twice.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use std::collections::{BTreeMap, BTreeSet};

use crate::diff::change::ChangeSet;
use crate::engine::plan::Planned;
use crate::plan::address::Address;
use crate::resources::AddonIdentity;
use crate::state::model::{ResourceState, StateFile};

/// The format this version reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// Which kind of run the change set was planned for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Normal,
    Destroy,
    RefreshOnly,
}

/// The state as it was when the change set was planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateMarker {
    /// `None` when there was no state file yet.
    pub lineage: Option<String>,
    pub serial: Option<u64>,
}

impl StateMarker {
    pub fn of(state: Option<&StateFile>) -> Self {
        Self {
            lineage: state.map(|s| s.lineage.clone()),
            serial: state.map(|s| s.serial),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedChangeSet {
    pub format_version: u32,
    /// The vaultwire version that planned it.
    pub vaultwire_version: String,
    /// The plan file, as given on the command line.
    pub plan_file: PathBuf,
    /// SHA-256 of the plan file's text, hex.
    pub plan_digest: String,
    pub state: StateMarker,
    pub mode: Mode,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Address>,
    pub change_set: ChangeSet,
    /// Add-on identities known at plan time.
    #[serde(default)]
    pub derived: BTreeMap<String, AddonIdentity>,
    /// The records refresh found live; apply starts from them.
    #[serde(default)]
    pub refreshed: BTreeMap<Address, ResourceState>,
    /// The addresses the change set covers.
    pub selected: BTreeSet<Address>,
}

/// Why a saved change set cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Staleness {
    #[error("the plan file `{}` changed after the change set was saved", path.display())]
    PlanFileChanged { path: PathBuf },
    #[error("a state file was created after the change set was saved against none")]
    StateAppeared,
    #[error("the state file was removed after the change set was saved")]
    StateRemoved,
    #[error("the state has a different lineage (`{found}`, expected `{expected}`)")]
    LineageChanged { expected: String, found: String },
    #[error(
        "the state changed after the change set was saved (serial {found}, expected {expected})"
    )]
    SerialChanged { expected: u64, found: u64 },
}

#[derive(Debug, thiserror::Error)]
pub enum SavedError {
    #[error("cannot read saved change set `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not a saved change set", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("saved change set `{}` has format_version {found}; this vaultwire reads {FORMAT_VERSION}", path.display())]
    UnsupportedVersion { path: PathBuf, found: u64 },
    #[error("cannot write saved change set `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// SHA-256 of a plan file's text, as hex.
pub fn digest(text: &str) -> String {
    let hash = Sha256::digest(text.as_bytes());
    hash.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Whether `text` looks like a saved change set rather than a TOML plan file.
pub fn looks_saved(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

impl SavedChangeSet {
    /// What apply executes.
    pub fn planned(&self) -> Planned {
        Planned {
            change_set: self.change_set.clone(),
            derived: self.derived.clone(),
            refreshed: self.refreshed.clone(),
            selected: self.selected.clone(),
        }
    }

    /// Checks the change set against the current plan file text and state.
    pub fn check_fresh(&self, plan_text: &str, state: Option<&StateFile>) -> Result<(), Staleness> {
        if digest(plan_text) != self.plan_digest {
            return Err(Staleness::PlanFileChanged {
                path: self.plan_file.clone(),
            });
        }
        match (&self.state.lineage, self.state.serial, state) {
            (None, _, None) => Ok(()),
            (None, _, Some(_)) => Err(Staleness::StateAppeared),
            (Some(_), _, None) => Err(Staleness::StateRemoved),
            (Some(lineage), serial, Some(state)) => {
                if *lineage != state.lineage {
                    Err(Staleness::LineageChanged {
                        expected: lineage.clone(),
                        found: state.lineage.clone(),
                    })
                } else if serial != Some(state.serial) {
                    Err(Staleness::SerialChanged {
                        expected: serial.unwrap_or(0),
                        found: state.serial,
                    })
                } else {
                    Ok(())
                }
            }
        }
    }

    pub fn to_text(&self) -> String {
        let value = serde_json::to_value(self).unwrap_or_default();
        let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
        text.push('\n');
        text
    }

    pub fn parse(path: &Path, text: &str) -> Result<Self, SavedError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|source| SavedError::Parse {
                path: path.to_owned(),
                source,
            })?;
        let found = value
            .get("format_version")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        if found != u64::from(FORMAT_VERSION) {
            return Err(SavedError::UnsupportedVersion {
                path: path.to_owned(),
                found,
            });
        }
        serde_json::from_value(value).map_err(|source| SavedError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    pub fn write(&self, path: &Path) -> Result<(), SavedError> {
        std::fs::write(path, self.to_text()).map_err(|source| SavedError::Write {
            path: path.to_owned(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(state: Option<&StateFile>, plan_text: &str) -> SavedChangeSet {
        SavedChangeSet {
            format_version: FORMAT_VERSION,
            vaultwire_version: "0.1.0".into(),
            plan_file: "plans/example.toml".into(),
            plan_digest: digest(plan_text),
            state: StateMarker::of(state),
            mode: Mode::Normal,
            targets: vec![],
            change_set: ChangeSet::default(),
            derived: BTreeMap::new(),
            refreshed: BTreeMap::new(),
            selected: BTreeSet::new(),
        }
    }

    #[test]
    fn fresh_when_nothing_changed() {
        let state = StateFile::new();
        assert_eq!(
            saved(Some(&state), "a").check_fresh("a", Some(&state)),
            Ok(())
        );
        assert_eq!(saved(None, "a").check_fresh("a", None), Ok(()));
    }

    #[test]
    fn every_staleness_case_is_refused() {
        let mut state = StateFile::new();
        state.serial = 4;
        let plan = saved(Some(&state), "a");
        assert!(matches!(
            plan.check_fresh("b", Some(&state)),
            Err(Staleness::PlanFileChanged { .. })
        ));
        assert_eq!(plan.check_fresh("a", None), Err(Staleness::StateRemoved));
        let mut moved_on = state.clone();
        moved_on.serial = 5;
        assert_eq!(
            plan.check_fresh("a", Some(&moved_on)),
            Err(Staleness::SerialChanged {
                expected: 4,
                found: 5
            })
        );
        let other = StateFile::new();
        assert!(matches!(
            plan.check_fresh("a", Some(&other)),
            Err(Staleness::LineageChanged { .. })
        ));
        assert_eq!(
            saved(None, "a").check_fresh("a", Some(&state)),
            Err(Staleness::StateAppeared)
        );
    }

    #[test]
    fn round_trips_through_text() {
        let plan = saved(None, "a");
        let parsed = SavedChangeSet::parse(Path::new("x"), &plan.to_text()).unwrap();
        assert_eq!(parsed, plan);
        assert!(looks_saved(&plan.to_text()));
        assert!(!looks_saved("version = 1\n"));
    }
}
