//! The state file: its model and its store. See DESIGN.md "State file".

pub mod model;
pub mod store;
pub mod text;

pub use model::{Attributes, ResourceState, StateFile};
pub use store::StateError;
