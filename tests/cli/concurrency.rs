//! Two runs at once: the second stops at the cluster's lock (exit 5) naming the first; a run
//! killed half-way is followed by one that converges with nothing orphaned or duplicated.

use std::time::{Duration, Instant};

use vaultwire::sandbox::SandboxOptions;

use crate::repo_support::{EXAMPLE, Repo, SECOND_CLUSTER};

/// Waits (bounded) until `condition` holds; the bound is a hang guard, not a timing claim.
#[track_caller]
fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn slow_operations() -> SandboxOptions {
    SandboxOptions {
        lro_duration: Duration::from_secs(4),
        ..SandboxOptions::default()
    }
}

/// True once the cluster PUT that enables the add-on was sent.
fn addon_put_sent(repo: &Repo) -> bool {
    repo.sandbox
        .journal()
        .iter()
        .any(|entry| entry.method == "PUT" && entry.path.ends_with("/managedClusters/aks-demo"))
}

#[test]
fn a_second_concurrent_apply_exits_5_naming_the_holder() {
    let repo = Repo::with_options(slow_operations());
    let first = repo.spawn(&["apply", "plans/example.toml", "--auto-approve"]);
    wait_until("the first run to hold the lock", || addon_put_sent(&repo));
    let output = repo.run(&["apply", "plans/example.toml", "--auto-approve"]);
    assert_eq!(output.status.code(), Some(5), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("another run holds the lock of cluster `aks-demo`"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("pid {}", first.id())),
        "names the holder: {stderr}"
    );
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{first:?}");
    repo.assert_converged();
}

#[test]
fn a_run_killed_mid_apply_is_followed_by_one_that_converges() {
    let repo = Repo::with_options(slow_operations());
    let mut first = repo.spawn(&["apply", "plans/example.toml", "--auto-approve"]);
    wait_until("the add-on update to start", || addon_put_sent(&repo));
    first.kill().unwrap(); // SIGKILL: no chance to release the lock or save more state
    first.wait().unwrap();
    // Whatever finished is in the state; the lock of the dead run is taken over.
    let applied = repo.apply();
    assert!(applied.contains("Apply complete!"), "{applied}");
    repo.assert_converged();
    assert_eq!(repo.spcs(), ["payments/payments-db", "shop/shop-api"]);
    let identity = repo.state()["resources"]["addon.demo"]["derived"]["identity"]["object_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(repo.role_assignments_of(&identity), 1, "no duplicate grant");
    let world = repo.world();
    assert_eq!(
        world["vaults"].as_object().unwrap().len(),
        1,
        "no duplicate vault"
    );
}

#[test]
fn ctrl_c_finishes_running_work_saves_the_state_and_exits_130() {
    let repo = Repo::with_options(slow_operations());
    let child = repo.spawn(&["apply", "plans/example.toml", "--auto-approve"]);
    wait_until("the add-on update to start", || addon_put_sent(&repo));
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    // The long-running add-on update was reported while it ran, then allowed to finish.
    assert!(stdout.contains("addon.demo: Still waiting… ["), "{stdout}");
    assert!(
        stdout.contains("addon.demo: Modifications complete after"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("spc.payments-db: Creating..."),
        "nothing new started: {stdout}"
    );
    let state = repo.state();
    assert!(state["resources"].get("vault.payments").is_some());
    assert!(state["resources"].get("addon.demo").is_some());
    // The next apply picks up where it stopped.
    repo.apply();
    repo.assert_converged();
}

/// Holds `aks-demo`'s run lock as a run on another machine would (a Lease renewed just now,
/// for 60 s); returns the holder.
fn lock_held_elsewhere(repo: &Repo) -> &'static str {
    lock_held_elsewhere_in(repo, "aks-demo")
}

/// [`lock_held_elsewhere`] in `cluster`.
fn lock_held_elsewhere_in(repo: &Repo, cluster: &str) -> &'static str {
    let holder = "ci@build-agent-7 pid 4242 run 5f0c2d9e-8b1a-4c3e-9f7d-2a6b1e0c4d8f";
    let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.6fZ");
    let lease = repo.test.write(
        "lease.yaml",
        &format!(
            "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: vaultwire-lock\n  namespace: kube-system\nspec:\n  holderIdentity: \"{holder}\"\n  leaseDurationSeconds: 60\n  acquireTime: \"{now}\"\n  renewTime: \"{now}\"\n"
        ),
    );
    // The last `--context` wins over the one `kubectl` sets.
    repo.kubectl(&[
        "--context",
        cluster,
        "create",
        "-f",
        &lease.display().to_string(),
    ]);
    holder
}

/// The lock error named the plan's first cluster whichever was locked (regression): with two
/// clusters and only the second locked, the second is named, with its holder, and the run
/// exits 5 without changing anything.
#[test]
fn a_lock_held_in_the_second_cluster_names_that_cluster() {
    let repo = Repo::with_options(SandboxOptions {
        extra_clusters: vec!["aks-two".to_owned()],
        ..SandboxOptions::default()
    });
    repo.test
        .write("plans/example.toml", &format!("{EXAMPLE}{SECOND_CLUSTER}"));
    let holder = lock_held_elsewhere_in(&repo, "aks-two");
    let stderr = repo.expect_error(
        5,
        &["apply", "plans/example.toml", "--auto-approve"],
        &format!("error: another run holds the lock of cluster `aks-two`: {holder} (until "),
    );
    assert!(
        stderr.contains(
            "help: wait for the other run to finish; a lock of a run that died expires on its own"
        ),
        "{stderr}"
    );
    assert!(!repo.test.path().join("state/example.state.json").exists());
    assert!(!repo.addon_enabled("azureKeyvaultSecretsProvider"));
}

#[test]
fn refresh_only_import_and_state_rm_write_the_state_only_under_the_run_lock() {
    // They write the state file, as apply does, so they wait their turn as apply does: a run
    // elsewhere that holds the lock may be writing the file.
    let repo = Repo::new();
    repo.apply();
    repo.expect(0, &["state", "rm", "plans/example.toml", "spc.shop-api"]);
    let state = repo.test.path().join("state/example.state.json");
    let before = std::fs::read_to_string(&state).unwrap();
    let holder = lock_held_elsewhere(&repo);
    for args in [
        &["plan", "plans/example.toml", "--refresh-only"][..],
        &[
            "import",
            "plans/example.toml",
            "spc.shop-api",
            "shop/shop-api",
        ][..],
        &["state", "rm", "plans/example.toml", "spc.payments-db"][..],
    ] {
        let output = repo.run(args);
        assert_eq!(output.status.code(), Some(5), "{args:?}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!(
                "another run holds the lock of cluster `aks-demo`: {holder}"
            )),
            "{args:?}: {stderr}"
        );
        assert_eq!(std::fs::read_to_string(&state).unwrap(), before, "{args:?}");
    }
    // `--lock=false` is the way out when the lock's cluster cannot be reached.
    repo.expect(
        0,
        &[
            "state",
            "rm",
            "plans/example.toml",
            "spc.payments-db",
            "--lock=false",
        ],
    );
    repo.kubectl(&["delete", "lease", "-n", "kube-system", "vaultwire-lock"]);
    repo.expect(
        0,
        &[
            "import",
            "plans/example.toml",
            "spc.payments-db",
            "payments/payments-db",
        ],
    );
    repo.expect(
        0,
        &[
            "import",
            "plans/example.toml",
            "spc.shop-api",
            "shop/shop-api",
        ],
    );
    repo.assert_converged();
    assert!(
        !repo
            .kubectl(&["get", "leases", "-n", "kube-system", "-o", "name"])
            .contains("vaultwire-lock"),
        "the import gave the lock back"
    );
}
