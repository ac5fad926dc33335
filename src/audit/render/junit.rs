//! The report as JUnit XML, so pipelines (Azure Pipelines' `PublishTestResults`, GitLab, Jenkins)
//! show the audit as a test report.
//!
//! One `<testsuite>` per check group, one `<testcase>` per check — and for workload checks one
//! per workload finding. `fail` is a `<failure>`, `skip` a `<skipped>`; a `warn` passes (JUnit
//! has no warnings) and carries its text in `<system-out>`.

use crate::audit::catalog::CheckGroup;
use crate::audit::model::{Check, Report, Status};

struct Case {
    classname: String,
    name: String,
    status: Status,
    message: String,
    body: String,
}

fn cases(check: &Check) -> Vec<Case> {
    let classname = format!("vaultwire.audit.{}", check.id.as_str());
    let fix = format!("fix: {}", check.remediation);
    if check.group == CheckGroup::Workloads && !check.evidence.is_empty() {
        return check
            .evidence
            .iter()
            .map(|evidence| Case {
                classname: classname.clone(),
                name: format!("{} {}", check.id.as_str(), evidence.location()),
                status: check.status,
                message: evidence.detail.clone(),
                body: format!(
                    "{}\nat {}\n{fix}",
                    evidence.detail,
                    evidence.field.as_deref().unwrap_or("-")
                ),
            })
            .collect();
    }
    let mut body = check.message.clone();
    for evidence in &check.evidence {
        body.push_str(&format!(
            "\n- {}: {}",
            evidence.field.as_deref().unwrap_or(&evidence.name),
            evidence.detail
        ));
    }
    if !check.remediation.is_empty() {
        body.push_str(&format!("\n{fix}"));
    }
    vec![Case {
        classname,
        name: format!("{} {}", check.id.as_str(), check.subject),
        status: check.status,
        message: check.message.clone(),
        body,
    }]
}

/// Escapes text for XML attributes and content; drops characters XML 1.0 cannot hold.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if c < ' ' => {}
            c => out.push(c),
        }
    }
    out
}

fn counts(cases: &[Case]) -> (usize, usize, usize) {
    let count = |status| cases.iter().filter(|c| c.status == status).count();
    (cases.len(), count(Status::Fail), count(Status::Skip))
}

/// How the root element's name begins (what recognises a report, too).
pub const SUITES_NAME: &str = "name=\"vaultwire audit ";

pub fn render(report: &Report) -> String {
    let mut suites: Vec<(CheckGroup, Vec<Case>)> = Vec::new();
    for check in &report.checks {
        match suites.last_mut() {
            Some((group, cases)) if *group == check.group => cases.extend(self::cases(check)),
            _ => suites.push((check.group, self::cases(check))),
        }
    }
    suites.sort_by_key(|(group, _)| *group);
    let all: Vec<&Case> = suites.iter().flat_map(|(_, cases)| cases).collect();
    let failures = all.iter().filter(|c| c.status == Status::Fail).count();
    let skipped = all.iter().filter(|c| c.status == Status::Skip).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites {SUITES_NAME}{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">\n",
        escape(&report.plan_file),
        all.len()
    ));
    for (group, cases) in &suites {
        let (tests, failures, skipped) = counts(cases);
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">\n",
            escape(group.title())
        ));
        for case in cases {
            out.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\"",
                escape(&case.classname),
                escape(&case.name)
            ));
            match case.status {
                Status::Pass => out.push_str("/>\n"),
                Status::Fail => out.push_str(&format!(
                    ">\n      <failure message=\"{}\" type=\"fail\">{}</failure>\n    </testcase>\n",
                    escape(&case.message),
                    escape(&case.body)
                )),
                Status::Skip => out.push_str(&format!(
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                    escape(&case.message)
                )),
                Status::Warn => out.push_str(&format!(
                    ">\n      <system-out>warning: {}</system-out>\n    </testcase>\n",
                    escape(&case.body)
                )),
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
