//! What the journal and the api-version check need to know about a route: its subscription,
//! resource type and label.

use crate::arm::route::{ResourceType, Route};

impl Route {
    /// The subscription the route is under, if any.
    pub fn subscription(&self) -> Option<&str> {
        match self {
            Route::Subscriptions | Route::RoleAssignments { .. } | Route::RoleAssignment { .. } => {
                None
            }
            Route::RoleDefinitions { .. } | Route::RoleDefinition { .. } => None,
            Route::Subscription { sub }
            | Route::ResourceGroups { sub }
            | Route::ResourceGroup { sub, .. }
            | Route::Vaults { sub, .. }
            | Route::Vault { sub, .. }
            | Route::VaultAccessPolicy { sub, .. }
            | Route::CheckVaultName { sub }
            | Route::DeletedVaults { sub }
            | Route::DeletedVault { sub, .. }
            | Route::PurgeDeletedVault { sub, .. }
            | Route::VaultOperation { sub, .. }
            | Route::Clusters { sub, .. }
            | Route::Cluster { sub, .. }
            | Route::ClusterCredential { sub, .. }
            | Route::ClusterOperation { sub, .. }
            | Route::Resources { sub, .. }
            | Route::ManagedHsms { sub }
            | Route::DeletedManagedHsms { sub }
            | Route::Identities { sub, .. }
            | Route::Identity { sub, .. }
            | Route::FederatedCredentials { sub, .. }
            | Route::FederatedCredential { sub, .. }
            | Route::PublicIpAddress { sub, .. } => Some(sub),
        }
    }

    pub fn resource_type(&self) -> ResourceType {
        match self {
            Route::Subscriptions | Route::Subscription { .. } => ResourceType::Subscriptions,
            Route::ResourceGroups { .. } | Route::ResourceGroup { .. } => {
                ResourceType::ResourceGroups
            }
            Route::Vaults { .. }
            | Route::Vault { .. }
            | Route::VaultAccessPolicy { .. }
            | Route::CheckVaultName { .. }
            | Route::DeletedVaults { .. }
            | Route::DeletedVault { .. }
            | Route::PurgeDeletedVault { .. }
            | Route::VaultOperation { .. } => ResourceType::Vaults,
            Route::Clusters { .. }
            | Route::Cluster { .. }
            | Route::ClusterCredential { .. }
            | Route::ClusterOperation { .. } => ResourceType::ManagedClusters,
            Route::RoleAssignments { .. } | Route::RoleAssignment { .. } => {
                ResourceType::RoleAssignments
            }
            Route::RoleDefinitions { .. } | Route::RoleDefinition { .. } => {
                ResourceType::RoleDefinitions
            }
            Route::Resources { .. } => ResourceType::Resources,
            Route::ManagedHsms { .. } | Route::DeletedManagedHsms { .. } => {
                ResourceType::ManagedHsms
            }
            Route::PublicIpAddress { .. } => ResourceType::PublicIpAddresses,
            Route::Identities { .. }
            | Route::Identity { .. }
            | Route::FederatedCredentials { .. }
            | Route::FederatedCredential { .. } => ResourceType::ManagedIdentities,
        }
    }

    /// A stable label for the journal's counters, such as `Microsoft.KeyVault/vaults`.
    pub fn label(&self) -> &'static str {
        match self {
            Route::Subscriptions | Route::Subscription { .. } => "subscriptions",
            Route::ResourceGroups { .. } | Route::ResourceGroup { .. } => "resourceGroups",
            Route::Vaults { .. } | Route::Vault { .. } => "Microsoft.KeyVault/vaults",
            Route::VaultAccessPolicy { .. } => "Microsoft.KeyVault/vaults/accessPolicies",
            Route::CheckVaultName { .. } => "Microsoft.KeyVault/checkNameAvailability",
            Route::DeletedVaults { .. } | Route::DeletedVault { .. } => {
                "Microsoft.KeyVault/deletedVaults"
            }
            Route::PurgeDeletedVault { .. } => "Microsoft.KeyVault/deletedVaults/purge",
            Route::VaultOperation { .. } => "Microsoft.KeyVault/operationResults",
            Route::Clusters { .. } | Route::Cluster { .. } => {
                "Microsoft.ContainerService/managedClusters"
            }
            Route::ClusterCredential { .. } => {
                "Microsoft.ContainerService/managedClusters/credentials"
            }
            Route::ClusterOperation { .. } => "Microsoft.ContainerService/operations",
            Route::RoleAssignments { .. } | Route::RoleAssignment { .. } => {
                "Microsoft.Authorization/roleAssignments"
            }
            Route::RoleDefinitions { .. } | Route::RoleDefinition { .. } => {
                "Microsoft.Authorization/roleDefinitions"
            }
            Route::Resources { .. } => "resources",
            Route::ManagedHsms { .. } => "Microsoft.KeyVault/managedHSMs",
            Route::DeletedManagedHsms { .. } => "Microsoft.KeyVault/deletedManagedHSMs",
            Route::PublicIpAddress { .. } => "Microsoft.Network/publicIPAddresses",
            Route::Identities { .. } | Route::Identity { .. } => {
                "Microsoft.ManagedIdentity/userAssignedIdentities"
            }
            Route::FederatedCredentials { .. } | Route::FederatedCredential { .. } => {
                "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
            }
        }
    }
}
