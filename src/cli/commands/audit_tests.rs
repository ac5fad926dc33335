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

#[test]
fn an_unwritable_output_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    let (plan, source) = example_plan();
    let report = crate::audit::evaluate(&plan, &source, &seeded_world(&plan));
    let target = blocker.join("audit.json");
    let error = report_to(
        &report,
        &command(AuditFormat::Json, Some(target.clone())),
        Output::plain(),
    )
    .unwrap_err();
    assert_eq!(error.exit_code(), 1);
    assert_eq!(
        error.to_string(),
        format!("cannot write `{}`", target.display())
    );
}
