//! The edge error: every failure a command can end with, and the one function that maps it to
//! an exit code.
//!
//! Domain modules have their own `thiserror` enums; this type collects them so `main` can
//! print and exit in one place.

use std::path::PathBuf;

use crate::cli::exit_code;

/// How a command ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// `plan --detailed-exitcode` found changes.
    ChangesPresent,
    /// `audit` found violations.
    AuditViolations,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => exit_code::SUCCESS,
            Outcome::ChangesPresent => exit_code::CHANGES_PRESENT,
            Outcome::AuditViolations => exit_code::AUDIT_VIOLATIONS,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The diagnostics were already printed; this only carries the summary.
    #[error("{summary}")]
    InvalidPlan { summary: String },
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    ReadPlan(#[from] crate::plan::ReadError),
    #[error("cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `cloud = "sandbox"` or `vaultwire sandbox …` in a binary built without the emulator.
    #[error("this vaultwire was built without the sandbox (cargo feature `sandbox`)")]
    SandboxNotBuilt,
    #[error(transparent)]
    Init(#[from] crate::cli::commands::init::InitError),
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    #[error(transparent)]
    Address {
        source: crate::plan::address::AddressError,
    },
    #[error("there is no state file `{}`", path.display())]
    NoState { path: PathBuf },
    #[error("no output `{name}` in the state `{}`", path.display())]
    UnknownOutput {
        name: String,
        path: PathBuf,
        /// The names there are.
        known: Vec<String>,
    },
    #[error("`{address}` is not in the state `{}`", path.display())]
    NotInState {
        address: crate::plan::address::Address,
        path: PathBuf,
    },
    #[error(transparent)]
    Plan(#[from] crate::engine::plan::PlanError),
    #[error(transparent)]
    Apply(#[from] crate::engine::apply::ApplyError),
    #[error("the saved change set is stale")]
    Stale(#[from] crate::engine::saved::Staleness),
    #[error(transparent)]
    Saved(#[from] crate::engine::saved::SavedError),
    #[error(transparent)]
    Output(#[from] crate::files::OutputError),
    #[error("the state file `{}` is the plan file itself", path.display())]
    StateIsPlanFile { path: PathBuf },
    #[error(transparent)]
    Backend(#[from] crate::engine::backend::BackendError),
    #[error("{what} finished with {failed} failed and {skipped} skipped")]
    Incomplete {
        what: &'static str,
        failed: usize,
        skipped: usize,
        /// It executed a saved change set, which cannot be applied again.
        saved: bool,
    },
    #[error("{what} finished, but {count} of the resources it wrote do not read back as written")]
    Unverified { what: &'static str, count: usize },
    #[error("{what} finished, but the resources it wrote could not be read back")]
    NotReadBack {
        what: &'static str,
        #[source]
        source: crate::engine::plan::PlanError,
    },
    #[error("interrupted; the state holds everything that completed")]
    Interrupted,
    #[error("refusing to {what} without confirmation: standard input is not a terminal")]
    ConfirmationRequired { what: &'static str },
    #[error("{what} cancelled")]
    Cancelled { what: &'static str },
    #[cfg(feature = "sandbox")]
    #[error(transparent)]
    Sandbox(#[from] crate::sandbox::SandboxError),
    #[error(transparent)]
    Import(crate::engine::import::ImportError),
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    #[error(transparent)]
    Migrate(#[from] crate::migrate::Error),
    #[error(transparent)]
    Extend(#[from] crate::files::ExtendError),
    #[error("cannot start the async runtime")]
    Runtime {
        #[source]
        source: std::io::Error,
    },
}

impl From<crate::engine::import::ImportError> for Error {
    /// Planning and locking fail as they do for `plan` and `apply` (a held lock exits 5).
    fn from(error: crate::engine::import::ImportError) -> Self {
        use crate::engine::import::ImportError;
        match error {
            ImportError::Plan(error) => Error::Plan(error),
            ImportError::Apply(error) => Error::Apply(error),
            error => Error::Import(error),
        }
    }
}

impl From<crate::engine::saved::SavedReadError> for Error {
    fn from(error: crate::engine::saved::SavedReadError) -> Self {
        use crate::engine::saved::SavedReadError;
        match error {
            SavedReadError::Saved(error) => Error::Saved(error),
            SavedReadError::Stale(staleness) => Error::Stale(staleness),
        }
    }
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::InvalidPlan { .. }
            | Error::Read { .. }
            | Error::ReadPlan(_)
            | Error::Write { .. }
            | Error::SandboxNotBuilt
            | Error::Init(_)
            | Error::State(_)
            | Error::Address { .. }
            | Error::NotInState { .. }
            | Error::NoState { .. }
            | Error::UnknownOutput { .. }
            | Error::Plan(_)
            | Error::Saved(_)
            | Error::Output(_)
            | Error::StateIsPlanFile { .. }
            | Error::Backend(crate::engine::backend::BackendError::Provider { .. })
            | Error::Incomplete { .. }
            | Error::Unverified { .. }
            | Error::NotReadBack { .. }
            | Error::ConfirmationRequired { .. }
            | Error::Cancelled { .. }
            | Error::Runtime { .. }
            | Error::Import(_)
            | Error::Audit(_)
            | Error::Migrate(_)
            | Error::Extend(_) => exit_code::ERROR,
            Error::Apply(crate::engine::apply::ApplyError::Locked { .. })
            | Error::Backend(crate::engine::backend::BackendError::Locked { .. }) => {
                exit_code::LOCKED
            }
            Error::Apply(crate::engine::apply::ApplyError::StateChanged { .. }) => {
                exit_code::STALE_CHANGE_SET
            }
            Error::Apply(_) => exit_code::ERROR,
            Error::Stale(_) => exit_code::STALE_CHANGE_SET,
            Error::Interrupted => exit_code::INTERRUPTED,
            #[cfg(feature = "sandbox")]
            Error::Sandbox(_) => exit_code::ERROR,
        }
    }

    /// A hint printed after the error, if there is one.
    pub fn help(&self) -> Option<String> {
        match self {
            Error::SandboxNotBuilt => Some(
                "target Azure (`cloud = \"AzureCloud\"`), or use a vaultwire built with its default features"
                    .to_owned(),
            ),
            Error::Init(error) => error.help(),
            Error::State(error) => error.help(),
            Error::NoState { .. } => {
                Some("outputs are recorded by `vaultwire apply PLAN`: apply the plan first".to_owned())
            }
            Error::UnknownOutput { name, known, .. } => Some(
                match crate::plan::suggest::closest(name, known.iter().map(String::as_str)) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => "run `vaultwire output PLAN` to list them; a value appears once apply \
                             created its resource"
                        .to_owned(),
                },
            ),
            Error::NotInState { .. } => {
                Some("run `vaultwire state list PLAN` to see the addresses it holds".to_owned())
            }
            Error::Plan(error) => error.help(),
            Error::Saved(error) => error.help(),
            Error::Output(error) => error.help(),
            Error::StateIsPlanFile { .. } => Some(
                "set `[target] state` to a file of its own, such as `state = \"../state/NAME.state.json\"`"
                    .to_owned(),
            ),
            Error::Import(error) => error.help(),
            Error::Backend(error) => error.help(),
            Error::Audit(error) => error.help(),
            Error::Migrate(error) => error.help(),
            Error::Apply(crate::engine::apply::ApplyError::Locked { .. }) => {
                Some(crate::engine::backend::LOCKED_HELP.to_owned())
            }
            Error::Apply(crate::engine::apply::ApplyError::Backend(error)) => error.help(),
            Error::Apply(crate::engine::apply::ApplyError::StateChanged { .. }) => Some(
                "nothing was changed; run it again to plan from the state file as it is now"
                    .to_owned(),
            ),
            Error::Stale(_) => Some(
                "run `vaultwire plan --out FILE` again and review the new change set".to_owned(),
            ),
            Error::ConfirmationRequired { .. } => {
                Some("pass --auto-approve, or apply a change set saved by `plan --out`".to_owned())
            }
            Error::Incomplete { saved: true, .. } => Some(
                "fix the errors above, then plan again (`vaultwire plan --out FILE`) and apply the new change set: it resumes from the state"
                    .to_owned(),
            ),
            Error::Incomplete { what, .. } => Some(format!(
                "fix the errors above and run {what} again: it resumes from the state"
            )),
            Error::NotReadBack { .. } => Some(
                "the state holds what was applied; run `vaultwire plan` to check it against live"
                    .to_owned(),
            ),
            Error::Unverified { .. } => Some(
                "run `vaultwire plan` to see what differs: something outside vaultwire may be changing them"
                    .to_owned(),
            ),
            #[cfg(feature = "sandbox")]
            Error::Sandbox(error) => error.help(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::apply::ApplyError;

    #[test]
    fn a_state_another_run_rewrote_is_stale_and_says_nothing_was_changed() {
        let error = Error::Apply(ApplyError::StateChanged {
            path: "state/example.state.json".into(),
        });
        assert_eq!(error.exit_code(), exit_code::STALE_CHANGE_SET);
        assert_eq!(
            error.to_string(),
            "another run changed the state file `state/example.state.json` after this run read it"
        );
        assert!(
            error
                .help()
                .is_some_and(|help| help.starts_with("nothing was changed"))
        );
    }

    /// A failed destroy said "run apply again", which would re-create everything
    /// (regression); a failed saved change set cannot be applied again.
    #[test]
    fn an_incomplete_run_says_what_to_run_again() {
        let help = |what, saved| {
            Error::Incomplete {
                what,
                failed: 1,
                skipped: 0,
                saved,
            }
            .help()
            .unwrap()
        };
        assert_eq!(
            help("destroy", false),
            "fix the errors above and run destroy again: it resumes from the state"
        );
        assert_eq!(
            help("apply", false),
            "fix the errors above and run apply again: it resumes from the state"
        );
        assert!(help("apply", true).contains("plan again (`vaultwire plan --out FILE`)"));
    }

    /// The command line prints the failed write under "cannot save the state".
    #[test]
    fn a_state_that_cannot_be_saved_is_printed_with_its_cause() {
        let error = Error::Apply(ApplyError::State(std::sync::Arc::new(
            crate::state::StateError::Write {
                path: "state/example.state.json".into(),
                source: std::io::Error::other("no space left on device"),
            },
        )));
        assert_eq!(
            crate::cli::run::format_error(&error),
            "error: cannot save the state\n  caused by: cannot write state file `state/example.state.json`\n  caused by: no space left on device"
        );
    }
}
