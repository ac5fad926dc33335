//! The report as a terminal shows it: one aligned table per check group, evidence and the fix
//! under every failing or warning check, then what was excluded, the image pull secrets, and
//! the summary line.

use crate::audit::catalog::CheckGroup;
use crate::audit::model::{Evidence, Report, Status, Verdict};

/// Renders `report`; `color` adds ANSI colours.
/// How the report begins (what recognises one, too).
pub const TITLE: &str = "vaultwire audit of ";

pub fn render(report: &Report, color: bool) -> String {
    let mut out = format!(
        "{TITLE}{} (cloud {}, subscription {})\n",
        report.plan_file, report.target.cloud, report.target.subscription_id
    );
    for cluster in &report.clusters {
        out.push_str(&format!(
            "cluster {} ({}): {} workloads scanned in {}\n",
            cluster.name,
            cluster.resource_group,
            cluster.workloads_scanned,
            if cluster.namespaces_scanned.is_empty() {
                "no namespace".to_owned()
            } else {
                format!("namespaces {}", cluster.namespaces_scanned.join(", "))
            }
        ));
    }
    let id_width = report
        .checks
        .iter()
        .map(|c| c.id.as_str().len())
        .max()
        .unwrap_or(0);
    let subject_width = report
        .checks
        .iter()
        .map(|c| c.subject.len())
        .max()
        .unwrap_or(0);
    let mut group: Option<CheckGroup> = None;
    for check in &report.checks {
        if group != Some(check.group) {
            group = Some(check.group);
            out.push_str(&format!("\n{}\n", paint(check.group.title(), "1", color)));
        }
        out.push_str(&format!(
            "  {}  {:id_width$}  {:subject_width$}  {}\n",
            status(check.status, color),
            check.id.as_str(),
            check.subject,
            check.message
        ));
        if matches!(check.status, Status::Fail | Status::Warn) {
            for evidence in &check.evidence {
                out.push_str(&evidence_lines(evidence));
            }
            out.push_str(&format!("        fix: {}\n", check.remediation));
        }
    }
    if !report.excluded.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            paint("Excluded (not judged)", "1", color)
        ));
        let where_width = report
            .excluded
            .iter()
            .map(|e| where_excluded(e).len())
            .max()
            .unwrap_or(0);
        let reason_width = report
            .excluded
            .iter()
            .map(|e| e.reason.as_str().len())
            .max()
            .unwrap_or(0);
        for excluded in &report.excluded {
            out.push_str(&format!(
                "  {:where_width$}  {:reason_width$}  {}\n",
                where_excluded(excluded),
                excluded.reason.as_str(),
                excluded.detail
            ));
        }
    }
    if !report.image_pull_secrets.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            paint(
                "Image pull secrets (registry credentials, listed, not judged)",
                "1",
                color
            )
        ));
        for pull in &report.image_pull_secrets {
            out.push_str(&format!(
                "  {}/{}/{}/{}  pulls with Secret `{}`\n",
                pull.cluster, pull.namespace, pull.kind, pull.name, pull.secret
            ));
        }
    }
    out.push('\n');
    out.push_str(&summary_line(report, color));
    out.push('\n');
    out
}

fn where_excluded(excluded: &crate::audit::model::Exclusion) -> String {
    format!(
        "{}/{}/{}/{}",
        excluded.cluster, excluded.namespace, excluded.kind, excluded.name
    )
}

fn evidence_lines(evidence: &Evidence) -> String {
    let place = match &evidence.namespace {
        Some(namespace) => format!("{namespace}/{}/{}", evidence.kind, evidence.name),
        None => format!("{}/{}", evidence.kind, evidence.name),
    };
    let mut lines = format!("        - {place}: {}\n", evidence.detail);
    if let Some(field) = &evidence.field {
        lines.push_str(&format!("          at {field}\n"));
    }
    lines
}

/// "Audit: 4 failed, 2 warnings, 0 passed, 15 skipped: violations (exit 4)" — printed last,
/// and to stderr when the report goes to a file.
pub fn summary_line(report: &Report, color: bool) -> String {
    let summary = &report.summary;
    let verdict = match summary.verdict {
        Verdict::Compliant => paint("compliant", "32", color),
        Verdict::Violations => paint("violations found", "31", color),
    };
    format!(
        "Audit: {} failed, {} warning{}, {} passed, {} skipped: {verdict}",
        summary.fail,
        summary.warn,
        if summary.warn == 1 { "" } else { "s" },
        summary.pass,
        summary.skip
    )
}

fn status(status: Status, color: bool) -> String {
    let (text, code) = match status {
        Status::Pass => ("PASS", "32"),
        Status::Fail => ("FAIL", "31"),
        Status::Warn => ("WARN", "33"),
        Status::Skip => ("SKIP", "2"),
    };
    paint(text, code, color)
}

fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}
