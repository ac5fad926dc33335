//! The api-versions ARM accepts per resource type, and the errors for a missing or unknown one.
//!
//! Lists: the GA versions in the specs (azure-arm-facts.md §1.1, §2.1, §3) plus those of the
//! published examples; a few previews clients still send are accepted too.

use http::StatusCode;

use crate::arm::response;
use crate::arm::route::ResourceType;
use crate::exchange::Resp;

/// Microsoft.Resources: resource groups and the generic resources list. 2015-11-01 is old, but
/// the Key Vault SDK's `Vaults_List` (the generic list) pins it.
const RESOURCES: &[&str] = &[
    "2015-11-01",
    "2019-10-01",
    "2020-06-01",
    "2021-04-01",
    "2022-09-01",
    "2023-07-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-03-01",
    "2025-04-01",
];
const SUBSCRIPTIONS: &[&str] = &["2016-06-01", "2020-01-01", "2021-01-01", "2022-12-01"];
const KEY_VAULT: &[&str] = &[
    "2016-10-01",
    "2018-02-14",
    "2019-09-01",
    "2021-10-01",
    "2022-07-01",
    "2022-11-01",
    "2023-02-01",
    "2023-07-01",
    "2024-11-01",
    "2024-12-01-preview",
    "2025-05-01",
    "2026-02-01",
    "2026-03-01-preview",
    "2026-04-01",
];
const CONTAINER_SERVICE: &[&str] = &[
    "2024-02-01",
    "2024-05-01",
    "2024-07-01",
    "2024-08-01",
    "2024-09-01",
    "2024-10-01",
    "2025-01-01",
    "2025-02-01",
    "2025-03-01",
    "2025-04-01",
    "2025-05-01",
    "2025-06-01",
    "2025-07-01",
    "2025-08-01",
    "2025-10-01",
    "2026-01-01",
    "2026-02-01",
    "2026-03-01",
    "2026-04-01",
    "2026-05-01",
    "2026-06-01",
    "2026-07-01",
];
const ROLE_ASSIGNMENTS: &[&str] = &[
    "2015-07-01",
    "2018-01-01-preview",
    "2018-09-01-preview",
    "2020-04-01-preview",
    "2020-10-01-preview",
    "2022-01-01-preview",
    "2022-04-01",
];
const ROLE_DEFINITIONS: &[&str] = &[
    "2015-07-01",
    "2018-01-01-preview",
    "2022-04-01",
    "2022-05-01-preview",
];

/// Microsoft.Network's stable versions of the last years (az's `network public-ip` commands
/// send one of them).
const NETWORK: &[&str] = &[
    "2022-01-01",
    "2022-05-01",
    "2022-07-01",
    "2022-09-01",
    "2022-11-01",
    "2023-02-01",
    "2023-04-01",
    "2023-05-01",
    "2023-06-01",
    "2023-09-01",
    "2023-11-01",
    "2024-01-01",
    "2024-03-01",
    "2024-05-01",
    "2024-07-01",
    "2024-10-01",
    "2025-01-01",
    "2025-03-01",
    "2025-05-01",
    "2025-07-01",
    // azure-cli 2.91's `network public-ip show`.
    "2025-09-01",
];

/// Microsoft.ManagedIdentity: federated identity credentials came with 2022-01-31-preview and
/// are GA from 2023-01-31 (the specs' `msi` folder).
const MANAGED_IDENTITY: &[&str] = &[
    "2018-11-30",
    "2021-09-30-preview",
    "2022-01-31-preview",
    "2023-01-31",
    "2023-07-31-preview",
    "2024-11-30",
    "2025-01-31-preview",
    // azure-cli 2.91's `az identity`.
    "2025-05-31-preview",
];

pub fn supported(resource_type: ResourceType) -> &'static [&'static str] {
    match resource_type {
        ResourceType::Subscriptions => SUBSCRIPTIONS,
        ResourceType::ResourceGroups => RESOURCES,
        ResourceType::Resources => RESOURCES,
        ResourceType::Vaults | ResourceType::ManagedHsms => KEY_VAULT,
        ResourceType::ManagedClusters => CONTAINER_SERVICE,
        ResourceType::RoleAssignments => ROLE_ASSIGNMENTS,
        ResourceType::RoleDefinitions => ROLE_DEFINITIONS,
        ResourceType::PublicIpAddresses => NETWORK,
        ResourceType::ManagedIdentities => MANAGED_IDENTITY,
    }
}

/// The api-version to serve, or the error ARM gives.
pub fn check(resource_type: ResourceType, given: Option<&str>) -> Result<String, Resp> {
    let Some(given) = given.filter(|given| !given.is_empty()) else {
        return Err(response::error(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    };
    let versions = supported(resource_type);
    if versions
        .iter()
        .any(|version| version.eq_ignore_ascii_case(given))
    {
        return Ok(given.to_ascii_lowercase());
    }
    let list = versions.join(", ");
    // Resource providers answer with NoRegisteredProviderFound; ARM's own types (resource
    // groups, subscriptions) with InvalidApiVersionParameter. Both are 400.
    let error = match resource_type {
        ResourceType::Subscriptions | ResourceType::ResourceGroups | ResourceType::Resources => {
            response::error(
                StatusCode::BAD_REQUEST,
                "InvalidApiVersionParameter",
                format!(
                    "The api-version '{given}' is invalid. The supported versions are '{list}'."
                ),
            )
        }
        other => response::error(
            StatusCode::BAD_REQUEST,
            "NoRegisteredProviderFound",
            format!(
                "No registered resource provider found for location 'westeurope' and API version '{given}' for type '{}'. The supported api-versions are '{list}'. The supported locations are 'westeurope, northeurope, eastus, westus'.",
                type_name(other)
            ),
        ),
    };
    Err(error)
}

fn type_name(resource_type: ResourceType) -> &'static str {
    match resource_type {
        ResourceType::Subscriptions => "subscriptions",
        ResourceType::ResourceGroups => "resourceGroups",
        ResourceType::Resources => "resources",
        ResourceType::Vaults => "vaults",
        ResourceType::ManagedHsms => "managedHSMs",
        ResourceType::ManagedClusters => "managedClusters",
        ResourceType::RoleAssignments => "roleAssignments",
        ResourceType::RoleDefinitions => "roleDefinitions",
        ResourceType::PublicIpAddresses => "publicIPAddresses",
        ResourceType::ManagedIdentities => "userAssignedIdentities",
    }
}

/// Whether vaults created with `api_version` default to the RBAC permission model (true from
/// 2026-02-01 on, azure-arm-facts.md §1.1).
pub fn vault_rbac_default(api_version: &str) -> bool {
    let date = api_version.get(..10).unwrap_or(api_version);
    date >= "2026-02-01"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_api_version_is_refused_in_arm_shape() {
        let error = check(ResourceType::Vaults, None).unwrap_err();
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            error.body_json()["error"]["code"],
            "MissingApiVersionParameter"
        );
    }

    #[test]
    fn versions_are_checked_per_resource_type() {
        assert!(check(ResourceType::Vaults, Some("2025-05-01")).is_ok());
        assert!(check(ResourceType::ManagedClusters, Some("2025-10-01")).is_ok());
        let error = check(ResourceType::ManagedClusters, Some("2025-05-01-preview")).unwrap_err();
        assert_eq!(
            error.body_json()["error"]["code"],
            "NoRegisteredProviderFound"
        );
        let error = check(ResourceType::ResourceGroups, Some("2099-01-01")).unwrap_err();
        assert_eq!(
            error.body_json()["error"]["code"],
            "InvalidApiVersionParameter"
        );
    }

    #[test]
    fn the_rbac_default_flips_in_2026() {
        assert!(!vault_rbac_default("2025-05-01"));
        assert!(vault_rbac_default("2026-02-01"));
        assert!(vault_rbac_default("2026-03-01-preview"));
    }
}
