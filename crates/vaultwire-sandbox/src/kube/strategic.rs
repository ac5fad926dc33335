//! Strategic merge patch for built-in resources: a JSON merge patch whose lists of named
//! things (containers, env, volumes, ports, …) merge by their key instead of being replaced,
//! with the `$patch`, `$retainKeys`, `$deleteFromPrimitiveList` and `$setElementOrder`
//! directives.
//!
//! The merge keys come from a table keyed by field name (the Go types' `patchMergeKey`
//! tags for the fields these resources use), not from OpenAPI; unlisted lists are replaced.

use serde_json::{Map, Value};

/// How a list field merges.
enum ListStrategy {
    ByKey(&'static str),
    /// A set of scalars (`finalizers`).
    Union,
    Replace,
}

fn strategy(field: &str) -> ListStrategy {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims" => ListStrategy::ByKey("name"),
        "volumeMounts" => ListStrategy::ByKey("mountPath"),
        "volumeDevices" => ListStrategy::ByKey("devicePath"),
        "ports" => ListStrategy::ByKey("containerPort"),
        "ownerReferences" => ListStrategy::ByKey("uid"),
        "conditions" => ListStrategy::ByKey("type"),
        "hostAliases" => ListStrategy::ByKey("ip"),
        "topologySpreadConstraints" => ListStrategy::ByKey("topologyKey"),
        "finalizers" => ListStrategy::Union,
        _ => ListStrategy::Replace,
    }
}

const DELETE_FROM: &str = "$deleteFromPrimitiveList/";
const SET_ORDER: &str = "$setElementOrder/";

/// Applies `patch` to `target` in place.
pub(super) fn apply(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if patch.get("$patch").and_then(Value::as_str) == Some("replace") {
        *target = stripped(&Value::Object(patch.clone()));
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(fields) = target else {
        return;
    };
    for (key, value) in patch {
        if key == "$patch" || key == "$retainKeys" || key.starts_with(SET_ORDER) {
            continue;
        }
        if let Some(field) = key.strip_prefix(DELETE_FROM) {
            if let (Some(Value::Array(list)), Some(doomed)) =
                (fields.get_mut(field), value.as_array())
            {
                list.retain(|item| !doomed.contains(item));
            }
            continue;
        }
        match value {
            Value::Null => {
                fields.remove(key);
            }
            Value::Object(inner)
                if inner.get("$patch").and_then(Value::as_str) == Some("delete") =>
            {
                fields.remove(key);
            }
            Value::Object(_) => apply(fields.entry(key.clone()).or_insert(Value::Null), value),
            Value::Array(items) => {
                let merged = merge_list(fields.get(key), items, key);
                fields.insert(key.clone(), merged);
            }
            scalar => {
                fields.insert(key.clone(), scalar.clone());
            }
        }
    }
    if let Some(retain) = patch.get("$retainKeys").and_then(Value::as_array) {
        fields.retain(|key, _| retain.iter().any(|kept| kept.as_str() == Some(key)));
    }
}

fn merge_list(current: Option<&Value>, items: &[Value], field: &str) -> Value {
    let current: Vec<Value> = current
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    match strategy(field) {
        ListStrategy::Replace => Value::Array(items.iter().map(stripped).collect()),
        ListStrategy::Union => {
            let mut merged = current;
            for item in items {
                if !merged.contains(item) {
                    merged.push(item.clone());
                }
            }
            Value::Array(merged)
        }
        ListStrategy::ByKey(key) => {
            if items
                .iter()
                .any(|item| item.get("$patch").and_then(Value::as_str) == Some("replace"))
            {
                let kept = items
                    .iter()
                    .filter(|item| item.get("$patch").is_none())
                    .map(stripped)
                    .collect();
                return Value::Array(kept);
            }
            let mut merged = current;
            for item in items {
                let wanted = item.get(key);
                let position = wanted.and_then(|wanted| {
                    merged
                        .iter()
                        .position(|existing| existing.get(key) == Some(wanted))
                });
                let deleting = item.get("$patch").and_then(Value::as_str) == Some("delete");
                match (position, deleting) {
                    (Some(index), true) => {
                        merged.remove(index);
                    }
                    (None, true) => {}
                    (Some(index), false) => {
                        if let Some(existing) = merged.get_mut(index) {
                            apply(existing, item);
                        }
                    }
                    (None, false) => merged.push(stripped(item)),
                }
            }
            Value::Array(merged)
        }
    }
}

/// `value` without directive keys and without nulls, as stored.
fn stripped(value: &Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .filter(|(key, value)| !key.starts_with('$') && !value.is_null())
                .map(|(key, value)| (key.clone(), stripped(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(stripped).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::apply;

    #[test]
    fn containers_merge_by_name_and_env_by_name() {
        let mut pod = json!({"spec": {"containers": [
            {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}]},
            {"name": "sidecar", "image": "side:1"}
        ]}});
        apply(
            &mut pod,
            &json!({"spec": {"containers": [{"name": "app", "image": "app:2", "env": [{"name": "B", "value": "2"}]}]}}),
        );
        assert_eq!(
            pod,
            json!({"spec": {"containers": [
                {"name": "app", "image": "app:2", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                {"name": "sidecar", "image": "side:1"}
            ]}})
        );
    }

    #[test]
    fn directives_delete_elements_and_replace_maps() {
        let mut object = json!({"metadata": {"labels": {"a": "1", "b": "2"}, "finalizers": ["x", "y"]},
                                "spec": {"volumes": [{"name": "v1"}, {"name": "v2"}]}});
        apply(
            &mut object,
            &json!({"metadata": {"labels": {"$patch": "replace", "c": "3"}, "$deleteFromPrimitiveList/finalizers": ["x"]},
                    "spec": {"volumes": [{"name": "v1", "$patch": "delete"}], "$setElementOrder/volumes": [{"name": "v2"}]}}),
        );
        assert_eq!(
            object,
            json!({"metadata": {"labels": {"c": "3"}, "finalizers": ["y"]}, "spec": {"volumes": [{"name": "v2"}]}})
        );
    }
}
