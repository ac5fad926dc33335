//! Plan files checked in-process: every fixture under `tests/fixtures/` rendered as the user
//! sees it (insta snapshots), the shipped plans, and a file with many mistakes at once.

use std::collections::BTreeSet;
use std::path::Path;

use vaultwire::plan::diagnostic::{RenderStyle, render, summary};
use vaultwire::plan::{self, Checked, PlanSource};

/// Checks the file at `path`, named by its file name so snapshots do not depend on the
/// checkout's location.
fn check_file(path: &Path) -> (PlanSource, Checked) {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = std::fs::read_to_string(path).expect("read fixture");
    let source = PlanSource { name, text };
    let checked = plan::check(&source);
    (source, checked)
}

/// What `vaultwire validate` prints, without colour: the diagnostics and the summary.
fn rendered(source: &PlanSource, checked: &Checked) -> String {
    let diagnostics = render(
        &source.name,
        &source.text,
        &checked.diagnostics,
        RenderStyle::default(),
    );
    format!(
        "{diagnostics}{}\n",
        summary(&source.name, &checked.diagnostics)
    )
}

#[test]
fn invalid_plans_are_reported_with_location_caret_and_hint() {
    insta::glob!("../fixtures", "invalid/*.toml", |path| {
        let (source, checked) = check_file(path);
        assert!(checked.plan.is_none(), "{} should be invalid", source.name);
        assert!(checked.error_count() > 0);
        insta::assert_snapshot!(rendered(&source, &checked));
    });
}

#[test]
fn warnings_are_reported_and_the_plan_stays_valid() {
    insta::glob!("../fixtures", "warnings/*.toml", |path| {
        let (source, checked) = check_file(path);
        assert!(checked.plan.is_some(), "{} should be valid", source.name);
        assert_eq!(checked.error_count(), 0);
        assert!(checked.warning_count() > 0);
        insta::assert_snapshot!(rendered(&source, &checked));
    });
}

#[track_caller]
fn assert_clean(name: &str, text: String) {
    let source = PlanSource {
        name: name.to_owned(),
        text,
    };
    let checked = plan::check(&source);
    assert!(
        checked.diagnostics.is_empty(),
        "{}",
        rendered(&source, &checked)
    );
    assert!(checked.plan.is_some());
}

#[test]
fn the_shipped_example_plans_are_valid_without_warnings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in [
        "plans/example.toml",
        "plans/production.example.toml",
        "plans/workload-identity.toml",
    ] {
        let text = std::fs::read_to_string(root.join(name)).expect("read example plan");
        assert_clean(name, text);
    }
}

#[test]
fn the_init_template_is_valid_without_warnings() {
    let template = include_str!("../../templates/plan.toml");
    assert_clean("plans/team.toml", template.replace("{{plan}}", "team"));
}

#[test]
fn the_sandbox_example_has_the_documented_resources() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (_, checked) = check_file(&root.join("plans/example.toml"));
    let plan = checked.plan.expect("valid example");
    let keys = |map: Vec<&String>| map.into_iter().cloned().collect::<Vec<_>>();
    assert_eq!(keys(plan.vaults.keys().collect()), ["payments"]);
    assert_eq!(plan.vaults["payments"].name.value, "kv-vaultwire-demo");
    assert_eq!(keys(plan.addons.keys().collect()), ["demo"]);
    assert_eq!(keys(plan.grants.keys().collect()), ["demo-reads-payments"]);
    assert_eq!(
        keys(plan.spcs.keys().collect()),
        ["payments-db", "shop-api"]
    );
    assert_eq!(
        plan.spcs["payments-db"].sync[0].secret_name.value,
        "payments-db"
    );
}

/// One file, syntactically valid, with a mistake in every table: all of them are reported in
/// one run, in file order.
#[test]
fn one_run_reports_every_independent_mistake() {
    let text = r#"version = 1

[target]
cloud = "azure"
subscription_id = "3f2a1b4c-5d6e-4f70-8192-a3b4c5d6e7f8"
tenant_id = "7c1e5a3b-2d4f-4e6a-8b9c-0d1e2f3a4b5c"

[vault.payments]
name = "kv--payments"
resource_group = "rg-demo"
location = "westeurope"
purge_protection = true
on_destroy = "purge"

[addon.demo]
cluster = "aks-demo"
resource_group = "rg-demo"
rotation_poll_interval = "1d"

[grant.reads]
vault = "paymnts"
principal = { addon = "demo" }
role = "Key Vault Secrets User"

[spc.payments-db]
addon = "demo"
namespace = "Payments"
vault = "payments"
identity = { addon = "demo" }
objects = [{ name = "db-password", type = "secret" }]
sync = [{ secret_name = "payments-db", data = [{ object = "db-pass", key = "password" }] }]
colour = "blue"
"#;
    let source = PlanSource {
        name: "many.toml".to_owned(),
        text: text.to_owned(),
    };
    let checked = plan::check(&source);
    let codes: Vec<&str> = checked.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        [
            "invalid-value",       // cloud = "azure"
            "invalid-name",        // kv--payments
            "purge-protected",     // purge under purge protection
            "invalid-duration",    // 1d
            "unknown-reference",   // vault = "paymnts"
            "invalid-name",        // namespace Payments
            "no-grant",            // the only grant names another vault
            "unknown-sync-object", // db-pass
            "unknown-key",         // colour
        ],
        "{}",
        rendered(&source, &checked)
    );
    assert!(checked.plan.is_none());
    let lines: BTreeSet<usize> = checked
        .diagnostics
        .iter()
        .filter_map(|d| d.span.as_ref())
        .map(|span| text[..span.start].matches('\n').count() + 1)
        .collect();
    assert_eq!(lines.len(), codes.len(), "each problem on its own line");
}

/// What [`plan::check_seeing_target`] showed its caller, and the check's verdict.
fn seen_target(text: &str) -> (Option<String>, bool) {
    let source = PlanSource {
        name: "seen.toml".to_owned(),
        text: text.to_owned(),
    };
    let mut seen = None;
    let checked = plan::check_seeing_target(&source, |target| {
        seen = Some(target.tenant_id.value.clone());
    });
    (seen, checked.plan.is_some())
}

#[test]
fn the_target_is_shown_before_the_resources_are_checked_only_when_it_is_sound() {
    let example = include_str!("../../plans/example.toml");
    let (seen, valid) = seen_target(example);
    assert!(valid);
    let tenant = seen.expect("a sound target is shown");
    assert!(example.contains(&tenant), "{tenant}");

    // A mistake in a resource is found after the target was shown: the caller must be able
    // to abandon what it started.
    let broken_vault = example.replacen("name = \"kv-vaultwire-demo\"", "name = \"kv\"", 1);
    assert_ne!(
        broken_vault, example,
        "the example's vault is kv-vaultwire-demo"
    );
    let (seen, valid) = seen_target(&broken_vault);
    assert!(seen.is_some());
    assert!(!valid);

    // A target with a problem, or anything wrong before it, is never shown.
    let bad_tenant = example.replacen("tenant_id = \"", "tenant_id = \"x", 1);
    assert_eq!(seen_target(&bad_tenant), (None, false));
    let bad_version = example.replacen("version = 1", "version = 7", 1);
    assert_eq!(seen_target(&bad_version), (None, false));
    assert_eq!(seen_target(&format!("{example}\n[[[")), (None, false));
}

fn ahead(text: &str) -> Option<vaultwire::plan::model::Target> {
    vaultwire::plan::target_ahead(&vaultwire::plan::PlanSource {
        name: "plan.toml".into(),
        text: text.into(),
    })
}

fn checked_target(text: &str) -> Option<vaultwire::plan::model::Target> {
    vaultwire::plan::check(&vaultwire::plan::PlanSource {
        name: "plan.toml".into(),
        text: text.into(),
    })
    .plan
    .map(|plan| plan.target)
}

#[test]
fn the_target_is_read_ahead_of_the_file_exactly_as_the_check_reads_it() {
    let example = include_str!("../../plans/example.toml");
    let read_ahead = ahead(example).expect("the example's `[target]` reads on its own");
    // Spans included: the caller compares the two to know the early sign-in was right.
    assert_eq!(Some(read_ahead), checked_target(example));

    // `[target]` last, after every resource: still read ahead, at its place in the file.
    let start = example.find("[target]").unwrap();
    let end = start + example[start..].find("\n[").unwrap() + 1;
    let moved = format!(
        "{}{}\n{}",
        &example[..start],
        &example[end..],
        &example[start..end]
    );
    assert!(ahead(&moved).is_some());
    assert_eq!(ahead(&moved), checked_target(&moved));

    // Unsure means no shortcut: no `[target]` table, one with a problem, or a file whose
    // root keys do not read.
    assert_eq!(ahead(&example.replacen("[target]", "[targets]", 1)), None);
    assert_eq!(
        ahead(&example.replacen("tenant_id = \"", "tenant_id = \"x", 1)),
        None
    );
    assert_eq!(
        ahead(&example.replacen("version = 1", "version = [", 1)),
        None
    );
}
