//! Azure Resource Manager: resource groups, Key Vault vaults, AKS managed clusters, role
//! assignments and definitions, long-running operation status, the generic resources list
//! the cloud's metadata endpoint, the clusters' outbound public IPs, and user-assigned managed
//! identities with their federated identity credentials.

pub mod access_policies;
pub mod api_version;
pub mod call;
pub mod cluster_actions;
pub mod cluster_document;
pub mod deleted_vaults;
pub mod federated_credentials;
pub mod generic_resources;
pub mod handler;
pub mod identities;
pub mod managed_clusters;
pub mod metadata;
pub mod operations;
pub mod public_ips;
pub mod resource_groups;
pub mod response;
pub mod role_assignments;
pub mod role_definitions;
pub mod route;
pub mod route_info;
pub mod vault_input;
pub mod vaults;

pub use handler::handle;
