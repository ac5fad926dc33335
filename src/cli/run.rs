//! Dispatch: from parsed arguments to the command that runs them.

#[cfg(feature = "sandbox")]
use crate::cli::args::SandboxCommand;
use crate::cli::args::{Cli, Command, StateCommand};
use crate::cli::commands::apply::ApplyCommand;
use crate::cli::commands::audit::AuditCommand;
use crate::cli::commands::import::ImportCommand;
use crate::cli::commands::init::InitCommand;
use crate::cli::commands::migrate::{self, MigrateCommand};
use crate::cli::commands::output::OutputCommand;
use crate::cli::commands::plan::PlanCommand;
#[cfg(feature = "sandbox")]
use crate::cli::commands::sandbox;
use crate::cli::commands::state::AddressCommand;
use crate::cli::commands::validate::ValidateCommand;
use crate::cli::commands::{apply, audit, import, init, output, plan, state, validate};
use crate::cli::error::{Error, Outcome};
use crate::cli::output::Output;
use crate::engine::backend::with_causes;

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

/// Runs one command line: each command turns its arguments into validated settings, then
/// executes them. `main` owns printing the error and choosing the exit code.
pub fn run(cli: Cli, output: Output) -> Result<Outcome, Error> {
    match cli.command {
        Command::Validate(args) => validate::execute(&ValidateCommand::from_args(args), output),
        Command::Plan(args) => plan::execute(&PlanCommand::from_args(args)?, output),
        Command::Apply(args) => apply::execute(&ApplyCommand::from_apply_args(&args), output),
        Command::Destroy(args) => apply::execute(&ApplyCommand::from_destroy_args(&args), output),
        Command::Audit(args) => audit::execute(&AuditCommand::from_args(args), output),
        Command::Migrate(args) => migrate::execute(&MigrateCommand::from_args(args), output),
        Command::Import(args) => import::execute(&ImportCommand::from_args(args)?, output),
        Command::Output(args) => output::execute(&OutputCommand::from_args(args), output),
        Command::State(StateCommand::List(args)) => state::list(&args.plan, output),
        Command::State(StateCommand::Show(args)) => {
            state::show(&AddressCommand::from_args(args)?, output)
        }
        Command::State(StateCommand::Rm(args)) => {
            let lock = args.lock;
            state::rm(&AddressCommand::from_args(args.state)?, lock, output)
        }
        #[cfg(feature = "sandbox")]
        Command::Sandbox(SandboxCommand::Serve(args)) => {
            sandbox::serve(&sandbox::ServeCommand::from_args(args))
        }
        #[cfg(feature = "sandbox")]
        Command::Sandbox(SandboxCommand::Reset(args)) => sandbox::reset(&args.dir),
        #[cfg(not(feature = "sandbox"))]
        Command::Sandbox(_) => Err(Error::SandboxNotBuilt),
        Command::Init(args) => init::execute(&InitCommand::from_args(args)?),
    }
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
    // Causes a message already repeats are left out (client errors often include them).
    let mut text = with_causes(format!("error: {error}"), error, "\n  caused by: ");
    if let Some(help) = error.help() {
        text.push_str(&format!("\n  help: {help}"));
    }
    text
}
