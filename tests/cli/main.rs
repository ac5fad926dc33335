//! End-to-end tests of the `vaultwire` binary. One binary, one module per feature.

mod support;

mod audit;
mod audit_sandbox;
mod concurrency;
mod drift;
mod help;
mod import;
mod init;
mod kube_rs;
mod kube_server;
mod kubectl;
mod kubectl_driver;
mod lifecycle;
mod plan_files;
mod plan_fuzz;
mod plan_output;
mod repo_support;
mod sandbox_arm_clusters;
mod sandbox_arm_rbac;
mod sandbox_arm_vaults;
mod sandbox_entra;
mod sandbox_faults;
mod sandbox_keyvault;
mod sandbox_serve;
mod sandbox_support;
mod saved_plans;
mod state;
mod validate;
