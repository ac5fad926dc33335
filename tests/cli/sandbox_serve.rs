//! `vaultwire sandbox serve` as a real process: the files it writes, SIGTERM, persistence
//! across restarts, `sandbox reset`, sharing DIR with in-process instances, and the real
//! kubectl reaching a cluster's API through the written kubeconfig.

use std::path::Path;

use serde_json::Value;
use vaultwire::sandbox::{Sandbox, SandboxOptions};

use crate::sandbox_support::{Env, VAULTS_API, client_for, vault_body, vault_path};
use crate::served::{Served, arm};
use crate::support::Test;

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

#[test]
fn serve_writes_env_kubeconfig_and_ca_prints_the_env_and_stops_on_sigterm() {
    let test = Test::new();
    let served = Served::start(&test);
    let dir = served.dir.clone();
    let env = read(&dir, "env");
    for name in [
        "AZURE_AUTHORITY_HOST",
        "AZURE_TENANT_ID",
        "AZURE_SUBSCRIPTION_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_RESOURCE_MANAGER_ENDPOINT",
        "VAULTWIRE_SANDBOX_ENDPOINT",
        "VAULTWIRE_SANDBOX_CA",
        "REQUESTS_CA_BUNDLE",
        "SSL_CERT_FILE",
    ] {
        assert!(
            env.contains(&format!("export {name}=")),
            "{name} missing from:\n{env}"
        );
    }
    assert!(env.contains(&format!(
        "export VAULTWIRE_SANDBOX_ENDPOINT='{}'",
        served.endpoint
    )));
    let kubeconfig: Value = serde_norway::from_str(&read(&dir, "kubeconfig")).unwrap();
    assert_eq!(
        kubeconfig["clusters"][0]["cluster"]["server"],
        format!("{}/k8s/clusters/aks-demo", served.endpoint)
    );
    assert!(kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"].is_string());
    assert!(read(&dir, "ca.pem").starts_with("-----BEGIN CERTIFICATE-----"));
    let (status, stdout) = served.stop();
    assert!(status.success(), "{status:?}");
    assert!(stdout.contains("export AZURE_AUTHORITY_HOST="));
    assert!(
        !dir.join("server.json").exists(),
        "server.json is removed on a clean stop"
    );
}

#[tokio::test]
async fn the_world_persists_across_restarts_and_reset_restores_the_seed() {
    let test = Test::new();
    let path = format!("{}?{VAULTS_API}", vault_path("rg-demo", "kv-persisted"));
    let served = Served::start(&test);
    arm(&served, "PUT", &path, Some(&vault_body(true)))
        .await
        .expect(201);
    let first_endpoint = served.endpoint.clone();
    assert!(served.stop().0.success());

    let served = Served::start(&test);
    assert_ne!(served.endpoint, "", "{first_endpoint}");
    arm(&served, "GET", &path, None).await.expect(200);
    assert!(served.stop().0.success());

    test.vaultwire(&["sandbox", "reset", "--dir", "sb"])
        .assert()
        .success();
    let served = Served::start(&test);
    arm(&served, "GET", &path, None).await.expect(404);
}

#[tokio::test]
async fn an_in_process_sandbox_shares_the_served_world_and_a_second_serve_is_refused() {
    let test = Test::new();
    let served = Served::start(&test);
    let found = Sandbox::served(&served.dir).expect("the served sandbox is found");
    assert_eq!(found.endpoint, served.endpoint);

    let local = Sandbox::start(SandboxOptions {
        dir: Some(served.dir.clone()),
        ..SandboxOptions::default()
    })
    .unwrap();
    let local = Env {
        http: client_for(local.ca_pem()),
        sandbox: local,
    };
    let path = format!("{}?{VAULTS_API}", vault_path("rg-demo", "kv-shared"));
    arm(&served, "PUT", &path, Some(&vault_body(true)))
        .await
        .expect(201);
    local.arm("GET", &path, None).await.expect(200);
    let other = format!("{}?{VAULTS_API}", vault_path("rg-demo", "kv-from-local"));
    local
        .arm("PUT", &other, Some(&vault_body(true)))
        .await
        .expect(201);
    arm(&served, "GET", &other, None).await.expect(200);

    let second = test
        .vaultwire(&["sandbox", "serve", "--dir", "sb"])
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&second.get_output().stderr).into_owned();
    assert!(
        stderr.contains(&format!("already served at {}", served.endpoint)),
        "{stderr}"
    );
}

#[test]
fn the_real_kubectl_reaches_the_served_cluster_api_with_the_kubeconfig() {
    let test = Test::new();
    let served = Served::start(&test);
    let kubeconfig = served.dir.join("kubeconfig");
    let output = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["version", "--request-timeout=20s"])
        .env("HOME", test.path())
        .output()
        .expect("kubectl is installed on this machine");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("Unauthorized")
            && !stderr.contains("x509")
            && !stderr.contains("certificate"),
        "TLS and the token are accepted: {stderr}"
    );
    assert!(
        output.status.success() || stderr.contains("NotFound") || stderr.contains("could not find"),
        "{stderr}"
    );

    let forged = read(&served.dir, "kubeconfig").replace("token: ", "token: x");
    let forged_path = test.write("forged-kubeconfig", &forged);
    let output = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&forged_path)
        .args(["version", "--request-timeout=20s"])
        .env("HOME", test.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("You must be logged in to the server"),
        "a forged token is refused: {stderr}"
    );
}

#[test]
fn fault_rates_outside_zero_to_one_are_refused() {
    let test = Test::new();
    let output = test
        .vaultwire(&["sandbox", "serve", "--dir", "sb", "--throttle-rate", "1.5"])
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&output.get_output().stderr).into_owned();
    assert!(
        stderr.contains("`--throttle-rate` must be between 0 and 1, not 1.5"),
        "{stderr}"
    );
    assert!(
        !test.path().join("sb").exists(),
        "nothing is written for invalid flags"
    );
}

/// `sandbox serve --dir .` in a repository would have replaced its `env` or `kubeconfig` with
/// the sandbox's: a directory holding anything but sandbox files is refused, and nothing is
/// written to it.
#[test]
fn a_directory_with_files_that_are_not_the_sandboxs_is_refused() {
    let test = Test::new();
    test.write("repo/kubeconfig", "apiVersion: v1\n# mine\n");
    test.write("repo/Cargo.toml", "[package]\n");
    for args in [
        &["sandbox", "serve", "--dir", "repo"][..],
        &["sandbox", "reset", "--dir", "repo"],
    ] {
        let output = test.vaultwire(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(
                "refusing to keep a sandbox in `repo`: it holds files that are not the sandbox's (`Cargo.toml`)"
            ),
            "{args:?}: {stderr}"
        );
    }
    let mut left: Vec<String> = std::fs::read_dir(test.path().join("repo"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["Cargo.toml", "kubeconfig"]);
    assert_eq!(test.read("repo/kubeconfig"), "apiVersion: v1\n# mine\n");
}
