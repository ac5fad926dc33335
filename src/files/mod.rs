//! The files vaultwire reads and writes on the user's behalf: inputs are read within bounds
//! (regular files of a known largest size, so `/dev/zero` or a FIFO cannot exhaust memory or
//! hang a run), and outputs never replace an input or a file of another kind.
//!
//! Below every other module: it knows paths and bytes, not plans or states.

mod input;
mod output;

pub use input::{PLAN_LIMIT, STATE_LIMIT, read_text, within_limit};
pub use output::{ExtendError, OutputError, OutputKind, extend_input, same_file, write_output};
