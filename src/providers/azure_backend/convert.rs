//! Between the clients' typed views and the engine's attribute maps, in both directions. The
//! attribute names and value spellings are those of `resources::*`, so desired and live
//! values compare field for field.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::engine::backend::{
    AccessPolicyObservation, AddonObservation, BackendError, CredentialObservation,
    IdentityObservation, RoleAssignmentObservation, VaultKey,
};
use crate::plan::model::{
    Authorization, BuiltInRole, NetworkAcls, NetworkBypass, NetworkDefaultAction, PrincipalType,
    PublicNetworkAccess, Role, Sku,
};
use crate::providers::azure::aks::{AddonSettings, LiveCluster};
use crate::providers::azure::keyvault::{
    AccessPolicyEntry, LiveVault, Permissions, VaultId, VaultSpec,
};
use crate::providers::azure::msi::{FederatedCredential, LiveIdentity};
use crate::providers::azure::rbac::{RoleAssignment, RoleAssignmentSpec};
use crate::resources::{AddonIdentity, IdentityIds, vault};
use crate::state::model::{AttributeText, Attributes, attribute_map};

fn invalid(what: &str, value: &str) -> BackendError {
    BackendError::new(format!(
        "unexpected {what} `{value}` in the desired properties"
    ))
}

/// A live vault's managed properties.
pub fn vault_attributes(live: &LiveVault) -> Attributes {
    let resource_group = VaultKey::from_id(&live.id)
        .map(|key| key.resource_group)
        .unwrap_or_default();
    // Keep the ID's own spelling of the resource group where it has one.
    let resource_group = live
        .id
        .split('/')
        .skip_while(|part| !part.eq_ignore_ascii_case("resourceGroups"))
        .nth(1)
        .map_or(resource_group, str::to_owned);
    let mut attributes = attribute_map([
        ("name", json!(live.name)),
        ("resource_group", json!(resource_group)),
        ("location", json!(live.location)),
        ("sku", json!(vault::sku(live.sku))),
        (
            "authorization",
            json!(vault::authorization(if live.rbac_authorization {
                Authorization::Rbac
            } else {
                Authorization::AccessPolicies
            })),
        ),
        (
            "soft_delete_retention_days",
            json!(live.soft_delete_retention_days),
        ),
        ("purge_protection", json!(live.purge_protection)),
        (
            "public_network_access",
            json!(vault::public_network_access(live.public_network_access)),
        ),
    ]);
    if let Some(acls) = &live.network_acls {
        attributes.insert("network_acls".to_owned(), vault::network_acls(acls));
    }
    if !live.tags.is_empty() {
        attributes.insert("tags".to_owned(), json!(live.tags));
    }
    attributes
}

/// The access-policy entries of a live vault, in a grant's attribute schema.
pub fn access_policies(live: &LiveVault) -> Vec<AccessPolicyObservation> {
    live.access_policies
        .iter()
        .map(|entry| AccessPolicyObservation {
            object_id: entry.object_id.to_ascii_lowercase(),
            tenant_id: entry.tenant_id.to_ascii_lowercase(),
            permissions: permissions_value(&entry.permissions),
        })
        .collect()
}

fn sorted_lowercase(names: &[String]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|name| name.to_ascii_lowercase()).collect();
    names.sort();
    names.dedup();
    names
}

fn permissions_value(permissions: &Permissions) -> Value {
    json!({
        "certificates": sorted_lowercase(&permissions.certificates),
        "keys": sorted_lowercase(&permissions.keys),
        "secrets": sorted_lowercase(&permissions.secrets),
    })
}

/// The vault the desired properties describe.
pub fn vault_spec(
    desired: &Attributes,
    subscription_id: &str,
    tenant_id: &str,
) -> Result<VaultSpec, BackendError> {
    let sku = match desired.text("sku") {
        "standard" => Sku::Standard,
        "premium" => Sku::Premium,
        other => return Err(invalid("sku", other)),
    };
    let authorization = match desired.text("authorization") {
        "rbac" => Authorization::Rbac,
        "access-policies" => Authorization::AccessPolicies,
        other => return Err(invalid("authorization", other)),
    };
    let public_network_access = match desired.text("public_network_access") {
        "enabled" => PublicNetworkAccess::Enabled,
        "disabled" => PublicNetworkAccess::Disabled,
        other => return Err(invalid("public network access", other)),
    };
    let network_acls = desired.get("network_acls").map(network_acls).transpose()?;
    let tags: BTreeMap<String, String> = desired
        .get("tags")
        .and_then(Value::as_object)
        .map(|tags| {
            tags.iter()
                .map(|(key, value)| (key.clone(), value.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    Ok(VaultSpec {
        id: VaultId::new(
            subscription_id,
            desired.text("resource_group"),
            desired.text("name"),
        ),
        location: desired.text("location").to_owned(),
        tenant_id: tenant_id.to_owned(),
        sku,
        authorization,
        soft_delete_retention_days: desired
            .get("soft_delete_retention_days")
            .and_then(Value::as_u64)
            .and_then(|days| u32::try_from(days).ok())
            .unwrap_or(90),
        purge_protection: desired
            .get("purge_protection")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        public_network_access,
        network_acls,
        tags,
    })
}

fn network_acls(value: &Value) -> Result<NetworkAcls, BackendError> {
    let strings = |key: &str| -> Vec<String> {
        value
            .get(key)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let field = |key: &str| value.get(key).and_then(Value::as_str).unwrap_or_default();
    Ok(NetworkAcls {
        default_action: match field("default_action") {
            "Allow" => NetworkDefaultAction::Allow,
            "Deny" => NetworkDefaultAction::Deny,
            other => return Err(invalid("firewall default action", other)),
        },
        bypass: match field("bypass") {
            "AzureServices" => NetworkBypass::AzureServices,
            "None" => NetworkBypass::None,
            other => return Err(invalid("firewall bypass", other)),
        },
        ip_rules: strings("ip_rules"),
        virtual_network_subnet_ids: strings("virtual_network_subnet_ids"),
    })
}

/// A cluster's add-on as the engine sees it.
pub fn addon_observation(cluster: &LiveCluster, resource_group: &str) -> AddonObservation {
    let addon = &cluster.addon;
    // An add-on AKS is still enabling has no identity yet and cannot be used: it counts as not
    // enabled, so the plan updates it and apply waits for the running operation.
    let enabled = addon.enabled && addon.identity.is_some();
    let mut attributes = attribute_map([
        ("cluster", json!(cluster.name)),
        ("resource_group", json!(resource_group)),
        ("enabled", json!(enabled)),
        ("workload_identity", json!(addon.workload_identity)),
    ]);
    if enabled {
        attributes.insert(
            "secret_rotation".to_owned(),
            json!(addon.secret_rotation.unwrap_or(false)),
        );
        attributes.insert(
            "rotation_poll_interval".to_owned(),
            json!(addon.rotation_poll_interval.as_deref().unwrap_or("2m")),
        );
    }
    AddonObservation {
        cluster_id: cluster.id.clone(),
        attributes,
        identity: addon.identity.as_ref().map(|identity| AddonIdentity {
            client_id: identity.client_id.to_ascii_lowercase(),
            object_id: identity.object_id.to_ascii_lowercase(),
            resource_id: identity.resource_id.clone(),
        }),
        issuer: addon.issuer.clone(),
        version: cluster.etag.clone(),
    }
}

pub fn addon_settings(desired: &Attributes) -> AddonSettings {
    AddonSettings {
        enabled: true,
        secret_rotation: desired
            .get("secret_rotation")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        rotation_poll_interval: desired
            .get("rotation_poll_interval")
            .and_then(Value::as_str)
            .unwrap_or("2m")
            .to_owned(),
        workload_identity: desired
            .get("workload_identity")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    }
}

/// A managed identity in the identity's attribute schema.
pub fn identity_observation(identity: &LiveIdentity, resource_group: &str) -> IdentityObservation {
    IdentityObservation {
        id: identity.id.clone(),
        attributes: identity_attributes(identity, resource_group),
        ids: IdentityIds {
            client_id: identity.client_id.clone(),
            principal_id: identity.principal_id.clone(),
        },
    }
}

pub fn identity_attributes(identity: &LiveIdentity, resource_group: &str) -> Attributes {
    attribute_map([
        ("name", json!(identity.name)),
        ("resource_group", json!(resource_group)),
        ("location", json!(identity.location)),
        ("tags", json!(identity.tags)),
    ])
}

pub fn credential_observation(credential: &FederatedCredential) -> CredentialObservation {
    CredentialObservation {
        id: credential.id.clone(),
        name: credential.name.clone(),
        issuer: credential.issuer.clone(),
        subject: credential.subject.clone(),
        audiences: credential.audiences.clone(),
    }
}

pub fn role_assignment_observation(assignment: &RoleAssignment) -> RoleAssignmentObservation {
    RoleAssignmentObservation {
        id: assignment.id.clone(),
        scope: assignment.scope.clone(),
        role_definition_id: assignment.role_definition_id.clone(),
        principal_id: assignment.principal_id.to_ascii_lowercase(),
        principal_type: assignment.principal_type.clone().unwrap_or_default(),
    }
}

/// The role assignment a grant's desired properties describe.
pub fn role_assignment_spec(
    desired: &Attributes,
    subscription_id: &str,
) -> Result<RoleAssignmentSpec, BackendError> {
    let guid = desired
        .text("role_definition_id")
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let role = BuiltInRole::ALL
        .into_iter()
        .find(|role| role.definition_guid() == guid)
        .map_or(Role::DefinitionId(guid), Role::BuiltIn);
    let principal_type = match desired.text("principal_type") {
        "User" => PrincipalType::User,
        "Group" => PrincipalType::Group,
        "ForeignGroup" => PrincipalType::ForeignGroup,
        _ => PrincipalType::ServicePrincipal,
    };
    Ok(RoleAssignmentSpec {
        scope: desired.text("scope").to_owned(),
        subscription_id: subscription_id.to_owned(),
        role,
        principal_id: desired.text("principal_id").to_owned(),
        principal_type,
    })
}

/// A role assignment as a grant's properties, in the desired spelling.
pub fn role_assignment_attributes(desired: &Attributes, assignment: &RoleAssignment) -> Attributes {
    attribute_map([
        ("mode", json!("role-assignment")),
        ("scope", json!(desired.text("scope"))),
        (
            "role_definition_id",
            json!(desired.text("role_definition_id")),
        ),
        (
            "principal_id",
            json!(assignment.principal_id.to_ascii_lowercase()),
        ),
        (
            "principal_type",
            json!(
                assignment
                    .principal_type
                    .clone()
                    .unwrap_or_else(|| desired.text("principal_type").to_owned())
            ),
        ),
    ])
}

/// The access-policy entry a grant's properties describe.
pub fn access_policy_entry(attributes: &Attributes) -> AccessPolicyEntry {
    let list = |kind: &str| -> Vec<String> {
        attributes
            .get("permissions")
            .and_then(|permissions| permissions.get(kind))
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    AccessPolicyEntry {
        tenant_id: attributes.text("tenant_id").to_owned(),
        object_id: attributes.text("object_id").to_owned(),
        application_id: None,
        permissions: Permissions {
            keys: list("keys"),
            secrets: list("secrets"),
            certificates: list("certificates"),
            storage: Vec::new(),
        },
    }
}
