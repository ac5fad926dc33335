//! `vaultwire migrate PLAN --namespace NS [--write] [--copy-values] [--finish]`: move the
//! workloads of NS off native Kubernetes Secrets into Key Vault, and retire the originals.
//!
//! Without `--write` or `--copy-values` it only reads and shows the change set, exiting 2
//! when there is something to migrate (as `plan --detailed-exitcode`). `--write` appends the
//! plan entries to the plan file (nothing else in it changes) and writes one patch per
//! workload; `--copy-values` copies the values into Key Vault. Values stay in memory.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use crate::cli::args::{MigrateArgs, MigrateAs, PlanFormat};
use crate::cli::commands::common::{LoadedPlan, StateRead, lock_holder, print_diagnostics};
use crate::cli::connect::{Connected, with_target};
use crate::cli::error::{Error, Outcome};
use crate::cli::output::Output;
use crate::engine::apply::{clusters_of, write_state_locked};
use crate::engine::state_writer::StateWriter;
use crate::files;
use crate::migrate::compute::ClusterInput;
use crate::migrate::copy::{Contents, copy_values};
use crate::migrate::finish::{Kept, Retire, carried_secrets, judge};
use crate::migrate::read::{ClusterRead, read_cluster};
use crate::migrate::retire::{delete_original, values_in_key_vault};
use crate::migrate::{Migration, Mode, Request, compute, patches, plan_text, render};
use crate::plan::PlanSource;
use crate::state::store::Stamp;

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
    pub finish: bool,
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
            finish: args.finish,
        }
    }
}

pub fn execute(command: &MigrateCommand, output: Output) -> Result<Outcome, Error> {
    with_target(
        &command.plan,
        None,
        output,
        async |loaded, state, connected| {
            if command.finish {
                return finish(loaded, state, connected, command).await;
            }
            // Like the audit, migrate reads live clusters, not the state.
            let _ = state.get().await;
            run(loaded, connected, command, output).await
        },
    )
}

/// Every cluster of the plan read for `command` (with the Secrets `--finish` looks at), by
/// `[addon]` key: `(cluster name, what was read)`.
async fn read_all(
    loaded: &LoadedPlan,
    connected: &Connected,
    command: &MigrateCommand,
) -> Result<BTreeMap<String, (String, ClusterRead)>, Error> {
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
        let also = if command.finish {
            carried_secrets(&loaded.plan, key, &command.request)
        } else {
            BTreeSet::new()
        };
        let read = read_cluster(&client, &cluster, &command.request, also)
            .await
            .map_err(Error::Migrate)?;
        reads.insert(key.clone(), (cluster, read));
    }
    Ok(reads)
}

fn inputs_of(reads: &BTreeMap<String, (String, ClusterRead)>) -> Vec<ClusterInput<'_>> {
    reads
        .iter()
        .map(|(addon, (cluster, (objects, contents)))| ClusterInput {
            addon,
            cluster,
            objects,
            contents,
        })
        .collect()
}

async fn run(
    loaded: &LoadedPlan,
    connected: &Connected,
    command: &MigrateCommand,
    output: Output,
) -> Result<Outcome, Error> {
    let session = connected.backend.session();
    let reads = read_all(loaded, connected, command).await?;
    let inputs = inputs_of(&reads);
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

/// `--finish`: retires each original Secret that may go, once its values are found in Key
/// Vault: recorded in the state first (so `destroy` can restore it), then deleted.
async fn finish(
    loaded: &LoadedPlan,
    state: StateRead,
    connected: &Connected,
    command: &MigrateCommand,
) -> Result<Outcome, Error> {
    let path = loaded.state_path();
    let state = state
        .get()
        .await?
        .ok_or_else(|| Error::NoState { path: path.clone() })?;
    let reads = read_all(loaded, connected, command).await?;
    let inputs = inputs_of(&reads);
    let (retiring, mut kept) = judge(&loaded.plan, &command.request, &inputs);
    let session = connected.backend.session();
    let mut checked = Vec::new();
    for item in retiring {
        let content = reads
            .get(&item.record.addon)
            .and_then(|(_, (_, contents))| {
                contents.get(&(item.record.namespace.clone(), item.record.name.clone()))
            });
        match values_in_key_vault(session, &loaded.plan, &item, content).await? {
            None => checked.push(item),
            Some(reason) => kept.push(Kept {
                cluster: item.cluster.clone(),
                namespace: item.record.namespace.clone(),
                name: item.record.name.clone(),
                reason,
            }),
        }
    }
    if !checked.is_empty() {
        let clusters = clusters_of(&loaded.plan, std::iter::empty());
        let writer =
            Arc::new(StateWriter::new(state.clone(), Some(path)).read_as(Some(Stamp::of(&state))));
        write_state_locked(
            &*connected.backend,
            &clusters,
            &writer,
            &lock_holder(),
            |writer| {
                for item in &checked {
                    writer.record_migrated(&item.key(), Some(item.record.clone()))?;
                }
                Ok(())
            },
        )
        .await?;
    }
    for item in &checked {
        let secret = format!("Secret {}/{}", item.record.namespace, item.record.name);
        match item.retire {
            Retire::AlreadyReplaced => println!(
                "{secret}: recorded; the CSI driver's synced copy already stands in its place"
            ),
            Retire::Delete => {
                delete_original(session, &connected.environment, &loaded.plan, &item.record)
                    .await?;
                println!("{secret}: deleted (its values are in Key Vault; recorded in the state)");
            }
        }
    }
    for kept in &kept {
        println!(
            "Secret {}/{}: kept: {}",
            kept.namespace, kept.name, kept.reason
        );
    }
    println!(
        "Finished {} Secret{}; {} kept.",
        checked.len(),
        if checked.len() == 1 { "" } else { "s" },
        kept.len()
    );
    if kept.is_empty() {
        Ok(Outcome::Success)
    } else {
        Err(Error::Migrate(crate::migrate::Error::Kept {
            count: kept.len(),
        }))
    }
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
