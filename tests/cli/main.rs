//! End-to-end tests of the `vaultwire` binary. One binary, one module per feature.

mod support;

mod audit;
mod help;
mod init;
mod kube_rs;
mod kube_server;
mod kubectl;
mod kubectl_driver;
mod plan_files;
mod plan_fuzz;
mod state;
mod validate;
