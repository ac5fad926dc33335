//! End-to-end tests of the `vaultwire` binary. One binary, one module per feature.

mod support;

mod audit;
mod audit_sandbox;
mod azure_hosts;
mod concurrency;
mod drift;
mod files;
mod help;
mod import;
mod init;
mod kubectl;
mod kubectl_driver;
mod lifecycle;
mod logs;
mod migrate;
mod mounts;
mod outputs;
mod plan_output;
mod reliability;
mod reliability_canary;
mod reliability_checks;
mod reliability_report;
mod reliability_support;
mod repo_support;
mod sandbox_serve;
// The sandbox crate's test helpers, shared rather than copied.
#[path = "../../crates/vaultwire-sandbox/tests/api/support.rs"]
#[allow(dead_code)] // each test binary uses its own part of the helpers
mod sandbox_support;
mod saved_plans;
mod served;
mod state;
mod validate;
mod workload_identity;
