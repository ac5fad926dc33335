//! `vaultwire init`: scaffolds a team repository and never overwrites.

use crate::support::Test;

#[test]
fn init_scaffolds_a_repository_named_after_its_directory() {
    let test = Test::new();
    let output = test.vaultwire(&["init", "payments"]).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("created  plans/payments.toml"), "{stdout}");
    assert!(stdout.contains("created  .github/workflows/vaultwire-payments.yml"));
    assert!(stdout.contains("created  .azure-pipelines/vaultwire-payments.yml"));
    assert!(test.path().join("payments/state/.gitkeep").exists());
}

#[test]
fn init_keeps_existing_files() {
    let test = Test::new();
    test.write("repo/plans/main.toml", "# mine\n");
    let output = test
        .vaultwire(&["init", "repo", "--name", "main"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("kept     plans/main.toml (exists)"),
        "{stdout}"
    );
    assert_eq!(test.read("repo/plans/main.toml"), "# mine\n");
}

#[test]
fn init_rejects_a_name_that_is_not_a_file_stem() {
    Test::new()
        .vaultwire(&["init", "repo", "--name", "../evil"])
        .assert()
        .code(1);
}

#[test]
fn the_scaffolded_plan_validates_and_the_pipelines_do_what_they_say() {
    let test = Test::new();
    test.vaultwire(&["init", "repo", "--name", "payments"])
        .assert()
        .success();
    test.vaultwire(&["validate", "repo/plans/payments.toml"])
        .assert()
        .success();
    let workflow: serde_json::Value =
        serde_norway::from_str(&test.read("repo/.github/workflows/vaultwire-payments.yml"))
            .expect("the GitHub workflow is YAML");
    let on = &workflow["on"];
    assert!(on.get("pull_request").is_some() && on.get("schedule").is_some());
    assert_eq!(on["push"]["branches"][0], "main");
    assert_eq!(workflow["concurrency"]["group"], "vaultwire-payments");
    assert_eq!(workflow["concurrency"]["cancel-in-progress"], false);
    let jobs = &workflow["jobs"];
    assert_eq!(jobs["plan"]["permissions"]["id-token"], "write");
    assert_eq!(jobs["plan"]["permissions"]["pull-requests"], "write");
    let steps = |job: &str| jobs[job]["steps"].to_string();
    assert!(steps("plan").contains("--format markdown --detailed-exitcode"));
    assert!(steps("plan").contains("azure/login"));
    assert!(steps("apply").contains("vaultwire apply \\\"$PLAN\\\" --auto-approve"));
    assert!(
        steps("apply").contains("git push"),
        "the state is committed back"
    );
    assert!(steps("drift").contains("--detailed-exitcode"));
    let pipeline: serde_json::Value =
        serde_norway::from_str(&test.read("repo/.azure-pipelines/vaultwire-payments.yml"))
            .expect("the Azure pipeline is YAML");
    assert_eq!(pipeline["lockBehavior"], "sequential");
    assert!(pipeline.get("pr").is_some() && pipeline.get("schedules").is_some());
    let stages = pipeline["stages"].to_string();
    assert!(stages.contains("AzureCLI@2") && stages.contains("--auto-approve"));
}
