//! The report as JSON (`docs/audit-format.md`): the [`Report`] serialized as is, pretty, with
//! a trailing newline. Deterministic: every list in the report is sorted.

use crate::audit::model::Report;

pub fn render(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(report).unwrap_or_default();
    text.push('\n');
    text
}
