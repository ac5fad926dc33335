//! Dispatch: from parsed arguments to the command that runs them.

#[cfg(feature = "sandbox")]
use crate::cli::args::SandboxCommand;
use crate::cli::args::{Cli, Command, StateCommand};
use std::path::Path;

use crate::cli::commands::common::release_at_exit;
#[cfg(feature = "sandbox")]
use crate::cli::commands::sandbox;
use crate::cli::commands::{apply, audit, import, init, plan, state, validate};
use crate::cli::connect::{Prepared, check_and_connect, check_and_connect_source};
use crate::cli::error::{Error, Outcome};
use crate::cli::output::Output;
use crate::engine::plan::Mode;
use crate::engine::saved::{self, SavedChangeSet};
use crate::files;
use crate::plan::PlanSource;

/// Parses the command line, or prints why it cannot and gives the exit code: 0 after `--help`
/// and `--version`, 1 for a usage error. Never clap's 2, which `plan --detailed-exitcode`
/// means "changes present" to every pipeline (Terraform exits 1 on usage errors too).
pub fn parse<I, T>(args: I) -> Result<Cli, u8>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::Parser;
    use clap::error::ErrorKind;
    Cli::try_parse_from(args).map_err(|error| {
        // Printing to a closed pipe is no reason to change the exit code.
        let _ = error.print();
        match error.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => crate::cli::exit_code::SUCCESS,
            _ => crate::cli::exit_code::ERROR,
        }
    })
}

/// Runs one command line. `main` owns printing the error and choosing the exit code.
pub fn run(cli: Cli, output: Output) -> Result<Outcome, Error> {
    match cli.command {
        Command::Validate(args) => {
            validate::run(&validate::ValidateOptions::from_args(args), output)
        }
        Command::Plan(args) => {
            let command = plan::PlanCommand::from_args(args)?;
            let runtime = runtime()?;
            let outcome = runtime.block_on(async {
                let Prepared {
                    loaded,
                    state,
                    connected,
                } = check_and_connect(&command.plan, output).await?;
                tracing::debug!("connected");
                let state = state.get().await?;
                tracing::debug!("state read");
                let outcome =
                    plan::run(&*connected.backend, &loaded, state, &command, output).await;
                tracing::debug!("plan shown");
                release_at_exit((loaded, connected));
                outcome
            });
            release_at_exit(runtime);
            outcome
        }
        Command::Apply(args) => {
            let (saved, source) = read_apply_input(&args.plan)?;
            let command = apply::ApplyCommand {
                mode: saved.as_ref().map_or(Mode::Normal, |saved| saved.mode),
                auto_approve: args.auto_approve,
                parallelism: usize::from(args.parallelism),
                saved: saved.as_ref().map(|_| args.plan.clone()),
                update_dependents: args.update_dependents,
            };
            let plan_path = saved
                .as_ref()
                .map_or_else(|| args.plan.clone(), |saved| saved.plan_file.clone());
            run_apply(&plan_path, Some(source), saved.as_ref(), &command, output)
        }
        Command::Destroy(args) => {
            let command = apply::ApplyCommand {
                mode: Mode::Destroy,
                auto_approve: args.auto_approve,
                parallelism: usize::from(args.parallelism),
                saved: None,
                update_dependents: false,
            };
            run_apply(&args.plan, None, None, &command, output)
        }
        Command::Audit(args) => audit::execute(args, output),
        Command::Import(args) => {
            let command = import::ImportCommand::from_args(&args)?;
            runtime()?.block_on(async {
                let Prepared {
                    loaded,
                    state,
                    connected,
                } = check_and_connect(&args.plan, output).await?;
                import::run(&*connected.backend, &loaded, state, &command).await
            })
        }
        Command::State(StateCommand::List(args)) => state::list(args, output),
        Command::State(StateCommand::Show(args)) => state::show(args, output),
        Command::State(StateCommand::Rm(args)) if args.lock => {
            let address = state::parse_address(&args.state.address)?;
            runtime()?.block_on(async {
                let Prepared {
                    loaded,
                    state,
                    connected,
                } = check_and_connect(&args.state.plan, output).await?;
                state::rm(&*connected.backend, &loaded, state, &address).await
            })
        }
        Command::State(StateCommand::Rm(args)) => state::rm_offline(args.state, output),
        #[cfg(feature = "sandbox")]
        Command::Sandbox(SandboxCommand::Serve(args)) => {
            sandbox::serve(sandbox::ServeOptions::from_args(args), output)
        }
        #[cfg(feature = "sandbox")]
        Command::Sandbox(SandboxCommand::Reset(args)) => sandbox::reset(args, output),
        #[cfg(not(feature = "sandbox"))]
        Command::Sandbox(_) => Err(Error::SandboxNotBuilt),
        Command::Init(args) => init::run(&init::InitOptions::from_args(args)?, output),
    }
}

/// The runtime of the commands that talk to Azure and clusters.
fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Runtime { source })
}

/// What `apply FILE` was given: a saved change set (and the text of the plan file it was saved
/// from, checked against its digest), or a plan file (`None`, and its text). Recognised by the
/// change set's format marker; a plan file keeps its own, smaller limit.
fn read_apply_input(path: &Path) -> Result<(Option<SavedChangeSet>, PlanSource), Error> {
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

/// Applies (or destroys) the plan file at `plan_path`, read already as `source` when given.
fn run_apply(
    plan_path: &Path,
    source: Option<PlanSource>,
    saved: Option<&SavedChangeSet>,
    command: &apply::ApplyCommand,
    output: Output,
) -> Result<Outcome, Error> {
    let runtime = runtime()?;
    let outcome = runtime.block_on(async {
        let source = match source {
            Some(source) => source,
            None => crate::plan::read(plan_path)?,
        };
        let Prepared {
            loaded,
            state,
            connected,
        } = check_and_connect_source(plan_path, source, output).await?;
        let state = state.get().await?;
        let outcome = apply::run(
            connected.backend.clone(),
            &loaded,
            state,
            saved,
            command,
            output,
        )
        .await;
        release_at_exit((loaded, connected));
        outcome
    });
    // The runtime, its connections and the plan go with the process: closing a hundred TLS
    // connections and joining threads only delays the exit.
    release_at_exit(runtime);
    outcome
}

/// Sends `tracing` output to stderr: warnings by default, more with each `-v`.
/// `VAULTWIRE_LOG` (an `EnvFilter` directive such as `vaultwire=debug`) overrides the level.
pub fn init_logging(verbosity: u8, output: Output) {
    let level = match verbosity {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("VAULTWIRE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // A second initialisation (tests running commands in-process) is harmless: keep the first.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(output.color_stderr)
        .with_target(verbosity >= 2)
        .try_init();
}

/// Prints `error: …`, each `caused by: …`, and the help line, to stderr.
pub fn print_error(error: &Error) {
    eprintln!("{}", format_error(error));
}

/// The text [`print_error`] prints.
pub fn format_error(error: &Error) -> String {
    let mut text = format!("error: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!("\n  caused by: {cause}"));
        source = cause.source();
    }
    if let Some(help) = error.help() {
        text.push_str(&format!("\n  help: {help}"));
    }
    text
}
