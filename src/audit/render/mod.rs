//! The report's formats. Renderers decide nothing: they lay out a [`Report`] that is already
//! complete.
//!
//! [`Report`]: crate::audit::model::Report

pub mod human;
pub mod json;
pub mod junit;
pub mod sarif;

use crate::files::OutputKind;

/// The output kind `audit --output` writes: it replaces only an earlier audit report, in any
/// format.
pub const REPORT: OutputKind = OutputKind {
    name: "audit report",
    recognises: is_report,
};

/// Whether `text` is a report vaultwire wrote, in any of its formats.
pub fn is_report(text: &str) -> bool {
    if text.starts_with(human::TITLE) || text.contains(junit::SUITES_NAME) {
        return true;
    }
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return false;
    };
    let sarif_tool = &value["runs"][0]["tool"]["driver"]["name"];
    let json_report = value["vaultwire_version"].is_string() && value["checks"].is_array();
    json_report || value["version"] == "2.1.0" && sarif_tool == "vaultwire"
}

#[cfg(test)]
mod tests;
