//! Process exit codes. They are an API: pipelines branch on them, so they never change meaning.

/// Success; with `--detailed-exitcode`, also "no changes".
pub const SUCCESS: u8 = 0;
/// Any error: invalid plan, failed request, failed apply.
pub const ERROR: u8 = 1;
/// `plan --detailed-exitcode` found changes.
pub const CHANGES_PRESENT: u8 = 2;
/// A saved change set no longer matches the state or the plan file.
pub const STALE_CHANGE_SET: u8 = 3;
/// `audit` found violations.
pub const AUDIT_VIOLATIONS: u8 = 4;
/// Another run holds the lock of a target cluster.
pub const LOCKED: u8 = 5;
/// Interrupted (Ctrl-C or SIGTERM); state was saved first.
pub const INTERRUPTED: u8 = 130;
