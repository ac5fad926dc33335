//! One file per subcommand. Each takes validated settings, never clap types.

pub mod apply;
pub mod audit;
pub mod common;
pub mod import;
pub mod init;
pub mod not_built;
pub mod plan;
pub mod sandbox;
pub mod state;
pub mod validate;
