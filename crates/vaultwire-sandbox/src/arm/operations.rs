//! Long-running operations: finishing those whose time has come (before every request), and
//! the status URLs pollers read.

use http::StatusCode;
use serde_json::json;

use crate::arm::call::Call;
use crate::arm::deleted_vaults::retry_after;
use crate::arm::managed_clusters::finish_cluster_operation;
use crate::arm::response;
use crate::context::Ctx;
use crate::exchange::Resp;
use crate::model::OperationKind;
use crate::world::World;

/// Completes every operation due at `ctx.now`. Idempotent; called before each request so the
/// world a handler sees is up to date.
pub fn settle(ctx: &Ctx<'_>, world: &mut World) {
    let due: Vec<(String, OperationKind)> = world
        .operations
        .values()
        .filter(|op| op.finished.is_none() && op.completes <= ctx.now)
        .map(|op| (op.id.clone(), op.kind.clone()))
        .collect();
    for (id, kind) in due {
        match kind {
            OperationKind::PurgeVault { vault } => {
                world.deleted_vaults.remove(&vault);
            }
            OperationKind::Cluster { cluster } => finish_cluster_operation(world, &cluster),
        }
        if let Some(op) = world.operations.get_mut(&id) {
            op.finished = Some(op.completes);
        }
    }
}

fn operation_not_found(id: &str) -> Resp {
    response::error(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("The operation '{id}' was not found."),
    )
}

/// `GET …/Microsoft.ContainerService/locations/{loc}/operations/{id}`: the
/// Azure-AsyncOperation status body.
pub fn cluster_status(call: &Call<'_>, world: &mut World, id: &str) -> Resp {
    let Some(op) = world
        .operations
        .get(&id.to_ascii_lowercase())
        .or_else(|| world.operations.get(id))
    else {
        return operation_not_found(id);
    };
    let mut body = json!({
        "name": op.id,
        "status": if op.finished.is_some() { "Succeeded" } else { "InProgress" },
        "startTime": response::timestamp(op.started),
    });
    if let (Some(ended), Some(object)) = (op.finished, body.as_object_mut()) {
        object.insert("endTime".to_owned(), json!(response::timestamp(ended)));
        object.insert("percentComplete".to_owned(), json!(100.0));
    }
    let resp = Resp::json(StatusCode::OK, &body);
    if op.finished.is_some() {
        return resp;
    }
    // A deviation, on purpose: recordings of real AKS operations (azure-cli's
    // test_aks_create_default.yaml) show no Retry-After on the status, so pollers wait their
    // 30-second default — nothing beside an operation of minutes. The sandbox's take seconds;
    // without it `az aks enable-addons` would spend 30 s on a 2-second operation. Never 0:
    // azure-core reads that as absent.
    let remaining = op.completes.duration_since(call.ctx.now).as_millis().max(0);
    let seconds = u64::try_from(remaining)
        .unwrap_or(0)
        .div_ceil(1000)
        .clamp(1, 10);
    resp.with_header("retry-after", seconds.to_string())
}

/// `GET …/Microsoft.KeyVault/locations/{loc}/operationResults/{id}`: the `Location` poll of a
/// purge — 202 while it runs, 200 when done.
pub fn vault_result(call: &Call<'_>, world: &mut World, id: &str) -> Resp {
    let Some(op) = world
        .operations
        .get(&id.to_ascii_lowercase())
        .or_else(|| world.operations.get(id))
    else {
        return operation_not_found(id);
    };
    if op.finished.is_some() {
        Resp::empty(StatusCode::OK)
    } else {
        Resp::empty(StatusCode::ACCEPTED)
            .with_header(
                "location",
                call.url(&format!("{}?{}", call.req.path, call.req.query)),
            )
            .with_header("retry-after", retry_after(call).to_string())
    }
}
