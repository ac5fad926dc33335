//! The canary sweep: a unique secret value put in Key Vault and in a native Kubernetes Secret,
//! then every command at `-vvv` in every format — including failing runs — and everything they
//! leave grepped for it: stdout, stderr (the logs), the sandbox's own log, the state file, its
//! backup, saved change sets and audit reports. Only the sandbox's `world.json` may hold it:
//! that is the emulated vault's and cluster's store.

use std::path::Path;

use serde_json::json;
use vaultwire::sandbox::ids;

use crate::reliability_report::{Canary, Rng, seed};
use crate::reliability_support::{Campaign, PLAN};
use crate::repo_support::{EXAMPLE, put_secrets};
use crate::sandbox_support::{VAULTS_API, vault_body, vault_path};

/// The example vault's ARM ID in the sandbox's subscription (checked against `ids` below).
const VAULT_ID: &str = "/subscriptions/3f2a1b4c-5d6e-4f70-8192-a3b4c5d6e7f8/resourceGroups/rg-demo/providers/Microsoft.KeyVault/vaults/kv-vaultwire-demo";

/// One command of the sweep (the sweep adds `-vvv`) and the exit code it must end with.
struct Step(&'static [&'static str], i32);

/// Every command in every format, in an order where each has something to do: the vault
/// exists before vaultwire runs (so it is imported), and the world is applied from a saved
/// change set, destroyed, applied from the plan file and destroyed again. A new command or
/// format is one line here; the sweep fails while a top-level command of `vaultwire --help`
/// has none.
const SWEEP: &[Step] = &[
    Step(&["--help"], 0),
    Step(&["validate", PLAN], 0),
    Step(&["plan", PLAN], 0),
    Step(&["plan", PLAN, "--format", "json"], 0),
    Step(&["plan", PLAN, "--format", "markdown"], 0),
    Step(&["import", PLAN, "vault.payments", VAULT_ID], 0),
    Step(&["plan", PLAN, "--refresh-only"], 0),
    Step(&["plan", PLAN, "--out", "sweep/apply.plan"], 0),
    Step(&["apply", "sweep/apply.plan", "--auto-approve"], 0),
    // Failing: the saved change set is stale once applied.
    Step(&["apply", "sweep/apply.plan", "--auto-approve"], 3),
    Step(&["plan", PLAN, "--detailed-exitcode"], 0),
    Step(&["plan", PLAN, "--refresh-only", "--format", "json"], 0),
    Step(&["plan", PLAN, "--destroy"], 0),
    Step(&["plan", PLAN, "--destroy", "--format", "json"], 0),
    Step(&["plan", PLAN, "--destroy", "--format", "markdown"], 0),
    Step(
        &["plan", PLAN, "--destroy", "--out", "sweep/destroy.plan"],
        0,
    ),
    // The seed cluster has violations (a workload reading Key Vault with a Secret): exit 4.
    Step(&["audit", PLAN], 4),
    Step(&["audit", PLAN, "--format", "json"], 4),
    Step(&["audit", PLAN, "--format", "sarif"], 4),
    Step(&["audit", PLAN, "--format", "junit"], 4),
    Step(&["audit", PLAN, "--output", "sweep/audit.txt"], 4),
    Step(
        &[
            "audit",
            PLAN,
            "--format",
            "json",
            "--output",
            "sweep/audit.json",
        ],
        4,
    ),
    Step(
        &[
            "audit",
            PLAN,
            "--format",
            "sarif",
            "--output",
            "sweep/audit.sarif",
        ],
        4,
    ),
    Step(
        &[
            "audit",
            PLAN,
            "--format",
            "junit",
            "--output",
            "sweep/audit.xml",
        ],
        4,
    ),
    // The migration of `payments` (with the canary in `billing-keys`): shown, written to a
    // copy of the plan with its patches, and its values (the canary's too) copied.
    Step(&["migrate", PLAN, "--namespace", "payments"], 2),
    Step(
        &[
            "migrate",
            PLAN,
            "--namespace",
            "payments",
            "--format",
            "json",
        ],
        2,
    ),
    Step(
        &[
            "migrate",
            PLAN,
            "--namespace",
            "payments",
            "--format",
            "markdown",
        ],
        2,
    ),
    Step(
        &[
            "migrate",
            "plans/migrate.toml",
            "--namespace",
            "payments",
            "--write",
            "--patch-dir",
            "sweep/patches",
        ],
        0,
    ),
    Step(
        &["migrate", PLAN, "--namespace", "payments", "--copy-values"],
        0,
    ),
    // Retires the planted `payments-db` (its values are in the vault); the destroys below
    // write it back from Key Vault.
    Step(&["migrate", PLAN, "--namespace", "payments", "--finish"], 0),
    Step(&["output", PLAN], 0),
    Step(&["output", PLAN, "--format", "json"], 0),
    Step(&["output", PLAN, "vault.payments.uri"], 0),
    Step(&["state", "list", PLAN], 0),
    Step(&["state", "show", PLAN, "vault.payments"], 0),
    Step(&["state", "show", PLAN, "addon.demo"], 0),
    Step(&["state", "show", PLAN, "grant.demo-reads-payments"], 0),
    Step(&["state", "show", PLAN, "spc.payments-db"], 0),
    Step(&["state", "rm", PLAN, "spc.shop-api"], 0),
    Step(&["import", PLAN, "spc.shop-api", "shop/shop-api"], 0),
    Step(&["state", "rm", PLAN, "spc.payments-db", "--lock=false"], 0),
    Step(
        &["import", PLAN, "spc.payments-db", "payments/payments-db"],
        0,
    ),
    // Failing: an unknown address, a resource that does not exist, an invalid plan file.
    Step(&["state", "show", PLAN, "vault.nope"], 1),
    Step(&["import", PLAN, "spc.shop-api", "shop/no-such-class"], 1),
    Step(&["plan", "plans/broken.toml"], 1),
    // Destroy from a saved change set, apply from the plan file, destroy from the plan file.
    Step(
        &["plan", PLAN, "--destroy", "--out", "sweep/destroy.plan"],
        0,
    ),
    Step(&["apply", "sweep/destroy.plan", "--auto-approve"], 0),
    Step(&["apply", PLAN, "--auto-approve"], 0),
    Step(&["destroy", PLAN, "--auto-approve"], 0),
    Step(&["init", "scratch", "--name", "scratch"], 0),
    // `sandbox serve` is the campaign's own sandbox, started at -vvv: its log is grepped too.
    Step(&["sandbox", "reset", "--dir", "scratch/sandbox"], 0),
];

#[test]
fn canary_sweep() {
    assert!(VAULT_ID.contains(ids::SUBSCRIPTION_ID));
    let seed = seed();
    // `sandbox serve` itself runs at -vvv too; its log is grepped with the rest.
    let mut campaign = Campaign::start(
        "canary-sweep",
        "canary sweep",
        seed,
        &["-vvv", "--lro-ms", "100"],
    );
    let canary = Canary::new(&mut Rng::new(seed));
    plant(&campaign, &canary);
    campaign.canary = Some(canary);
    campaign.test.write(
        "plans/broken.toml",
        &EXAMPLE.replace("purge_protection = false", "purge_protection = \"no\""),
    );
    campaign.test.write("plans/migrate.toml", EXAMPLE);
    std::fs::create_dir_all(campaign.test.path().join("sweep")).expect("create sweep/");
    let mut as_expected = true;
    for Step(args, code) in SWEEP {
        let mut verbose = vec!["-vvv"];
        verbose.extend_from_slice(args);
        let run = campaign.run(&verbose);
        if !run.exited(*code) {
            as_expected = false;
            let line = format!("expected exit {code}: {}", campaign.describe(&run));
            campaign.problem(line);
        }
        if *args == ["--help"] {
            for command in uncovered(&run.stdout) {
                as_expected = false;
                campaign.problem(format!(
                    "`vaultwire {command}` is not in the sweep: add it to SWEEP"
                ));
            }
        }
    }
    let destroyed = campaign.state_is_empty();
    campaign.check_world("after the sweep's destroy");
    campaign.end_trial(1, as_expected && destroyed);
    let (files, bytes) = sweep_for_leaks(&mut campaign);
    campaign.row.settings = format!(
        "{} commands; {files} files ({} KiB) grepped for the canary and its base64 forms",
        SWEEP.len(),
        bytes / 1024
    );
    campaign.into_row().report();
}

/// The top-level commands `vaultwire --help` lists that no step of [`SWEEP`] runs.
fn uncovered(help: &str) -> Vec<String> {
    let listed: Vec<&str> = help
        .lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|command| *command != "help")
        .collect();
    assert!(
        !listed.is_empty(),
        "no commands in `vaultwire --help`:\n{help}"
    );
    listed
        .into_iter()
        .filter(|command| !SWEEP.iter().any(|Step(args, _)| args[0] == *command))
        .map(str::to_owned)
        .collect()
}

/// Creates the example vault out of band (as a team adopting vaultwire would have it), puts
/// the canary in it as `db-password`, and in the native Secret `payments/payments-db` the
/// SecretProviderClass syncs to, as the CSI driver would.
fn plant(campaign: &Campaign, canary: &Canary) {
    let path = format!(
        "{}?{VAULTS_API}",
        vault_path("rg-demo", "kv-vaultwire-demo")
    );
    let created = campaign.block_on(crate::served::arm(
        &campaign.served,
        "PUT",
        &path,
        Some(&vault_body(true)),
    ));
    assert_eq!(created.status, 201, "create the vault: {}", created.body);
    campaign.block_on(put_secrets(
        campaign.http(),
        &campaign.served.endpoint,
        "kv-vaultwire-demo",
        &[
            ("db-password", canary.value().to_owned()),
            ("db-username", "payments-app".to_owned()),
        ],
    ));
    let token = campaign.admin(
        "POST",
        "tokens",
        Some(&json!({"objectId": ids::CLIENT_OBJECT_ID, "audience": "aks"})),
    );
    let token = token.body["accessToken"].as_str().expect("an AKS token");
    let secret = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "payments-db", "namespace": "payments"},
        "type": "Opaque",
        "data": {"password": canary.base64(), "username": "cGF5bWVudHMtYXBw"},
    });
    let created = campaign.call(
        "POST",
        "/k8s/clusters/aks-demo/api/v1/namespaces/payments/secrets",
        Some(token),
        Some(&secret),
    );
    assert_eq!(created.status, 201, "create the Secret: {}", created.body);
    // A Secret a workload reads, so that `migrate` reads (and would copy) the canary too.
    let keys = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "billing-keys", "namespace": "payments"},
        "type": "Opaque",
        "data": {"api_token": canary.base64()},
    });
    let billing = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "billing", "namespace": "payments"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "billing"}},
            "template": {"metadata": {"labels": {"app": "billing"}}, "spec": {"containers": [
                {"name": "billing", "image": "busybox:1.36", "env": [{"name": "API_TOKEN",
                    "valueFrom": {"secretKeyRef": {"name": "billing-keys", "key": "api_token"}}}]}]}}},
    });
    for (path, object) in [
        ("api/v1/namespaces/payments/secrets", keys),
        ("apis/apps/v1/namespaces/payments/deployments", billing),
    ] {
        let created = campaign.call(
            "POST",
            &format!("/k8s/clusters/aks-demo/{path}"),
            Some(token),
            Some(&object),
        );
        assert_eq!(created.status, 201, "create {path}: {}", created.body);
    }
}

/// Counts the canary in every file of the repository — runs' output, the sandbox's log, the
/// state and its backup, saved change sets, reports, the scaffold — but the sandbox's store;
/// returns how many files and bytes were read.
fn sweep_for_leaks(campaign: &mut Campaign) -> (u64, u64) {
    let root = campaign.test.path().to_owned();
    let store = campaign.served.dir.join("world.json");
    let canary = campaign.canary.as_ref().expect("a planted canary");
    let planted = canary.count_in(&std::fs::read_to_string(&store).expect("read world.json"));
    assert!(
        planted >= 2,
        "the canary is not in the vault and the Secret, so the sweep would prove nothing"
    );
    let mut files = Vec::new();
    walk(&root, &mut files);
    // `world.json` and its temporary copies (`world.json.tmp-…`): the emulated store.
    files.retain(|file| {
        !file.starts_with(&store)
            && !file
                .to_string_lossy()
                .starts_with(&*format!("{}.tmp", store.display()))
    });
    let mut leaks = Vec::new();
    let mut bytes = 0;
    for file in &files {
        let content = String::from_utf8_lossy(&std::fs::read(file).expect("read a file to grep"))
            .into_owned();
        bytes += content.len() as u64;
        let found = canary.count_in(&content);
        if found > 0 {
            leaks.push((
                file.strip_prefix(&root)
                    .unwrap_or(file)
                    .display()
                    .to_string(),
                found,
            ));
        }
    }
    for (file, found) in leaks {
        campaign.row.leaks += found;
        campaign.problem(format!("leak: the canary {found} times in {file}"));
    }
    (files.len() as u64, bytes)
}

fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("list a directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            walk(&path, files);
        } else if path.is_file() {
            files.push(path);
        }
    }
}

#[test]
fn a_command_help_lists_and_the_sweep_does_not_run_is_reported() {
    let help = "Usage: vaultwire [OPTIONS] <COMMAND>\n\nCommands:\n  plan      Show what apply would change\n  frobnicate  Something new\n  help      Print this message\n\nOptions:\n  -h, --help  Print help\n";
    assert_eq!(uncovered(help), ["frobnicate"]);
}
