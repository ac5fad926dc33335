//! One file per subcommand, each of one shape: `XCommand::from_args` turns clap's raw
//! arguments into validated settings (an error names the bad argument), and `execute` runs
//! them. A command that talks to a target runs inside `cli::connect::with_target`, the one
//! "check the plan, then connect" preamble; its testable core (`run`) takes a backend.

pub mod apply;
pub mod audit;
pub mod common;
pub mod import;
pub mod init;
pub mod migrate;
pub mod output;
pub mod plan;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod state;
pub mod validate;
