//! `vaultwire audit` end to end against the seeded sandbox: the exact findings before and
//! after `apply plans/example.toml`, read-only, and reports that code scanning and pipelines
//! accept.

use serde_json::Value;

use crate::repo_support::{EXAMPLE, Repo};

/// `(check, subject, status)` of every check in a JSON report, in report order.
fn verdicts(report: &Value) -> Vec<(String, String, String)> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|check| {
            (
                check["id"].as_str().unwrap_or_default().to_owned(),
                check["subject"].as_str().unwrap_or_default().to_owned(),
                check["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn audit_json(repo: &Repo, code: i32) -> Value {
    let text = repo.expect(code, &["audit", "plans/example.toml", "--format", "json"]);
    serde_json::from_str(&text).expect("the report is JSON")
}

fn not_passing(report: &Value) -> Vec<String> {
    verdicts(report)
        .into_iter()
        .filter(|(_, _, status)| status != "pass")
        .map(|(id, subject, status)| format!("{status} {id} {subject}"))
        .collect()
}

#[test]
fn before_apply_the_addon_and_spcs_are_missing_and_workloads_use_native_secrets() {
    let repo = Repo::new();
    let report = audit_json(&repo, 4);
    let fails: Vec<String> = not_passing(&report)
        .into_iter()
        .filter(|line| line.starts_with("fail"))
        .collect();
    assert_eq!(
        fails,
        [
            "fail addon-enabled aks-demo",
            "fail spc-exists aks-demo/payments/payments-db",
            "fail spc-exists aks-demo/shop/shop-api",
            "fail spc-pods-mount aks-demo/payments/payments-db",
            "fail secrets-in-env aks-demo",
        ]
    );
    // The seeded worker mounts the class; with no add-on the kubelet finds no CSI driver.
    let mounts = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["id"] == "spc-pods-mount" && check["status"] == "fail")
        .unwrap();
    let detail = mounts["evidence"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains(
            "driver name secrets-store.csi.k8s.io not found in the list of registered CSI drivers"
        ),
        "{detail}"
    );
    assert_eq!(mounts["evidence"][0]["name"], "payments-worker");
    assert_eq!(report["summary"]["fail"], 5);
    assert_eq!(report["summary"]["warn"], 2);
    assert_eq!(report["summary"]["pass"], 0);
    let env = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["id"] == "secrets-in-env")
        .unwrap();
    let workloads: Vec<String> = env["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}/{}/{}",
                e["namespace"].as_str().unwrap_or(""),
                e["kind"].as_str().unwrap_or(""),
                e["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        workloads,
        [
            "default/DaemonSet/log-agent",
            "payments/Deployment/payments-api",
            "payments/Deployment/payments-api",
            "shop/Deployment/shop-api",
            "shop/Deployment/shop-web",
        ]
    );
}

#[test]
fn after_apply_only_workloads_and_vault_advice_remain_and_nothing_was_written() {
    let repo = Repo::new();
    repo.apply();
    // The deploying identity holds no data-plane role yet: it may not list the vault's
    // secrets, so the objects check is skipped with the reason, not failed or errored.
    let report = audit_json(&repo, 4);
    assert!(
        not_passing(&report).contains(&"skip spc-objects aks-demo/payments/payments-db".to_owned()),
        "{:#?}",
        not_passing(&report)
    );
    // Once it may list them, a missing object fails.
    repo.set_secrets(&["db-password", "db-username", "api-key"]);
    let report = audit_json(&repo, 4);
    assert!(
        not_passing(&report).contains(&"fail spc-objects aks-demo/shop/shop-api".to_owned()),
        "{:#?}",
        not_passing(&report)
    );
    repo.set_secrets(&["shop-tls"]);
    // The seeded worker failed to mount while the values were missing; the kubelet retries on
    // its backoff, and the next audit after that finds it running.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while not_passing(&audit_json(&repo, 4))
        .contains(&"fail spc-pods-mount aks-demo/payments/payments-db".to_owned())
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the worker never mounted"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    repo.sandbox.clear_journal();
    let report = audit_json(&repo, 4);
    assert_eq!(
        not_passing(&report),
        [
            "skip spc-pods-mount aks-demo/shop/shop-api",
            "warn vault-purge-protection kv-vaultwire-demo",
            "warn vault-network-access kv-vaultwire-demo",
            "fail secrets-in-env aks-demo",
            "warn secrets-as-files aks-demo",
            "warn csi-node-publish-secret aks-demo",
        ]
    );
    assert_eq!(report["summary"]["pass"], 19);
    // Read-only: no write reached Azure or the cluster. The POSTs are sign-in and ARM's
    // listClusterUserCredential, which returns credentials and changes nothing.
    let journal = repo.sandbox.journal();
    assert!(!journal.is_empty());
    for entry in &journal {
        let allowed = entry.method == "GET"
            || entry.method == "POST"
                && (entry.path.ends_with("/oauth2/v2.0/token")
                    || entry.path.ends_with("/listClusterUserCredential"));
        assert!(allowed, "the audit wrote: {} {}", entry.method, entry.path);
    }
}

#[test]
fn a_plan_excluding_the_application_namespaces_is_compliant() {
    let repo = Repo::new();
    repo.apply();
    repo.set_secrets(&["db-password", "db-username", "api-key", "shop-tls"]);
    // apply's own look at the pods made the kubelet try the worker before the values were in
    // the vault: it starts at its next retry, as on AKS.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while repo.kubectl(&[
        "get",
        "pod",
        "payments-worker",
        "-n",
        "payments",
        "-o",
        "jsonpath={.status.phase}",
    ]) != "Running"
    {
        assert!(std::time::Instant::now() < deadline, "the worker never ran");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    repo.test.write(
        "plans/example.toml",
        &format!(
            "{EXAMPLE}\n[audit]\nexclude_namespaces = [\"default\", \"kube-system\", \"payments\", \"shop\"]\n"
        ),
    );
    let human = repo.expect(0, &["audit", "plans/example.toml"]);
    assert!(human.contains("0 failed"), "{human}");
}

#[test]
fn sarif_is_valid_and_junit_parses() {
    let repo = Repo::new();
    repo.expect(
        4,
        &[
            "audit",
            "plans/example.toml",
            "--format",
            "sarif",
            "--output",
            "audit.sarif",
        ],
    );
    repo.expect(
        4,
        &[
            "audit",
            "plans/example.toml",
            "--format",
            "junit",
            "--output",
            "audit.xml",
        ],
    );
    let sarif: Value = serde_json::from_str(&repo.test.read("audit.sarif")).unwrap();
    let schema_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/schemas/sarif-schema-2.1.0.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler
        .add_resource("urn:sarif-2.1.0", schema)
        .expect("add the schema");
    let index = compiler
        .compile("urn:sarif-2.1.0", &mut schemas)
        .expect("compile the schema");
    if let Err(error) = schemas.validate(&sarif, index) {
        panic!("SARIF from the binary is invalid: {error:#}");
    }
    assert!(!sarif["runs"][0]["results"].as_array().unwrap().is_empty());
    let junit = repo.test.read("audit.xml");
    let document = roxmltree::Document::parse(&junit).expect("JUnit XML parses");
    let failures = document
        .descendants()
        .filter(|node| node.has_tag_name("failure"))
        .count();
    assert!(failures >= 4, "{junit}");
}
