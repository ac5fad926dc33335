//! How writes change `metadata.managedFields`, the way the API server's field manager does it
//! (structured-merge-diff's `Updater.Update` and `Updater.Apply`): Update operations take over
//! what they change, Apply operations own exactly what they send, conflict with other owners of
//! changed fields unless forced, and drop fields they stopped sending when nobody else owns
//! them.
//!
//! Works on JSON objects and field sets; request parsing and preconditions live in the
//! handlers.

use serde_json::{Map, Value};

use super::fieldset::{self, FieldSet, Path};
use super::managed::{Entry, Managed, Operation};
use super::resources::ResourceDef;

/// Metadata the field manager never tracks (apimachinery `stripMeta` and friends).
const UNTRACKED_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
    "managedFields",
];

/// Who writes, in which API version, and when (RFC 3339).
#[derive(Debug, Clone, Copy)]
pub(super) struct Actor<'a> {
    pub manager: &'a str,
    pub api_version: &'a str,
    pub now: &'a str,
}

/// Fields another owner holds with a different value than the applier sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Conflict {
    pub owner: String,
    pub path: Path,
}

impl Managed {
    /// Records an Update by `manager` that turned `live` (None when creating) into `new`.
    pub fn update(
        &mut self,
        def: &ResourceDef,
        live: Option<&Value>,
        new: &Value,
        actor: Actor<'_>,
    ) {
        let Actor {
            manager,
            api_version,
            now,
        } = actor;
        let before = tracked(def, live.unwrap_or(&Value::Null));
        let after = tracked(def, new);
        let (changed, removed) = fieldset::compare(&before, &after);
        let mut own = FieldSet::default();
        let mut own_time = None;
        self.entries.retain(|entry| {
            if entry.same_owner(manager, Operation::Update, api_version) {
                own = entry.fields.clone();
                own_time = entry.time.clone();
                false
            } else {
                true
            }
        });
        for entry in &mut self.entries {
            entry.fields = entry
                .fields
                .difference(&changed)
                .recursive_difference(&removed);
        }
        let own = own.recursive_difference(&removed).union(&changed);
        let time = if changed.is_empty() && removed.is_empty() {
            own_time
        } else {
            Some(now.to_owned())
        };
        self.entries.push(Entry {
            manager: manager.to_owned(),
            operation: Operation::Update,
            api_version: api_version.to_owned(),
            time,
            subresource: None,
            fields: own,
        });
        self.entries.retain(|entry| !entry.fields.is_empty());
    }

    /// Server-side apply of `config` by `manager` onto `live`: returns the merged and pruned
    /// object, or the conflicts when `force` is off.
    pub fn apply(
        &mut self,
        def: &ResourceDef,
        live: Option<&Value>,
        config: &Value,
        actor: Actor<'_>,
        force: bool,
    ) -> Result<Value, Vec<Conflict>> {
        let Actor {
            manager,
            api_version,
            now,
        } = actor;
        let live = live.cloned().unwrap_or_else(|| Value::Object(Map::new()));
        let mut config = config.clone();
        if def.status_subresource
            && let Some(fields) = config.as_object_mut()
        {
            // The main resource's apply cannot touch status; the status subresource owns it.
            fields.remove("status");
        }
        let mut merged = merge(&live, &config);
        let applied = fieldset::leaves(&tracked(def, &config));
        let mut last_applied = FieldSet::default();
        let mut previous_time = None;
        let mut others = Vec::new();
        for entry in self.entries.drain(..) {
            if entry.same_owner(manager, Operation::Apply, api_version) {
                last_applied = entry.fields;
                previous_time = entry.time;
            } else {
                others.push(entry);
            }
        }

        // Fields this manager stopped applying go, unless another owner still holds them; so
        // do the objects that held only them (structured-merge-diff's prune, which removes the
        // last applied set and adds back whatever is still owned).
        let everyone = others
            .iter()
            .fold(applied.clone(), |all, entry| all.union(&entry.fields));
        for path in last_applied.difference(&everyone).paths() {
            if is_protected(&path) {
                continue;
            }
            fieldset::remove_at(&mut merged, &path);
            for depth in (1..path.len()).rev() {
                let parent = path.get(..depth).unwrap_or_default();
                let emptied = fieldset::value_at(&merged, parent)
                    .and_then(Value::as_object)
                    .is_some_and(Map::is_empty);
                if !emptied || everyone.contains(parent) || is_protected(parent) {
                    break;
                }
                fieldset::remove_at(&mut merged, parent);
            }
        }

        let (changed, removed) = fieldset::compare(&tracked(def, &live), &tracked(def, &merged));
        let mut conflicts = Vec::new();
        for entry in &others {
            for path in entry.fields.intersection(&changed).paths() {
                conflicts.push(Conflict {
                    owner: entry.printed(),
                    path,
                });
            }
        }
        if !conflicts.is_empty() && !force {
            conflicts.sort_by(|a, b| a.owner.cmp(&b.owner));
            return Err(conflicts);
        }
        for entry in &mut others {
            entry.fields = entry
                .fields
                .difference(&changed)
                .recursive_difference(&removed);
        }
        others.retain(|entry| !entry.fields.is_empty());
        let unchanged = changed.is_empty() && removed.is_empty() && applied == last_applied;
        self.entries = others;
        self.entries.push(Entry {
            manager: manager.to_owned(),
            operation: Operation::Apply,
            api_version: api_version.to_owned(),
            time: if unchanged {
                previous_time
            } else {
                Some(now.to_owned())
            },
            subresource: None,
            fields: applied,
        });
        Ok(merged)
    }
}

/// The apply conflict message, word for word as apimachinery builds it.
pub(super) fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [only] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            only.owner,
            fieldset::display(&only.path)
        );
    }
    let mut owners: Vec<&str> = conflicts
        .iter()
        .map(|conflict| conflict.owner.as_str())
        .collect();
    owners.sort_unstable();
    owners.dedup();
    let mut lines = Vec::new();
    for owner in owners {
        lines.push(format!("conflicts with {owner}:"));
        for conflict in conflicts.iter().filter(|conflict| conflict.owner == owner) {
            lines.push(format!("- {}", fieldset::display(&conflict.path)));
        }
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// The part of an object the field manager tracks: no type meta, no system metadata, and no
/// status where a status subresource owns it.
fn tracked(def: &ResourceDef, object: &Value) -> Value {
    let mut copy = object.clone();
    let Some(fields) = copy.as_object_mut() else {
        return Value::Object(Map::new());
    };
    fields.remove("apiVersion");
    fields.remove("kind");
    if def.status_subresource {
        fields.remove("status");
    }
    if let Some(Value::Object(metadata)) = fields.get_mut("metadata") {
        for key in UNTRACKED_METADATA {
            metadata.remove(*key);
        }
        if metadata.is_empty() {
            fields.remove("metadata");
        }
    }
    copy
}

/// Pruning never removes the object's identity.
fn is_protected(path: &[String]) -> bool {
    let metadata = fieldset::field("metadata");
    match path {
        [only] => only == &metadata || only == "f:apiVersion" || only == "f:kind",
        [first, second, ..] => {
            first == &metadata
                && second
                    .strip_prefix("f:")
                    .is_some_and(|name| UNTRACKED_METADATA.contains(&name))
        }
        [] => true,
    }
}

/// `live` with `config` laid over it: objects merge key by key, anything else is replaced
/// (lists are atomic).
pub(super) fn merge(live: &Value, config: &Value) -> Value {
    match (live, config) {
        (Value::Object(base), Value::Object(overlay)) => {
            let mut merged = base.clone();
            for (key, value) in overlay {
                let next = match base.get(key) {
                    Some(existing) => merge(existing, value),
                    None => value.clone(),
                };
                merged.insert(key.clone(), next);
            }
            Value::Object(merged)
        }
        (_, overlay) => overlay.clone(),
    }
}
