//! The `vaultwire` binary: parse, run, print the error, map it to an exit code.

use std::process::ExitCode;

use vaultwire::cli::{self, Output};

/// mimalloc rather than the C library's allocator: see its line in Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match cli::run::parse(std::env::args_os()) {
        Ok(cli) => cli,
        Err(code) => return ExitCode::from(code),
    };
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
