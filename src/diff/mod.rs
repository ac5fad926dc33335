//! Diffs and change sets: compute what will change, then render it. Pure: no I/O.

pub mod action;
pub mod change;
pub mod compute;
pub mod render;

pub use action::Action;
pub use change::{ChangeSet, Drift, Reason, ResourceChange, Summary, UNKNOWN};
pub use compute::{Schema, compute};
