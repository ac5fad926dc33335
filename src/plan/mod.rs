//! The plan file: the desired state the user wrote, its addresses, and the diagnostics that
//! checking it produces. Pure and synchronous: reading the file is the caller's job.

pub mod address;
pub mod diagnostic;
pub mod duration;
pub mod model;

pub use address::{Address, ResourceKind};
pub use diagnostic::{Diagnostic, Severity};
pub use model::Plan;
