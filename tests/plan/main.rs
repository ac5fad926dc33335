//! Plan files checked in-process, as a library: every fixture rendered as the user sees it,
//! and no input that makes the check panic. One binary, one module per concern.

mod files;
mod fuzz;
