//! The plan file: the desired state the user wrote, its addresses, and the diagnostics that
//! checking it produces. Pure and synchronous, except [`read`], which loads the file.

pub mod address;
pub mod decode;
pub mod dependencies;
pub mod diagnostic;
pub mod duration;
pub mod load;
pub mod model;
pub mod names;
pub mod suggest;
#[cfg(test)]
pub mod testing;
pub mod validate;

pub use address::{Address, ResourceKind};
pub use diagnostic::{Diagnostic, Severity};
pub use load::{Checked, PlanSource, ReadError, check, check_seeing_target, read, target_ahead};
pub use model::Plan;
