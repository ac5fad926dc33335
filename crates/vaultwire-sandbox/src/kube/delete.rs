//! DELETE of one object and of a collection. Deletion is synchronous (no finalizers, no
//! grace period), so kubectl's follow-up GET sees 404 and never needs a watch. Dependents are
//! deleted with their owner (the garbage collector's Background/Foreground policies) unless
//! the policy is Orphan; deleting a Namespace deletes everything in it.
//!
//! Owns the delete semantics; the store only removes.

use http::StatusCode;
use serde_json::{Value, json};

use super::context::Ctx;
use super::object;
use super::read;
use super::resources::ResourceDef;
use super::status::{self, StatusError};
use super::store::Store;
use super::wire::KubeResponse;

/// Namespaces the NamespaceLifecycle admission plugin never lets go.
const IMMORTAL_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public"];

/// The parts of `DeleteOptions` this server honours.
#[derive(Debug, Default)]
struct Options {
    orphan: bool,
    dry_run: bool,
    uid: Option<String>,
    resource_version: Option<String>,
}

fn options(ctx: &Ctx<'_>) -> Result<Options, StatusError> {
    let mut options = Options {
        dry_run: ctx.query.dry_run()?,
        orphan: ctx.query.get("propagationPolicy") == Some("Orphan")
            || ctx.query.get("orphanDependents") == Some("true"),
        ..Options::default()
    };
    if ctx.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(options);
    }
    let body: Value = serde_json::from_slice(ctx.body).map_err(|error| {
        StatusError::bad_request(format!("error decoding DeleteOptions: {error}"))
    })?;
    let text = |pointer: &str| {
        body.pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    if text("/propagationPolicy").as_deref() == Some("Orphan")
        || body.get("orphanDependents") == Some(&json!(true))
    {
        options.orphan = true;
    }
    if let Some(dry_run) = body.get("dryRun").and_then(Value::as_array) {
        options.dry_run |= dry_run.iter().any(|value| value == "All");
    }
    options.uid = text("/preconditions/uid");
    options.resource_version = text("/preconditions/resourceVersion");
    Ok(options)
}

pub(super) fn delete(
    store: &mut Store,
    ctx: &Ctx<'_>,
    name: &str,
) -> Result<KubeResponse, StatusError> {
    let options = options(ctx)?;
    let live = store
        .get(ctx.def, ctx.namespace, name)
        .cloned()
        .ok_or_else(|| StatusError::not_found(ctx.def, name))?;
    if ctx.def.kind == "Namespace" && IMMORTAL_NAMESPACES.contains(&name) {
        return Err(StatusError::forbidden(
            ctx.def,
            name,
            "this namespace may not be deleted",
        ));
    }
    let uid = object::uid(&live).unwrap_or_default().to_owned();
    if let Some(wanted) = &options.uid
        && *wanted != uid
    {
        return Err(StatusError::conflict(
            ctx.def,
            name,
            &format!(
                "Precondition failed: UID in precondition: {wanted}, UID in object meta: {uid}"
            ),
        ));
    }
    if let Some(wanted) = &options.resource_version
        && Some(wanted.as_str()) != object::resource_version(&live)
    {
        return Err(StatusError::conflict(
            ctx.def,
            name,
            &format!(
                "Precondition failed: ResourceVersion in precondition: {wanted}, ResourceVersion in object meta: {}",
                object::resource_version(&live).unwrap_or_default()
            ),
        ));
    }
    if !options.dry_run {
        remove(store, ctx.def, &live, options.orphan);
    }
    let body = if ctx.def.delete_returns_object {
        ctx.output(&live)
    } else {
        status::delete_success(ctx.def, name, &uid)
    };
    Ok(ctx.respond(StatusCode::OK, &body, &[]))
}

/// DELETE on a collection: every selected object, returned as a list.
pub(super) fn delete_collection(
    store: &mut Store,
    ctx: &Ctx<'_>,
) -> Result<KubeResponse, StatusError> {
    let options = options(ctx)?;
    let selected: Vec<Value> = read::select(store, ctx)?
        .into_iter()
        .map(|stored| stored.object.clone())
        .collect();
    let mut deleted = Vec::new();
    for live in selected {
        let name = object::name(&live).unwrap_or_default();
        if ctx.def.kind == "Namespace" && IMMORTAL_NAMESPACES.contains(&name) {
            continue;
        }
        if !options.dry_run {
            remove(store, ctx.def, &live, options.orphan);
        }
        deleted.push(ctx.output(&live));
    }
    let body = json!({
        "kind": format!("{}List", ctx.def.kind),
        "apiVersion": ctx.api_version(),
        "metadata": {"resourceVersion": store.revision().to_string()},
        "items": deleted,
    });
    Ok(ctx.respond(StatusCode::OK, &body, &[]))
}

/// Removes `live` and what hangs off it.
fn remove(store: &mut Store, def: &ResourceDef, live: &Value, orphan: bool) {
    let name = object::name(live).unwrap_or_default().to_owned();
    store.remove(def, object::namespace(live), &name);
    if def.kind == "Namespace" {
        let inside: Vec<(&'static ResourceDef, String)> = store
            .all()
            .into_iter()
            .filter(|(_, item)| object::namespace(item) == Some(name.as_str()))
            .map(|(def, item)| (def, object::name(item).unwrap_or_default().to_owned()))
            .collect();
        for (def, item) in inside {
            store.remove(def, Some(&name), &item);
        }
        return;
    }
    let Some(uid) = object::uid(live) else {
        return;
    };
    let dependents: Vec<(&'static ResourceDef, Value)> = store
        .all()
        .into_iter()
        .filter(|(_, item)| {
            object::metadata(item)
                .and_then(|meta| meta.get("ownerReferences"))
                .and_then(Value::as_array)
                .is_some_and(|owners| {
                    owners
                        .iter()
                        .any(|owner| owner.get("uid").and_then(Value::as_str) == Some(uid))
                })
        })
        .map(|(def, item)| (def, item.clone()))
        .collect();
    for (dependent_def, mut dependent) in dependents {
        if orphan {
            let metadata = object::metadata_mut(&mut dependent);
            if let Some(Value::Array(owners)) = metadata.get_mut("ownerReferences") {
                owners.retain(|owner| owner.get("uid").and_then(Value::as_str) != Some(uid));
                if owners.is_empty() {
                    // An empty list is not stored (`omitempty`).
                    metadata.remove("ownerReferences");
                }
            }
            store.write(dependent_def, dependent);
        } else {
            remove(store, dependent_def, &dependent, false);
        }
    }
}
