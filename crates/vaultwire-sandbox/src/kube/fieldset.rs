//! Sets of field paths as structured-merge-diff keeps them (`fieldpath.Set`): members at each
//! level plus children below, encoded as `FieldsV1` (`{"f:spec": {"f:provider": {}}}`, with
//! `"."` marking a node that is itself a member).
//!
//! Lists are atomic here (owned whole, as CRD lists without `x-kubernetes-list-type` are), so
//! the paths this module builds only use `f:` elements; `k:`/`v:`/`i:` elements read from
//! stored managed fields are kept opaque.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

/// One path: the raw `FieldsV1` keys from the root (`["f:spec", "f:provider"]`).
pub(super) type Path = Vec<String>;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct FieldSet {
    members: BTreeSet<String>,
    children: BTreeMap<String, FieldSet>,
}

pub(super) fn field(name: &str) -> String {
    format!("f:{name}")
}

impl FieldSet {
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.values().all(FieldSet::is_empty)
    }

    pub fn insert(&mut self, path: &[String]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    pub fn contains(&self, path: &[String]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self
                .children
                .get(first)
                .is_some_and(|child| child.contains(rest)),
        }
    }

    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut result = self.clone();
        result.members.extend(other.members.iter().cloned());
        for (key, child) in &other.children {
            let merged = result
                .children
                .get(key)
                .map_or_else(|| child.clone(), |mine| mine.union(child));
            result.children.insert(key.clone(), merged);
        }
        result.pruned()
    }

    /// Paths in `self` that are not members of `other` (children compared level by level).
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .map(|(key, child)| {
                let child = match other.children.get(key) {
                    Some(theirs) => child.difference(theirs),
                    None => child.clone(),
                };
                (key.clone(), child)
            })
            .collect();
        FieldSet { members, children }.pruned()
    }

    /// Paths in `self` that are not members of `other` nor below one of its members: removing
    /// a field removes everything under it.
    pub fn recursive_difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter(|(key, _)| !other.members.contains(*key))
            .map(|(key, child)| {
                let child = match other.children.get(key) {
                    Some(theirs) => child.recursive_difference(theirs),
                    None => child.clone(),
                };
                (key.clone(), child)
            })
            .collect();
        FieldSet { members, children }.pruned()
    }

    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.intersection(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(key, child)| {
                other
                    .children
                    .get(key)
                    .map(|theirs| (key.clone(), child.intersection(theirs)))
            })
            .collect();
        FieldSet { members, children }.pruned()
    }

    /// Every member path, in structured-merge-diff's iteration order: this level's members
    /// first, then each child's, in sorted order.
    pub fn paths(&self) -> Vec<Path> {
        let mut paths = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut paths);
        paths
    }

    fn collect_paths(&self, prefix: &mut Path, out: &mut Vec<Path>) {
        for member in &self.members {
            let mut path = prefix.clone();
            path.push(member.clone());
            out.push(path);
        }
        for (key, child) in &self.children {
            prefix.push(key.clone());
            child.collect_paths(prefix, out);
            prefix.pop();
        }
    }

    fn pruned(mut self) -> FieldSet {
        self.children.retain(|_, child| !child.is_empty());
        self
    }

    pub fn to_fields_v1(&self) -> Value {
        let keys: BTreeSet<&String> = self.members.iter().chain(self.children.keys()).collect();
        let mut encoded = Map::new();
        for key in keys {
            let mut node = match self.children.get(key) {
                Some(child) if !child.is_empty() => child.to_fields_v1(),
                _ => Value::Object(Map::new()),
            };
            let has_children = node.as_object().is_some_and(|node| !node.is_empty());
            if self.members.contains(key) && has_children {
                let mut with_dot = Map::new();
                with_dot.insert(".".to_owned(), Value::Object(Map::new()));
                if let Value::Object(children) = node {
                    with_dot.extend(children);
                }
                node = Value::Object(with_dot);
            }
            encoded.insert(key.clone(), node);
        }
        Value::Object(encoded)
    }

    /// Reads `FieldsV1`; anything malformed is an error the caller reports.
    pub fn from_fields_v1(value: &Value) -> Result<FieldSet, String> {
        let Some(entries) = value.as_object() else {
            return Err("fieldsV1 must be an object".to_owned());
        };
        let mut set = FieldSet::default();
        for (key, node) in entries {
            if key == "." {
                continue;
            }
            if !(key.starts_with("f:")
                || key.starts_with("k:")
                || key.starts_with("v:")
                || key.starts_with("i:"))
            {
                return Err(format!("unexpected fieldsV1 key `{key}`"));
            }
            let Some(children) = node.as_object() else {
                return Err(format!("fieldsV1 key `{key}` must map to an object"));
            };
            let is_leaf = children.is_empty() || children.contains_key(".");
            if is_leaf {
                set.members.insert(key.clone());
            }
            let child = FieldSet::from_fields_v1(node)?;
            if !child.is_empty() {
                set.children.insert(key.clone(), child);
            }
        }
        Ok(set)
    }
}

/// `.spec.parameters.keyvaultName`, as `fieldpath.Path.String()` prints paths in conflicts.
pub(super) fn display(path: &[String]) -> String {
    path.iter()
        .map(|element| {
            if let Some(name) = element.strip_prefix("f:") {
                format!(".{name}")
            } else if let Some(index) = element.strip_prefix("i:") {
                format!("[{index}]")
            } else if let Some(value) = element.strip_prefix("v:") {
                format!("[={value}]")
            } else if let Some(key) = element.strip_prefix("k:") {
                display_key(key)
            } else {
                element.clone()
            }
        })
        .collect()
}

/// `k:{"name":"app"}` prints as `[name="app"]`.
fn display_key(raw: &str) -> String {
    match serde_json::from_str::<Map<String, Value>>(raw) {
        Ok(fields) => {
            let pairs: Vec<String> = fields
                .iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect();
            format!("[{}]", pairs.join(","))
        }
        Err(_) => format!("[{raw}]"),
    }
}

/// The value at `path` in `object`, following `f:` elements only.
pub(super) fn value_at<'a>(object: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(object, |value, element| {
        value.get(element.strip_prefix("f:")?)
    })
}

/// Removes the field at `path` (and so everything under it).
pub(super) fn remove_at(object: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut current = object;
    for element in parents {
        let Some(next) = element
            .strip_prefix("f:")
            .and_then(|name| current.get_mut(name))
        else {
            return;
        };
        current = next;
    }
    if let (Some(name), Some(fields)) = (last.strip_prefix("f:"), current.as_object_mut()) {
        fields.remove(name);
    }
}

/// The leaves of an applied configuration: scalars, lists (atomic) and empty objects are
/// members; non-empty objects are granular and contribute their children.
pub(super) fn leaves(value: &Value) -> FieldSet {
    let mut set = FieldSet::default();
    if let Some(fields) = value.as_object() {
        collect_leaves(fields, &mut Vec::new(), &mut set);
    }
    set
}

fn collect_leaves(fields: &Map<String, Value>, prefix: &mut Path, set: &mut FieldSet) {
    for (name, value) in fields {
        prefix.push(field(name));
        match value {
            Value::Object(children) if !children.is_empty() => {
                collect_leaves(children, prefix, set)
            }
            _ => set.insert(prefix),
        }
        prefix.pop();
    }
}

/// Fields whose value is a map (string keys chosen by users) rather than a struct. The real
/// field manager knows from the schema; here the usual Kubernetes map fields are listed. Only
/// how an Update owner's `fieldsV1` looks depends on it (`".": {}` on maps it created).
const MAP_FIELDS: &[&str] = &[
    "annotations",
    "binaryData",
    "data",
    "labels",
    "limits",
    "matchLabels",
    "nodeSelector",
    "parameters",
    "requests",
    "stringData",
    "volumeAttributes",
];

/// What changed from `live` to `new`: `(modified or added, removed)`. An added empty object
/// and an added map are members themselves; an added struct only through its fields.
pub(super) fn compare(live: &Value, new: &Value) -> (FieldSet, FieldSet) {
    let mut changed = FieldSet::default();
    let mut removed = FieldSet::default();
    let empty = Map::new();
    compare_objects(
        live.as_object().unwrap_or(&empty),
        new.as_object().unwrap_or(&empty),
        &mut Vec::new(),
        &mut changed,
        &mut removed,
    );
    (changed, removed)
}

fn compare_objects(
    live: &Map<String, Value>,
    new: &Map<String, Value>,
    prefix: &mut Path,
    changed: &mut FieldSet,
    removed: &mut FieldSet,
) {
    let names: BTreeSet<&String> = live.keys().chain(new.keys()).collect();
    let empty = Map::new();
    for name in names {
        prefix.push(field(name));
        match (live.get(name), new.get(name)) {
            (Some(_), None) => removed.insert(prefix),
            (None, Some(added)) => match added {
                Value::Object(children) if !children.is_empty() => {
                    if MAP_FIELDS.contains(&name.as_str()) {
                        changed.insert(prefix);
                    }
                    compare_objects(&empty, children, prefix, changed, removed);
                }
                _ => changed.insert(prefix),
            },
            (Some(Value::Object(before)), Some(Value::Object(after))) => {
                compare_objects(before, after, prefix, changed, removed);
            }
            (Some(before), Some(after)) if before != after => {
                changed.insert(prefix);
                if let Value::Object(children) = after {
                    compare_objects(&empty, children, prefix, changed, removed);
                }
            }
            _ => {}
        }
        prefix.pop();
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn path(fields: &[&str]) -> Path {
        fields.iter().map(|name| field(name)).collect()
    }

    #[test]
    fn fields_v1_round_trips_with_dot_for_owned_nodes() {
        let encoded = json!({"f:metadata": {"f:labels": {".": {}, "f:app": {}}}, "f:type": {}});
        let set = FieldSet::from_fields_v1(&encoded).expect("valid fieldsV1");
        assert!(set.contains(&path(&["metadata", "labels"])));
        assert!(set.contains(&path(&["metadata", "labels", "app"])));
        assert!(!set.contains(&path(&["metadata"])));
        assert_eq!(set.to_fields_v1(), encoded);
    }

    #[test]
    fn applied_leaves_skip_granular_objects_and_keep_lists_whole() {
        let set = leaves(
            &json!({"spec": {"parameters": {"a": "1"}, "secretObjects": [{"x": 1}], "empty": {}}}),
        );
        assert_eq!(
            set.paths(),
            // Members of a level come before its children, as structured-merge-diff iterates.
            vec![
                path(&["spec", "empty"]),
                path(&["spec", "secretObjects"]),
                path(&["spec", "parameters", "a"])
            ]
        );
    }

    #[test]
    fn recursive_difference_drops_whole_subtrees() {
        let mut owned = FieldSet::default();
        owned.insert(&path(&["spec", "parameters", "a"]));
        owned.insert(&path(&["spec", "provider"]));
        let mut removed = FieldSet::default();
        removed.insert(&path(&["spec", "parameters"]));
        assert_eq!(
            owned.recursive_difference(&removed).paths(),
            vec![path(&["spec", "provider"])]
        );
    }

    #[test]
    fn compare_reports_modified_added_and_removed_fields() {
        let (changed, removed) = compare(
            &json!({"a": 1, "b": {"c": 2, "d": 3}}),
            &json!({"a": 2, "b": {"c": 2}, "e": {"f": 1}, "labels": {"x": "1"}}),
        );
        // A new struct (`e`) is owned through its fields; a new map (`labels`) is owned itself.
        assert_eq!(
            changed.paths(),
            vec![
                path(&["a"]),
                path(&["labels"]),
                path(&["e", "f"]),
                path(&["labels", "x"])
            ]
        );
        assert_eq!(removed.paths(), vec![path(&["b", "d"])]);
    }

    #[test]
    fn paths_print_like_structured_merge_diff() {
        let element = format!("k:{}", json!({"name": "app"}));
        let printed = display(&[field("spec"), field("containers"), element, field("image")]);
        assert_eq!(printed, ".spec.containers[name=\"app\"].image");
    }
}
