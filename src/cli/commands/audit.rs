//! `vaultwire audit PLAN [--format human|json|sarif|junit] [--output FILE]`: read the plan's
//! clusters and vaults (read-only), judge them, and report.
//!
//! Exit codes: 0 compliant (no check failed), 4 violations, 1 error. The report goes to
//! stdout, or to `--output FILE`; the one-line summary goes to stderr whenever stdout does not
//! already end with it, so a pipeline log always shows the verdict.

use std::path::PathBuf;

use crate::audit::model::{Report, Verdict};
use crate::audit::render::{REPORT, human, json, junit, sarif};
use crate::audit::{AuditSource, AzureAuditSource, evaluate, gather};
use crate::cli::args::{AuditArgs, AuditFormat};
use crate::cli::commands::common::LoadedPlan;
use crate::cli::connect::with_target;
use crate::cli::error::{Error, Outcome};
use crate::cli::output::Output;
use crate::files;

/// Validated settings of `audit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCommand {
    pub plan: PathBuf,
    pub format: AuditFormat,
    pub output: Option<PathBuf>,
}

impl AuditCommand {
    pub fn from_args(args: AuditArgs) -> Self {
        Self {
            plan: args.plan,
            format: args.format,
            output: args.output,
        }
    }
}

/// The command line's entry: check the plan and sign in (at once, as plan and apply do),
/// gather, judge, report.
pub fn execute(command: &AuditCommand, output: Output) -> Result<Outcome, Error> {
    // The same connection as plan and apply: a `cloud = "sandbox"` plan needs no setup.
    with_target(
        &command.plan,
        None,
        output,
        async |loaded, state, connected| {
            // The audit judges live clusters, not the state; its read, started beside the
            // sign-in, is waited for all the same (no thread may still read it at exit).
            let _ = state.get().await;
            let source = AzureAuditSource::new(
                connected.backend.session().clone(),
                connected.environment.clone(),
            );
            run(&source, loaded, command, output).await
        },
    )
}

/// Gathers through `source`, evaluates and reports.
pub async fn run<S: AuditSource>(
    source: &S,
    loaded: &LoadedPlan,
    command: &AuditCommand,
    output: Output,
) -> Result<Outcome, Error> {
    let gathered = gather(&loaded.plan, source).await?;
    let report = evaluate(&loaded.plan, &loaded.source, &gathered);
    report_to(&report, command, &loaded.inputs(), output)
}

/// The report in `format`; colour only for the human format on a terminal.
pub fn render(report: &Report, format: AuditFormat, color: bool) -> String {
    match format {
        AuditFormat::Human => human::render(report, color),
        AuditFormat::Json => json::render(report),
        AuditFormat::Sarif => sarif::render(report),
        AuditFormat::Junit => junit::render(report),
    }
}

/// Writes or prints the report and maps the verdict to the outcome. A report file never
/// replaces one of `inputs` or a file that is not an earlier report.
pub fn report_to(
    report: &Report,
    command: &AuditCommand,
    inputs: &[(&'static str, PathBuf)],
    output: Output,
) -> Result<Outcome, Error> {
    match &command.output {
        Some(path) => {
            let text = render(report, command.format, false);
            files::write_output(path, &text, REPORT, inputs)?;
            eprintln!("{}", human::summary_line(report, output.color_stderr));
            eprintln!("Wrote the audit report to `{}`.", path.display());
        }
        None => {
            print!("{}", render(report, command.format, output.color));
            if command.format != AuditFormat::Human {
                eprintln!("{}", human::summary_line(report, output.color_stderr));
            }
        }
    }
    Ok(match report.summary.verdict {
        Verdict::Compliant => Outcome::Success,
        Verdict::Violations => Outcome::AuditViolations,
    })
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;
