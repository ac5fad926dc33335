//! Saved change sets: `plan --out FILE` writes one, `apply FILE` executes exactly it — unless
//! it was edited or the world moved on, which it refuses (exit 3).
//!
//! A saved change set is sealed: its `seal` is the SHA-256 of everything else in it, so an
//! edit of any field apply reads (the mode, the plan file, the targets, the changes) is seen.
//! It records the plan file's digest, checked before the plan file is even parsed (so a
//! change set pointing at another file never prints that file as diagnostics), and the state's
//! lineage, serial and content. Staleness closes Terraform's known hole too: a change set
//! planned against *no* state is refused once a state exists, so applying the same file twice
//! cannot create twice. The seal guards against mistakes and hand edits, not an attacker who
//! can write the file: anyone can compute a SHA-256.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::diff::change::ChangeSet;
use crate::engine::plan::{Mode, Planned};
use crate::files::{self, OutputKind};
use crate::plan::address::Address;
use crate::resources::{AddonIdentity, Derived, IdentityIds};
use crate::state::model::{ResourceState, StateFile};
use crate::state::text::to_text;

/// The format marker: a file is a saved change set when its `format` says so.
pub const FORMAT: &str = "vaultwire-change-set";

/// The format version this version reads and writes.
pub const FORMAT_VERSION: u32 = 2;

/// The output kind `plan --out` writes; it replaces only an earlier saved change set.
pub const CHANGE_SET: OutputKind = OutputKind {
    name: "saved change set",
    recognises: is_change_set,
};

/// The state as it was when the change set was planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateMarker {
    /// `None` when there was no state file yet.
    pub lineage: Option<String>,
    pub serial: Option<u64>,
    /// SHA-256 of the state as vaultwire writes it, so an edit that keeps lineage and serial
    /// (an address removed by hand) is seen too; formatting does not count.
    pub digest: Option<String>,
}

impl StateMarker {
    pub fn of(state: Option<&StateFile>) -> Self {
        Self {
            lineage: state.map(|s| s.lineage.clone()),
            serial: state.map(|s| s.serial),
            digest: state.map(|s| digest(&to_text(s))),
        }
    }
}

/// A change set as `plan --out` saves it (the `format` marker and the `seal` are added to the
/// file around these fields).
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
    /// Clusters' issuer URLs known at plan time, by addon key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub issuers: BTreeMap<String, String>,
    /// Managed identities' IDs known at plan time, by identity key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub identities: BTreeMap<String, IdentityIds>,
    /// The records refresh found live; apply starts from them.
    #[serde(default)]
    pub refreshed: BTreeMap<Address, ResourceState>,
    /// The addresses the change set covers.
    pub selected: BTreeSet<Address>,
}

/// Why a saved change set cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Staleness {
    #[error(
        "the plan file `{}` changed after the change set was saved (`{}` was saved from another version of it)",
        plan.display(),
        saved.display()
    )]
    PlanFileChanged { saved: PathBuf, plan: PathBuf },
    #[error("the change set `{}` was edited after it was saved (its seal does not match)", saved.display())]
    Edited { saved: PathBuf },
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
    #[error(
        "the state's records changed after the change set was saved, though its serial did not (an edit by hand?)"
    )]
    StateEdited,
}

#[derive(Debug, thiserror::Error)]
pub enum SavedError {
    #[error("cannot read the plan file `{}` the change set `{}` was saved from", plan.display(), saved.display())]
    ReadPlan {
        saved: PathBuf,
        plan: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is a damaged saved change set", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("saved change set `{}` has format_version {found}; this vaultwire reads {FORMAT_VERSION}", path.display())]
    UnsupportedVersion { path: PathBuf, found: u64 },
}

impl SavedError {
    pub fn help(&self) -> Option<String> {
        match self {
            SavedError::Parse { .. } | SavedError::UnsupportedVersion { .. } => Some(
                "run `vaultwire plan --out FILE` again with this vaultwire and review the new change set"
                    .to_owned(),
            ),
            SavedError::ReadPlan { .. } => Some(
                "apply a change set from the directory `plan --out` ran in, where its plan file is"
                    .to_owned(),
            ),
        }
    }
}

/// SHA-256 of `text`, as hex.
pub fn digest(text: &str) -> String {
    let hash = Sha256::digest(text.as_bytes());
    hash.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Whether `text` is a saved change set (of any version, or damaged) rather than a plan file:
/// by its format marker, or, for the first format, which had none, by its fields. A plan file
/// is TOML, which never starts with `{`.
pub fn is_change_set(text: &str) -> bool {
    #[derive(Deserialize)]
    struct Marker {
        format: Option<String>,
        plan_digest: Option<serde::de::IgnoredAny>,
        change_set: Option<serde::de::IgnoredAny>,
    }
    match serde_json::from_str::<Marker>(text) {
        Ok(marker) => {
            marker.format.as_deref() == Some(FORMAT)
                || marker.format.is_none()
                    && marker.plan_digest.is_some()
                    && marker.change_set.is_some()
        }
        // Damaged (cut short, say): the marker opens every change set vaultwire writes.
        Err(_) => text
            .trim_start()
            .strip_prefix('{')
            .is_some_and(|rest| rest.trim_start().starts_with(&marker_line())),
    }
}

/// The marker as the first line of a change set has it.
fn marker_line() -> String {
    format!("\"format\": \"{FORMAT}\",")
}

/// The seal of a change set's JSON (without its `seal`): the digest of its compact, sorted
/// text.
fn seal_of(value: &Value) -> String {
    digest(&value.to_string())
}

impl SavedChangeSet {
    /// What apply executes.
    pub fn planned(&self) -> Planned {
        Planned {
            change_set: self.change_set.clone(),
            derived: Derived {
                addon_identities: self.derived.clone(),
                issuers: self.issuers.clone(),
                identities: self.identities.clone(),
            },
            refreshed: self.refreshed.clone(),
            selected: self.selected.clone(),
        }
    }

    /// The text of the plan file this change set was saved from, read from `plan_file` and
    /// refused unless its digest is the one saved. `saved` is where the change set was read,
    /// to name it. Checked before anything parses the plan file, so nothing of another file
    /// is ever shown.
    pub fn plan_text(&self, saved: &Path) -> Result<String, SavedReadError> {
        let text = files::read_text(&self.plan_file, files::PLAN_LIMIT).map_err(|source| {
            SavedError::ReadPlan {
                saved: saved.to_owned(),
                plan: self.plan_file.clone(),
                source,
            }
        })?;
        if digest(&text) != self.plan_digest {
            return Err(Staleness::PlanFileChanged {
                saved: saved.to_owned(),
                plan: self.plan_file.clone(),
            }
            .into());
        }
        Ok(text)
    }

    /// Checks the change set against the state as it is now.
    pub fn check_fresh(&self, state: Option<&StateFile>) -> Result<(), Staleness> {
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
                } else if self.state.digest.as_deref() != Some(&digest(&to_text(state))) {
                    Err(Staleness::StateEdited)
                } else {
                    Ok(())
                }
            }
        }
    }

    /// The file's text: the format marker first, then the fields and the seal as sorted,
    /// pretty JSON.
    pub fn to_text(&self) -> String {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let Some(fields) = value.as_object_mut() {
            fields.insert("format".to_owned(), Value::from(FORMAT));
            let seal = seal_of(&Value::Object(fields.clone()));
            fields.remove("format");
            fields.insert("seal".to_owned(), Value::from(seal));
        }
        let body = serde_json::to_string_pretty(&value).unwrap_or_default();
        let fields = body.strip_prefix('{').unwrap_or(&body);
        format!("{{\n  {}{fields}\n", marker_line())
    }

    /// Reads a saved change set (`path` names it in errors): its format, its version, then its
    /// seal — an edited change set is stale, whatever the edit.
    pub fn parse(path: &Path, text: &str) -> Result<Self, SavedReadError> {
        let parse_error = |source| SavedError::Parse {
            path: path.to_owned(),
            source,
        };
        let mut value: Value = serde_json::from_str(text).map_err(parse_error)?;
        let found = value
            .get("format_version")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if found != u64::from(FORMAT_VERSION) {
            return Err(SavedError::UnsupportedVersion {
                path: path.to_owned(),
                found,
            }
            .into());
        }
        let edited = || Staleness::Edited {
            saved: path.to_owned(),
        };
        let fields = value.as_object_mut().ok_or_else(edited)?;
        let seal = fields.remove("seal");
        if seal.as_ref().and_then(Value::as_str) != Some(&seal_of(&Value::Object(fields.clone()))) {
            return Err(edited().into());
        }
        fields.remove("format");
        Ok(serde_json::from_value(value).map_err(parse_error)?)
    }

    /// Writes the change set to `path`, unless that is one of `inputs` or a file that is not
    /// an earlier saved change set.
    pub fn write<P: AsRef<Path>>(
        &self,
        path: &Path,
        inputs: &[(&'static str, P)],
    ) -> Result<(), files::OutputError> {
        files::write_output(path, &self.to_text(), CHANGE_SET, inputs)
    }
}

/// Why a saved change set (or its plan file) could not be read: it cannot be read at all, or
/// it can and is stale.
#[derive(Debug, thiserror::Error)]
pub enum SavedReadError {
    #[error(transparent)]
    Saved(#[from] SavedError),
    #[error(transparent)]
    Stale(#[from] Staleness),
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
            issuers: BTreeMap::new(),
            identities: BTreeMap::new(),
            refreshed: BTreeMap::new(),
            selected: BTreeSet::new(),
        }
    }

    #[test]
    fn fresh_when_nothing_changed() {
        let state = StateFile::new();
        assert_eq!(saved(Some(&state), "a").check_fresh(Some(&state)), Ok(()));
        assert_eq!(saved(None, "a").check_fresh(None), Ok(()));
    }

    #[test]
    fn every_staleness_of_the_state_is_refused() {
        let mut state = StateFile::new();
        state.serial = 4;
        let plan = saved(Some(&state), "a");
        assert_eq!(plan.check_fresh(None), Err(Staleness::StateRemoved));
        let mut moved_on = state.clone();
        moved_on.serial = 5;
        assert_eq!(
            plan.check_fresh(Some(&moved_on)),
            Err(Staleness::SerialChanged {
                expected: 4,
                found: 5
            })
        );
        let other = StateFile::new();
        assert!(matches!(
            plan.check_fresh(Some(&other)),
            Err(Staleness::LineageChanged { .. })
        ));
        assert_eq!(
            saved(None, "a").check_fresh(Some(&state)),
            Err(Staleness::StateAppeared)
        );
        // Lineage and serial kept, an address removed by hand.
        let mut applied = state.clone();
        applied.resources.insert(
            Address::vault("payments"),
            ResourceState {
                id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
                    .into(),
                attributes: BTreeMap::new(),
                derived: BTreeMap::new(),
                version: None,
                dependencies: vec![],
                settings: BTreeMap::new(),
            },
        );
        let plan = saved(Some(&applied), "a");
        assert_eq!(plan.check_fresh(Some(&applied)), Ok(()));
        assert_eq!(plan.check_fresh(Some(&state)), Err(Staleness::StateEdited));
    }

    #[test]
    fn the_plan_file_is_read_only_when_its_digest_is_the_one_saved() {
        let dir = tempfile::tempdir().unwrap();
        let plan_path = dir.path().join("p.toml");
        std::fs::write(&plan_path, "version = 1\n").unwrap();
        let mut change_set = saved(None, "version = 1\n");
        change_set.plan_file = plan_path.clone();
        let out = Path::new("changes.json");
        assert_eq!(change_set.plan_text(out).unwrap(), "version = 1\n");
        std::fs::write(&plan_path, "version = 2\n").unwrap();
        match change_set.plan_text(out) {
            Err(SavedReadError::Stale(Staleness::PlanFileChanged { saved, plan })) => {
                assert_eq!((saved.as_path(), plan), (out, plan_path.clone()));
            }
            other => panic!("{other:?}"),
        }
        change_set.plan_file = "/dev/zero".into();
        assert!(matches!(
            change_set.plan_text(out),
            Err(SavedReadError::Saved(SavedError::ReadPlan { .. }))
        ));
    }

    #[test]
    fn round_trips_through_text_with_its_marker_and_seal() {
        let plan = saved(None, "a");
        let text = plan.to_text();
        let parsed = SavedChangeSet::parse(Path::new("x"), &text).unwrap();
        assert_eq!(parsed, plan);
        assert!(is_change_set(&text));
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["format"], FORMAT);
        assert_eq!(value["seal"].as_str().map(str::len), Some(64));
    }

    #[test]
    fn any_edit_breaks_the_seal() {
        let text = saved(None, "a").to_text();
        for (from, to) in [
            ("\"mode\": \"normal\"", "\"mode\": \"destroy\""),
            ("plans/example.toml", "/etc/passwd"),
            ("\"selected\": []", "\"selected\": [\"vault.x\"]"),
            (
                "\"vaultwire_version\": \"0.1.0\"",
                "\"vaultwire_version\": \"0.1.1\"",
            ),
        ] {
            assert!(text.contains(from), "{from}");
            let edited = text.replace(from, to);
            assert!(
                matches!(
                    SavedChangeSet::parse(Path::new("x"), &edited),
                    Err(SavedReadError::Stale(Staleness::Edited { .. }))
                ),
                "{from} -> {to}"
            );
        }
        let unsealed = text.replace("\"seal\"", "\"sealed\"");
        assert!(matches!(
            SavedChangeSet::parse(Path::new("x"), &unsealed),
            Err(SavedReadError::Stale(Staleness::Edited { .. }))
        ));
    }

    #[test]
    fn a_change_set_is_recognised_by_its_marker_not_its_first_character() {
        let text = saved(None, "a").to_text();
        assert!(is_change_set(&text));
        assert!(text.starts_with("{\n  \"format\": \"vaultwire-change-set\",\n"));
        assert!(is_change_set(&text[..40]), "a damaged one");
        assert!(!is_change_set("version = 1\n"));
        assert!(
            !is_change_set("{ version = 1 }\n"),
            "TOML that starts with a brace"
        );
        assert!(!is_change_set("{\"format_version\": 1}"), "some other JSON");
        assert!(!is_change_set("{\"format\": \"vaultwire-audit\"}"));
        // The first format had no marker.
        let first = r#"{"format_version": 1, "plan_digest": "x", "change_set": {}}"#;
        assert!(is_change_set(first));
        assert!(matches!(
            SavedChangeSet::parse(Path::new("x"), first),
            Err(SavedReadError::Saved(SavedError::UnsupportedVersion {
                found: 1,
                ..
            }))
        ));
    }
}
