//! The report as SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
//!
//! One run of the tool driver `vaultwire` with a rule per check id. Every failing, warning or
//! skipped check becomes a result (level `error`, `warning`, `note`); workload checks give one
//! result per workload finding. Code scanning needs a file to show a result on, so every result
//! points at the plan file — at the line of the `[addon.KEY]`, `[spc.KEY]` or `[vault.KEY]`
//! table it concerns — and names the cluster object in a logical location such as
//! `aks-demo/payments/Deployment/payments-api`. Passing checks produce no result.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::audit::catalog::{CheckGroup, CheckId};
use crate::audit::model::{Check, Evidence, Report, Status};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(status: Status) -> &'static str {
    match status {
        Status::Fail => "error",
        Status::Warn => "warning",
        Status::Pass | Status::Skip => "note",
    }
}

fn rule(id: CheckId) -> Value {
    let tags: Vec<String> = std::iter::once("security".to_owned())
        .chain(
            id.benchmarks()
                .iter()
                .map(|b| format!("{} {}", b.framework, b.id)),
        )
        .collect();
    let (default_level, severity) = match id.severity() {
        Status::Fail => ("error", "7.0"),
        _ => ("warning", "4.0"),
    };
    json!({
        "id": id.as_str(),
        "name": id.as_str(),
        "shortDescription": {"text": id.title()},
        "fullDescription": {"text": id.description()},
        "help": {
            "text": format!("{}\n\nFix: {}", id.description(), id.remediation()),
            "markdown": format!("{}\n\n**Fix:** {}", id.description(), id.remediation()),
        },
        "defaultConfiguration": {"level": default_level},
        "properties": {"tags": tags, "security-severity": severity, "precision": "high"},
    })
}

/// The plan file as a repository-relative URI.
fn plan_uri(plan_file: &str) -> String {
    let uri = plan_file.replace('\\', "/");
    uri.strip_prefix("./").map(str::to_owned).unwrap_or(uri)
}

/// The object a check is about, as `cluster/namespace/Kind/name`, `cluster` or a vault name.
fn logical_name(check: &Check) -> String {
    match check.id.group() {
        CheckGroup::SecretProviderClasses => match check.subject.split('/').collect::<Vec<_>>()[..]
        {
            [cluster, namespace, name] => {
                format!("{cluster}/{namespace}/SecretProviderClass/{name}")
            }
            _ => check.subject.clone(),
        },
        _ => check.subject.clone(),
    }
}

fn fingerprint(parts: &[&str]) -> String {
    let digest = Sha256::digest(parts.join("\n").as_bytes());
    digest
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn result(report: &Report, check: &Check, evidence: Option<&Evidence>, message: String) -> Value {
    let rule_index = CheckId::ALL
        .iter()
        .position(|id| *id == check.id)
        .unwrap_or_default();
    let logical = evidence.map_or_else(|| logical_name(check), Evidence::location);
    let mut physical = json!({"artifactLocation": {"uri": plan_uri(&report.plan_file)}});
    if let Some(line) = check.plan.line {
        physical["region"] = json!({"startLine": line});
    }
    let field = evidence
        .and_then(|e| e.field.as_deref())
        .unwrap_or_default();
    let secret = evidence
        .and_then(|e| e.secret.as_ref())
        .map(|s| s.name.as_str())
        .unwrap_or_default();
    json!({
        "ruleId": check.id.as_str(),
        "ruleIndex": rule_index,
        "level": level(check.status),
        "message": {"text": message},
        "locations": [{
            "physicalLocation": physical,
            "logicalLocations": [{"fullyQualifiedName": logical, "kind": "resource"}],
        }],
        "partialFingerprints": {
            "vaultwireFinding/v1": fingerprint(&[check.id.as_str(), &logical, field, secret]),
        },
        "properties": {"status": check.status.as_str(), "subject": check.subject, "address": check.plan.address},
    })
}

fn results(report: &Report) -> Vec<Value> {
    let mut results = Vec::new();
    for check in report.checks.iter().filter(|c| c.status != Status::Pass) {
        if check.id.group() == CheckGroup::Workloads && !check.evidence.is_empty() {
            for evidence in &check.evidence {
                let message = format!(
                    "{}/{}/{}: {} ({})",
                    evidence.namespace.as_deref().unwrap_or_default(),
                    evidence.kind,
                    evidence.name,
                    evidence.detail,
                    check.title
                );
                results.push(result(report, check, Some(evidence), message));
            }
            continue;
        }
        let mut message = format!("{}: {}", check.subject, check.message);
        if check.status != Status::Skip && !check.evidence.is_empty() {
            let details: Vec<String> = check
                .evidence
                .iter()
                .map(|e| match &e.field {
                    Some(field) => format!("{field}: {}", e.detail),
                    None => e.detail.clone(),
                })
                .collect();
            message.push_str(&format!(" ({})", details.join("; ")));
        }
        results.push(result(report, check, None, message));
    }
    results
}

/// Renders `report` as a SARIF 2.1.0 log, pretty, with a trailing newline.
pub fn render(report: &Report) -> String {
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "vaultwire",
                "version": report.vaultwire_version,
                "semanticVersion": report.vaultwire_version,
                "rules": CheckId::ALL.iter().map(|id| rule(*id)).collect::<Vec<_>>(),
            }},
            "automationDetails": {"id": format!("vaultwire-audit/{}/", plan_uri(&report.plan_file))},
            "invocations": [{"executionSuccessful": true}],
            "results": results(report),
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}
