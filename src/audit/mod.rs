//! `vaultwire audit`: the CIS AKS 4.5.1 / 4.5.2 test plan as a command.
//!
//! `gather` is the only I/O: it reads everything once, read-only, into a [`Gathered`] value.
//! Everything else is pure: `scan` walks workloads, `checks` judge the gathered data,
//! [`evaluate`] assembles the [`Report`], and `render` turns it into the human table, JSON,
//! SARIF or JUnit XML.

pub mod catalog;
pub mod checks;
pub mod error;
pub mod evaluate;
pub mod gather;
pub mod model;
pub mod render;
pub mod scan;

#[cfg(test)]
pub(crate) mod testing;

pub use catalog::{Benchmark, CheckGroup, CheckId};
pub use error::AuditError;
pub use evaluate::evaluate;
pub use gather::{AuditSource, AzureAuditSource, Gathered, gather};
pub use model::{Check, Evidence, Report, Status, Summary, Verdict};
