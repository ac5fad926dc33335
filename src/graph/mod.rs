//! A generic dependency graph and its concurrent walker. Knows nothing of plans: a plan's
//! graph is built by `plan::dependencies`, and the engine walks it.

pub mod dag;
pub mod walker;

pub use dag::{Cycle, Dag};
