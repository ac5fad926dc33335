//! `audit` over a fake source: the outcome, the written report, nothing else touched.

use super::*;
use crate::audit::Gathered;
use crate::audit::testing::{FakeSource, applied_world, example_plan, seeded_world};

fn loaded() -> LoadedPlan {
    let (plan, source) = example_plan();
    LoadedPlan {
        path: PathBuf::from("plans/example.toml"),
        source,
        plan,
    }
}

fn command(format: AuditFormat, output: Option<PathBuf>) -> AuditCommand {
    AuditCommand {
        plan: PathBuf::from("plans/example.toml"),
        format,
        output,
    }
}

async fn audit(
    world: fn(&crate::plan::model::Plan) -> Gathered,
    command: &AuditCommand,
) -> Outcome {
    let loaded = loaded();
    let source = FakeSource::serving(&loaded.plan, &world(&loaded.plan));
    run(&source, &loaded, command, Output::plain())
        .await
        .unwrap()
}

#[tokio::test]
async fn violations_exit_4_and_the_report_goes_to_the_output_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("reports")).unwrap();
    let path = dir.path().join("reports/audit.sarif");
    let outcome = audit(
        seeded_world,
        &command(AuditFormat::Sarif, Some(path.clone())),
    )
    .await;
    assert_eq!(outcome, Outcome::AuditViolations);
    assert_eq!(outcome.exit_code(), 4);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(written["version"], "2.1.0");
}

#[tokio::test]
async fn a_world_without_failures_exits_0() {
    fn compliant(plan: &crate::plan::model::Plan) -> Gathered {
        let mut world = applied_world(plan);
        let cluster = world.clusters.get_mut("demo").unwrap();
        cluster.kubernetes.as_mut().unwrap().objects = Default::default();
        let vault = world.vaults.get_mut("payments").unwrap();
        let scope = vault.vault.as_ref().unwrap().id.clone();
        vault
            .role_assignments
            .push(crate::audit::testing::role_assignment(
                &scope,
                "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
                crate::audit::testing::ADDON_OBJECT_ID,
            ));
        world
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.xml");
    let outcome = audit(compliant, &command(AuditFormat::Junit, Some(path.clone()))).await;
    assert_eq!(outcome, Outcome::Success);
    assert!(std::fs::read_to_string(&path).unwrap().starts_with("<?xml"));
}

fn report() -> Report {
    let (plan, source) = example_plan();
    crate::audit::evaluate(&plan, &source, &seeded_world(&plan))
}

#[test]
fn an_output_in_a_missing_directory_is_an_error_naming_the_file_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    for target in [
        blocker.join("audit.json"),
        dir.path().join("reports/audit.json"),
    ] {
        let error = report_to(
            &report(),
            &command(AuditFormat::Json, Some(target.clone())),
            &[],
            Output::plain(),
        )
        .unwrap_err();
        assert_eq!(error.exit_code(), 1);
        assert_eq!(
            error.to_string(),
            format!(
                "cannot write the audit report to `{}`: the directory `{}` does not exist",
                target.display(),
                target.parent().unwrap().display()
            )
        );
    }
    assert!(!dir.path().join("reports").exists());
}

/// `audit --output plans/example.toml` replaced the plan file (regression).
#[test]
fn the_report_never_replaces_an_input_or_a_file_that_is_not_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("example.toml");
    let state = dir.path().join("example.state.json");
    let notes = dir.path().join("notes.txt");
    for (path, text) in [
        (&plan, "version = 1\n"),
        (&state, "{}\n"),
        (&notes, "mine\n"),
    ] {
        std::fs::write(path, text).unwrap();
    }
    let inputs = [("plan file", plan.clone()), ("state file", state.clone())];
    for (target, message) in [
        (&plan, "it is the plan file"),
        (&state, "it is the state file"),
        (&notes, "it is not an earlier audit report"),
    ] {
        let error = report_to(
            &report(),
            &command(AuditFormat::Human, Some(target.clone())),
            &inputs,
            Output::plain(),
        )
        .unwrap_err();
        assert_eq!(error.exit_code(), 1);
        assert!(error.to_string().ends_with(message), "{error}");
    }
    assert_eq!(std::fs::read_to_string(&plan).unwrap(), "version = 1\n");
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "mine\n");
}

/// A report replaces an earlier report, whatever the format of either.
#[test]
fn a_report_replaces_an_earlier_report_in_any_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.out");
    let formats = [
        AuditFormat::Human,
        AuditFormat::Json,
        AuditFormat::Sarif,
        AuditFormat::Junit,
    ];
    for first in formats {
        for second in formats {
            std::fs::write(&path, render(&report(), first, false)).unwrap();
            report_to(
                &report(),
                &command(second, Some(path.clone())),
                &[],
                Output::plain(),
            )
            .unwrap_or_else(|error| panic!("{first:?} then {second:?}: {error}"));
            assert_eq!(
                std::fs::read_to_string(&path).unwrap(),
                render(&report(), second, false)
            );
        }
    }
}
