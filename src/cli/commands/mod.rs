//! One file per subcommand. Each takes validated settings, never clap types.

pub mod apply;
pub mod audit;
pub mod common;
pub mod import;
pub mod init;
pub mod plan;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod state;
pub mod validate;
