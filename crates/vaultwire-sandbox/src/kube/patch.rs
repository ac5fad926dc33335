//! PATCH by content type: server-side apply (handed to `apply`), JSON merge patch (RFC 7386),
//! strategic merge patch (built-in resources only, as on a real server) and JSON patch
//! (RFC 6902). Non-apply patches need the object to exist and honour a `resourceVersion` or
//! `uid` in the patched result as a precondition.
//!
//! Patch algorithms and the patch handler; admission and storage are `write`'s.

use serde_json::{Map, Value};

use super::apply;
use super::context::Ctx;
use super::object;
use super::request;
use super::schema;
use super::status::StatusError;
use super::store::Store;
use super::strategic;
use super::wire::KubeResponse;
use super::write;

const APPLY: &str = "application/apply-patch+yaml";
const MERGE: &str = "application/merge-patch+json";
const STRATEGIC: &str = "application/strategic-merge-patch+json";
const JSON_PATCH: &str = "application/json-patch+json";

pub(super) fn patch(
    store: &mut Store,
    ctx: &Ctx<'_>,
    name: &str,
) -> Result<KubeResponse, StatusError> {
    let media_type = request::content_type(ctx.headers);
    let accepted: &[&str] = if ctx.def.custom {
        &[JSON_PATCH, MERGE, APPLY]
    } else {
        &[JSON_PATCH, MERGE, STRATEGIC, APPLY]
    };
    if !accepted.contains(&media_type.as_str()) {
        return Err(StatusError::unsupported_media_type(&media_type, accepted));
    }
    if media_type == APPLY {
        return apply::apply(store, ctx, name);
    }
    if ctx.query.get("force").is_some() {
        return Err(StatusError::bad_request(
            "force is only supported for apply patches",
        ));
    }
    let live = store
        .get(ctx.def, ctx.namespace, name)
        .cloned()
        .ok_or_else(|| StatusError::not_found(ctx.def, name))?;
    let mut patched = live.clone();
    match media_type.as_str() {
        MERGE => merge_patch(&mut patched, &decode(ctx)?),
        STRATEGIC => strategic::apply(&mut patched, &decode(ctx)?),
        _ => json_patch(&mut patched, &decode(ctx)?)?,
    }
    write::check_type_meta(ctx, &patched)?;
    if let Some(version) = object::resource_version(&patched)
        && Some(version) != object::resource_version(&live)
    {
        return Err(StatusError::modified(ctx.def, name));
    }
    write::check_uid(ctx, &patched, &live, name)?;
    let report = schema::check(ctx.def, &mut patched);
    let warnings = schema::enforce(
        ctx.def,
        ctx.version.name,
        name,
        report,
        schema::directive(&ctx.query)?,
        None,
    )?;
    let managed = write::managed_of(&patched, &live);
    write::commit_update(store, ctx, &live, patched, managed, &warnings)
}

fn decode(ctx: &Ctx<'_>) -> Result<Value, StatusError> {
    serde_json::from_slice(ctx.body)
        .map_err(|error| StatusError::bad_request(format!("error decoding patch: {error}")))
}

/// RFC 7386: objects merge recursively, `null` deletes, anything else replaces.
pub(super) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(fields) = target {
        for (key, value) in patch {
            if value.is_null() {
                fields.remove(key);
            } else {
                merge_patch(fields.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// A JSON patch that does not apply: the API server answers 422 with the library's message
/// as the cause.
fn patch_failed(detail: String) -> StatusError {
    StatusError {
        code: http::StatusCode::UNPROCESSABLE_ENTITY,
        reason: "Invalid",
        message: "the server rejected our request due to an error in our request".to_owned(),
        details: Some(
            serde_json::json!({"causes": [{"reason": "UnexpectedServerResponse", "message": detail}]}),
        ),
    }
}

/// RFC 6902: `add`, `remove`, `replace`, `move`, `copy`, `test`.
pub(super) fn json_patch(target: &mut Value, patch: &Value) -> Result<(), StatusError> {
    let Some(operations) = patch.as_array() else {
        return Err(StatusError::bad_request(
            "json patch must be a list of operations",
        ));
    };
    for operation in operations {
        let field = |key: &str| operation.get(key).and_then(Value::as_str);
        let path = field("path")
            .ok_or_else(|| StatusError::bad_request("json patch operation is missing `path`"))?;
        let value = || {
            operation
                .get("value")
                .cloned()
                .ok_or_else(|| patch_failed(format!("missing value for {path}")))
        };
        match field("op") {
            Some("add") => add(target, path, value()?)?,
            Some("remove") => {
                remove(target, path)?;
            }
            Some("replace") => {
                remove(target, path)?;
                add(target, path, value()?)?;
            }
            Some(op @ ("move" | "copy")) => {
                let from = field("from").ok_or_else(|| {
                    StatusError::bad_request(format!("json patch {op} is missing `from`"))
                })?;
                let moved = if op == "move" {
                    remove(target, from)?
                } else {
                    pointer(target, from)?.clone()
                };
                add(target, path, moved)?;
            }
            Some("test") => {
                if *pointer(target, path)? != value()? {
                    return Err(patch_failed(format!("testing value {path} failed")));
                }
            }
            other => {
                return Err(StatusError::bad_request(format!(
                    "unexpected json patch operation {other:?}"
                )));
            }
        }
    }
    Ok(())
}

fn tokens(path: &str) -> Result<Vec<String>, StatusError> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(patch_failed(format!("invalid json pointer {path}")));
    };
    Ok(rest
        .split('/')
        .map(|token| token.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn pointer<'a>(target: &'a Value, path: &str) -> Result<&'a Value, StatusError> {
    target
        .pointer(path)
        .ok_or_else(|| patch_failed(format!("doc is missing path: \"{path}\"")))
}

fn parent<'a>(target: &'a mut Value, path: &str) -> Result<(&'a mut Value, String), StatusError> {
    let mut tokens = tokens(path)?;
    let last = tokens
        .pop()
        .ok_or_else(|| patch_failed("cannot address the whole document".to_owned()))?;
    let parent_path: String = tokens
        .iter()
        .map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1")))
        .collect();
    let parent = target
        .pointer_mut(&parent_path)
        .ok_or_else(|| patch_failed(format!("doc is missing path: \"{path}\"")))?;
    Ok((parent, last))
}

fn add(target: &mut Value, path: &str, value: Value) -> Result<(), StatusError> {
    if path.is_empty() {
        *target = value;
        return Ok(());
    }
    let (parent, last) = parent(target, path)?;
    match parent {
        Value::Object(fields) => {
            fields.insert(last, value);
            Ok(())
        }
        Value::Array(items) => {
            let index = if last == "-" {
                items.len()
            } else {
                index(&last, items.len(), path)?
            };
            items.insert(index, value);
            Ok(())
        }
        _ => Err(patch_failed(format!("doc is missing path: \"{path}\""))),
    }
}

fn remove(target: &mut Value, path: &str) -> Result<Value, StatusError> {
    let (parent, last) = parent(target, path)?;
    let missing = || patch_failed(format!("doc is missing path: \"{path}\""));
    match parent {
        Value::Object(fields) => fields.remove(&last).ok_or_else(missing),
        Value::Array(items) => {
            let index = index(&last, items.len().saturating_sub(1), path)?;
            if index < items.len() {
                Ok(items.remove(index))
            } else {
                Err(missing())
            }
        }
        _ => Err(missing()),
    }
}

fn index(token: &str, max: usize, path: &str) -> Result<usize, StatusError> {
    token
        .parse::<usize>()
        .ok()
        .filter(|index| *index <= max)
        .ok_or_else(|| patch_failed(format!("invalid index in {path}")))
}
