//! `vaultwire sandbox serve` as a child process, for the tests that need the real binary's
//! server (its files, signals, and real clients such as kubectl pointed at its kubeconfig).

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use vaultwire::sandbox::ids;

use crate::sandbox_support::{AKS_API, Reply, client_for, cluster_path, form_body, reply};
use crate::support::Test;

/// A running `sandbox serve`; dropping it kills the process.
pub struct Served {
    child: Child,
    pub dir: PathBuf,
    pub endpoint: String,
}

impl Served {
    /// Starts `sandbox serve --dir sb --lro-ms 0` in `test`'s directory and waits until it has
    /// written `server.json`.
    pub fn start(test: &Test) -> Served {
        Self::spawn(test, &["--lro-ms", "0"], Stdio::piped(), Stdio::piped())
    }

    /// Starts `sandbox serve --dir sb FLAGS…` (fault flags, `-vvv`, …) with its standard output
    /// and error going to `serve.stdout` and `serve.stderr` in `test`'s directory, so a long or
    /// verbose run never fills a pipe and its logs can be read while it runs.
    pub fn start_logged(test: &Test, flags: &[&str]) -> Served {
        let log = |name: &str| {
            Stdio::from(std::fs::File::create(test.path().join(name)).expect("create a log file"))
        };
        Self::spawn(test, flags, log("serve.stdout"), log("serve.stderr"))
    }

    fn spawn(test: &Test, flags: &[&str], stdout: Stdio, stderr: Stdio) -> Served {
        let dir = test.path().join("sb");
        let _ = std::fs::remove_file(dir.join("server.json"));
        let mut args = vec!["sandbox", "serve", "--dir", "sb"];
        args.extend_from_slice(flags);
        let child = test
            .vaultwire_process(&args)
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("spawn sandbox serve");
        let deadline = Instant::now() + Duration::from_secs(60);
        while !dir.join("server.json").exists() {
            assert!(Instant::now() < deadline, "sandbox serve did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let info: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("server.json")).unwrap())
                .unwrap();
        let endpoint = info["endpoint"].as_str().unwrap().to_owned();
        Served {
            child,
            dir,
            endpoint,
        }
    }

    /// `DIR/world.json`: the world as the sandbox last stored it (written atomically).
    pub fn world(&self) -> Value {
        let text = std::fs::read_to_string(self.dir.join("world.json")).expect("read world.json");
        serde_json::from_str(&text).expect("world.json is JSON")
    }

    /// Whether the process is still running (`false` once it exited, for whatever reason).
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The variables `DIR/env` exports, as a shell that sourced it would have them.
    pub fn env(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(self.dir.join("env")).expect("read DIR/env");
        text.lines()
            .filter_map(|line| line.strip_prefix("export "))
            .filter_map(|line| line.split_once('='))
            .map(|(name, value)| {
                let value = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\''));
                (
                    name.to_owned(),
                    value.expect("a quoted value").replace("'\\''", "'"),
                )
            })
            .collect()
    }

    /// `DIR/kubeconfig`, as `serve` wrote it.
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.join("kubeconfig")
    }

    /// Sends SIGTERM and returns the exit status and standard output.
    pub fn stop(mut self) -> (std::process::ExitStatus, String) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        let output = std::mem::replace(
            &mut self.child,
            std::process::Command::new("true").spawn().unwrap(),
        )
        .wait_with_output()
        .unwrap();
        (
            output.status,
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    }

    /// A client trusting the served sandbox's CA.
    pub fn http(&self) -> reqwest::Client {
        client_for(&std::fs::read_to_string(self.dir.join("ca.pem")).unwrap())
    }

    /// Enables `aks-demo`'s Key Vault add-on through ARM (a read-modify-write of the cluster),
    /// which makes its API serve SecretProviderClasses. For synchronous tests.
    pub fn enable_key_vault_addon(&self) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let path = format!("{}?{AKS_API}", cluster_path("rg-demo", "aks-demo"));
            let mut cluster = arm(self, "GET", &path, None).await.expect(200).body;
            cluster["properties"]["addonProfiles"]["azureKeyvaultSecretsProvider"] =
                json!({"enabled": true, "config": {"enableSecretRotation": "false"}});
            arm(self, "PUT", &path, Some(&cluster)).await.expect(200);
            // The operation ends (LRO of 0 ms) on the next request.
            arm(self, "GET", &path, None).await.expect(200);
        });
    }

    /// The request journal (`GET /_sandbox/journal`), for synchronous tests.
    pub fn journal(&self) -> Vec<Value> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let response = self
                .http()
                .get(format!("{}/_sandbox/journal", self.endpoint))
                .send()
                .await
                .unwrap();
            let journal = reply(response).await.expect(200).body;
            journal
                .as_array()
                .or_else(|| journal["entries"].as_array())
                .cloned()
                .unwrap_or_default()
        })
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An ARM call to the served sandbox as the deploying app.
pub async fn arm(served: &Served, method: &str, path: &str, body: Option<&Value>) -> Reply {
    let http = served.http();
    let token = {
        let fields = form_body([
            ("grant_type", "client_credentials"),
            ("client_id", ids::CLIENT_ID),
            ("client_secret", ids::CLIENT_SECRET),
            ("scope", "https://management.azure.com/.default"),
        ]);
        let response = http
            .post(format!(
                "{}/{}/oauth2/v2.0/token",
                served.endpoint,
                ids::TENANT_ID
            ))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(fields)
            .send()
            .await
            .unwrap();
        reply(response).await.body["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let mut request = http
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path}", served.endpoint),
        )
        .bearer_auth(token);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    reply(request.send().await.unwrap()).await
}
