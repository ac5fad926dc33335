//! `vaultwire import`: adopting existing resources into the state.

use crate::assert_output_snapshot;
use crate::repo_support::Repo;

#[test]
fn forgotten_resources_are_adopted_back_by_id() {
    let repo = Repo::new();
    repo.apply();
    let state = repo.state();
    let vault_id = state["resources"]["vault.payments"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for address in ["vault.payments", "spc.payments-db"] {
        repo.expect(0, &["state", "rm", "plans/example.toml", address]);
    }
    let imported = repo.expect(
        0,
        &[
            "import",
            "plans/example.toml",
            "vault.payments",
            &vault_id.to_uppercase(),
        ],
    );
    assert_output_snapshot!("imported", imported);
    repo.expect(
        0,
        &[
            "import",
            "plans/example.toml",
            "spc.payments-db",
            "payments/payments-db",
        ],
    );
    repo.assert_converged();
    assert_eq!(
        repo.state()["resources"]["vault.payments"]["id"],
        vault_id.as_str()
    );
}

/// An address the plan lacks is reported before the state is looked at, even a state that
/// cannot be read (the order of errors from before import moved into the engine).
#[test]
fn an_address_the_plan_lacks_is_reported_before_an_unreadable_state() {
    let repo = Repo::new();
    repo.test.write("state/example.state.json", "{ not json");
    let output = repo.run(&[
        "import",
        "plans/example.toml",
        "spc.other",
        "payments/other",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_output_snapshot!(
        "not_in_plan_before_state",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(repo.test.read("state/example.state.json"), "{ not json");
}

#[test]
fn import_refuses_what_it_cannot_adopt_and_changes_nothing() {
    let repo = Repo::new();
    repo.apply();
    let before = repo.test.read("state/example.state.json");
    // Already managed.
    let output = repo.run(&[
        "import",
        "plans/example.toml",
        "spc.payments-db",
        "payments/payments-db",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_output_snapshot!("already_managed", String::from_utf8_lossy(&output.stderr));
    // Not in the plan file.
    let output = repo.run(&[
        "import",
        "plans/example.toml",
        "spc.other",
        "payments/other",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_output_snapshot!("not_in_plan", String::from_utf8_lossy(&output.stderr));
    // The ID names another resource than the plan's.
    repo.expect(0, &["state", "rm", "plans/example.toml", "spc.shop-api"]);
    let output = repo.run(&[
        "import",
        "plans/example.toml",
        "spc.shop-api",
        "payments/payments-db",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_output_snapshot!("mismatch", String::from_utf8_lossy(&output.stderr));
    assert_ne!(
        repo.test.read("state/example.state.json"),
        before,
        "only `state rm` changed it"
    );
    assert!(repo.state()["resources"].get("spc.shop-api").is_none());
}
