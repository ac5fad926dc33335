//! Dispatch: from parsed arguments to the command that runs them.

use crate::cli::args::{Cli, Command, SandboxCommand, StateCommand};
use crate::cli::commands::{audit, init, not_built::not_built, state, validate};
use crate::cli::output::Output;
use crate::error::{Error, Outcome};

/// Runs one command line. `main` owns printing the error and choosing the exit code.
pub fn run(cli: Cli, output: Output) -> Result<Outcome, Error> {
    match cli.command {
        Command::Validate(args) => {
            validate::run(&validate::ValidateOptions::from_args(args), output)
        }
        Command::Plan(_) => Err(not_built("plan")),
        Command::Apply(_) => Err(not_built("apply")),
        Command::Destroy(_) => Err(not_built("destroy")),
        Command::Audit(args) => audit::execute(args, output),
        Command::Import(_) => Err(not_built("import")),
        Command::State(StateCommand::List(args)) => state::list(args, output),
        Command::State(StateCommand::Show(args)) => state::show(args, output),
        Command::State(StateCommand::Rm(args)) => state::rm(args, output),
        Command::Sandbox(SandboxCommand::Serve(_)) => Err(not_built("sandbox serve")),
        Command::Sandbox(SandboxCommand::Reset(_)) => Err(not_built("sandbox reset")),
        Command::Init(args) => init::run(&init::InitOptions::from_args(args)?, output),
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
