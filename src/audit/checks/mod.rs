//! The audit's checks: pure functions from the plan and the [`Gathered`] data to
//! [`Check`]s with status, evidence and remediation.
//!
//! [`Gathered`]: crate::audit::gather::Gathered
//! [`Check`]: crate::audit::model::Check

pub mod addon;
pub mod federation;
pub mod grant;
pub mod mounts;
pub mod network;
pub mod objects;
pub mod spc;
pub mod vault;
pub mod workloads;

#[cfg(test)]
mod tests;
