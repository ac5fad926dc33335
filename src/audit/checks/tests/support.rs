//! Shared helpers of the check tests.

use crate::audit::catalog::CheckId;
use crate::audit::evaluate::evaluate;
use crate::audit::gather::Gathered;
use crate::audit::model::{Check, Report};
use crate::plan::testing::example_plan;

/// `id subject: status — message`, one line per check.
pub fn lines(report: &Report) -> Vec<String> {
    report
        .checks
        .iter()
        .map(|c| {
            format!(
                "{} {}: {} — {}",
                c.id.as_str(),
                c.subject,
                c.status.as_str(),
                c.message
            )
        })
        .collect()
}

pub fn audit(gathered: &Gathered) -> Report {
    let (plan, source) = example_plan();
    evaluate(&plan, &source, gathered)
}

#[track_caller]
pub fn find<'a>(report: &'a Report, id: CheckId, subject: &str) -> &'a Check {
    report
        .checks
        .iter()
        .find(|c| c.id == id && c.subject == subject)
        .unwrap_or_else(|| panic!("no {} on {subject}: {:#?}", id.as_str(), lines(report)))
}

pub const PAYMENTS_DB: &str = "aks-demo/payments/payments-db";
pub const VAULT: &str = "kv-vaultwire-demo";
