//! Small accessors over objects held as JSON, so handlers read like the Go they mirror.
//!
//! Read and write single fields only; no policy lives here.

use serde_json::{Map, Value};

pub(super) fn metadata(object: &Value) -> Option<&Map<String, Value>> {
    object.get("metadata")?.as_object()
}

/// `metadata`, created empty when missing or not an object.
pub(super) fn metadata_mut(object: &mut Value) -> &mut Map<String, Value> {
    if !object.is_object() {
        *object = Value::Object(Map::new());
    }
    let Value::Object(fields) = object else {
        unreachable!("made an object just above")
    };
    let metadata = fields
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !metadata.is_object() {
        *metadata = Value::Object(Map::new());
    }
    match metadata {
        Value::Object(map) => map,
        _ => unreachable!("made an object just above"),
    }
}

pub(super) fn meta_str<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    metadata(object)?.get(key)?.as_str()
}

pub(super) fn name(object: &Value) -> Option<&str> {
    meta_str(object, "name").filter(|name| !name.is_empty())
}

pub(super) fn namespace(object: &Value) -> Option<&str> {
    meta_str(object, "namespace").filter(|namespace| !namespace.is_empty())
}

pub(super) fn uid(object: &Value) -> Option<&str> {
    meta_str(object, "uid")
}

pub(super) fn resource_version(object: &Value) -> Option<&str> {
    meta_str(object, "resourceVersion").filter(|rv| !rv.is_empty())
}

pub(super) fn labels(object: &Value) -> Option<&Map<String, Value>> {
    metadata(object)?.get("labels")?.as_object()
}

/// The value at a dotted path such as `status.phase`.
pub(super) fn at_path<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(object, |value, segment| value.get(segment))
}

pub(super) fn str_at<'a>(object: &'a Value, path: &str) -> Option<&'a str> {
    at_path(object, path)?.as_str()
}

pub(super) fn i64_at(object: &Value, path: &str) -> Option<i64> {
    at_path(object, path)?.as_i64()
}

/// The objects of the array at `path` (missing or malformed reads as empty).
pub(super) fn array_at<'a>(object: &'a Value, path: &str) -> &'a [Value] {
    at_path(object, path)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Removes `null`s from objects, recursively: an applied configuration's nulls carry no
/// value, and stored objects never hold them.
pub(super) fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            fields.retain(|_, field| !field.is_null());
            fields.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}
