//! The last step of an apply: every resource it created, changed or replaced is read back, and
//! must be as the apply recorded it and as the plan file wants it. A write the server accepted
//! and then undid (a policy, an admission webhook, another tool) is caught here rather than by
//! the next plan.
//!
//! Deletions are not read back: an address deleted is no longer in the state to look up.

use std::collections::{BTreeMap, BTreeSet};

use crate::diff::compute::differing_properties;
use crate::engine::backend::Backend;
use crate::engine::plan::Mode;
use crate::engine::plan::{PlanError, PlanOptions, plan};
use crate::plan::address::Address;
use crate::plan::model::Plan;
use crate::resources;
use crate::state::model::{Attributes, StateFile};

/// A resource that does not read back as applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub address: Address,
    /// The properties that differ, sorted; empty when the resource is gone.
    pub properties: Vec<String>,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.properties.is_empty() {
            return write!(f, "{} is gone right after apply wrote it", self.address);
        }
        let properties = self
            .properties
            .iter()
            .map(|property| format!("`{property}`"))
            .collect::<Vec<_>>()
            .join(", ");
        write!(
            f,
            "{} reads back with {properties} other than apply wrote",
            self.address
        )
    }
}

/// Reads `touched` back (with the state as the apply left it) and returns those that differ
/// from their record or from the plan file, sorted by address.
pub async fn verify<B: Backend>(
    backend: &B,
    plan_file: &Plan,
    state: &StateFile,
    touched: &BTreeSet<Address>,
    parallelism: usize,
) -> Result<Vec<Mismatch>, PlanError> {
    if touched.is_empty() {
        return Ok(Vec::new());
    }
    let options = PlanOptions {
        mode: Mode::Normal,
        targets: touched.iter().cloned().collect(),
        parallelism,
        keep_refreshed: false,
        preflight: false,
    };
    let planned = plan(backend, plan_file, Some(state), &options).await?;
    let mut mismatches: BTreeMap<Address, BTreeSet<String>> = BTreeMap::new();
    let drifts = planned
        .change_set
        .drift
        .iter()
        .map(|drift| (&drift.address, drift.before.as_ref(), drift.after.as_ref()));
    let changes = planned
        .change_set
        .changes
        .iter()
        .filter(|change| change.action.is_change())
        .map(|change| {
            (
                &change.address,
                change.after.as_ref(),
                change.before.as_ref(),
            )
        });
    for (address, expected, live) in drifts.chain(changes) {
        if touched.contains(address) {
            mismatches
                .entry(address.clone())
                .or_default()
                .extend(differing(address, expected, live));
        }
    }
    Ok(mismatches
        .into_iter()
        .map(|(address, properties)| Mismatch {
            address,
            properties: properties.into_iter().collect(),
        })
        .collect())
}

/// The properties `expected` has that `live` lacks or means otherwise; none when `live` is gone
/// (the whole resource is).
fn differing(
    address: &Address,
    expected: Option<&Attributes>,
    live: Option<&Attributes>,
) -> Vec<String> {
    let (Some(expected), Some(live)) = (expected, live) else {
        return Vec::new();
    };
    differing_properties(expected, live, resources::schema(address.kind))
}
