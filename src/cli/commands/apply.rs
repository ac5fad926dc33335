//! `vaultwire apply PLAN|SAVED` and `vaultwire destroy PLAN`: plan (or load a saved change
//! set and check it is still fresh), show it, confirm, then apply with progress.
//!
//! Confirmation is interactive unless `--auto-approve` is given or a saved change set is
//! applied (saving it was the approval); with no terminal to ask on, it refuses. Ctrl-C or
//! SIGTERM stops scheduling new work, lets running work finish, and exits 130 with the state
//! saved.

use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::cli::args::{ApplyArgs, DestroyArgs};
use crate::cli::commands::common::{LoadedPlan, lock_holder, release_at_exit};
use crate::cli::connect::{Connected, with_target};
use crate::cli::error::{Error, Outcome};
use crate::cli::output::Output;
use crate::cli::progress::ProgressReporter;
use crate::diff::action::Action;
use crate::diff::render::human;
use crate::engine::apply::{ApplyOptions, ApplyReport, apply_showing};
use crate::engine::backend::Backend;
use crate::engine::mounts::mount_warnings;
use crate::engine::plan::Mode;
use crate::engine::plan::{PlanOptions, plan};
use crate::engine::saved::{self, SavedChangeSet};
use crate::engine::state_writer::StateWriter;
use crate::engine::verify::verify;
use crate::files;
use crate::graph::walker::StopFlag;
use crate::migrate::restore::{Restoring, prepare, restore, restores};
use crate::plan::PlanSource;
use crate::plan::address::Address;
use crate::state::model::StateFile;
use crate::state::store::Stamp;

/// Validated settings of `apply` and `destroy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyCommand {
    /// What the command line named: a plan file, or (for `apply`) a saved change set.
    pub input: PathBuf,
    pub mode: Mode,
    pub auto_approve: bool,
    pub parallelism: usize,
    /// A saved change set, when `apply` was given one.
    pub saved: Option<PathBuf>,
    /// See [`ApplyOptions::update_dependents`].
    pub update_dependents: bool,
    /// `destroy --force`: restoring may replace a native Secret vaultwire did not write.
    pub force: bool,
}

impl ApplyCommand {
    /// `apply FILE`: whether `FILE` is a saved change set is found when it is read.
    pub fn from_apply_args(args: &ApplyArgs) -> Self {
        Self {
            input: args.plan.clone(),
            mode: Mode::Normal,
            auto_approve: args.auto_approve,
            parallelism: usize::from(args.parallelism),
            saved: None,
            update_dependents: args.update_dependents,
            force: false,
        }
    }

    pub fn from_destroy_args(args: &DestroyArgs) -> Self {
        Self {
            input: args.plan.clone(),
            mode: Mode::Destroy,
            auto_approve: args.auto_approve,
            parallelism: usize::from(args.parallelism),
            saved: None,
            update_dependents: false,
            force: args.force,
        }
    }

    fn what(&self) -> &'static str {
        if self.mode == Mode::Destroy {
            "destroy"
        } else {
            "apply"
        }
    }
}

/// How often a long-running operation is reported; `VAULTWIRE_PROGRESS_INTERVAL` (seconds)
/// overrides the default of 10 s.
fn progress_interval() -> Duration {
    std::env::var("VAULTWIRE_PROGRESS_INTERVAL")
        .ok()
        .and_then(|value| value.parse::<u64>().ok())
        .filter(|seconds| *seconds > 0)
        .map_or(Duration::from_secs(10), Duration::from_secs)
}

/// Applies (or destroys) what `command.input` names: a saved change set as it was saved, or
/// a plan file planned afresh.
pub fn execute(command: &ApplyCommand, output: Output) -> Result<Outcome, Error> {
    let (saved, source) = read_input(&command.input)?;
    let (plan_path, command) = match &saved {
        Some(saved) => (
            saved.plan_file.clone(),
            ApplyCommand {
                mode: saved.mode,
                saved: Some(command.input.clone()),
                ..command.clone()
            },
        ),
        None => (command.input.clone(), command.clone()),
    };
    with_target(
        &plan_path,
        Some(source),
        output,
        async |loaded, state, connected| {
            let state = state.get().await?;
            let restoring = if command.mode == Mode::Destroy {
                restoring(loaded, state.as_ref(), connected, command.force).await?
            } else {
                Vec::new()
            };
            let before: Option<BeforeChanges<'_>> = (!restoring.is_empty()).then(|| {
                Box::pin(async move {
                    for line in restore(restoring).await? {
                        println!("{line}");
                    }
                    Ok(())
                }) as BeforeChanges<'_>
            });
            run(
                connected.backend.clone(),
                loaded,
                state,
                saved.as_ref(),
                &command,
                output,
                before,
            )
            .await
        },
    )
}

/// Work a confirmed run does before its first change: the destroy's restoring of Secrets.
pub type BeforeChanges<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), Error>> + Send + 'a>>;

/// The Secrets a destroy writes back from Key Vault first (`restore_on_destroy`, and those
/// `migrate --finish` retired), read and judged, and shown; nothing is written yet.
async fn restoring(
    loaded: &LoadedPlan,
    state: Option<&StateFile>,
    connected: &Connected,
    force: bool,
) -> Result<Vec<Restoring>, Error> {
    let Some(state) = state else {
        return Ok(Vec::new());
    };
    let records = restores(&loaded.plan, state);
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let prepared = prepare(
        connected.backend.session(),
        &connected.environment,
        &loaded.plan,
        records,
        force,
    )
    .await?;
    println!("Before destroying, vaultwire restores these native Secrets from Key Vault:");
    for item in &prepared {
        println!("  + {}", item.line());
    }
    println!();
    Ok(prepared)
}

/// What `apply FILE` was given: a saved change set (and the text of the plan file it was saved
/// from, checked against its digest), or a plan file (`None`, and its text). Recognised by the
/// change set's format marker; a plan file keeps its own, smaller limit.
fn read_input(path: &Path) -> Result<(Option<SavedChangeSet>, PlanSource), Error> {
    let read_error = |source| Error::Read {
        path: path.to_owned(),
        source,
    };
    let text = files::read_text(path, files::STATE_LIMIT).map_err(read_error)?;
    if !saved::is_change_set(&text) {
        files::within_limit(text.len() as u64, files::PLAN_LIMIT).map_err(read_error)?;
        return Ok((None, PlanSource::new(path, text)));
    }
    let saved = SavedChangeSet::parse(path, &text)?;
    let plan_text = saved.plan_text(path)?;
    let source = PlanSource::new(&saved.plan_file, plan_text);
    Ok((Some(saved), source))
}

pub async fn run<B: Backend>(
    backend: Arc<B>,
    loaded: &LoadedPlan,
    state: Option<StateFile>,
    saved: Option<&SavedChangeSet>,
    command: &ApplyCommand,
    output: Output,
    before: Option<BeforeChanges<'_>>,
) -> Result<Outcome, Error> {
    let planned = match saved {
        Some(saved) => {
            saved.check_fresh(state.as_ref())?;
            saved.planned()
        }
        None => {
            let options = PlanOptions {
                mode: command.mode,
                targets: Vec::new(),
                parallelism: command.parallelism,
                keep_refreshed: true,
                preflight: true,
            };
            plan(&*backend, &loaded.plan, state.as_ref(), &options).await?
        }
    };
    let what = command.what();
    let render = || human::render(&planned.change_set, output.color);
    // Asking for approval comes before the lock; an approved run renders the plan while its
    // lock request is out, and writes it while the changes start (their lines follow it).
    let asks = planned.change_set.has_changes() && saved.is_none() && !command.auto_approve;
    if asks {
        print!("{}", render());
        confirm(what, output)?;
    }
    if let Some(before) = before {
        before.await?;
    }
    // Checked once the run lock is held: another run may have written the file since.
    let read_as = state.as_ref().map(Stamp::of);
    let writer = Arc::new(
        StateWriter::new(state.unwrap_or_default(), Some(loaded.state_path())).read_as(read_as),
    );
    let started = jiff::Timestamp::now();
    let stop = StopFlag::new();
    let signals = tokio::spawn(stop_on_signal(stop.clone()));
    let reporter = Arc::new(ProgressReporter::new(output.color_stderr));
    let report = apply_showing(
        backend.clone(),
        Arc::new(loaded.plan.clone()),
        &planned,
        writer.clone(),
        &ApplyOptions {
            parallelism: command.parallelism,
            holder: lock_holder(),
            progress_interval: progress_interval(),
            update_dependents: command.update_dependents,
        },
        reporter.clone(),
        &stop,
        || {
            // A saved change set was shown when it was saved.
            if !asks && saved.is_none() {
                reporter.print_first(render());
            }
        },
    )
    .await;
    signals.abort();
    reporter.printed();
    drop(reporter);
    let report = report?;
    let stopped = stop.is_stopped();
    let finished = finish(what, &report, stopped, saved.is_some());
    if finished.is_ok() {
        let touched: BTreeSet<Address> = report
            .succeeded
            .iter()
            .filter(|(_, action)| **action != Action::Delete)
            .map(|(address, _)| address.clone())
            .collect();
        let state = writer.read(Clone::clone);
        // Reading back what changed and looking at the pods that mount it are independent
        // reads: at once, one round trip.
        let (mismatches, warnings) = tokio::join!(
            verify(
                &*backend,
                &loaded.plan,
                &state,
                &touched,
                command.parallelism,
            ),
            mount_warnings(&*backend, &state, &touched, started),
        );
        let mismatches = mismatches.map_err(|source| Error::NotReadBack { what, source })?;
        if !mismatches.is_empty() {
            println!();
            for mismatch in &mismatches {
                println!("Error: {mismatch}");
            }
            return Err(Error::Unverified {
                what,
                count: mismatches.len(),
            });
        }
        if !warnings.is_empty() {
            println!();
            for text in &warnings {
                println!("{}", human::warning(&text.to_string(), output.color));
            }
        }
        release_at_exit(state);
    }
    release_at_exit((planned, writer));
    finished.map(|closing| {
        println!("\n{closing}");
        Outcome::Success
    })
}

/// The closing line of a complete run, or the error of one that is not.
fn finish(
    what: &'static str,
    report: &ApplyReport,
    stopped: bool,
    saved: bool,
) -> Result<String, Error> {
    if stopped {
        println!(
            "\nStopped: {}.",
            report.counts().to_lowercase().trim_end_matches('.')
        );
        return Err(Error::Interrupted);
    }
    if !report.is_complete() {
        println!();
        for (address, error) in &report.failed {
            println!("Error: {address}: {}", error.described());
        }
        return Err(Error::Incomplete {
            what,
            failed: report.failed.len(),
            skipped: report.skipped.len(),
            saved,
        });
    }
    Ok(if what == "destroy" {
        // As Terraform prints it: a destroy only destroys.
        format!(
            "Destroy complete! Resources: {} destroyed.",
            report.succeeded.len()
        )
    } else {
        format!("Apply complete! {}", report.counts())
    })
}

/// Asks on the terminal; only `yes` goes ahead.
fn confirm(what: &'static str, output: Output) -> Result<(), Error> {
    if !output.interactive {
        return Err(Error::ConfirmationRequired { what });
    }
    print!(
        "\nDo you want to perform these actions?\n  vaultwire will {what} the changes above.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    );
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|source| Error::Read {
            path: PathBuf::from("<stdin>"),
            source,
        })?;
    if answer.trim() == "yes" {
        println!();
        Ok(())
    } else {
        Err(Error::Cancelled { what })
    }
}

/// Stops scheduling on the first Ctrl-C or SIGTERM (CI systems cancel jobs with SIGTERM).
async fn stop_on_signal(stop: StopFlag) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut interrupt), Ok(mut terminate)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return;
        };
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    stop.stop();
    eprintln!(
        "\nInterrupt received: no new changes will start; waiting for running ones to finish..."
    );
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
