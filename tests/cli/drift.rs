//! Changes made outside vaultwire: reported as drift on their own, then repaired by apply.

use serde_json::json;

use crate::repo_support::Repo;

#[test]
fn a_disabled_addon_is_detected_and_the_new_identity_flows_to_grants_and_spcs() {
    let repo = Repo::new();
    repo.apply();
    let old_identity = repo.state()["resources"]["addon.demo"]["derived"]["identity"].clone();
    repo.drift("disable-addon", json!({"cluster": "aks-demo"}));
    let plan = repo.expect(2, &["plan", "plans/example.toml", "--detailed-exitcode"]);
    assert!(
        plan.contains("Note: Objects have changed outside of vaultwire"),
        "{plan}"
    );
    assert!(plan.contains("# addon.demo has changed"), "{plan}");
    assert!(
        plan.contains("~ enabled                = false -> true")
            || plan.contains("~ enabled = false -> true"),
        "{plan}"
    );
    // The SPCs vanished with the CSI driver; they come back.
    assert!(plan.contains("# spc.payments-db will be created"), "{plan}");
    repo.apply();
    repo.assert_converged();
    let state = repo.state();
    let new_identity = &state["resources"]["addon.demo"]["derived"]["identity"];
    assert_ne!(&old_identity, new_identity, "AKS made a new identity");
    assert_eq!(
        state["resources"]["grant.demo-reads-payments"]["attributes"]["principal_id"],
        new_identity["object_id"]
    );
    assert_eq!(
        state["resources"]["spc.shop-api"]["attributes"]["manifest"]["spec"]["parameters"]["userAssignedIdentityID"],
        new_identity["client_id"]
    );
    assert_eq!(
        repo.role_assignments_of(new_identity["object_id"].as_str().unwrap()),
        1
    );
}

#[test]
fn a_deleted_role_assignment_is_created_again() {
    let repo = Repo::new();
    repo.apply();
    let id = repo.state()["resources"]["grant.demo-reads-payments"]["id"].clone();
    repo.drift("delete-role-assignment", json!({"id": id}));
    let plan = repo.expect(2, &["plan", "plans/example.toml", "--detailed-exitcode"]);
    assert!(
        plan.contains("# grant.demo-reads-payments has been deleted"),
        "{plan}"
    );
    assert!(
        plan.contains(
            "# grant.demo-reads-payments will be created (it was deleted outside vaultwire)"
        ),
        "{plan}"
    );
    assert!(
        plan.contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{plan}"
    );
    repo.apply();
    repo.assert_converged();
}

#[test]
fn an_edited_secret_provider_class_is_put_back() {
    let repo = Repo::new();
    repo.apply();
    repo.kubectl(&[
        "patch",
        "secretproviderclass",
        "payments-db",
        "-n",
        "payments",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"parameters":{"keyvaultName":"kv-someone-else"}}}"#,
    ]);
    let plan = repo.expect(2, &["plan", "plans/example.toml", "--detailed-exitcode"]);
    assert!(plan.contains("# spc.payments-db has changed"), "{plan}");
    assert!(
        plan.contains("-     keyvaultName: kv-someone-else"),
        "{plan}"
    );
    assert!(
        plan.contains("+     keyvaultName: kv-vaultwire-demo"),
        "{plan}"
    );
    repo.apply();
    repo.assert_converged();
    let name = repo.kubectl(&[
        "get",
        "secretproviderclass",
        "payments-db",
        "-n",
        "payments",
        "-o",
        "jsonpath={.spec.parameters.keyvaultName}",
    ]);
    assert_eq!(name, "kv-vaultwire-demo");
}

#[test]
fn refresh_only_reports_drift_and_updates_only_the_state() {
    let repo = Repo::new();
    repo.apply();
    let id = repo.state()["resources"]["grant.demo-reads-payments"]["id"].clone();
    repo.drift("delete-role-assignment", json!({"id": id}));
    let serial = repo.state()["serial"].as_u64().unwrap();
    let plan = repo.expect(
        2,
        &[
            "plan",
            "plans/example.toml",
            "--refresh-only",
            "--detailed-exitcode",
        ],
    );
    assert!(plan.contains("has been deleted"), "{plan}");
    assert!(plan.contains("The state was updated"), "{plan}");
    let state = repo.state();
    assert!(
        state["resources"]
            .get("grant.demo-reads-payments")
            .is_none()
    );
    assert!(state["serial"].as_u64().unwrap() > serial);
    // Nothing was created in Azure.
    assert_eq!(
        repo.role_assignments_of(
            repo.state()["resources"]["addon.demo"]["derived"]["identity"]["object_id"]
                .as_str()
                .unwrap()
        ),
        0
    );
}
