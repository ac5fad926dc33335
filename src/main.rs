//! The `vaultwire` binary: parse, run, print the error, map it to an exit code.

use std::process::ExitCode;

use clap::Parser;
use vaultwire::cli::{self, Cli, Output};

/// mimalloc rather than the C library's allocator: see its line in Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let output = Output::detect(cli.global.no_color);
    cli::run::init_logging(cli.global.verbose, output);
    match cli::run(cli, output) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(error) => {
            cli::run::print_error(&error);
            ExitCode::from(error.exit_code())
        }
    }
}
