//! `vaultwire validate PLAN`: check a plan file and report every problem in it, offline.
//!
//! Diagnostics go to stderr (they are for people); the one-line verdict of a valid file goes
//! to stdout. An invalid file ends with `Error::InvalidPlan`, whose summary `main` prints.

use std::path::PathBuf;

use crate::cli::args::ValidateArgs;
use crate::cli::commands::common::print_diagnostics;
use crate::cli::error::{Error, Outcome};
use crate::cli::output::Output;
use crate::plan::diagnostic::summary;

/// Validated settings of `validate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidateCommand {
    pub plan: PathBuf,
}

impl ValidateCommand {
    pub fn from_args(args: ValidateArgs) -> Self {
        Self { plan: args.plan }
    }
}

pub fn execute(options: &ValidateCommand, output: Output) -> Result<Outcome, Error> {
    let source = crate::plan::read(&options.plan)?;
    let checked = crate::plan::check(&source);
    print_diagnostics(&source, &checked.diagnostics, output);
    let summary = summary(&source.name, &checked.diagnostics);
    if checked.plan.is_some() {
        println!("{summary}");
        Ok(Outcome::Success)
    } else {
        Err(Error::InvalidPlan { summary })
    }
}
