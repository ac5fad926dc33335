//! The plan as JSON for machines: the schema is documented in `docs/json-format.md`.
//!
//! `format_version` follows Terraform's rule: the minor version grows with additive changes,
//! the major version on anything a reader must notice.

use serde_json::{Value, json};

use crate::diff::change::{ChangeSet, ResourceChange};
use crate::diff::compute::is_unknown;

pub const FORMAT_VERSION: &str = "1.0";

pub fn render(change_set: &ChangeSet) -> String {
    let summary = change_set.summary();
    let document = json!({
        "format_version": FORMAT_VERSION,
        "resource_changes": change_set.changes.iter().map(resource_change).collect::<Vec<_>>(),
        "drift": change_set.drift.iter().map(|drift| json!({
            "address": drift.address.to_string(),
            "kind": drift.address.kind.as_str(),
            "actions": if drift.after.is_some() { ["update"] } else { ["delete"] },
            "before": drift.before,
            "after": drift.after,
        })).collect::<Vec<_>>(),
        "summary": {
            "add": summary.add,
            "change": summary.change,
            "destroy": summary.destroy,
            "has_changes": change_set.has_changes(),
        },
        "warnings": change_set.warnings,
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

fn resource_change(change: &ResourceChange) -> Value {
    let after_unknown: Vec<&String> = change
        .after
        .iter()
        .flatten()
        .filter(|(_, value)| is_unknown(value))
        .map(|(property, _)| property)
        .collect();
    json!({
        "address": change.address.to_string(),
        "kind": change.address.kind.as_str(),
        "actions": change.action.json_actions(),
        "before": change.before,
        "after": change.after,
        "after_unknown": after_unknown,
        "replace_paths": change.replace_paths,
        "reason": change.reason.as_ref().map(|reason| reason.describe()),
    })
}
