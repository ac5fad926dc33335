//! A team repository wired to a sandbox started in this test process: `plans/example.toml`,
//! the sandbox's CA, and `vaultwire` commands pointed at it (as `. DIR/env` would), so tests
//! can run the real binary and then look at the sandbox's world and journal.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;
use vaultwire::sandbox::ids;
use vaultwire::sandbox::{Sandbox, SandboxHandle, SandboxOptions};

use crate::support::Test;

pub const EXAMPLE: &str = include_str!("../../plans/example.toml");

/// Resources in a second cluster, `aks-two` (a sandbox with `extra_clusters: ["aks-two"]`),
/// to add to [`EXAMPLE`].
pub const SECOND_CLUSTER: &str = r#"
[addon.two]
cluster = "aks-two"
resource_group = "rg-demo"

[grant.two-reads-payments]
vault = "payments"
principal = { addon = "two" }
role = "Key Vault Secrets User"

[spc.two-db]
addon = "two"
namespace = "payments"
vault = "payments"
identity = { addon = "two" }
objects = [{ name = "db-password", type = "secret" }]
"#;

pub struct Repo {
    pub test: Test,
    pub sandbox: SandboxHandle,
    ca: PathBuf,
}

impl Repo {
    /// The example plan against a fresh memory-only sandbox with instant operations.
    pub fn new() -> Self {
        Self::with_options(SandboxOptions::default())
    }

    pub fn with_options(options: SandboxOptions) -> Self {
        let test = Test::new();
        let sandbox = Sandbox::start(options).expect("start the sandbox");
        let ca = test.write("sandbox-ca.pem", sandbox.ca_pem());
        test.write("plans/example.toml", EXAMPLE);
        Self { test, sandbox, ca }
    }

    /// `vaultwire ARGS…` against this repository's sandbox.
    pub fn vaultwire(&self, args: &[&str]) -> Command {
        Command::from_std(self.std_command(args))
    }

    fn std_command(&self, args: &[&str]) -> std::process::Command {
        let mut command = self.test.vaultwire_process(args);
        aim_at_sandbox(&mut command, self.sandbox.endpoint(), &self.ca);
        command
    }

    /// The same as a `std::process::Command`, for tests that need to kill it.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.std_command(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn vaultwire")
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.vaultwire(args).output().expect("run vaultwire")
    }

    /// Runs and asserts the exit code; returns stdout.
    #[track_caller]
    pub fn expect(&self, code: i32, args: &[&str]) -> String {
        crate::support::expect_exit(&self.run(args), code, args)
    }

    /// Runs, asserts the exit code and that stderr holds `message`; returns stderr.
    #[track_caller]
    pub fn expect_error(&self, code: i32, args: &[&str], message: &str) -> String {
        let output = self.run(args);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(
            output.status.code(),
            Some(code),
            "`vaultwire {}`: {stderr}",
            args.join(" ")
        );
        assert!(
            stderr.contains(message),
            "`vaultwire {}`: {stderr}",
            args.join(" ")
        );
        stderr
    }

    #[track_caller]
    pub fn apply(&self) -> String {
        self.expect(0, &["apply", "plans/example.toml", "--auto-approve"])
    }

    /// `plan --detailed-exitcode` exits 0: nothing to do.
    #[track_caller]
    pub fn assert_converged(&self) {
        self.expect(0, &["plan", "plans/example.toml", "--detailed-exitcode"]);
    }

    pub fn state(&self) -> Value {
        serde_json::from_str(&self.test.read("state/example.state.json")).expect("state is JSON")
    }

    pub fn world(&self) -> Value {
        self.sandbox.world_json().expect("read the world")
    }

    /// The managedCluster `aks-demo` as the sandbox stores it.
    pub fn cluster(&self) -> Value {
        self.world()["clusters"]["aks-demo"].clone()
    }

    pub fn addon_enabled(&self, addon: &str) -> bool {
        self.cluster()["properties"]["addonProfiles"][addon]["enabled"] == Value::Bool(true)
    }

    /// `namespace/name` of every SecretProviderClass in `aks-demo` (none while the add-on,
    /// and so the SecretProviderClass API, is off).
    pub fn spcs(&self) -> Vec<String> {
        if !self.addon_enabled("azureKeyvaultSecretsProvider") {
            return Vec::new();
        }
        let kube = self.kubectl(&[
            "get",
            "secretproviderclasses",
            "-A",
            "-o",
            "jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{\"\\n\"}{end}",
        ]);
        kube.lines().map(str::to_owned).collect()
    }

    /// Role assignments in the sandbox whose principal is `object_id`.
    pub fn role_assignments_of(&self, object_id: &str) -> usize {
        self.world()["roleAssignments"]
            .as_object()
            .map(|assignments| {
                assignments
                    .values()
                    .filter(|a| {
                        a.to_string()
                            .to_ascii_lowercase()
                            .contains(&object_id.to_ascii_lowercase())
                    })
                    .count()
            })
            .unwrap_or(0)
    }

    /// Runs the real kubectl against `aks-demo`; returns stdout, asserting success.
    #[track_caller]
    pub fn kubectl(&self, args: &[&str]) -> String {
        let kubeconfig = self.test.write(
            "kubeconfig",
            &self
                .sandbox
                .kubeconfig(Duration::from_secs(3600))
                .expect("kubeconfig"),
        );
        let output = std::process::Command::new("kubectl")
            .args(["--kubeconfig", &kubeconfig.display().to_string()])
            .args(["--context", "aks-demo"])
            .args([
                "--cache-dir",
                &self.test.path().join(".kube-cache").display().to_string(),
            ])
            .args(args)
            .output()
            .expect("kubectl must be on PATH for these tests");
        assert!(
            output.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// An out-of-band change through the sandbox's admin API.
    pub fn drift(&self, path: &str, body: Value) {
        let client = crate::sandbox_support::client_for(self.sandbox.ca_pem());
        let url = format!("{}/_sandbox/drift/{path}", self.sandbox.endpoint());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let status = runtime.block_on(async {
            client
                .post(&url)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .expect("admin request")
                .status()
        });
        assert!(status.is_success(), "drift {path}: {status}");
    }
}

/// Points a `vaultwire` command at the sandbox at `endpoint` (trusting the CA in the file
/// `ca`) with the deploying app's credentials, as sourcing the sandbox's `env` file would.
pub fn aim_at_sandbox(command: &mut std::process::Command, endpoint: &str, ca: &Path) {
    command
        .env("VAULTWIRE_SANDBOX_ENDPOINT", endpoint)
        .env("VAULTWIRE_SANDBOX_CA", ca)
        .env("AZURE_CLIENT_ID", ids::CLIENT_ID)
        .env("AZURE_CLIENT_SECRET", ids::CLIENT_SECRET)
        .env("AZURE_TENANT_ID", ids::TENANT_ID)
        .env("VAULTWIRE_PROGRESS_INTERVAL", "1");
}

impl Repo {
    /// Puts secrets into the example's vault through the Key Vault data plane, as a team
    /// would before workloads read them (vaultwire itself never writes secret values). The
    /// deploying app is first made Key Vault Secrets Officer on the vault.
    pub fn set_secrets(&self, names: &[&str]) {
        self.set_secrets_in("kv-vaultwire-demo", names);
    }

    /// [`Self::set_secrets`] in the vault named `vault` (in `rg-demo`).
    pub fn set_secrets_in(&self, vault: &str, names: &[&str]) {
        let http = crate::sandbox_support::client_for(self.sandbox.ca_pem());
        let values: Vec<(&str, String)> = names
            .iter()
            .map(|name| (*name, format!("not-a-real-{name}")))
            .collect();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(put_secrets(&http, self.sandbox.endpoint(), vault, &values));
    }
}

/// The role assignment [`put_secrets`] makes: the deploying app as Key Vault Secrets Officer on
/// the example's vault.
pub const SECRETS_OFFICER_ASSIGNMENT: &str = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";

/// Sets secrets (name, value) in the vault `vault_name` of `rg-demo` (the example's is
/// `kv-vaultwire-demo`) of the sandbox at `endpoint` through the Key Vault data plane, after
/// making the deploying app Key Vault Secrets Officer on the vault.
pub async fn put_secrets(
    http: &reqwest::Client,
    endpoint: &str,
    vault_name: &str,
    secrets: &[(&str, String)],
) {
    let sub = ids::SUBSCRIPTION_ID;
    let vault = format!(
        "/subscriptions/{sub}/resourceGroups/rg-demo/providers/Microsoft.KeyVault/vaults/{vault_name}"
    );
    let token = |scope: &str| {
        let body = crate::sandbox_support::form_body([
            ("grant_type", "client_credentials"),
            ("client_id", ids::CLIENT_ID),
            ("client_secret", ids::CLIENT_SECRET),
            ("scope", scope),
        ]);
        let request = http
            .post(format!("{endpoint}/{}/oauth2/v2.0/token", ids::TENANT_ID))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        async move {
            let reply = crate::sandbox_support::reply(request.send().await.unwrap()).await;
            reply.body["access_token"].as_str().unwrap().to_owned()
        }
    };
    let arm = token("https://management.azure.com/.default").await;
    let officer = serde_json::json!({"properties": {
        "roleDefinitionId": format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/b86a8fe4-44ce-4948-aee5-eccb2c155cd7"),
        "principalId": ids::CLIENT_OBJECT_ID,
        "principalType": "ServicePrincipal",
    }});
    let assigned = http
        .put(format!(
            "{endpoint}{vault}/providers/Microsoft.Authorization/roleAssignments/{SECRETS_OFFICER_ASSIGNMENT}?api-version=2022-04-01"
        ))
        .bearer_auth(&arm)
        .header("content-type", "application/json")
        .body(officer.to_string())
        .send()
        .await
        .unwrap();
    assert!(assigned.status().is_success(), "{}", assigned.status());
    // The sandbox's vaultUri (docs/sandbox.md).
    let vault_uri = format!("{endpoint}/vaults/{vault_name}");
    let data = token("https://vault.azure.net/.default").await;
    for (name, value) in secrets {
        let put = http
            .put(format!("{vault_uri}/secrets/{name}?api-version=2025-07-01"))
            .bearer_auth(&data)
            .header("content-type", "application/json")
            .body(serde_json::json!({"value": value}).to_string())
            .send()
            .await
            .unwrap();
        assert!(put.status().is_success(), "set `{name}`: {}", put.status());
    }
}

impl Repo {
    /// An ARM PUT to the sandbox as the deploying app, as `az` would send it; returns the body.
    pub fn arm_put(&self, path: &str, body: Value) -> Value {
        let http = crate::sandbox_support::client_for(self.sandbox.ca_pem());
        let endpoint = self.sandbox.endpoint().to_owned();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let form = crate::sandbox_support::form_body([
                ("grant_type", "client_credentials"),
                ("client_id", ids::CLIENT_ID),
                ("client_secret", ids::CLIENT_SECRET),
                ("scope", "https://management.azure.com/.default"),
            ]);
            let token = http
                .post(format!("{endpoint}/{}/oauth2/v2.0/token", ids::TENANT_ID))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form)
                .send()
                .await
                .unwrap();
            let token = crate::sandbox_support::reply(token).await.body["access_token"]
                .as_str()
                .unwrap()
                .to_owned();
            let put = http
                .put(format!("{endpoint}{path}"))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            let reply = crate::sandbox_support::reply(put).await;
            assert!(
                (200..300).contains(&reply.status),
                "PUT {path}: {}",
                reply.body
            );
            reply.body
        })
    }
}
