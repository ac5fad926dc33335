//! Assembling the [`Report`]: every check of the plan against the gathered data, the workload
//! scans' exclusions and image pull secrets, plan-file lines, and the summary. Pure.

use crate::audit::checks::{
    addon, federation, grant, mounts, network, objects, spc, vault, workloads,
};
use crate::audit::gather::Gathered;
use crate::audit::model::{ClusterSummary, FORMAT_VERSION, Report, ReportTarget, Summary};
use crate::plan::PlanSource;
use crate::plan::model::Plan;

/// The audit of `plan` (read from `source`) over what was `gathered`.
pub fn evaluate(plan: &Plan, source: &PlanSource, gathered: &Gathered) -> Report {
    let mut checks = Vec::new();
    let mut clusters = Vec::new();
    let mut excluded = Vec::new();
    let mut image_pull_secrets = Vec::new();
    for (key, spec) in &plan.addons {
        let data = gathered.clusters.get(key);
        checks.extend(addon::check(key, spec, data));
        let (found, scan) = workloads::check(key, spec, data, &plan.audit.exclude_namespaces);
        checks.extend(found);
        let scan = scan.unwrap_or_default();
        clusters.push(ClusterSummary {
            address: format!("addon.{key}"),
            name: spec.cluster.value.clone(),
            resource_group: spec.resource_group.value.clone(),
            namespaces_scanned: scan.namespaces_scanned,
            workloads_scanned: scan.workloads_scanned,
        });
        excluded.extend(scan.excluded);
        image_pull_secrets.extend(scan.image_pull_secrets);
    }
    for (key, class) in &plan.spcs {
        checks.extend(spc::check(plan, key, class, gathered));
        checks.push(grant::check(plan, key, class, gathered));
        checks.push(objects::check(plan, key, class, gathered));
        checks.push(network::check(plan, key, class, gathered));
        checks.extend(federation::check(plan, key, class, gathered));
        checks.push(mounts::check(plan, key, class, gathered));
    }
    for (key, spec) in &plan.vaults {
        checks.extend(vault::check(key, spec, gathered.vaults.get(key)));
    }
    for check in &mut checks {
        check.plan.line = line_of(plan, source, &check.plan.address);
    }
    checks.sort_by(|a, b| (a.id, &a.subject).cmp(&(b.id, &b.subject)));
    clusters.sort();
    excluded.sort();
    image_pull_secrets.sort();
    let summary = Summary::of(&checks);
    Report {
        format_version: FORMAT_VERSION,
        vaultwire_version: env!("CARGO_PKG_VERSION"),
        plan_file: source.name.clone(),
        target: ReportTarget {
            cloud: plan.target.cloud.value.as_str().to_owned(),
            subscription_id: plan.target.subscription_id.value.clone(),
            tenant_id: plan.target.tenant_id.value.clone(),
        },
        clusters,
        checks,
        excluded,
        image_pull_secrets,
        summary,
    }
}

/// The 1-based line of the table header of `address` (`kind.key`) in the plan file.
fn line_of(plan: &Plan, source: &PlanSource, address: &str) -> Option<usize> {
    let (kind, key) = address.split_once('.')?;
    let span = match kind {
        "addon" => plan.addons.get(key).map(|r| r.key_span.clone()),
        "vault" => plan.vaults.get(key).map(|r| r.key_span.clone()),
        "spc" => plan.spcs.get(key).map(|r| r.key_span.clone()),
        "grant" => plan.grants.get(key).map(|r| r.key_span.clone()),
        _ => None,
    }?;
    let before = source.text.get(..span.start)?;
    Some(before.matches('\n').count() + 1)
}
