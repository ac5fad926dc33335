//! The production code path end to end: a plan with `cloud = "AzureCloud"` reaches
//! `vaultwire sandbox serve` only through Azure's own hostnames, the sandbox acting as the
//! HTTPS proxy `DIR/env` names — the default authority and ARM endpoint, Key Vault by
//! `NAME.vault.azure.net` with its challenge verified, the cluster's API server by its FQDN.
//! Nothing tells vaultwire it is talking to the sandbox: only `. DIR/env`, as a user's shell
//! behind a TLS-inspecting proxy would have it.

use std::process::Output;

use serde_json::Value;

use crate::repo_support::EXAMPLE;
use crate::served::Served;
use crate::support::Test;

const PLAN: &str = "plans/production.toml";

struct Shell<'a> {
    test: &'a Test,
    env: Vec<(String, String)>,
}

impl Shell<'_> {
    fn run(&self, args: &[&str]) -> Output {
        let mut command = self.test.vaultwire_process(args);
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command.output().expect("run vaultwire")
    }

    #[track_caller]
    fn expect(&self, code: i32, args: &[&str]) -> String {
        crate::support::expect_exit(&self.run(args), code, args)
    }
}

fn azure_cloud_plan() -> String {
    let plan = EXAMPLE.replace("cloud = \"sandbox\"", "cloud = \"AzureCloud\"");
    assert_ne!(plan, EXAMPLE, "the example plan names its cloud");
    plan
}

#[test]
fn an_azure_cloud_plan_runs_its_whole_lifecycle_through_azures_hostnames() {
    let test = Test::new();
    let served = Served::start(&test);
    test.write(PLAN, &azure_cloud_plan());
    let shell = Shell {
        test: &test,
        env: served.env(),
    };

    shell.expect(0, &["validate", PLAN]);
    let plan = shell.expect(2, &["plan", PLAN, "--detailed-exitcode"]);
    assert!(
        plan.contains("Plan: 4 to add, 1 to change, 0 to destroy."),
        "{plan}"
    );
    let applied = shell.expect(0, &["apply", PLAN, "--auto-approve"]);
    assert!(
        applied.contains("Apply complete! Resources: 4 added, 1 changed, 0 destroyed."),
        "{applied}"
    );
    shell.expect(0, &["plan", PLAN, "--detailed-exitcode"]);
    // The seeded cluster keeps a native Secret: the audit finds it (exit 4), as on the sandbox.
    let audit = shell.expect(4, &["audit", PLAN, "--format", "json"]);
    let audit: Value = serde_json::from_str(&audit).expect("audit JSON");
    assert_eq!(audit["target"]["cloud"], "AzureCloud");
    let addon = audit["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["id"] == "addon-enabled")
        .expect("the add-on check");
    assert_eq!(addon["status"], "pass", "{addon}");

    let state: Value = serde_json::from_str(&test.read("state/production.state.json")).unwrap();
    let vault_id = state["resources"]["vault.payments"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    shell.expect(0, &["state", "rm", PLAN, "vault.payments"]);
    shell.expect(0, &["import", PLAN, "vault.payments", &vault_id]);
    shell.expect(0, &["plan", PLAN, "--detailed-exitcode"]);

    let destroyed = shell.expect(0, &["destroy", PLAN, "--auto-approve"]);
    assert!(destroyed.contains("Destroy complete!"), "{destroyed}");

    // Every request came for an Azure host; none reached the endpoint's path-style services.
    let journal = served.journal();
    let hosts: std::collections::BTreeSet<&str> = journal
        .iter()
        .filter(|entry| !entry["path"].as_str().unwrap().starts_with("/_sandbox/"))
        .map(|entry| {
            entry["host"]
                .as_str()
                .unwrap_or_else(|| panic!("a request on the endpoint: {entry}"))
        })
        .collect();
    let fqdn = served.world()["clusters"]["aks-demo"]["properties"]["fqdn"]
        .as_str()
        .unwrap()
        .to_owned();
    for expected in [
        "login.microsoftonline.com",
        "management.azure.com",
        "kv-vaultwire-demo.vault.azure.net",
        fqdn.as_str(),
    ] {
        assert!(hosts.contains(expected), "{expected} not in {hosts:?}");
    }
}

#[test]
fn a_connect_to_a_host_the_sandbox_does_not_emulate_is_refused_by_name() {
    let test = Test::new();
    let served = Served::start(&test);
    let port = served.endpoint.rsplit(':').next().unwrap().to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (status, body) = runtime.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
            .await
            .unwrap();
        stream
            .write_all(b"CONNECT pypi.org:443 HTTP/1.1\r\nHost: pypi.org:443\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        let mut buffer = [0u8; 1024];
        loop {
            let read = stream.read(&mut buffer).await.unwrap();
            answer.extend_from_slice(buffer.get(..read).unwrap());
            if read == 0 || String::from_utf8_lossy(&answer).contains("forwards nothing") {
                break;
            }
        }
        let text = String::from_utf8_lossy(&answer).into_owned();
        let status = text.lines().next().unwrap_or_default().to_owned();
        (status, text)
    });
    assert_eq!(status, "HTTP/1.1 403 Forbidden", "{body}");
    assert!(body.contains("does not emulate `pypi.org:443`"), "{body}");
}
