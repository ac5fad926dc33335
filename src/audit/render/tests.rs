//! The formats of the seeded world's audit, before and after `apply plans/example.toml`:
//! snapshots of the human and JSON reports, SARIF validated against the SARIF 2.1.0 schema,
//! JUnit XML parsed.

use serde_json::Value;

use super::{human, json, junit, sarif};
use crate::audit::catalog::CheckId;
use crate::audit::evaluate::evaluate;
use crate::audit::model::Report;
use crate::audit::testing::{applied_world, example_plan, seeded_world};

fn before() -> Report {
    let (plan, source) = example_plan();
    evaluate(&plan, &source, &seeded_world(&plan))
}

fn after() -> Report {
    let (plan, source) = example_plan();
    evaluate(&plan, &source, &applied_world(&plan))
}

#[test]
fn human_report_of_the_seeded_world() {
    insta::assert_snapshot!(human::render(&before(), false));
}

#[test]
fn human_report_after_apply() {
    insta::assert_snapshot!(human::render(&after(), false));
}

#[test]
fn json_report_of_the_seeded_world() {
    insta::assert_snapshot!(json::render(&before()));
}

#[test]
fn colour_marks_statuses_only_when_asked() {
    let plain = human::render(&before(), false);
    let coloured = human::render(&before(), true);
    assert!(!plain.contains('\x1b'));
    assert!(coloured.contains("\x1b[31mFAIL\x1b[0m"));
    assert_eq!(
        human::summary_line(&before(), false),
        "Audit: 4 failed, 2 warnings, 1 passed, 18 skipped: violations found"
    );
}

#[test]
fn no_report_format_carries_a_secret_value() {
    for report in [before(), after()] {
        for text in [
            human::render(&report, false),
            json::render(&report),
            sarif::render(&report),
            junit::render(&report),
        ] {
            assert!(
                !text.contains("placeholder"),
                "a seeded secret value leaked"
            );
        }
    }
}

/// The SARIF 2.1.0 schema, compiled once per test.
fn validate_sarif(text: &str) -> Value {
    let schema: Value = serde_json::from_str(include_str!(
        "../../../tests/fixtures/schemas/sarif-schema-2.1.0.json"
    ))
    .expect("the schema is JSON");
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler
        .add_resource("https://vaultwire.test/sarif-schema-2.1.0.json", schema)
        .expect("schema added");
    let index = compiler
        .compile(
            "https://vaultwire.test/sarif-schema-2.1.0.json",
            &mut schemas,
        )
        .expect("the SARIF schema compiles");
    let log: Value = serde_json::from_str(text).expect("SARIF is JSON");
    if let Err(error) = schemas.validate(&log, index) {
        panic!("SARIF does not match the 2.1.0 schema: {error:#}");
    }
    log
}

#[test]
fn the_validator_rejects_what_the_schema_forbids() {
    let invalid = r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}"#;
    let result = std::panic::catch_unwind(|| validate_sarif(invalid));
    assert!(result.is_err(), "a driver without a name must not validate");
}

#[test]
fn sarif_of_both_worlds_is_valid_sarif_2_1_0() {
    for report in [before(), after()] {
        validate_sarif(&sarif::render(&report));
    }
}

#[test]
fn sarif_has_a_rule_per_check_and_a_result_per_finding_on_the_plan_file() {
    let log = validate_sarif(&sarif::render(&before()));
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "vaultwire");
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| rule["id"].as_str().unwrap())
        .collect();
    assert_eq!(rules.len(), CheckId::ALL.len());
    assert!(rules.contains(&"secrets-in-env"));
    let results = run["results"].as_array().unwrap();
    let summary: Vec<String> = results
        .iter()
        .filter(|r| r["ruleId"] == "secrets-in-env")
        .map(|r| {
            format!(
                "{} {} {}:{}",
                r["level"].as_str().unwrap(),
                r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
                    .as_str()
                    .unwrap(),
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap(),
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
            )
        })
        .collect();
    let line = crate::audit::testing::EXAMPLE_PLAN
        .lines()
        .position(|l| l == "[addon.demo]")
        .unwrap()
        + 1;
    assert_eq!(
        summary,
        [
            format!("error aks-demo/default/DaemonSet/log-agent plans/example.toml:{line}"),
            format!("error aks-demo/payments/Deployment/payments-api plans/example.toml:{line}"),
            format!("error aks-demo/payments/Deployment/payments-api plans/example.toml:{line}"),
            format!("error aks-demo/shop/Deployment/shop-api plans/example.toml:{line}"),
            format!("error aks-demo/shop/Deployment/shop-web plans/example.toml:{line}"),
        ]
    );
    // Findings on one workload stay apart: their fingerprints differ.
    let prints: std::collections::BTreeSet<&str> = results
        .iter()
        .map(|r| {
            r["partialFingerprints"]["vaultwireFinding/v1"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(prints.len(), results.len());
    let levels = |level: &str| results.iter().filter(|r| r["level"] == level).count();
    // 4 failing checks (5 env findings for one of them), 3 warning findings, 18 skips.
    assert_eq!(
        (levels("error"), levels("warning"), levels("note")),
        (8, 3, 18)
    );
}

#[test]
fn junit_has_a_suite_per_group_and_failures_for_failing_checks() {
    let text = junit::render(&before());
    let document = roxmltree::Document::parse(&text).expect("well-formed XML");
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let attribute = |node: roxmltree::Node, name: &str| -> usize {
        node.attribute(name).unwrap().parse().unwrap()
    };
    let suites: Vec<(String, usize, usize, usize)> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .map(|suite| {
            let cases: Vec<roxmltree::Node> = suite
                .children()
                .filter(|n| n.has_tag_name("testcase"))
                .collect();
            let failed = cases
                .iter()
                .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
                .count();
            let skipped = cases
                .iter()
                .filter(|c| c.children().any(|n| n.has_tag_name("skipped")))
                .count();
            assert_eq!(attribute(suite, "tests"), cases.len());
            assert_eq!(attribute(suite, "failures"), failed);
            assert_eq!(attribute(suite, "skipped"), skipped);
            (
                suite.attribute("name").unwrap().to_owned(),
                cases.len(),
                failed,
                skipped,
            )
        })
        .collect();
    assert_eq!(
        suites,
        [
            ("Key Vault secrets provider add-on".to_owned(), 2, 1, 1),
            ("SecretProviderClasses".to_owned(), 16, 2, 13),
            ("Key Vaults".to_owned(), 4, 0, 4),
            ("Workloads".to_owned(), 8, 5, 0),
        ]
    );
    assert_eq!(attribute(root, "tests"), 30);
    assert_eq!(attribute(root, "failures"), 8);
    let failure = root
        .descendants()
        .find(|n| n.attribute("name") == Some("secrets-in-env aks-demo/shop/Deployment/shop-web"))
        .and_then(|case| case.children().find(|n| n.has_tag_name("failure")))
        .expect("the shop-web finding is a failed test case");
    assert_eq!(
        failure.attribute("message"),
        Some(
            "container `web` reads every key of Secret `shop-config` into its environment (envFrom)"
        )
    );
    assert!(
        failure
            .text()
            .unwrap()
            .contains("fix: mount the secret as a file")
    );
}
