//! What several commands share: loading and checking the plan file, and finding its state.

use std::path::{Path, PathBuf};

use crate::cli::error::Error;
use crate::cli::output::Output;
use crate::files;
use crate::plan::diagnostic::{Diagnostic, RenderStyle, render, summary};
use crate::plan::model::{Plan, Target};
use crate::plan::{Checked, PlanSource, check, read};
use crate::state::model::StateFile;
use crate::state::store;
use crate::task::joined;

/// A checked plan file.
#[derive(Debug, Clone)]
pub struct LoadedPlan {
    pub path: PathBuf,
    pub source: PlanSource,
    pub plan: Plan,
}

impl LoadedPlan {
    /// Where this plan's state lives.
    pub fn state_path(&self) -> PathBuf {
        state_path_of(&self.path, &self.plan.target)
    }

    /// The files a run reads, which no output may replace: the plan file, the state file and
    /// its backup.
    pub fn inputs(&self) -> [(&'static str, PathBuf); 3] {
        let state = self.state_path();
        [
            ("plan file", self.path.clone()),
            ("state backup", store::backup_path(&state)),
            ("state file", state),
        ]
    }

    /// The state, if there is one yet.
    pub fn load_state(&self) -> Result<Option<StateFile>, Error> {
        Ok(store::load(&self.state_path())?)
    }

    /// Reads the state on a blocking thread while the caller does something else.
    pub fn read_state_meanwhile(&self) -> StateRead {
        StateRead::start(self.state_path())
    }
}

/// Where the state of the plan at `plan_path` with `target` lives.
pub fn state_path_of(plan_path: &Path, target: &Target) -> PathBuf {
    store::state_path(plan_path, target.state.as_ref().map(|s| s.value.as_str()))
}

/// A state file being read on a blocking thread (signing in meanwhile: reading the state of
/// hundreds of resources takes milliseconds of CPU).
#[derive(Debug)]
pub struct StateRead(tokio::task::JoinHandle<Result<Option<StateFile>, store::StateError>>);

impl StateRead {
    pub fn start(path: PathBuf) -> Self {
        Self(tokio::task::spawn_blocking(move || store::load(&path)))
    }

    pub async fn get(self) -> Result<Option<StateFile>, Error> {
        let read = joined(self.0).await.map_err(|cancelled| Error::Runtime {
            source: std::io::Error::other(cancelled),
        })?;
        Ok(read?)
    }
}

/// Prints `diagnostics` of `source` to stderr, drawn for the terminal (nothing when empty).
pub fn print_diagnostics(source: &PlanSource, diagnostics: &[Diagnostic], output: Output) {
    if diagnostics.is_empty() {
        return;
    }
    let style = RenderStyle {
        color: output.color_stderr,
        width: output.width,
    };
    // The blank line render ends with sets the verdict apart from the last diagnostic.
    eprintln!("{}", render(&source.name, &source.text, diagnostics, style));
}

/// Reads and checks the plan file; diagnostics (warnings included) go to stderr. An invalid
/// plan is an error: nothing runs against Azure with it. (Commands that sign in use
/// [`crate::cli::connect::check_and_connect`], which signs in beside the check.)
pub fn load_plan(path: &Path, output: Output) -> Result<LoadedPlan, Error> {
    let source = read(path)?;
    let checked = check(&source);
    loaded_plan(path, source, checked, output)
}

/// The plan `checked` found in `source`, its diagnostics printed; an error when invalid.
pub fn loaded_plan(
    path: &Path,
    source: PlanSource,
    checked: Checked,
    output: Output,
) -> Result<LoadedPlan, Error> {
    print_diagnostics(&source, &checked.diagnostics, output);
    match checked.plan {
        Some(plan) => {
            let loaded = LoadedPlan {
                path: path.to_owned(),
                source,
                plan,
            };
            // The first state write would replace the plan file.
            let state = loaded.state_path();
            if files::same_file(&state, path) {
                return Err(Error::StateIsPlanFile { path: state });
            }
            Ok(loaded)
        }
        None => Err(Error::InvalidPlan {
            summary: summary(&source.name, &checked.diagnostics),
        }),
    }
}

/// Lets go of `value` without freeing it: the command's process exits right after, and
/// freeing a large change set or state (maps of JSON values, megabytes for hundreds of
/// resources), closing connections one by one or joining the runtime's threads only delays
/// the exit — by 30 ms of CPU for the 530 resources of the S2 benchmark. The operating
/// system reclaims it all at exit. Only for what a command holds at its very end.
pub fn release_at_exit<T>(value: T) {
    std::mem::forget(value);
}

/// The identity other runs see when this one holds a lock (apply, destroy, and the state
/// writes of `plan --refresh-only` and `import`).
pub fn lock_holder() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".to_owned());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| "localhost".to_owned());
    format!(
        "{user}@{host} pid {} run {}",
        std::process::id(),
        uuid::Uuid::new_v4()
    )
}
