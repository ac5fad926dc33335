//! The mission end to end: the real binary applies, re-plans, updates, prunes and destroys the
//! example plan against the sandbox.

use crate::repo_support::{EXAMPLE, Repo, SECOND_CLUSTER};

#[test]
fn apply_from_scratch_then_plan_has_nothing_to_do() {
    let repo = Repo::new();
    let first = repo.expect(2, &["plan", "plans/example.toml", "--detailed-exitcode"]);
    assert!(
        first.contains("Plan: 4 to add, 1 to change, 0 to destroy."),
        "{first}"
    );
    let applied = repo.apply();
    assert!(
        applied.contains("Apply complete! Resources: 4 added, 1 changed, 0 destroyed."),
        "{applied}"
    );
    assert!(applied.contains("addon.demo: Modifications complete after"));
    repo.assert_converged();
    let state = repo.state();
    let addresses: Vec<&String> = state["resources"].as_object().unwrap().keys().collect();
    assert_eq!(
        addresses,
        [
            "addon.demo",
            "grant.demo-reads-payments",
            "spc.payments-db",
            "spc.shop-api",
            "vault.payments"
        ]
    );
    assert_eq!(repo.spcs(), ["payments/payments-db", "shop/shop-api"]);
    assert!(
        repo.addon_enabled("azurepolicy"),
        "the other add-on survives"
    );
    assert!(repo.addon_enabled("azureKeyvaultSecretsProvider"));
    // The grant names the identity AKS created, and the SPC uses its client ID.
    let identity = &state["resources"]["addon.demo"]["derived"]["identity"];
    assert_eq!(
        state["resources"]["grant.demo-reads-payments"]["attributes"]["principal_id"],
        identity["object_id"]
    );
    assert_eq!(
        state["resources"]["spc.payments-db"]["attributes"]["manifest"]["spec"]["parameters"]["userAssignedIdentityID"],
        identity["client_id"]
    );
}

#[test]
fn a_changed_property_updates_in_place() {
    let repo = Repo::new();
    repo.apply();
    repo.test.write(
        "plans/example.toml",
        &EXAMPLE.replace(
            "rotation_poll_interval = \"2m\"",
            "rotation_poll_interval = \"5m\"",
        ),
    );
    let plan = repo.expect(2, &["plan", "plans/example.toml", "--detailed-exitcode"]);
    assert!(
        plan.contains("~ rotation_poll_interval = \"2m\" -> \"5m\""),
        "{plan}"
    );
    assert!(
        plan.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{plan}"
    );
    repo.apply();
    repo.assert_converged();
    assert_eq!(
        repo.cluster()["properties"]["addonProfiles"]["azureKeyvaultSecretsProvider"]["config"]["rotationPollInterval"],
        "5m"
    );
}

#[test]
fn a_secret_provider_class_removed_from_the_plan_is_deleted() {
    let repo = Repo::new();
    repo.apply();
    let without_shop = EXAMPLE
        .split("# A second SecretProviderClass")
        .next()
        .unwrap()
        .to_owned();
    repo.test.write("plans/example.toml", &without_shop);
    let plan = repo.expect(2, &["plan", "plans/example.toml", "--detailed-exitcode"]);
    assert!(
        plan.contains("# spc.shop-api will be destroyed (it is no longer in the plan file)"),
        "{plan}"
    );
    repo.apply();
    repo.assert_converged();
    assert_eq!(repo.spcs(), ["payments/payments-db"]);
    assert!(repo.state()["resources"].get("spc.shop-api").is_none());
}

#[test]
fn destroy_deletes_every_spc_before_disabling_the_addon_and_keeps_the_other_addon() {
    let repo = Repo::new();
    repo.apply();
    repo.sandbox.clear_journal();
    let destroyed = repo.expect(0, &["destroy", "plans/example.toml", "--auto-approve"]);
    assert!(
        destroyed.contains("Destroy complete! Resources: 5 destroyed."),
        "{destroyed}"
    );
    let journal = repo.sandbox.journal();
    let spc_deletes: Vec<usize> = journal
        .iter()
        .enumerate()
        .filter(|(_, e)| e.method == "DELETE" && e.path.contains("/secretproviderclasses/"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(spc_deletes.len(), 2, "{journal:#?}");
    let addon_disable = journal
        .iter()
        .position(|e| e.method == "PUT" && e.path.ends_with("/managedClusters/aks-demo"))
        .expect("the add-on is disabled by a PUT of the cluster");
    assert!(
        spc_deletes.iter().all(|i| *i < addon_disable),
        "{journal:#?}"
    );
    assert!(repo.spcs().is_empty());
    assert!(!repo.addon_enabled("azureKeyvaultSecretsProvider"));
    assert!(
        repo.addon_enabled("azurepolicy"),
        "the other add-on survives destroy"
    );
    // on_destroy = "delete": the vault is soft-deleted, not purged.
    let world = repo.world();
    assert!(world["vaults"].get("kv-vaultwire-demo").is_none());
    assert!(world["deletedVaults"].get("kv-vaultwire-demo").is_some());
    assert_eq!(repo.state()["resources"], serde_json::json!({}));
    // Applying again recovers the soft-deleted vault.
    let plan = repo.expect(2, &["plan", "plans/example.toml", "--detailed-exitcode"]);
    assert!(plan.contains("will be recovered"), "{plan}");
    repo.apply();
    repo.assert_converged();
}

#[test]
fn on_destroy_retain_leaves_the_vault_and_purge_removes_it_for_good() {
    for (on_destroy, live, deleted) in [("retain", true, false), ("purge", false, false)] {
        let repo = Repo::new();
        repo.test.write(
            "plans/example.toml",
            &EXAMPLE.replace(
                "on_destroy = \"delete\"",
                &format!("on_destroy = \"{on_destroy}\""),
            ),
        );
        repo.apply();
        repo.expect(0, &["destroy", "plans/example.toml", "--auto-approve"]);
        let world = repo.world();
        assert_eq!(
            world["vaults"].get("kv-vaultwire-demo").is_some(),
            live,
            "{on_destroy}"
        );
        assert_eq!(
            world["deletedVaults"].get("kv-vaultwire-demo").is_some(),
            deleted,
            "{on_destroy}"
        );
    }
}

#[test]
fn apply_without_a_terminal_or_auto_approve_refuses_and_changes_nothing() {
    let repo = Repo::new();
    let output = repo.run(&["apply", "plans/example.toml"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refusing to apply without confirmation"),
        "{stderr}"
    );
    assert!(stderr.contains("--auto-approve"), "{stderr}");
    assert!(!repo.addon_enabled("azureKeyvaultSecretsProvider"));
    assert!(!repo.test.path().join("state/example.state.json").exists());
}

#[test]
fn a_no_op_plan_reads_each_resource_at_most_once() {
    let repo = Repo::new();
    repo.apply();
    repo.sandbox.clear_journal();
    repo.assert_converged();
    let journal = repo.sandbox.journal();
    let reads: Vec<String> = journal
        .iter()
        // Sign-in and the cluster's credentials are per run, not per resource.
        .filter(|e| {
            !e.path.ends_with("/oauth2/v2.0/token")
                && !e.path.ends_with("/listClusterUserCredential")
        })
        .map(|e| format!("{} {}", e.method, e.route))
        .collect();
    assert!(
        journal
            .iter()
            .all(|e| e.method == "GET" || e.method == "POST"),
        "{journal:#?}"
    );
    // Five resources: the vault, the add-on (one cluster GET), the grant (one role-assignment
    // list for the vault) and both SecretProviderClasses (one list for the cluster).
    assert_eq!(reads.len(), 4, "{reads:#?}");
}

#[test]
fn apply_speaks_http2_to_entra_arm_and_the_cluster_api() {
    // One connection per server for all of a run's requests, as Terraform's and kubectl's Go
    // clients do; the sandbox journals the version each request came in.
    let repo = Repo::new();
    repo.sandbox.clear_journal();
    repo.apply();
    let journal = repo.sandbox.journal();
    let versions = |prefix: &str| {
        journal
            .iter()
            .filter(|entry| entry.path.starts_with(prefix) || entry.path.contains(prefix))
            .map(|entry| entry.version.as_str())
            .collect::<std::collections::BTreeSet<_>>()
    };
    for prefix in ["/oauth2/", "/subscriptions/", "/k8s/clusters/"] {
        assert_eq!(
            versions(prefix),
            std::collections::BTreeSet::from(["HTTP/2.0"]),
            "requests under `{prefix}`"
        );
    }
    // Entra and ARM share the sandbox's address: one connection for both. And no connection
    // is opened for nothing: the sign-in's two token requests, made at once, share one (the
    // second waits for the first's connection rather than opening its own only to close it).
    let connections = |azure_only: bool| {
        journal
            .iter()
            .filter(|entry| {
                !azure_only
                    || entry.path.contains("/oauth2/")
                    || entry.path.starts_with("/subscriptions/")
            })
            .map(|entry| entry.connection)
            .collect::<std::collections::BTreeSet<u64>>()
    };
    assert_eq!(connections(true).len(), 1, "{journal:#?}");
    assert_eq!(
        connections(false).len() as u64,
        repo.sandbox.connections_accepted(),
        "connections accepted without a request on them"
    );
}

/// A second cluster's add-on, grant and SecretProviderClass, appended to the example plan.

#[test]
fn clusters_behind_one_address_share_one_connection() {
    // The sandbox serves every cluster's API under a path prefix of its one address, as a
    // proxy such as Rancher's does: the clusters trust the same CA and show no client
    // certificate, so their requests need only one TLS connection between them.
    let repo = Repo::with_options(vaultwire::sandbox::SandboxOptions {
        extra_clusters: vec!["aks-two".to_owned()],
        ..vaultwire::sandbox::SandboxOptions::default()
    });
    repo.test
        .write("plans/example.toml", &format!("{EXAMPLE}{SECOND_CLUSTER}"));
    repo.sandbox.clear_journal();
    repo.apply();
    let journal = repo.sandbox.journal();
    let kube = |cluster: &str| {
        journal
            .iter()
            .filter(|entry| entry.path.starts_with(&format!("/k8s/clusters/{cluster}/")))
            .map(|entry| entry.connection)
            .collect::<std::collections::BTreeSet<u64>>()
    };
    let demo = kube("aks-demo");
    assert_eq!(demo.len(), 1, "{journal:#?}");
    assert_eq!(kube("aks-two"), demo, "{journal:#?}");
}

/// Signing in starts beside the plan's check; a plan that turns out invalid is reported
/// alone, as if the sign-in had never begun, whatever that sign-in would have said. Each case
/// runs repeatedly: exiting while the abandoned sign-in was still in a TLS handshake once
/// aborted the process in about one run in thirty.
#[test]
fn an_invalid_plan_is_reported_alone_though_the_sign_in_began_beside_the_check() {
    let repo = Repo::new();
    repo.test.write(
        "plans/example.toml",
        &EXAMPLE.replacen("name = \"kv-vaultwire-demo\"", "name = \"kv\"", 1),
    );
    for (secret, why) in [
        (
            vaultwire::sandbox::ids::CLIENT_SECRET,
            "a sign-in that works",
        ),
        ("not-the-secret", "a sign-in that fails"),
    ]
    .into_iter()
    .flat_map(|case| std::iter::repeat_n(case, 20))
    {
        let output = repo
            .vaultwire(&["plan", "plans/example.toml"])
            .env("AZURE_CLIENT_SECRET", secret)
            .output()
            .expect("run vaultwire");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{why}: {stderr}");
        assert!(stderr.contains("kv"), "{why}: {stderr}");
        assert!(stderr.contains("error"), "{why}: {stderr}");
        assert!(
            !stderr.contains("sign in") && !stderr.contains("AADSTS"),
            "{why}: only the plan's problems: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{why}: no plan shown");
    }
    assert!(repo.sandbox.journal().iter().all(|e| e.method != "PUT"));
}

/// A `cloud = "sandbox"` plan with nothing running starts a sandbox in the process, which
/// creates `.vaultwire/sandbox`: that waits until the plan is known to be valid.
#[test]
fn an_invalid_sandbox_plan_starts_no_sandbox() {
    let test = crate::support::Test::new();
    test.write(
        "plans/example.toml",
        &EXAMPLE.replacen("name = \"kv-vaultwire-demo\"", "name = \"kv\"", 1),
    );
    let output = test
        .vaultwire_process(&["plan", "plans/example.toml"])
        .output()
        .expect("run vaultwire");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        !test.path().join(".vaultwire").exists(),
        "nothing is started or written for an invalid plan"
    );
}
