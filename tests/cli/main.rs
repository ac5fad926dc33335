//! End-to-end tests of the `vaultwire` binary. One binary, one module per feature.

mod support;

mod clients_aks;
mod clients_faults;
mod clients_keyvault;
mod clients_kube;
mod clients_logs;
mod clients_rbac;
mod clients_secrets;
mod clients_support;
mod help;
mod init;
mod kube_rs;
mod kubectl;
mod kubectl_driver;
mod plan_files;
mod plan_fuzz;
mod sandbox_arm_clusters;
mod sandbox_arm_rbac;
mod sandbox_arm_vaults;
mod sandbox_entra;
mod sandbox_faults;
mod sandbox_keyvault;
mod sandbox_serve;
mod sandbox_support;
mod served;
mod state;
mod validate;
