//! A change set as structured lines — marker, indent, text — which the human and Markdown
//! renderers format (with colour, or as a `diff` block). Decides nothing; only lays out.

use super::yaml;
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use crate::diff::action::Action;
use crate::diff::change::{ChangeSet, Drift, ResourceChange, UNKNOWN};
use crate::plan::address::ResourceKind;
use crate::state::model::Attributes;

/// The first column of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    None,
    Add,
    Change,
    Remove,
    Replace,
}

impl Marker {
    pub fn from_action(action: Action) -> Self {
        match action {
            Action::NoOp => Marker::None,
            Action::Create => Marker::Add,
            Action::Update => Marker::Change,
            Action::Replace => Marker::Replace,
            Action::Delete => Marker::Remove,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Marker::None => " ",
            Marker::Add => "+",
            Marker::Change => "~",
            Marker::Remove => "-",
            Marker::Replace => "-/+",
        }
    }
}

/// One line of rendered plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub marker: Marker,
    /// Nesting depth; each level is two spaces.
    pub depth: usize,
    pub text: String,
    /// Comment lines (`# … will be created`) are shown bold, not coloured.
    pub heading: bool,
}

impl Line {
    fn new(marker: Marker, depth: usize, text: impl Into<String>) -> Self {
        Self {
            marker,
            depth,
            text: text.into(),
            heading: false,
        }
    }

    fn heading(depth: usize, text: impl Into<String>) -> Self {
        Self {
            heading: true,
            ..Self::new(Marker::None, depth, text)
        }
    }

    fn blank() -> Self {
        Self::new(Marker::None, 0, "")
    }
}

/// The property holding a SecretProviderClass manifest, shown as a YAML diff.
pub const MANIFEST: &str = "manifest";

/// The drift section: changes made outside vaultwire.
pub fn drift_lines(change_set: &ChangeSet) -> Vec<Line> {
    let mut lines = Vec::new();
    for drift in &change_set.drift {
        lines.extend(drift_block(drift));
        lines.push(Line::blank());
    }
    lines
}

/// The actions section: every address that changes.
pub fn change_lines(change_set: &ChangeSet) -> Vec<Line> {
    let mut lines = Vec::new();
    for change in change_set.changes.iter().filter(|c| c.action.is_change()) {
        lines.extend(change_block(change));
        lines.push(Line::blank());
    }
    lines
}

fn drift_block(drift: &Drift) -> Vec<Line> {
    let address = drift.address.to_string();
    match (&drift.before, &drift.after) {
        (_, None) => vec![
            Line::heading(1, format!("# {address} has been deleted")),
            Line::new(Marker::Remove, 1, address),
        ],
        (before, Some(after)) => {
            let empty = Attributes::new();
            let before = before.as_ref().unwrap_or(&empty);
            let mut lines = vec![
                Line::heading(1, format!("# {address} has changed")),
                Line::new(Marker::Change, 1, format!("{address} {{")),
            ];
            lines.extend(property_lines(
                drift.address.kind,
                Action::Update,
                Some(before),
                Some(after),
                &[],
            ));
            lines.push(Line::new(Marker::None, 1, "}"));
            lines
        }
    }
}

fn change_block(change: &ResourceChange) -> Vec<Line> {
    let address = change.address.to_string();
    let mut heading = format!("# {address} {}", change.action.description());
    if let Some(reason) = &change.reason {
        heading.push_str(&format!(" ({})", reason.describe()));
    }
    let mut lines = vec![
        Line::heading(1, heading),
        Line::new(
            Marker::from_action(change.action),
            1,
            format!("{address} {{"),
        ),
    ];
    lines.extend(property_lines(
        change.address.kind,
        change.action,
        change.before.as_ref(),
        change.after.as_ref(),
        &change.replace_paths,
    ));
    lines.push(Line::new(Marker::None, 1, "}"));
    lines
}

fn property_lines(
    kind: ResourceKind,
    action: Action,
    before: Option<&Attributes>,
    after: Option<&Attributes>,
    replace_paths: &[String],
) -> Vec<Line> {
    let empty = Attributes::new();
    let shown = match action {
        // A delete lists what is going away; everything else what it becomes.
        Action::Delete => before.unwrap_or(&empty),
        _ => after.unwrap_or(&empty),
    };
    let width = shown.keys().map(String::len).max().unwrap_or(0);
    let mut lines = Vec::new();
    let mut unchanged = 0;
    for (property, value) in shown {
        let old = before.and_then(|b| b.get(property));
        let new = after.and_then(|a| a.get(property));
        let name = format!("{property:<width$}");
        if kind == ResourceKind::Spc && property == MANIFEST {
            lines.extend(manifest_lines(&name, action, old, new));
            continue;
        }
        match (action, old, new) {
            (Action::Create, _, _) => {
                lines.push(Line::new(
                    Marker::Add,
                    3,
                    format!("{name} = {}", show(value)),
                ));
            }
            (Action::Delete, _, _) => {
                lines.push(Line::new(
                    Marker::Remove,
                    3,
                    format!("{name} = {}", show(value)),
                ));
            }
            (_, Some(old), Some(new)) if old == new => unchanged += 1,
            (_, Some(old), Some(new)) => {
                let mut text = format!("{name} = {} -> {}", show(old), show(new));
                if replace_paths.contains(property) {
                    text.push_str(" # forces replacement");
                }
                lines.push(Line::new(Marker::Change, 3, text));
            }
            (_, None, Some(new)) => {
                lines.push(Line::new(Marker::Add, 3, format!("{name} = {}", show(new))));
            }
            (_, _, None) => {}
        }
    }
    if unchanged > 0 {
        let noun = if unchanged == 1 {
            "property"
        } else {
            "properties"
        };
        lines.push(Line::heading(
            3,
            format!("# ({unchanged} unchanged {noun} hidden)"),
        ));
    }
    lines
}

/// A SecretProviderClass manifest as a line diff of its YAML.
fn manifest_lines(
    name: &str,
    action: Action,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Vec<Line> {
    let (before, after) = match action {
        // A create or delete shows the whole manifest coming or going.
        Action::Create => (String::new(), after.map(yaml::to_yaml).unwrap_or_default()),
        Action::Delete => (before.map(yaml::to_yaml).unwrap_or_default(), String::new()),
        _ => (
            before.map(yaml::to_yaml).unwrap_or_default(),
            after.map(yaml::to_yaml).unwrap_or_default(),
        ),
    };
    if before == after {
        return Vec::new();
    }
    let marker = match action {
        Action::Create => Marker::Add,
        Action::Delete => Marker::Remove,
        _ => Marker::Change,
    };
    let mut lines = vec![Line::new(marker, 3, format!("{name} = <<YAML"))];
    for change in TextDiff::from_lines(&before, &after).iter_all_changes() {
        let marker = match change.tag() {
            ChangeTag::Equal => Marker::None,
            ChangeTag::Insert => Marker::Add,
            ChangeTag::Delete => Marker::Remove,
        };
        lines.push(Line::new(marker, 5, change.value().trim_end_matches('\n')));
    }
    lines.push(Line::new(Marker::None, 3, "YAML"));
    lines
}

/// A property value as one line: strings quoted, everything else compact JSON, and values
/// known only after apply as Terraform shows them, unquoted.
fn show(value: &Value) -> String {
    match value {
        Value::String(text) if text == UNKNOWN => UNKNOWN.to_owned(),
        _ => value.to_string(),
    }
}
