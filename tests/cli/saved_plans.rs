//! `plan --out FILE` then `apply FILE`: exactly that change set, or exit 3 when it is stale.

use crate::repo_support::{EXAMPLE, Repo};

#[test]
fn a_fresh_saved_change_set_applies_without_prompting() {
    let repo = Repo::new();
    let plan = repo.expect(0, &["plan", "plans/example.toml", "--out", "changes.json"]);
    assert!(plan.contains("vaultwire apply changes.json"), "{plan}");
    // No --auto-approve and no terminal: saving was the approval.
    let applied = repo.expect(0, &["apply", "changes.json"]);
    assert!(
        applied.contains("Apply complete! Resources: 4 added, 1 changed"),
        "{applied}"
    );
    repo.assert_converged();
    // Applying the same file again is refused: the state moved on.
    repo.expect(3, &["apply", "changes.json"]);
}

#[test]
fn a_change_set_planned_against_no_state_is_refused_once_a_state_exists() {
    let repo = Repo::new();
    repo.expect(0, &["plan", "plans/example.toml", "--out", "first.json"]);
    repo.expect(0, &["plan", "plans/example.toml", "--out", "second.json"]);
    repo.expect(0, &["apply", "first.json"]);
    let output = repo.run(&["apply", "second.json"]);
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("a state file was created after the change set was saved against none"),
        "{stderr}"
    );
}

#[test]
fn a_changed_plan_file_or_serial_or_lineage_is_refused() {
    let repo = Repo::new();
    repo.apply();
    // The plan file changed.
    repo.expect(0, &["plan", "plans/example.toml", "--out", "changes.json"]);
    repo.test
        .write("plans/example.toml", &format!("{EXAMPLE}\n# edited\n"));
    let stderr = String::from_utf8_lossy(&repo.run(&["apply", "changes.json"]).stderr).into_owned();
    assert!(
        stderr.contains("changed after the change set was saved"),
        "{stderr}"
    );
    repo.test.write("plans/example.toml", EXAMPLE);
    // The state's serial moved on (another apply happened).
    repo.expect(0, &["plan", "plans/example.toml", "--out", "changes.json"]);
    let mut state = repo.state();
    state["serial"] = serde_json::json!(state["serial"].as_u64().unwrap() + 1);
    repo.test.write(
        "state/example.state.json",
        &serde_json::to_string_pretty(&state).unwrap(),
    );
    let output = repo.run(&["apply", "changes.json"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("serial"));
    // A different state lineage.
    repo.expect(0, &["plan", "plans/example.toml", "--out", "changes.json"]);
    let mut state = repo.state();
    state["lineage"] = serde_json::json!("00000000-0000-4000-8000-000000000000");
    repo.test.write(
        "state/example.state.json",
        &serde_json::to_string_pretty(&state).unwrap(),
    );
    let output = repo.run(&["apply", "changes.json"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("lineage"));
}

#[test]
fn a_saved_change_set_holds_no_secret_and_no_token() {
    let repo = Repo::new();
    repo.expect(0, &["plan", "plans/example.toml", "--out", "changes.json"]);
    let saved = repo.test.read("changes.json");
    assert!(!saved.contains(vaultwire::sandbox::ids::CLIENT_SECRET));
    assert!(!saved.contains("eyJ"), "no JWT in the saved change set");
}

/// A saved change set carries the live records of what it leaves alone: applying it keeps every
/// resource in the state, as `apply` without a saved file does.
#[test]
fn a_saved_change_set_keeps_the_resources_it_does_not_change_in_the_state() {
    let repo = Repo::new();
    repo.apply();
    let before = repo.state();
    repo.test.write(
        "plans/example.toml",
        &EXAMPLE.replacen(
            "rotation_poll_interval = \"2m\"",
            "rotation_poll_interval = \"5m\"",
            1,
        ),
    );
    let plan = repo.expect(0, &["plan", "plans/example.toml", "--out", "changes.json"]);
    assert!(
        plan.contains("0 to add, 1 to change, 0 to destroy"),
        "{plan}"
    );
    repo.expect(0, &["apply", "changes.json"]);
    let after = repo.state();
    for (address, record) in before["resources"].as_object().unwrap() {
        if address == "addon.demo" {
            continue;
        }
        assert_eq!(
            after["resources"][address]["attributes"], record["attributes"],
            "{address} is still recorded as it was"
        );
    }
    repo.assert_converged();
}

/// Runs `apply changes.json` after `edit` of the saved text: exit 3, `message` on stderr, and
/// nothing applied.
#[track_caller]
fn refused_after_edit(repo: &Repo, edit: impl Fn(&str) -> String, message: &str) -> String {
    let saved = repo.test.read("changes.json");
    repo.test.write("changes.json", &edit(&saved));
    let state = std::fs::read_to_string(repo.test.path().join("state/example.state.json")).ok();
    let stderr = repo.expect_error(3, &["apply", "changes.json"], message);
    assert_eq!(
        std::fs::read_to_string(repo.test.path().join("state/example.state.json")).ok(),
        state,
        "the state is untouched"
    );
    repo.test.write("changes.json", &saved);
    stderr
}

/// Editing a saved change set's mode to destroy ran the update and reported "Destroy
/// complete!"; pointing its plan file at /etc/passwd printed that file's lines (regressions).
#[test]
fn an_edited_saved_change_set_is_refused_before_anything_is_read_or_applied() {
    let repo = Repo::new();
    repo.expect(0, &["plan", "plans/example.toml", "--out", "changes.json"]);
    let edited = "was edited after it was saved (its seal does not match)";
    refused_after_edit(
        &repo,
        |text| text.replace("\"mode\": \"normal\"", "\"mode\": \"destroy\""),
        edited,
    );
    let stderr = refused_after_edit(
        &repo,
        |text| text.replace("\"plans/example.toml\"", "\"/etc/passwd\""),
        edited,
    );
    assert!(!stderr.contains("root:"), "{stderr}");
    refused_after_edit(
        &repo,
        |text| text.replace("\"kv-vaultwire-demo\"", "\"kv-someone-else\""),
        edited,
    );
    // Nothing was created by any of them: the change set still applies as saved.
    let applied = repo.expect(0, &["apply", "changes.json"]);
    assert!(applied.contains("4 added, 1 changed"), "{applied}");
}

/// A change set whose seal is intact but whose plan file is another file (a forged seal, or a
/// change set made in another checkout) names both files and never shows the other one.
#[test]
fn a_saved_change_set_for_another_plan_file_names_both_and_shows_neither() {
    let repo = Repo::new();
    repo.expect(0, &["plan", "plans/example.toml", "--out", "changes.json"]);
    repo.test.write(
        "plans/example.toml",
        "version = 1\nthis is = not [the plan\n",
    );
    let stderr = refused_after_edit(
        &repo,
        str::to_owned,
        "the plan file `plans/example.toml` changed after the change set was saved (`changes.json` was saved from another version of it)",
    );
    assert!(!stderr.contains("not [the plan"), "{stderr}");
}

/// A hand edit of the state that keeps its lineage and serial (an address deleted) went
/// unseen (regression).
#[test]
fn a_state_edited_by_hand_under_the_same_serial_makes_a_saved_change_set_stale() {
    let repo = Repo::new();
    repo.apply();
    repo.test.write(
        "plans/example.toml",
        &EXAMPLE.replacen("\"2m\"", "\"5m\"", 1),
    );
    repo.expect(0, &["plan", "plans/example.toml", "--out", "changes.json"]);
    let mut state = repo.state();
    state["resources"]
        .as_object_mut()
        .unwrap()
        .remove("spc.shop-api");
    repo.test.write(
        "state/example.state.json",
        &serde_json::to_string_pretty(&state).unwrap(),
    );
    repo.expect_error(
        3,
        &["apply", "changes.json"],
        "the state's records changed after the change set was saved",
    );
}

#[test]
fn a_damaged_or_older_saved_change_set_says_so() {
    let repo = Repo::new();
    repo.expect(0, &["plan", "plans/example.toml", "--out", "changes.json"]);
    let saved = repo.test.read("changes.json");
    repo.test.write("changes.json", &saved[..saved.len() / 2]);
    repo.expect_error(
        1,
        &["apply", "changes.json"],
        "`changes.json` is a damaged saved change set",
    );
    let mut older: serde_json::Value = serde_json::from_str(&saved).unwrap();
    let fields = older.as_object_mut().unwrap();
    fields.remove("format");
    fields.remove("seal");
    fields.insert("format_version".into(), 1.into());
    repo.test.write("changes.json", &older.to_string());
    repo.expect_error(1, &["apply", "changes.json"], "has format_version 1");
}

/// A saved change set applied after the add-on was turned off outside vaultwire re-enabled it
/// with a new identity and printed "Apply complete!" with the grant and both
/// SecretProviderClasses on the deleted one (regression).
#[test]
fn a_saved_change_set_never_completes_with_dependents_on_a_replaced_identity() {
    for update_dependents in [false, true] {
        let repo = Repo::new();
        repo.apply();
        repo.test.write(
            "plans/example.toml",
            &EXAMPLE.replacen("\"2m\"", "\"5m\"", 1),
        );
        repo.expect(0, &["plan", "plans/example.toml", "--out", "changes.json"]);
        repo.drift("disable-addon", serde_json::json!({"cluster": "aks-demo"}));
        let mut args = vec!["apply", "changes.json"];
        if update_dependents {
            args.push("--update-dependents");
            let applied = repo.expect(0, &args);
            assert!(
                applied.contains("Apply complete! Resources: 1 added, 3 changed, 1 destroyed."),
                "{applied}"
            );
            repo.assert_converged();
            continue;
        }
        let output = repo.run(&args);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(1), "{stdout}");
        assert!(!stdout.contains("Apply complete!"), "{stdout}");
        assert!(
            stdout.contains("Error: grant.demo-reads-payments: planned for the identity `addon.demo` had, which came out of this apply with a new one"),
            "{stdout}"
        );
        let plan = repo.run(&["plan", "plans/example.toml", "--detailed-exitcode"]);
        assert_eq!(plan.status.code(), Some(2), "the rest is still to do");
    }
}
