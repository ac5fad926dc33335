//! The plan as a pull-request comment: a summary, a table of changes and the full plan in a
//! collapsible `diff` block — always under [`MAX_CHARS`], with a clear note when cut.

use crate::diff::change::ChangeSet;
use crate::diff::render::human::format_line;
use crate::diff::render::lines::{Line, Marker, change_lines, drift_lines};

/// GitHub refuses comments over 65,536 characters; stay well below.
pub const MAX_CHARS: usize = 60_000;

/// Renders `change_set` for the plan file `plan_name`.
pub fn render(change_set: &ChangeSet, plan_name: &str) -> String {
    let summary = change_set.summary();
    let mut head = format!("### vaultwire plan for `{plan_name}`\n\n");
    for warning in &change_set.warnings {
        head.push_str(&format!("> **Warning:** {warning}\n\n"));
    }
    if !change_set.drift.is_empty() {
        head.push_str(&format!(
            "> **Drift:** {} resource(s) changed outside of vaultwire since the last apply.\n\n",
            change_set.drift.len()
        ));
    }
    if !change_set.has_changes() {
        head.push_str("**No changes.** Azure and the clusters match the plan file.\n");
    } else {
        head.push_str(&format!("**{}**\n\n", summary.line()));
        head.push_str("| | address | action |\n|---|---|---|\n");
        let changes: Vec<_> = change_set
            .changes
            .iter()
            .filter(|c| c.action.is_change())
            .collect();
        for (row, change) in changes.iter().enumerate() {
            let line = format!(
                "| `{}` | `{}` | {} |\n",
                change.action.symbol(),
                change.address,
                change.action.description()
            );
            // The table may use at most a third of the comment; the details carry the rest.
            if head.len() + line.len() > MAX_CHARS / 3 {
                head.push_str(&format!("| | … and {} more | |\n", changes.len() - row));
                break;
            }
            head.push_str(&line);
        }
    }
    let mut body_lines = Vec::new();
    if !change_set.drift.is_empty() {
        body_lines.push("# Changes made outside of vaultwire:".to_owned());
        body_lines.extend(drift_lines(change_set).iter().map(diff_line));
    }
    if change_set.has_changes() {
        body_lines.extend(change_lines(change_set).iter().map(diff_line));
    }
    if body_lines.is_empty() {
        return head;
    }
    assemble(&head, &body_lines)
}

fn assemble(head: &str, body_lines: &[String]) -> String {
    let open = "\n<details><summary>Show the full plan</summary>\n\n```diff\n";
    let close = "```\n\n</details>\n";
    let reserve = 300; // room for the truncation note
    let budget = MAX_CHARS.saturating_sub(head.len() + open.len() + close.len() + reserve);
    let mut body = String::new();
    let mut shown = 0;
    for line in body_lines {
        if body.len() + line.len() + 1 > budget {
            break;
        }
        body.push_str(line);
        body.push('\n');
        shown += 1;
    }
    let mut out = format!("{head}{open}{body}{close}");
    if shown < body_lines.len() {
        out.push_str(&format!(
            "\n> **Truncated:** {} more line(s) of the plan did not fit in a comment. \
             Run `vaultwire plan` locally or read the pipeline log for the full plan.\n",
            body_lines.len() - shown
        ));
    }
    out
}

/// A plan line for a `diff` block: the first column tells GitHub how to colour it.
fn diff_line(line: &Line) -> String {
    let first = if line.heading {
        ' '
    } else {
        match line.marker {
            Marker::None => ' ',
            Marker::Add => '+',
            Marker::Remove => '-',
            Marker::Change | Marker::Replace => '!',
        }
    };
    format!("{first}{}", format_line(line, false))
}
