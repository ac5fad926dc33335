//! Reading and writing the state file: where it lives, atomic writes, the `.backup` of the
//! previous serial, and refusing formats this version does not know.
//!
//! Writes go to a temporary file in the same directory, are fsynced, then renamed over the old
//! file, so an interrupted run leaves either the old or the new state — never half of one.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::files;
use crate::state::model::{FORMAT_VERSION, MAX_SERIAL, StateFile};
pub use crate::state::text::to_text;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read state file `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("state file `{}` is not JSON", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// JSON, but not a state: a field that does not belong, one missing, a value of the wrong
    /// type (the source says which, and where).
    #[error("state file `{}` is not a vaultwire state", path.display())]
    Invalid {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("state file `{}` has a lineage that is not a UUID: `{lineage}`", path.display())]
    Lineage { path: PathBuf, lineage: String },
    #[error("state file `{}` has serial {serial}, at or beyond the largest vaultwire writes ({MAX_SERIAL})", path.display())]
    SerialAtLimit { path: PathBuf, serial: u64 },
    #[error("state file `{}` has format_version {found}; this vaultwire reads {FORMAT_VERSION}", path.display())]
    UnsupportedVersion { path: PathBuf, found: u64 },
    #[error("cannot write state file `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl StateError {
    pub fn help(&self) -> Option<String> {
        match self {
            StateError::UnsupportedVersion { .. } => {
                Some("upgrade vaultwire to the version that wrote this state".to_owned())
            }
            StateError::Parse { .. } => Some(
                "resolve any git merge conflict in the state file, or restore it from the `.backup` beside it"
                    .to_owned(),
            ),
            StateError::Invalid { .. } | StateError::Lineage { .. } => Some(
                "vaultwire did not write this; restore the state file from git or from the `.backup` beside it"
                    .to_owned(),
            ),
            StateError::SerialAtLimit { .. } => Some(
                "vaultwire counts serials from 0 and never wrote this one; restore the state file from git or from the `.backup` beside it"
                    .to_owned(),
            ),
            _ => None,
        }
    }
}

/// The default state path of a plan file: `state/<stem>.state.json` beside the `plans/`
/// directory holding the plan (`plans/x.toml` → `state/x.state.json`), or in a `state/`
/// directory next to a plan kept elsewhere. `override_path` (the plan's `target.state`) is
/// relative to the plan file's directory.
pub fn state_path(plan_path: &Path, override_path: Option<&str>) -> PathBuf {
    let plan_dir = plan_path.parent().unwrap_or(Path::new(""));
    if let Some(custom) = override_path {
        return plan_dir.join(custom);
    }
    let stem = plan_path
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plan".to_owned());
    let root = if plan_dir.file_name().is_some_and(|name| name == "plans") {
        plan_dir.parent().unwrap_or(Path::new(""))
    } else {
        plan_dir
    };
    root.join("state").join(format!("{stem}.state.json"))
}

/// The `.backup` path beside a state file.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".backup");
    path.with_file_name(name)
}

/// Reads the state at `path`; `Ok(None)` when there is none yet.
pub fn load(path: &Path) -> Result<Option<StateFile>, StateError> {
    let Some(text) = read_text(path)? else {
        return Ok(None);
    };
    parse(path, &text).map(Some)
}

/// The text of the file at `path`; `None` when there is none.
fn read_text(path: &Path) -> Result<Option<String>, StateError> {
    match files::read_text(path, files::STATE_LIMIT) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StateError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Which write of which state a file holds: its lineage and serial.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Stamp {
    pub lineage: String,
    pub serial: u64,
}

impl Stamp {
    pub fn of(state: &StateFile) -> Self {
        Self {
            lineage: state.lineage.clone(),
            serial: state.serial,
        }
    }
}

/// The stamp of the state file at `path` (`None`: there is none), read without the rest of
/// the file being decoded into the model.
pub fn stamp(path: &Path) -> Result<Option<Stamp>, StateError> {
    let Some(text) = read_text(path)? else {
        return Ok(None);
    };
    match serde_json::from_str::<Stamp>(&text) {
        Ok(stamp) => Ok(Some(stamp)),
        // Not a state this version can read: `parse` says why.
        Err(_) => parse(path, &text).map(|state| Some(Stamp::of(&state))),
    }
}

fn parse(path: &Path, text: &str) -> Result<StateFile, StateError> {
    // One pass straight into the model: a state of hundreds of resources is a megabyte, read
    // beside the sign-in on every run. Only when that fails, or finds another version, is the
    // version looked at on its own, so a newer format gets a clear message rather than an
    // "unknown field" error.
    let unsupported = |found| StateError::UnsupportedVersion {
        path: path.to_owned(),
        found,
    };
    let state = match serde_json::from_str::<StateFile>(text) {
        Ok(state) if state.format_version == FORMAT_VERSION => state,
        Ok(state) => return Err(unsupported(u64::from(state.format_version))),
        Err(source) => {
            let path = path.to_owned();
            return Err(match format_version(text) {
                Some(found) if found != u64::from(FORMAT_VERSION) => unsupported(found),
                _ if source.classify() == serde_json::error::Category::Data => {
                    StateError::Invalid { path, source }
                }
                _ => StateError::Parse { path, source },
            });
        }
    };
    check(path, state)
}

/// What JSON cannot say of a state: a lineage is a UUID, and a serial can still grow (by more
/// writes than any run makes).
fn check(path: &Path, state: StateFile) -> Result<StateFile, StateError> {
    if uuid::Uuid::try_parse(&state.lineage).is_err() {
        return Err(StateError::Lineage {
            path: path.to_owned(),
            lineage: state.lineage,
        });
    }
    if state.next_serial().is_none() {
        return Err(StateError::SerialAtLimit {
            path: path.to_owned(),
            serial: state.serial,
        });
    }
    Ok(state)
}

/// `format_version` of a state file that did not parse, when it is JSON with one (0 when that
/// is missing or not a number, as an old or foreign file would have it).
fn format_version(text: &str) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Versioned {
        format_version: Option<serde_json::Value>,
    }
    let versioned: Versioned = serde_json::from_str(text).ok()?;
    Some(
        versioned
            .format_version
            .as_ref()
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0),
    )
}

/// Writes `state` to `path` atomically, keeping the previous file as `.backup`.
///
/// The caller bumps `serial`; this only persists.
pub fn save(path: &Path, state: &StateFile) -> Result<(), StateError> {
    save_text(path, &to_text(state))
}

/// Writes `text` (a state as [`to_text`] writes it) to `path` as [`save`] does.
pub fn save_text(path: &Path, text: &str) -> Result<(), StateError> {
    let write_error = |source| StateError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(write_error)?;
    if path.exists() {
        keep_backup(dir, path).map_err(write_error)?;
    }
    let mut temporary = tempfile_in(dir, path).map_err(write_error)?;
    temporary
        .file
        .write_all(text.as_bytes())
        .and_then(|()| temporary.file.sync_all())
        .map_err(write_error)?;
    std::fs::rename(&temporary.path, path).map_err(write_error)?;
    temporary.renamed = true;
    // Make the rename itself durable.
    if let Ok(directory) = std::fs::File::open(dir) {
        let _ = directory.sync_all();
    }
    Ok(())
}

/// Makes the current file the `.backup`: a hard link renamed into place, so no bytes are
/// copied (the current file is then replaced by a rename, never written in place, so the
/// backup keeps the previous serial); a copy where hard links are not supported.
fn keep_backup(dir: &Path, path: &Path) -> std::io::Result<()> {
    let backup = backup_path(path);
    let name = backup.file_name().unwrap_or_default().to_string_lossy();
    let staged = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    match std::fs::hard_link(path, &staged) {
        Ok(()) => std::fs::rename(&staged, &backup).inspect_err(|_| {
            let _ = std::fs::remove_file(&staged);
        }),
        Err(_) => std::fs::copy(path, &backup).map(|_| ()),
    }
}

/// A temporary file removed on drop unless it was renamed into place.
struct Temporary {
    file: std::fs::File,
    path: PathBuf,
    renamed: bool,
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if !self.renamed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn tempfile_in(dir: &Path, target: &Path) -> std::io::Result<Temporary> {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let path = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    Ok(Temporary {
        file,
        path,
        renamed: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::address::Address;
    use crate::state::model::ResourceState;

    #[test]
    fn a_stamp_is_the_lineage_and_serial_of_the_file_or_none_without_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.state.json");
        assert_eq!(stamp(&path).unwrap(), None);
        let state = sample();
        std::fs::write(&path, to_text(&state)).unwrap();
        assert_eq!(
            stamp(&path).unwrap(),
            Some(Stamp {
                lineage: state.lineage.clone(),
                serial: 3
            })
        );
        std::fs::write(&path, "{ not json").unwrap();
        assert!(matches!(stamp(&path), Err(StateError::Parse { .. })));
    }

    fn sample() -> StateFile {
        let mut state = StateFile::new();
        state.serial = 3;
        state.resources.insert(
            Address::vault("payments"),
            ResourceState {
                id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
                    .into(),
                attributes: [("sku".to_owned(), serde_json::json!("standard"))].into(),
                derived: Default::default(),
                version: None,
                dependencies: vec![],
                settings: Default::default(),
            },
        );
        state
    }

    #[test]
    fn default_path_sits_beside_the_plans_directory() {
        assert_eq!(
            state_path(Path::new("plans/example.toml"), None),
            PathBuf::from("state/example.state.json")
        );
        assert_eq!(
            state_path(Path::new("/repo/plans/prod.toml"), None),
            PathBuf::from("/repo/state/prod.state.json")
        );
        assert_eq!(
            state_path(Path::new("infra/prod.toml"), None),
            PathBuf::from("infra/state/prod.state.json")
        );
        assert_eq!(
            state_path(Path::new("plans/prod.toml"), Some("../custom/prod.json")),
            PathBuf::from("plans/../custom/prod.json")
        );
    }

    #[test]
    fn round_trips_and_keeps_a_backup_of_the_previous_serial() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/p.state.json");
        assert!(load(&path).unwrap().is_none());
        let mut state = sample();
        save(&path, &state).unwrap();
        assert_eq!(load(&path).unwrap().unwrap(), state);
        state.serial += 1;
        save(&path, &state).unwrap();
        let backup: StateFile =
            serde_json::from_str(&std::fs::read_to_string(backup_path(&path)).unwrap()).unwrap();
        assert_eq!(backup.serial, 3);
        assert_eq!(load(&path).unwrap().unwrap().serial, 4);
        state.serial += 1;
        save(&path, &state).unwrap();
        let backup: StateFile =
            serde_json::from_str(&std::fs::read_to_string(backup_path(&path)).unwrap()).unwrap();
        assert_eq!(backup.serial, 4, "the backup follows the previous serial");
        assert_eq!(load(&path).unwrap().unwrap().serial, 5);
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|entry| entry.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn text_is_pretty_sorted_and_ends_with_a_newline() {
        let text = to_text(&sample());
        assert!(text.ends_with("}\n"));
        let keys: Vec<&str> = text
            .lines()
            .filter(|line| line.starts_with("  \""))
            .map(|line| line.trim().split('"').nth(1).unwrap_or_default())
            .collect();
        assert_eq!(keys, ["format_version", "lineage", "resources", "serial"]);
    }

    #[test]
    fn refuses_a_newer_format_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.state.json");
        std::fs::write(
            &path,
            r#"{"format_version": 2, "lineage": "x", "serial": 1, "resources": {}}"#,
        )
        .unwrap();
        let error = load(&path).unwrap_err();
        assert!(matches!(
            error,
            StateError::UnsupportedVersion { found: 2, .. }
        ));
        assert!(error.to_string().contains("format_version 2"));
    }

    #[test]
    fn a_newer_format_of_another_shape_is_refused_by_its_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.state.json");
        for (text, found) in [
            (r#"{"format_version": 3, "resources": [{"id": 1}]}"#, 3),
            (
                r#"{"format_version": 8589934592, "resources": {}}"#,
                8_589_934_592,
            ),
            (r#"{"resources": {}, "lineage": 7}"#, 0),
        ] {
            std::fs::write(&path, text).unwrap();
            match load(&path) {
                Err(StateError::UnsupportedVersion { found: got, .. }) => {
                    assert_eq!(got, found, "{text}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    /// A state that was JSON but not a state was reported as "not valid JSON" (regression):
    /// each error says what is wrong, and where.
    #[test]
    fn each_error_says_what_is_wrong_with_the_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.state.json");
        let lineage = uuid::Uuid::new_v4();
        let state = |fields: &str| {
            format!(
                r#"{{"format_version": {FORMAT_VERSION}, "lineage": "{lineage}", "resources": {{}}, {fields}}}"#
            )
        };
        for (text, variant, cause) in [
            (
                state(r#""serial": "one""#),
                "Invalid",
                "invalid type: string \"one\"",
            ),
            (
                state(r#""serial": 1, "owner": "me""#),
                "Invalid",
                "unknown field `owner`",
            ),
            (
                state(r#""serial": 1"#).replace("\"resources\": {}, ", ""),
                "Invalid",
                "missing field `resources`",
            ),
            (
                state(r#""serial": 1,"#),
                "Parse",
                "trailing comma at line 1",
            ),
            (
                state(r#""serial": 1"#).replace(&lineage.to_string(), "my-lineage"),
                "Lineage",
                "",
            ),
            (
                state(&format!(r#""serial": {}"#, u64::MAX)),
                "SerialAtLimit",
                "",
            ),
            (
                state(r#""serial": -1"#),
                "Invalid",
                "invalid value: integer `-1`",
            ),
        ] {
            std::fs::write(&path, &text).unwrap();
            let error = load(&path).unwrap_err();
            let found = format!("{error:?}");
            assert!(found.starts_with(variant), "{text}: {found}");
            let source = std::error::Error::source(&error).map(ToString::to_string);
            assert!(
                source.unwrap_or_default().contains(cause),
                "{text}: {error} / {:?}",
                std::error::Error::source(&error)
            );
            assert!(error.help().is_some(), "{text}");
        }
        let below = MAX_SERIAL - 1;
        std::fs::write(&path, state(&format!(r#""serial": {below}"#))).unwrap();
        assert_eq!(load(&path).unwrap().unwrap().serial, below);
        std::fs::write(&path, state(&format!(r#""serial": {MAX_SERIAL}"#))).unwrap();
        let error = load(&path).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "state file `{}` has serial 9223372036854775807, at or beyond the largest vaultwire writes (9223372036854775807)",
                path.display()
            )
        );
    }

    #[test]
    fn a_merge_conflict_is_a_parse_error_with_help() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.state.json");
        std::fs::write(&path, "<<<<<<< HEAD\n{}\n=======\n{}\n>>>>>>> branch\n").unwrap();
        let error = load(&path).unwrap_err();
        assert!(matches!(error, StateError::Parse { .. }));
        assert!(error.help().unwrap().contains("merge conflict"));
    }
}
