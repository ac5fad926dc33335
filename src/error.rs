//! The edge error: every failure a command can end with, and the one function that maps it to
//! an exit code.
//!
//! Domain modules have their own `thiserror` enums; this type collects them so `main` can
//! print and exit in one place.

use std::path::PathBuf;

use crate::exit_code;

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
    #[error("cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`vaultwire {command}` is not built yet")]
    NotBuilt {
        command: &'static str,
        /// What the user can do meanwhile.
        help: &'static str,
    },
    #[error(transparent)]
    Init(#[from] crate::cli::commands::init::InitError),
    #[error(transparent)]
    Sandbox(#[from] crate::sandbox::SandboxError),
    #[error("`--{flag}` must be between 0 and 1, not {value}")]
    InvalidRate { flag: &'static str, value: f64 },
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::InvalidPlan { .. }
            | Error::Read { .. }
            | Error::Write { .. }
            | Error::NotBuilt { .. }
            | Error::Init(_)
            | Error::Sandbox(_)
            | Error::InvalidRate { .. } => exit_code::ERROR,
        }
    }

    /// A hint printed after the error, if there is one.
    pub fn help(&self) -> Option<String> {
        match self {
            Error::NotBuilt { help, .. } => Some((*help).to_owned()),
            Error::Init(error) => error.help(),
            Error::Sandbox(error) => error.help(),
            _ => None,
        }
    }
}
