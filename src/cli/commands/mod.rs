//! One file per subcommand. Each takes validated settings, never clap types.

pub mod init;
pub mod not_built;
pub mod sandbox;
