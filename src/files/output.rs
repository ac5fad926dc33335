//! Writing an output file (a saved change set, an audit report) without losing anything: never
//! over an input of the run (the plan file, the state file, its backup), never over a file of
//! another kind, never into a directory that does not exist, and atomically, so a failed write
//! leaves the previous file whole.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::files::input::{STATE_LIMIT, read_text};

/// What an output is, and how to recognise an earlier one that may be replaced.
#[derive(Debug, Clone, Copy)]
pub struct OutputKind {
    /// "saved change set", "audit report".
    pub name: &'static str,
    /// Whether a file's text is an output of this kind (an earlier run's), which may be
    /// replaced.
    pub recognises: fn(&str) -> bool,
}

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("refusing to write the {kind} to `{}`: it is the {input}", path.display())]
    IsInput {
        path: PathBuf,
        kind: &'static str,
        /// "plan file", "state file", …
        input: &'static str,
    },
    #[error("refusing to replace `{}`: it is not an earlier {kind}", path.display())]
    OtherKind { path: PathBuf, kind: &'static str },
    #[error("cannot write the {kind} to `{}`: the directory `{}` does not exist", path.display(), dir.display())]
    NoDirectory {
        path: PathBuf,
        dir: PathBuf,
        kind: &'static str,
    },
    #[error("cannot write the {kind} to `{}`", path.display())]
    Write {
        path: PathBuf,
        kind: &'static str,
        #[source]
        source: std::io::Error,
    },
}

impl OutputError {
    pub fn help(&self) -> Option<String> {
        match self {
            OutputError::IsInput { .. } => {
                Some("nothing was written; choose another file name".to_owned())
            }
            OutputError::OtherKind { .. } => Some(
                "nothing was written; choose another file name, or remove that file first if it is not needed"
                    .to_owned(),
            ),
            OutputError::NoDirectory { dir, .. } => Some(format!(
                "nothing was written; create `{}` first, or write elsewhere",
                dir.display()
            )),
            OutputError::Write { .. } => None,
        }
    }
}

/// Writes `text` to `path` as an output of `kind`, unless `path` is one of `inputs` (each with
/// what it is, such as `("plan file", path)`), an existing file that is not empty and not a
/// `kind` output, or in a directory that does not exist. A symbolic link to an earlier output
/// is followed, so the link stays.
pub fn write_output<P: AsRef<Path>>(
    path: &Path,
    text: &str,
    kind: OutputKind,
    inputs: &[(&'static str, P)],
) -> Result<(), OutputError> {
    let dir = directory_of(path);
    if !dir.is_dir() {
        return Err(OutputError::NoDirectory {
            path: path.to_owned(),
            dir,
            kind: kind.name,
        });
    }
    if let Some((input, _)) = inputs
        .iter()
        .find(|(_, input)| same_file(path, input.as_ref()))
    {
        return Err(OutputError::IsInput {
            path: path.to_owned(),
            kind: kind.name,
            input,
        });
    }
    let target = match std::fs::canonicalize(path) {
        Ok(existing) => {
            // A file a user put there (a directory, a FIFO, another tool's output) is theirs;
            // an empty one (`mktemp`) holds nothing to lose.
            let theirs = match read_text(&existing, STATE_LIMIT) {
                Ok(current) => !current.is_empty() && !(kind.recognises)(&current),
                Err(_) => true,
            };
            if theirs {
                return Err(OutputError::OtherKind {
                    path: path.to_owned(),
                    kind: kind.name,
                });
            }
            existing
        }
        Err(_) => path.to_owned(),
    };
    replace(&target, text).map_err(|source| OutputError::Write {
        path: path.to_owned(),
        kind: kind.name,
        source,
    })
}

/// Why an input could not be extended.
#[derive(Debug, thiserror::Error)]
pub enum ExtendError {
    #[error("`{}` changed while vaultwire read it; nothing was written", path.display())]
    Changed { path: PathBuf },
    #[error("cannot rewrite `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Replaces the input `path`, which held `was` when it was read, by `now`, which must begin
/// with `was`: an edit that only appends, so nothing the file held is lost. Atomic (a failed
/// write leaves `was` whole); refused when the file no longer holds `was`.
pub fn extend_input(path: &Path, was: &str, now: &str) -> Result<(), ExtendError> {
    let changed = || ExtendError::Changed {
        path: path.to_owned(),
    };
    if !now.starts_with(was) {
        return Err(changed());
    }
    let target = std::fs::canonicalize(path).map_err(|source| ExtendError::Write {
        path: path.to_owned(),
        source,
    })?;
    match read_text(&target, STATE_LIMIT) {
        Ok(current) if current == was => {}
        _ => return Err(changed()),
    }
    replace(&target, now).map_err(|source| ExtendError::Write {
        path: path.to_owned(),
        source,
    })
}

/// The directory a path names a file in (`.` for a bare file name).
fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Whether `a` and `b` name the same file: the same file on disk when both exist (through
/// links, `..` or another spelling), else the same place once their directories are resolved.
pub fn same_file(a: &Path, b: &Path) -> bool {
    if let (Ok(a), Ok(b)) = (std::fs::metadata(a), std::fs::metadata(b)) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            return a.dev() == b.dev() && a.ino() == b.ino();
        }
        #[cfg(not(unix))]
        let _ = (a, b);
    }
    match (resolved(a), resolved(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// `path` with its directory made absolute and free of links (`None` when the directory does
/// not exist).
fn resolved(path: &Path) -> Option<PathBuf> {
    let dir = std::fs::canonicalize(directory_of(path)).ok()?;
    Some(dir.join(path.file_name()?))
}

/// Writes `text` to a temporary file beside `path`, syncs it and renames it over `path`.
fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = directory_of(path);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary)
        .and_then(|mut file| {
            file.write_all(text.as_bytes())?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: OutputKind = OutputKind {
        name: "report",
        recognises: |text| text.starts_with("report"),
    };

    fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("plans/p.toml");
        let state = dir.path().join("state/p.state.json");
        std::fs::create_dir_all(plan.parent().unwrap()).unwrap();
        std::fs::create_dir_all(state.parent().unwrap()).unwrap();
        std::fs::write(&plan, "version = 1\n").unwrap();
        (dir, plan, state)
    }

    #[test]
    fn an_input_is_extended_only_by_appending_and_only_while_unchanged() {
        let (_dir, plan, _) = setup();
        extend_input(&plan, "version = 1\n", "version = 1\n\n[a]\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&plan).unwrap(),
            "version = 1\n\n[a]\n"
        );
        // Read before the edit above: refused, and the file is kept.
        assert!(matches!(
            extend_input(&plan, "version = 1\n", "version = 1\n[b]\n"),
            Err(ExtendError::Changed { .. })
        ));
        // Not an append: refused.
        let now = std::fs::read_to_string(&plan).unwrap();
        assert!(extend_input(&plan, &now, "version = 2\n").is_err());
        assert_eq!(std::fs::read_to_string(&plan).unwrap(), now);
    }

    #[test]
    fn writes_a_new_file_and_replaces_an_earlier_output_of_its_kind() {
        let (dir, plan, state) = setup();
        let out = dir.path().join("out.txt");
        let inputs = [("plan file", plan.as_path()), ("state file", &state)];
        write_output(&out, "report 1", REPORT, &inputs).unwrap();
        write_output(&out, "report 2", REPORT, &inputs).unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "report 2");
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "").unwrap();
        write_output(&empty, "report 3", REPORT, &inputs).unwrap();
        assert_eq!(std::fs::read_to_string(&empty).unwrap(), "report 3");
        let leftovers = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|entry| {
                entry
                    .as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".tmp")
            })
            .count();
        assert_eq!(leftovers, 0);
    }

    #[test]
    fn never_replaces_an_input_even_before_it_exists_or_spelled_another_way() {
        let (dir, plan, state) = setup();
        let inputs = [("plan file", plan.as_path()), ("state file", &state)];
        for (path, input) in [
            (plan.clone(), "plan file"),
            (dir.path().join("state/../plans/p.toml"), "plan file"),
            // The state does not exist yet: the next apply would still read it.
            (state.clone(), "state file"),
        ] {
            let error = write_output(&path, "report", REPORT, &inputs).unwrap_err();
            assert!(
                matches!(&error, OutputError::IsInput { input: found, .. } if *found == input),
                "{path:?}: {error}"
            );
        }
        #[cfg(unix)]
        {
            let link = dir.path().join("link.toml");
            std::os::unix::fs::symlink(&plan, &link).unwrap();
            assert!(matches!(
                write_output(&link, "report", REPORT, &inputs),
                Err(OutputError::IsInput { .. })
            ));
        }
        assert_eq!(std::fs::read_to_string(&plan).unwrap(), "version = 1\n");
        assert!(!state.exists());
    }

    #[test]
    fn never_replaces_a_file_of_another_kind_or_creates_a_directory() {
        let (dir, plan, _) = setup();
        let inputs = [("plan file", plan.as_path())];
        let notes = dir.path().join("notes.md");
        std::fs::write(&notes, "# my notes\n").unwrap();
        let error = write_output(&notes, "report", REPORT, &inputs).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "refusing to replace `{}`: it is not an earlier report",
                notes.display()
            )
        );
        assert_eq!(std::fs::read_to_string(&notes).unwrap(), "# my notes\n");
        let error = write_output(dir.path(), "report", REPORT, &inputs).unwrap_err();
        assert!(matches!(error, OutputError::OtherKind { .. }), "{error}");
        let nested = dir.path().join("missing/out.txt");
        let error = write_output(&nested, "report", REPORT, &inputs).unwrap_err();
        assert!(matches!(error, OutputError::NoDirectory { .. }), "{error}");
        assert!(!dir.path().join("missing").exists());
    }

    #[test]
    fn same_file_sees_through_spellings() {
        let (dir, plan, state) = setup();
        assert!(same_file(&plan, &dir.path().join("plans/./p.toml")));
        assert!(same_file(
            &state,
            &dir.path().join("plans/../state/p.state.json")
        ));
        assert!(!same_file(&plan, &state));
    }
}
