//! Naming and format rules for the values a plan file holds: Azure resource names, Kubernetes
//! names, GUIDs, permissions. Pure functions from a string to "fine" or a reason and a hint;
//! decoding turns a failed rule into a diagnostic.

pub mod access;
pub mod azure;
pub mod kubernetes;
pub mod network;
pub mod rule;

pub use rule::{Invalid, Rule};
