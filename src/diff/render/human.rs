//! The plan as a terminal shows it, in Terraform's shape: a drift note, one block per changed
//! address with `+ ~ - -/+` markers and property diffs, then "Plan: N to add, …".

use crate::diff::change::ChangeSet;
use crate::diff::render::lines::{Line, Marker, change_lines, drift_lines};

/// Renders `change_set`; `color` adds ANSI colours.
pub fn render(change_set: &ChangeSet, color: bool) -> String {
    let mut out = String::new();
    for text in &change_set.warnings {
        out.push_str(&format!("{}\n\n", warning(text, color)));
    }
    if !change_set.drift.is_empty() {
        out.push_str(&paint(
            "Note: Objects have changed outside of vaultwire",
            Paint::Bold,
            color,
        ));
        out.push_str("\n\nvaultwire detected the following changes made outside of vaultwire since the last apply:\n\n");
        out.push_str(&format_lines(&drift_lines(change_set), color));
    }
    if !change_set.has_changes() {
        out.push_str(&paint("No changes.", Paint::Green, color));
        out.push_str(" Azure and the clusters match the plan file.\n");
        return out;
    }
    out.push_str("vaultwire will perform the following actions:\n\n");
    out.push_str(&format_lines(&change_lines(change_set), color));
    out.push_str(&paint(&change_set.summary().line(), Paint::Bold, color));
    out.push('\n');
    out
}

/// Lays lines out with the symbol right-aligned in a three-column gutter, as Terraform does.
pub fn format_lines(lines: &[Line], color: bool) -> String {
    let mut out = String::new();
    for line in lines {
        out.push_str(&format_line(line, color));
        out.push('\n');
    }
    out
}

/// One line without its trailing newline.
pub fn format_line(line: &Line, color: bool) -> String {
    if line.text.is_empty() {
        return String::new();
    }
    if line.heading {
        let indent = " ".repeat(line.depth * 2);
        return format!("{indent}{}", paint(&line.text, Paint::Bold, color));
    }
    let indent = " ".repeat(line.depth.saturating_sub(1) * 2);
    let symbol = format!("{:>3}", line.marker.symbol());
    let symbol = match line.marker {
        Marker::None => symbol,
        Marker::Add => paint(&symbol, Paint::Green, color),
        Marker::Change => paint(&symbol, Paint::Yellow, color),
        Marker::Remove => paint(&symbol, Paint::Red, color),
        Marker::Replace => paint(&symbol, Paint::Red, color),
    };
    format!("{indent}{symbol} {}", line.text)
}

/// `Warning: text`, the label in yellow when `color`.
pub fn warning(text: &str, color: bool) -> String {
    format!("{}: {text}", paint("Warning", Paint::Yellow, color))
}

#[derive(Clone, Copy)]
enum Paint {
    Bold,
    Green,
    Yellow,
    Red,
}

fn paint(text: &str, paint: Paint, color: bool) -> String {
    if !color {
        return text.to_owned();
    }
    let code = match paint {
        Paint::Bold => "1",
        Paint::Green => "32",
        Paint::Yellow => "33",
        Paint::Red => "31",
    };
    format!("\u{1b}[{code}m{text}\u{1b}[0m")
}
