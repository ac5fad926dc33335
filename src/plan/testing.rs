//! Plans for the tests of every layer above `plan`.

use crate::plan::PlanSource;
use crate::plan::model::Plan;

/// A plan from TOML text, checked.
pub fn plan_from(name: &str, text: &str) -> (Plan, PlanSource) {
    let source = PlanSource {
        name: name.to_owned(),
        text: text.to_owned(),
    };
    let checked = crate::plan::check(&source);
    let plan = checked
        .plan
        .unwrap_or_else(|| panic!("{name} is valid: {:?}", checked.diagnostics));
    (plan, source)
}

/// The text of `plans/example.toml`, as shipped.
pub const EXAMPLE_PLAN: &str = include_str!("../../plans/example.toml");

/// `plans/example.toml`, checked.
pub fn example_plan() -> (Plan, PlanSource) {
    plan_from("plans/example.toml", EXAMPLE_PLAN)
}
