//! The four resource kinds as the engine sees them: for each, the desired properties computed
//! from the plan file (plus derived values such as the add-on identity), and how its
//! properties compare. Pure: no I/O.

pub mod addon;
pub mod context;
pub mod grant;
pub mod spc;
pub mod vault;

pub use context::{AddonIdentity, Context, Derived};
