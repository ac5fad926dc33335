//! `vaultwire migrate PLAN --namespace NS [--write] [--copy-values]`: move the workloads of
//! NS off native Kubernetes Secrets into Key Vault.
//!
//! Without `--write` or `--copy-values` it only reads and shows the change set, exiting 2
//! when there is something to migrate (as `plan --detailed-exitcode`). `--write` appends the
//! plan entries to the plan file (nothing else in it changes) and writes one patch per
//! workload; `--copy-values` copies the values into Key Vault. Values stay in memory.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::cli::args::{MigrateArgs, MigrateAs, PlanFormat};
use crate::cli::commands::common::{LoadedPlan, print_diagnostics};
use crate::cli::connect::{Connected, with_target};
use crate::cli::error::{Error, Outcome};
use crate::cli::output::Output;
use crate::files;
use crate::migrate::compute::ClusterInput;
use crate::migrate::copy::{Contents, copy_values};
use crate::migrate::read::{ClusterRead, read_cluster};
use crate::migrate::{Migration, Mode, Request, compute, patches, plan_text, render};
use crate::plan::PlanSource;

/// Validated settings of `migrate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrateCommand {
    pub plan: PathBuf,
    pub request: Request,
    pub format: PlanFormat,
    pub write: bool,
    pub patch_dir: PathBuf,
    pub copy_values: bool,
    pub overwrite: bool,
}

impl MigrateCommand {
    pub fn from_args(args: MigrateArgs) -> Self {
        let mut namespaces = args.namespaces;
        namespaces.sort();
        namespaces.dedup();
        Self {
            plan: args.plan,
            request: Request {
                namespaces,
                secret: args.secret,
                vault: args.vault,
                mode: match args.mode {
                    MigrateAs::Sync => Mode::Sync,
                    MigrateAs::Files => Mode::Files,
                },
            },
            format: args.format,
            write: args.write,
            patch_dir: args.patch_dir,
            copy_values: args.copy_values,
            overwrite: args.overwrite,
        }
    }
}

pub fn execute(command: &MigrateCommand, output: Output) -> Result<Outcome, Error> {
    with_target(
        &command.plan,
        None,
        output,
        async |loaded, state, connected| {
            // Like the audit, migrate reads live clusters, not the state.
            let _ = state.get().await;
            run(loaded, connected, command, output).await
        },
    )
}

async fn run(
    loaded: &LoadedPlan,
    connected: &Connected,
    command: &MigrateCommand,
    output: Output,
) -> Result<Outcome, Error> {
    let session = connected.backend.session();
    let mut reads: BTreeMap<String, (String, ClusterRead)> = BTreeMap::new();
    for (key, addon) in &loaded.plan.addons {
        let cluster = addon.cluster.value.clone();
        let what = || format!("the kubernetes api of `{cluster}`");
        let connection = session
            .cluster_connection(addon, &connected.environment)
            .await
            .map_err(|error| crate::audit::AuditError::read(what(), error))?;
        let client = connection
            .client()
            .await
            .map_err(|error| crate::audit::AuditError::read(what(), error))?;
        let read = read_cluster(&client, &cluster, &command.request)
            .await
            .map_err(Error::Migrate)?;
        reads.insert(key.clone(), (cluster, read));
    }
    let inputs: Vec<ClusterInput<'_>> = reads
        .iter()
        .map(|(addon, (cluster, (objects, contents)))| ClusterInput {
            addon,
            cluster,
            objects,
            contents,
        })
        .collect();
    let migration = compute(&loaded.plan, &command.request, &inputs)
        .map_err(|error| Error::Migrate(error.into()))?;
    print!(
        "{}",
        match command.format {
            PlanFormat::Human => render::human(&migration),
            PlanFormat::Json => render::json(&migration),
            PlanFormat::Markdown => render::markdown(&migration),
        }
    );
    if command.write {
        write(loaded, command, &migration, output)?;
    }
    if command.copy_values {
        let contents: Contents = reads
            .into_iter()
            .map(|(addon, (_, (_, contents)))| (addon, contents))
            .collect();
        let copied = copy_values(
            session,
            &loaded.plan,
            &migration,
            &contents,
            command.overwrite,
        )
        .await?;
        for (vault, name, outcome) in &copied {
            eprintln!("Key Vault `{vault}`: secret `{name}` {}", outcome.as_str());
        }
        eprintln!(
            "Copied {} of {} values into Key Vault.",
            copied
                .iter()
                .filter(|(_, _, outcome)| *outcome != crate::migrate::copy::Copied::Unchanged)
                .count(),
            copied.len()
        );
    }
    Ok(
        if migration.is_empty() || command.write || command.copy_values {
            Outcome::Success
        } else {
            Outcome::ChangesPresent
        },
    )
}

/// Appends the plan entries (checking that the plan still reads), then writes the patches.
fn write(
    loaded: &LoadedPlan,
    command: &MigrateCommand,
    migration: &Migration,
    output: Output,
) -> Result<(), Error> {
    let entries = plan_text::entries(&migration.without_planned());
    if !entries.is_empty() {
        let text = plan_text::append(&loaded.source.text, &entries);
        let source = PlanSource {
            name: loaded.source.name.clone(),
            text,
        };
        let checked = crate::plan::check(&source);
        if checked.error_count() > 0 {
            print_diagnostics(&source, &checked.diagnostics, output);
            return Err(Error::InvalidPlan {
                summary: format!(
                    "the entries migrate would add do not check; `{}` was not changed",
                    command.plan.display()
                ),
            });
        }
        files::extend_input(&command.plan, &loaded.source.text, &source.text)?;
        eprintln!(
            "Added {} to `{}`.",
            added(migration),
            command.plan.display()
        );
    }
    let written = patches::write_all(&command.patch_dir, &migration.workloads, &loaded.inputs())
        .map_err(Error::Output)?;
    if !written.is_empty() {
        eprintln!(
            "Wrote {} workload patch{} under `{}`.",
            written.len(),
            if written.len() == 1 { "" } else { "es" },
            command.patch_dir.display()
        );
    }
    Ok(())
}

fn added(migration: &Migration) -> String {
    let planned = migration.without_planned();
    let names: Vec<String> = planned
        .grants
        .iter()
        .map(|grant| format!("grant.{}", grant.key))
        .chain(
            planned
                .moves
                .iter()
                .map(|moved| format!("spc.{}", moved.spc.key)),
        )
        .collect();
    names.join(", ")
}
