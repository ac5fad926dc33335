//! The command line: arguments, output settings and one file per command.

pub mod args;
pub mod commands;
pub mod connect;
pub mod error;
pub mod exit_code;
pub mod output;
pub mod progress;
pub mod run;

pub use args::Cli;
pub use output::Output;
pub use run::run;
