//! Checks across the resources of a decoded plan: duplicates, references, federations, grants against
//! authorization modes, `sync` against `objects`, and cycles. Each check reads the plan and
//! pushes diagnostics; none stops the others. No I/O.

mod access;
mod all;
mod cycles;
mod duplicates;
mod federations;
mod references;
mod sync;

pub use all::validate;
