//! Microsoft.ContainerService/managedClusters: GET (with eTag), PUT as a full replace running
//! as a long-running operation, UpdateTags, user/admin credentials, and what finishing an
//! operation does to the cluster's Kubernetes API (the Secrets Store CSI driver follows the
//! Key Vault add-on).

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::{Value, json};

use crate::arm::call::Call;
use crate::arm::cluster_document::{finish, prepared_properties, render};
use crate::arm::deleted_vaults::retry_after;
use crate::arm::response;

use crate::exchange::Resp;
use crate::kube::KubeCluster;
use crate::model::{ClusterOperation, ManagedCluster, Operation, OperationKind, ResourceGroup};
use crate::seed_cluster::valid_cluster_name;
use crate::world::{World, derived_uuid};

const TYPE: &str = "Microsoft.ContainerService/managedClusters";
const KEY_VAULT_ADDON: &str = "azureKeyvaultSecretsProvider";

pub fn not_found(rg: &str, name: &str) -> Resp {
    response::resource_not_found(TYPE, name, rg)
}

pub fn get(_call: &Call<'_>, world: &mut World, rg: &str, name: &str) -> Resp {
    match world.cluster(rg, name) {
        Some(cluster) => Resp::json(StatusCode::OK, &render(world, cluster))
            .with_header("etag", format!("\"{}\"", cluster.etag)),
        None => not_found(rg, name),
    }
}

pub fn list(_call: &Call<'_>, world: &mut World, rg: Option<&str>) -> Resp {
    let value: Vec<Value> = world
        .clusters
        .values()
        .filter(|c| rg.is_none_or(|rg| c.resource_group.eq_ignore_ascii_case(rg)))
        .map(|cluster| render(world, cluster))
        .collect();
    Resp::json(StatusCode::OK, &json!({"value": value}))
}

/// `If-Match` / `If-None-Match` against the current eTag (`*` matches any existing cluster).
pub fn precondition(call: &Call<'_>, existing: Option<&ManagedCluster>) -> Option<Resp> {
    let unquote = |value: &str| value.trim().trim_matches('"').to_owned();
    let failed = |message: &str| {
        Some(response::error(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            message,
        ))
    };
    if let Some(wanted) = call.req.header("if-match").map(unquote) {
        match existing {
            None => {
                return failed(
                    "Operation failed: the managed cluster does not exist, so the If-Match precondition cannot hold.",
                );
            }
            Some(cluster) if wanted != "*" && wanted != cluster.etag => {
                return failed(&format!(
                    "Operation is not allowed because the eTag in the If-Match header '{wanted}' does not match the current eTag '{}' of the managed cluster.",
                    cluster.etag
                ));
            }
            Some(_) => {}
        }
    }
    if let Some(unwanted) = call.req.header("if-none-match").map(unquote)
        && let Some(cluster) = existing
        && (unwanted == "*" || unwanted == cluster.etag)
    {
        return failed(
            "Operation failed: the managed cluster already exists and If-None-Match forbids replacing it.",
        );
    }
    None
}

pub fn operation_in_progress(cluster: &ManagedCluster) -> Option<Resp> {
    let state = cluster.operation.as_ref()?.state.clone();
    let state = if state == "Creating" {
        "Creating"
    } else {
        "Updating"
    };
    Some(response::error(
        StatusCode::CONFLICT,
        "OperationNotAllowed",
        format!(
            "Operation is not allowed: Another operation ({state}) is in progress, please wait for it to finish before starting a new operation. See https://aka.ms/aks-pending-operation for more details"
        ),
    ))
}

/// PUT: a full replace. Answers 201 (create) or 200 (update) with the cluster in
/// `Creating`/`Updating`, `Azure-AsyncOperation` and `Retry-After`.
pub fn put(call: &Call<'_>, world: &mut World, rg: &str, name: &str) -> Resp {
    if !valid_cluster_name(name) {
        return response::error(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            format!(
                "The value of parameter resourceName is invalid: '{name}'. It must be 1-63 letters, digits, '-' or '_', starting and ending with a letter or digit."
            ),
        );
    }
    let Some(group) = world.resource_groups.get(&rg.to_ascii_lowercase()).cloned() else {
        return response::resource_group_not_found(rg);
    };
    let key = name.to_ascii_lowercase();
    if let Some(other) = world.clusters.get(&key)
        && !other.resource_group.eq_ignore_ascii_case(rg)
    {
        return response::error(
            StatusCode::CONFLICT,
            "Conflict",
            format!(
                "The sandbox keeps managed cluster names unique across resource groups; '{name}' already exists in '{}'.",
                other.resource_group
            ),
        );
    }
    let existing = world.clusters.get(&key).cloned();
    if let Some(failure) = precondition(call, existing.as_ref()) {
        return failure;
    }
    if let Some(busy) = existing.as_ref().and_then(operation_in_progress) {
        return busy;
    }
    let body: Value = match call.req.json() {
        Ok(body) => body,
        Err(error) => return response::invalid_body(error),
    };
    let Some(body) = body.as_object() else {
        return response::invalid_body("the body is not a JSON object");
    };
    let Some(location) = body
        .get("location")
        .and_then(Value::as_str)
        .map(|l| l.to_ascii_lowercase().replace(' ', ""))
    else {
        return response::error(
            StatusCode::BAD_REQUEST,
            "LocationRequired",
            "The location property is required for this definition.",
        );
    };
    if let Some(cluster) = &existing {
        if cluster.location != location {
            return response::error(
                StatusCode::BAD_REQUEST,
                "PropertyChangeNotAllowed",
                format!(
                    "Changing property 'location' is not allowed: the cluster is in '{}'.",
                    cluster.location
                ),
            );
        }
        let requested_nrg = body
            .get("properties")
            .and_then(|p| p.get("nodeResourceGroup"))
            .and_then(Value::as_str);
        if requested_nrg
            .is_some_and(|nrg| !nrg.eq_ignore_ascii_case(&cluster.node_resource_group()))
        {
            return response::error(
                StatusCode::BAD_REQUEST,
                "PropertyChangeNotAllowed",
                "Changing property 'nodeResourceGroup' is not allowed.",
            );
        }
    }
    let creating = existing.is_none();
    let state = if creating { "Creating" } else { "Updating" };
    let properties = prepared_properties(
        world.seed,
        &world.tenant_id,
        existing.as_ref(),
        body,
        name,
        &group.name,
        &location,
        state,
    );
    let disabling_key_vault = existing
        .as_ref()
        .is_some_and(|c| c.addon_enabled(KEY_VAULT_ADDON))
        && !addon_enabled_in(&properties, KEY_VAULT_ADDON);
    if disabling_key_vault
        && world
            .kube
            .get(&key)
            .is_some_and(|kube| !kube.secret_provider_classes().is_empty())
    {
        // The message AKS gives (azure-cli#27965).
        return response::error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "AzureKeyvaultSecretsProvider addon cannot be disabled due to more than 0 Secret Provider Classes",
        );
    }
    let op_id = world.next_uuid("cluster-operation");
    let etag = world.next_uuid("cluster-etag");
    let cluster = ManagedCluster {
        name: existing
            .as_ref()
            .map_or_else(|| name.to_owned(), |c| c.name.clone()),
        resource_group: group.name.clone(),
        location: location.clone(),
        tags: tags_of(body),
        sku: body
            .get("sku")
            .cloned()
            .or_else(|| Some(json!({"name": "Base", "tier": "Free"}))),
        identity: cluster_identity(world, body.get("identity"), existing.as_ref(), name),
        properties,
        etag,
        operation: Some(ClusterOperation {
            id: op_id.clone(),
            state: state.to_owned(),
            started: call.ctx.now,
            completes: call.ctx.after(call.ctx.lro_duration),
        }),
    };
    world.operations.insert(
        op_id.clone(),
        Operation {
            id: op_id.clone(),
            kind: OperationKind::Cluster {
                cluster: key.clone(),
            },
            started: call.ctx.now,
            completes: call.ctx.after(call.ctx.lro_duration),
            finished: None,
        },
    );
    if creating {
        world.kube.insert(key.clone(), KubeCluster::seeded(name));
        // AKS creates the node resource group, managed by the cluster.
        let node_group = cluster.node_resource_group();
        world
            .resource_groups
            .entry(node_group.to_ascii_lowercase())
            .or_insert_with(|| ResourceGroup {
                name: node_group.clone(),
                location: location.clone(),
                tags: BTreeMap::new(),
                managed_by: Some(cluster.id(&world.subscription_id)),
            });
    }
    let value = render(world, &cluster);
    world.clusters.insert(key, cluster);
    let status_url = call.url(&format!(
        "/subscriptions/{}/providers/Microsoft.ContainerService/locations/{location}/operations/{op_id}?api-version={}",
        world.subscription_id, call.api_version
    ));
    Resp::json(
        if creating {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        &value,
    )
    .with_header("azure-asyncoperation", status_url)
    .with_header("retry-after", retry_after(call).to_string())
}

fn addon_enabled_in(properties: &serde_json::Map<String, Value>, key: &str) -> bool {
    properties
        .get("addonProfiles")
        .and_then(Value::as_object)
        .is_some_and(|profiles| {
            profiles.iter().any(|(name, profile)| {
                name.eq_ignore_ascii_case(key)
                    && profile.get("enabled").and_then(Value::as_bool) == Some(true)
            })
        })
}

pub fn tags_of(body: &serde_json::Map<String, Value>) -> BTreeMap<String, String> {
    body.get("tags")
        .and_then(Value::as_object)
        .map(|tags| {
            tags.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// The cluster's own identity: kept from before when the type is unchanged, else derived.
fn cluster_identity(
    world: &World,
    requested: Option<&Value>,
    existing: Option<&ManagedCluster>,
    name: &str,
) -> Option<Value> {
    let requested = requested?;
    let kind = requested
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("SystemAssigned");
    if let Some(old) = existing.and_then(|c| c.identity.as_ref())
        && old.get("type").and_then(Value::as_str) == Some(kind)
        && kind != "UserAssigned"
    {
        return Some(old.clone());
    }
    match kind {
        "UserAssigned" => {
            let mut identities = serde_json::Map::new();
            if let Some(ids) = requested
                .get("userAssignedIdentities")
                .and_then(Value::as_object)
            {
                for id in ids.keys() {
                    identities.insert(
                        id.clone(),
                        json!({
                            "clientId": derived_uuid(world.seed, &format!("{id}:clientId")),
                            "principalId": derived_uuid(world.seed, &format!("{id}:principalId")),
                        }),
                    );
                }
            }
            Some(json!({"type": "UserAssigned", "userAssignedIdentities": identities}))
        }
        "None" => Some(json!({"type": "None"})),
        _ => Some(json!({
            "type": "SystemAssigned",
            "principalId": derived_uuid(world.seed, &format!("{}:system-identity", name.to_ascii_lowercase())),
            "tenantId": world.tenant_id,
        })),
    }
}

/// Finishes the operation running on cluster `key`.
pub fn finish_cluster_operation(world: &mut World, key: &str) {
    let Some(mut cluster) = world.clusters.remove(key) else {
        return;
    };
    finish(world, &mut cluster);
    let installed = cluster.addon_enabled(KEY_VAULT_ADDON);
    if let Some(kube) = world.kube.get_mut(key) {
        kube.set_csi_driver_installed(installed);
    }
    world.clusters.insert(key.to_owned(), cluster);
}
