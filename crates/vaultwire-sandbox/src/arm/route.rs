//! Which ARM operation a path names: a small explicit matcher over lower-cased path segments.
//!
//! Owns only the shape of paths (resource IDs are case-insensitive); existence checks and
//! behaviour belong to the handlers.

/// The resource types whose api-versions are checked separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    Subscriptions,
    ResourceGroups,
    /// The generic resources list (`…/resources`).
    Resources,
    ManagedHsms,
    Vaults,
    ManagedClusters,
    RoleAssignments,
    RoleDefinitions,
    PublicIpAddresses,
    ManagedIdentities,
}

/// One ARM route with its parameters (in the caller's casing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Subscriptions,
    Subscription {
        sub: String,
    },
    ResourceGroups {
        sub: String,
    },
    ResourceGroup {
        sub: String,
        rg: String,
    },
    Vaults {
        sub: String,
        rg: Option<String>,
    },
    Vault {
        sub: String,
        rg: String,
        name: String,
    },
    VaultAccessPolicy {
        sub: String,
        rg: String,
        name: String,
        kind: String,
    },
    CheckVaultName {
        sub: String,
    },
    DeletedVaults {
        sub: String,
    },
    DeletedVault {
        sub: String,
        location: String,
        name: String,
    },
    PurgeDeletedVault {
        sub: String,
        location: String,
        name: String,
    },
    VaultOperation {
        sub: String,
        location: String,
        id: String,
    },
    Clusters {
        sub: String,
        rg: Option<String>,
    },
    Cluster {
        sub: String,
        rg: String,
        name: String,
    },
    ClusterCredential {
        sub: String,
        rg: String,
        name: String,
        admin: bool,
    },
    ClusterOperation {
        sub: String,
        location: String,
        id: String,
    },
    RoleAssignments {
        scope: String,
    },
    RoleAssignment {
        scope: String,
        name: String,
    },
    RoleDefinitions {
        scope: String,
    },
    RoleDefinition {
        scope: String,
        id: String,
    },
    /// `/subscriptions/{sub}[/resourceGroups/{rg}]/resources`.
    Resources {
        sub: String,
        rg: Option<String>,
    },
    /// `…/providers/Microsoft.KeyVault/managedHSMs` (the sandbox has none).
    ManagedHsms {
        sub: String,
    },
    DeletedManagedHsms {
        sub: String,
    },
    /// `…/Microsoft.ManagedIdentity/userAssignedIdentities` (subscription or resource group).
    Identities {
        sub: String,
        rg: Option<String>,
    },
    Identity {
        sub: String,
        rg: String,
        name: String,
    },
    FederatedCredentials {
        sub: String,
        rg: String,
        name: String,
    },
    FederatedCredential {
        sub: String,
        rg: String,
        name: String,
        credential: String,
    },
    /// A cluster's managed outbound IP (`…/Microsoft.Network/publicIPAddresses/{name}`).
    PublicIpAddress {
        sub: String,
        rg: String,
        name: String,
    },
}

impl Route {
    pub fn parse(segments: &[String]) -> Option<Route> {
        if let Some(route) = authorization(segments) {
            return Some(route);
        }
        let lower: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
        let words: Vec<&str> = lower.iter().map(String::as_str).collect();
        let at = |i: usize| segments.get(i).cloned().unwrap_or_default();
        let sub = at(1);
        let route = match words.as_slice() {
            ["subscriptions"] => Route::Subscriptions,
            ["subscriptions", _] => Route::Subscription { sub },
            ["subscriptions", _, "resourcegroups"] => Route::ResourceGroups { sub },
            ["subscriptions", _, "resourcegroups", _] => Route::ResourceGroup { sub, rg: at(3) },
            ["subscriptions", _, "resources"] => Route::Resources { sub, rg: None },
            ["subscriptions", _, "resourcegroups", _, "resources"] => Route::Resources {
                sub,
                rg: Some(at(3)),
            },
            [
                "subscriptions",
                _,
                "providers",
                "microsoft.keyvault",
                "managedhsms",
            ]
            | [
                "subscriptions",
                _,
                "resourcegroups",
                _,
                "providers",
                "microsoft.keyvault",
                "managedhsms",
            ] => Route::ManagedHsms { sub },
            [
                "subscriptions",
                _,
                "providers",
                "microsoft.keyvault",
                "deletedmanagedhsms",
            ] => Route::DeletedManagedHsms { sub },
            [
                "subscriptions",
                _,
                "providers",
                "microsoft.managedidentity",
                "userassignedidentities",
            ] => Route::Identities { sub, rg: None },
            [
                "subscriptions",
                _,
                "resourcegroups",
                _,
                "providers",
                "microsoft.managedidentity",
                "userassignedidentities",
            ] => Route::Identities {
                sub,
                rg: Some(at(3)),
            },
            [
                "subscriptions",
                _,
                "resourcegroups",
                _,
                "providers",
                "microsoft.managedidentity",
                "userassignedidentities",
                _,
            ] => Route::Identity {
                sub,
                rg: at(3),
                name: at(7),
            },
            [
                "subscriptions",
                _,
                "resourcegroups",
                _,
                "providers",
                "microsoft.managedidentity",
                "userassignedidentities",
                _,
                "federatedidentitycredentials",
            ] => Route::FederatedCredentials {
                sub,
                rg: at(3),
                name: at(7),
            },
            [
                "subscriptions",
                _,
                "resourcegroups",
                _,
                "providers",
                "microsoft.managedidentity",
                "userassignedidentities",
                _,
                "federatedidentitycredentials",
                _,
            ] => Route::FederatedCredential {
                sub,
                rg: at(3),
                name: at(7),
                credential: at(9),
            },
            [
                "subscriptions",
                _,
                "resourcegroups",
                _,
                "providers",
                "microsoft.network",
                "publicipaddresses",
                _,
            ] => Route::PublicIpAddress {
                sub,
                rg: at(3),
                name: at(7),
            },
            [
                "subscriptions",
                _,
                "resourcegroups",
                _,
                "providers",
                "microsoft.keyvault",
                "vaults",
            ] => Route::Vaults {
                sub,
                rg: Some(at(3)),
            },
            [
                "subscriptions",
                _,
                "resourcegroups",
                _,
                "providers",
                "microsoft.keyvault",
                "vaults",
                _,
            ] => Route::Vault {
                sub,
                rg: at(3),
                name: at(7),
            },
            [
                "subscriptions",
                _,
                "resourcegroups",
                _,
                "providers",
                "microsoft.keyvault",
                "vaults",
                _,
                "accesspolicies",
                _,
            ] => Route::VaultAccessPolicy {
                sub,
                rg: at(3),
                name: at(7),
                kind: at(9),
            },
            [
                "subscriptions",
                _,
                "providers",
                "microsoft.keyvault",
                "vaults",
            ] => Route::Vaults { sub, rg: None },
            [
                "subscriptions",
                _,
                "providers",
                "microsoft.keyvault",
                "checknameavailability",
            ] => Route::CheckVaultName { sub },
            [
                "subscriptions",
                _,
                "providers",
                "microsoft.keyvault",
                "deletedvaults",
            ] => Route::DeletedVaults { sub },
            [
                "subscriptions",
                _,
                "providers",
                "microsoft.keyvault",
                "locations",
                _,
                "deletedvaults",
                _,
            ] => Route::DeletedVault {
                sub,
                location: at(5),
                name: at(7),
            },
            [
                "subscriptions",
                _,
                "providers",
                "microsoft.keyvault",
                "locations",
                _,
                "deletedvaults",
                _,
                "purge",
            ] => Route::PurgeDeletedVault {
                sub,
                location: at(5),
                name: at(7),
            },
            [
                "subscriptions",
                _,
                "providers",
                "microsoft.keyvault",
                "locations",
                _,
                "operationresults",
                _,
            ] => Route::VaultOperation {
                sub,
                location: at(5),
                id: at(7),
            },
            [
                "subscriptions",
                _,
                "resourcegroups",
                _,
                "providers",
                "microsoft.containerservice",
                "managedclusters",
            ] => Route::Clusters {
                sub,
                rg: Some(at(3)),
            },
            [
                "subscriptions",
                _,
                "resourcegroups",
                _,
                "providers",
                "microsoft.containerservice",
                "managedclusters",
                _,
            ] => Route::Cluster {
                sub,
                rg: at(3),
                name: at(7),
            },
            [
                "subscriptions",
                _,
                "resourcegroups",
                _,
                "providers",
                "microsoft.containerservice",
                "managedclusters",
                _,
                action,
            ] if *action == "listclusterusercredential"
                || *action == "listclusteradmincredential" =>
            {
                Route::ClusterCredential {
                    sub,
                    rg: at(3),
                    name: at(7),
                    admin: *action == "listclusteradmincredential",
                }
            }
            [
                "subscriptions",
                _,
                "providers",
                "microsoft.containerservice",
                "managedclusters",
            ] => Route::Clusters { sub, rg: None },
            [
                "subscriptions",
                _,
                "providers",
                "microsoft.containerservice",
                "locations",
                _,
                "operations",
                _,
            ] => Route::ClusterOperation {
                sub,
                location: at(5),
                id: at(7),
            },
            _ => return None,
        };
        Some(route)
    }
}

/// `{scope}/providers/Microsoft.Authorization/roleAssignments[/{name}]` and the same for
/// roleDefinitions, at any scope (including the tenant root).
fn authorization(segments: &[String]) -> Option<Route> {
    let position = segments.windows(3).rposition(|window| {
        window
            .first()
            .is_some_and(|s| s.eq_ignore_ascii_case("providers"))
            && window
                .get(1)
                .is_some_and(|s| s.eq_ignore_ascii_case("microsoft.authorization"))
    })?;
    let scope = format!("/{}", segments.get(..position)?.join("/"));
    let kind = segments.get(position + 2)?.to_ascii_lowercase();
    let name = segments.get(position + 3).cloned();
    if segments.len() > position + 4 {
        return None;
    }
    match (kind.as_str(), name) {
        ("roleassignments", None) => Some(Route::RoleAssignments { scope }),
        ("roleassignments", Some(name)) => Some(Route::RoleAssignment { scope, name }),
        ("roledefinitions", None) => Some(Route::RoleDefinitions { scope }),
        ("roledefinitions", Some(id)) => Some(Route::RoleDefinition { scope, id }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::segments;

    fn parse(path: &str) -> Option<Route> {
        Route::parse(&segments(path))
    }

    #[test]
    fn resource_ids_match_case_insensitively_and_keep_their_casing() {
        assert_eq!(
            parse(
                "/SUBSCRIPTIONS/s/resourcegroups/RG-Demo/providers/microsoft.keyvault/VAULTS/kv-One"
            ),
            Some(Route::Vault {
                sub: "s".into(),
                rg: "RG-Demo".into(),
                name: "kv-One".into()
            })
        );
    }

    #[test]
    fn role_assignments_are_found_at_any_scope() {
        assert_eq!(
            parse(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/providers/Microsoft.Authorization/roleAssignments/a1"
            ),
            Some(Route::RoleAssignment {
                scope: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
                    .into(),
                name: "a1".into()
            })
        );
        assert_eq!(
            parse("/providers/Microsoft.Authorization/roleDefinitions/x"),
            Some(Route::RoleDefinition {
                scope: "/".into(),
                id: "x".into()
            })
        );
    }

    #[test]
    fn unknown_paths_match_nothing() {
        assert_eq!(
            parse("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/x"),
            None
        );
    }
}
