//! `vaultwire plan PLAN`: refresh, diff, render — and with `--out`, save the change set for
//! `apply FILE`. With `--refresh-only` it shows drift and updates only the state.

use std::path::PathBuf;

use crate::cli::args::{PlanArgs, PlanFormat};
use std::sync::Arc;

use crate::cli::commands::common::{LoadedPlan, lock_holder, release_at_exit};
use crate::cli::connect::with_target;
use crate::cli::error::{Error, Outcome};
use crate::cli::output::Output;
use crate::diff::render::{human, json, markdown};
use crate::engine::apply::{clusters, write_state_locked};
use crate::engine::backend::Backend;
use crate::engine::plan::Mode;
use crate::engine::plan::{PlanOptions, Planned, plan};
use crate::engine::saved::{self, SavedChangeSet, StateMarker};
use crate::engine::state_writer::StateWriter;
use crate::plan::address::Address;
use crate::state::model::StateFile;
use crate::state::store::Stamp;

/// Validated settings of `plan`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanCommand {
    pub plan: PathBuf,
    pub out: Option<PathBuf>,
    pub detailed_exitcode: bool,
    pub format: PlanFormat,
    pub mode: Mode,
    pub targets: Vec<Address>,
    pub parallelism: usize,
}

impl PlanCommand {
    pub fn from_args(args: PlanArgs) -> Result<Self, Error> {
        let targets = args
            .targets
            .iter()
            .map(|target| target.parse().map_err(|source| Error::Address { source }))
            .collect::<Result<Vec<Address>, Error>>()?;
        let mode = if args.destroy {
            Mode::Destroy
        } else if args.refresh_only {
            Mode::RefreshOnly
        } else {
            Mode::Normal
        };
        Ok(Self {
            plan: args.plan,
            out: args.out,
            detailed_exitcode: args.detailed_exitcode,
            format: args.format,
            mode,
            targets,
            parallelism: usize::from(args.parallelism),
        })
    }
}

pub fn execute(command: &PlanCommand, output: Output) -> Result<Outcome, Error> {
    with_target(
        &command.plan,
        None,
        output,
        async |loaded, state, connected| {
            let state = state.get().await?;
            tracing::debug!("state read");
            run(&*connected.backend, loaded, state, command, output).await
        },
    )
}

pub async fn run<B: Backend>(
    backend: &B,
    loaded: &LoadedPlan,
    state: Option<StateFile>,
    command: &PlanCommand,
    output: Output,
) -> Result<Outcome, Error> {
    let options = PlanOptions {
        mode: command.mode,
        targets: command.targets.clone(),
        parallelism: command.parallelism,
        // The change set saved with `--out` and `--refresh-only`'s state update carry them.
        keep_refreshed: command.out.is_some() || command.mode == Mode::RefreshOnly,
        preflight: true,
    };
    let planned = plan(backend, &loaded.plan, state.as_ref(), &options).await?;
    let rendered = match command.format {
        PlanFormat::Human => human::render(&planned.change_set, output.color),
        PlanFormat::Json => json::render(&planned.change_set),
        PlanFormat::Markdown => markdown::render(&planned.change_set, &loaded.source.name),
    };
    print!("{rendered}");
    if command.mode == Mode::Destroy
        && command.format == PlanFormat::Human
        && let Some(state) = &state
    {
        let restored = crate::migrate::restore::restores(&loaded.plan, state);
        if !restored.is_empty() {
            println!(
                "\nBefore destroying, vaultwire restores these native Secrets from Key Vault:"
            );
            for record in &restored {
                println!(
                    "  + Secret {}/{} ({}, {} keys) from key vault `{}`",
                    record.namespace,
                    record.name,
                    record.secret_type,
                    record.keys.len(),
                    record.vault_name
                );
            }
        }
    }
    if let Some(out) = &command.out {
        save(loaded, state.as_ref(), command, &planned, out)?;
        if command.format == PlanFormat::Human {
            println!(
                "\nSaved the change set to `{}`. To perform exactly these actions, run:\n  vaultwire apply {}",
                out.display(),
                out.display()
            );
        }
    } else if command.mode == Mode::RefreshOnly {
        // Written as an apply writes it: under the clusters' run locks, and only if no other
        // run rewrote the file since it was read here.
        let writer = Arc::new(
            StateWriter::new(state.clone().unwrap_or_default(), Some(loaded.state_path()))
                .read_as(state.as_ref().map(Stamp::of)),
        );
        let updated = write_state_locked(
            backend,
            &clusters(&planned, &loaded.plan),
            &writer,
            &lock_holder(),
            |writer| Ok(writer.merge_refreshed(&planned.selected, &planned.refreshed)),
        )
        .await?;
        if updated && command.format == PlanFormat::Human {
            println!("\nThe state was updated to match live Azure and the clusters.");
        }
    }
    let changed = planned.change_set.has_changes()
        || command.mode == Mode::RefreshOnly && !planned.change_set.drift.is_empty();
    release_at_exit((planned, state));
    Ok(if command.detailed_exitcode && changed {
        Outcome::ChangesPresent
    } else {
        Outcome::Success
    })
}

fn save(
    loaded: &LoadedPlan,
    state: Option<&crate::state::model::StateFile>,
    command: &PlanCommand,
    planned: &Planned,
    out: &std::path::Path,
) -> Result<(), Error> {
    let saved = SavedChangeSet {
        format_version: saved::FORMAT_VERSION,
        vaultwire_version: env!("CARGO_PKG_VERSION").to_owned(),
        plan_file: loaded.path.clone(),
        plan_digest: saved::digest(&loaded.source.text),
        state: StateMarker::of(state),
        mode: command.mode,
        targets: command.targets.clone(),
        change_set: planned.change_set.clone(),
        derived: planned.derived.addon_identities.clone(),
        issuers: planned.derived.issuers.clone(),
        identities: planned.derived.identities.clone(),
        refreshed: planned.refreshed.clone(),
        selected: planned.selected.clone(),
    };
    saved.write(out, &loaded.inputs())?;
    Ok(())
}
