//! The dependency graph: a generic DAG and how a plan becomes one. Pure: no I/O.

pub mod build;
pub mod dag;

pub use build::{addresses, build, grant_lets_spc_read};
pub use dag::{Cycle, Dag};
