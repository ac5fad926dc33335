//! The change set: one `ResourceChange` per address, the drift found during refresh, and the
//! summary counts. Renderers read these; `apply` executes them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::diff::action::Action;
use crate::plan::address::Address;
use crate::state::model::Attributes;

/// The text standing for a value that is only known once apply has run (for example the
/// add-on identity of an add-on that is being enabled).
pub const UNKNOWN: &str = "(known after apply)";

/// What will happen to one address, with the property values before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceChange {
    pub address: Address,
    pub action: Action,
    /// Live properties (or, for a delete of something not refreshed, the state's).
    pub before: Option<Attributes>,
    /// Desired properties; values equal to [`UNKNOWN`] are filled in during apply.
    pub after: Option<Attributes>,
    /// The properties whose change forces a replacement.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace_paths: Vec<String>,
    /// Why this action was chosen. For display only: apply must never read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
}

/// Why an action was chosen, in words a reviewer understands. Display only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum Reason {
    /// The resource is in the state but not in the plan file.
    NotInPlan,
    /// It was deleted outside vaultwire and will be created again.
    DeletedOutside,
    /// These properties cannot change in place.
    CannotUpdate(Vec<String>),
    /// A soft-deleted vault with this name exists and will be recovered.
    RecoverSoftDeleted,
    /// The vault will be forgotten, not deleted (`on_destroy = "retain"`).
    Retain,
    /// Adopted from the state of an existing resource.
    Imported,
}

impl Reason {
    pub fn describe(&self) -> String {
        match self {
            Reason::NotInPlan => "it is no longer in the plan file".to_owned(),
            Reason::DeletedOutside => "it was deleted outside vaultwire".to_owned(),
            Reason::CannotUpdate(paths) => format!(
                "{} cannot change in place",
                paths
                    .iter()
                    .map(|path| format!("`{path}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Reason::RecoverSoftDeleted => {
                "a soft-deleted vault with this name exists and will be recovered".to_owned()
            }
            Reason::Retain => {
                "on_destroy = \"retain\": it is only removed from the state, not deleted".to_owned()
            }
            Reason::Imported => "it was imported".to_owned(),
        }
    }
}

/// A difference between what the state recorded and what is live: a change made outside
/// vaultwire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Drift {
    pub address: Address,
    /// As the state recorded it.
    pub before: Option<Attributes>,
    /// As it is live; `None` when it no longer exists.
    pub after: Option<Attributes>,
}

/// Counts as Terraform prints them: a replace is one to add and one to destroy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
}

impl Summary {
    pub fn line(self) -> String {
        format!(
            "Plan: {} to add, {} to change, {} to destroy.",
            self.add, self.change, self.destroy
        )
    }
}

/// Everything `plan` computed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeSet {
    /// One entry per address, sorted by address.
    pub changes: Vec<ResourceChange>,
    /// Changes made outside vaultwire since the state was written, sorted by address.
    pub drift: Vec<Drift>,
    /// Things a reviewer should know that are not changes (such as `--target` in use).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl ChangeSet {
    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for change in &self.changes {
            match change.action {
                Action::NoOp => {}
                Action::Create => summary.add += 1,
                Action::Update => summary.change += 1,
                Action::Replace => {
                    summary.add += 1;
                    summary.destroy += 1;
                }
                Action::Delete => summary.destroy += 1,
            }
        }
        summary
    }

    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|change| change.action.is_change())
    }

    pub fn get(&self, address: &Address) -> Option<&ResourceChange> {
        self.changes
            .binary_search_by(|change| change.address.cmp(address))
            .ok()
            .and_then(|index| self.changes.get(index))
    }

    /// Sorts changes and drift by address; call after building.
    pub fn normalize(&mut self) {
        self.changes.sort_by(|a, b| a.address.cmp(&b.address));
        self.drift.sort_by(|a, b| a.address.cmp(&b.address));
    }
}

/// Property names whose values differ between `before` and `after`, sorted.
pub fn changed_properties(before: &Attributes, after: &Attributes) -> Vec<String> {
    let mut keys: BTreeMap<&String, ()> = BTreeMap::new();
    keys.extend(before.keys().map(|key| (key, ())));
    keys.extend(after.keys().map(|key| (key, ())));
    keys.into_keys()
        .filter(|key| before.get(*key) != after.get(*key))
        .cloned()
        .collect()
}
