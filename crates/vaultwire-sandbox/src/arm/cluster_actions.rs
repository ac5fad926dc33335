//! Managed-cluster operations besides GET and PUT: UpdateTags (PATCH) and the user/admin
//! credentials (a kubeconfig for the cluster's sandbox API).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::StatusCode;
use serde_json::{Value, json};

use crate::arm::call::Call;
use crate::arm::cluster_document::render;
use crate::arm::managed_clusters::{not_found, operation_in_progress, precondition, tags_of};
use crate::arm::response;
use crate::auth::{self, Principal};
use crate::exchange::Resp;
use crate::ids;
use crate::kubeconfig;
use crate::world::World;

/// PATCH (ManagedClusters_UpdateTags): replaces the tags, synchronously.
pub fn update_tags(call: &Call<'_>, world: &mut World, rg: &str, name: &str) -> Resp {
    let Some(existing) = world.cluster(rg, name).cloned() else {
        return not_found(rg, name);
    };
    if let Some(failure) = precondition(call, Some(&existing)) {
        return failure;
    }
    if let Some(busy) = operation_in_progress(&existing) {
        return busy;
    }
    let body: Value = match call.req.json() {
        Ok(body) => body,
        Err(error) => return response::invalid_body(error),
    };
    let mut cluster = existing;
    cluster.tags = body.as_object().map(tags_of).unwrap_or_default();
    cluster.etag = world.next_uuid("cluster-etag");
    let value = render(world, &cluster);
    world.clusters.insert(name.to_ascii_lowercase(), cluster);
    Resp::json(StatusCode::OK, &value)
}

/// listClusterUserCredential / listClusterAdminCredential: a kubeconfig for the cluster's
/// sandbox API. As on AKS, the user credential of an Entra-integrated cluster (`aadProfile`)
/// runs `kubelogin`, so clients bring their own Entra token; other credentials carry a bearer
/// token for the caller (audience: the AKS server application).
pub fn credentials(call: &Call<'_>, world: &mut World, rg: &str, name: &str, admin: bool) -> Resp {
    let Some(cluster) = world.cluster(rg, name) else {
        return not_found(rg, name);
    };
    let entra = cluster
        .properties
        .get("aadProfile")
        .is_some_and(Value::is_object);
    let user = if admin {
        format!("clusterAdmin_{}_{}", cluster.resource_group, cluster.name)
    } else {
        format!("clusterUser_{}_{}", cluster.resource_group, cluster.name)
    };
    // A token is signed only for a kubeconfig that carries one: an Entra user gets kubelogin
    // (and its token from Entra), and signing one to throw away held the world's lock as long
    // as the rest of the answer.
    let auth = if entra && !admin {
        kubeconfig::UserAuth::Kubelogin {
            tenant_id: world.tenant_id.clone(),
        }
    } else {
        let principal = Principal {
            object_id: call.caller.object_id.clone(),
            app_id: call.caller.app_id.clone(),
        };
        let Ok(token) = auth::issue(
            call.ctx,
            &principal,
            ids::AKS_SERVER_APP_ID,
            auth::ACCESS_TOKEN_SECONDS,
        ) else {
            return response::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "cannot sign a token",
            );
        };
        kubeconfig::UserAuth::Token(token)
    };
    let fqdn = cluster.properties.get("fqdn").and_then(Value::as_str);
    let config = kubeconfig::render(
        call.ctx.ca_pem,
        &[kubeconfig::Context {
            server: call.ctx.api_server(&cluster.name, fqdn),
            cluster: cluster.name.clone(),
            user,
            auth,
        }],
    );
    let name = if admin { "clusterAdmin" } else { "clusterUser" };
    Resp::json(
        StatusCode::OK,
        &json!({"kubeconfigs": [{"name": name, "value": STANDARD.encode(config)}]}),
    )
}
