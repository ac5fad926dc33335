//! What reviewers read: the first plan of the example, rendered for a terminal, for machines
//! and for a pull request (snapshots; the sandbox's IDs are deterministic).

use crate::repo_support::Repo;

#[test]
fn human_plan() {
    let repo = Repo::new();
    insta::assert_snapshot!(repo.expect(0, &["plan", "plans/example.toml"]));
}

#[test]
fn json_plan() {
    let repo = Repo::new();
    let text = repo.expect(0, &["plan", "plans/example.toml", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&text).expect("the plan is JSON");
    assert_eq!(document["format_version"], "1.0");
    assert_eq!(document["summary"]["add"], 4);
    insta::assert_snapshot!(text);
}

#[test]
fn markdown_plan() {
    let repo = Repo::new();
    insta::assert_snapshot!(
        repo.expect(0, &["plan", "plans/example.toml", "--format", "markdown"])
    );
}

#[test]
fn drift_in_every_format() {
    let repo = Repo::new();
    repo.apply();
    repo.drift("disable-addon", serde_json::json!({"cluster": "aks-demo"}));
    let human = repo.expect(0, &["plan", "plans/example.toml"]);
    let markdown = repo.expect(0, &["plan", "plans/example.toml", "--format", "markdown"]);
    let json = repo.expect(0, &["plan", "plans/example.toml", "--format", "json"]);
    insta::assert_snapshot!("drift_human", human);
    insta::assert_snapshot!("drift_markdown", markdown);
    let document: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(document["drift"][0]["address"], "addon.demo");
}

#[test]
fn no_output_carries_a_secret_or_a_token() {
    let repo = Repo::new();
    for format in ["human", "json", "markdown"] {
        let output = repo.run(&["-vvv", "plan", "plans/example.toml", "--format", format]);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success());
        assert!(
            !all.contains(vaultwire::sandbox::ids::CLIENT_SECRET),
            "{format}"
        );
        assert!(!all.contains("eyJ"), "{format}: a JWT leaked");
    }
    let applied = repo.run(&["-vvv", "apply", "plans/example.toml", "--auto-approve"]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&applied.stdout),
        String::from_utf8_lossy(&applied.stderr)
    );
    assert!(!all.contains(vaultwire::sandbox::ids::CLIENT_SECRET));
    assert!(!all.contains("eyJ"), "a JWT leaked in apply's trace output");
    let state = repo.test.read("state/example.state.json");
    assert!(!state.contains("eyJ") && !state.contains(vaultwire::sandbox::ids::CLIENT_SECRET));
}
