//! S4: the CIS implementation procedure by hand — the real azure-cli and kubectl, as the
//! control's remediation describes it — against `vaultwire apply` of the same end state: a vault,
//! the Key Vault add-on with rotation, the add-on identity's grant and one SecretProviderClass.
//! Each run gets a fresh sandbox with the scenario's latency; az reaches it through its proxy on
//! Azure's hostnames, with only what `DIR/env` sets.
//!
//! Needs azure-cli: `VAULTWIRE_BENCH_AZ=path/to/az cargo bench` (e.g. a venv's `bin/az`); without
//! it S4 is skipped and `docs/benchmarks.md` keeps its last S4 table.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use vaultwire::sandbox::ids;

use crate::scene::{Scene, Timing};

/// The procedure's variants, as the report lists them.
pub struct ByHandRow {
    pub how: &'static str,
    pub walls: Vec<Duration>,
    pub commands: usize,
}

const VAULT: &str = "kv-cis-bench";

/// The plan vaultwire applies: the end state the az procedure reaches.
const PLAN: &str = r#"version = 1

[target]
cloud = "sandbox"
subscription_id = "3f2a1b4c-5d6e-4f70-8192-a3b4c5d6e7f8"
tenant_id = "7c1e5a3b-2d4f-4e6a-8b9c-0d1e2f3a4b5c"

[vault.cis]
name = "kv-cis-bench"
resource_group = "rg-demo"
location = "westeurope"
authorization = "rbac"

[addon.demo]
cluster = "aks-demo"
resource_group = "rg-demo"
secret_rotation = true

[grant.addon-reads]
vault = "cis"
principal = { addon = "demo" }
role = "Key Vault Secrets User"

[spc.payments-db]
addon = "demo"
namespace = "payments"
vault = "cis"
identity = { addon = "demo" }
objects = [{ name = "db-password", type = "secret" }]
"#;

/// The azure-cli to run, when one is named.
pub fn azure_cli() -> Option<std::ffi::OsString> {
    std::env::var_os("VAULTWIRE_BENCH_AZ")
}

/// Both az variants and vaultwire, `reps` times each, each on a fresh sandbox.
pub fn scenario(az: &Path, timing: Timing, reps: usize) -> Vec<ByHandRow> {
    let mut rows = vec![
        ByHandRow {
            how: "az + kubectl, each command waiting",
            walls: Vec::new(),
            commands: 0,
        },
        ByHandRow {
            how: "az + kubectl, `az aks enable-addons --no-wait`",
            walls: Vec::new(),
            commands: 0,
        },
        ByHandRow {
            how: "`vaultwire apply`",
            walls: Vec::new(),
            commands: 1,
        },
    ];
    for rep in 0..reps {
        eprintln!("S4: run {}/{reps}", rep + 1);
        for (index, no_wait) in [(0, false), (1, true)] {
            let scene = Scene::start(timing, Vec::new());
            let shell = Shell::new(&scene, az);
            shell.login();
            let started = Instant::now();
            let commands = shell.procedure(no_wait);
            if let Some(row) = rows.get_mut(index) {
                row.walls.push(started.elapsed());
                row.commands = commands;
            }
        }
        let scene = Scene::start(timing, Vec::new());
        let path = scene.write_plan("cis", PLAN);
        let run = scene.run(&["apply", &path, "--auto-approve"], None);
        if let Some(row) = rows.get_mut(2) {
            row.walls.push(run.wall);
        }
    }
    rows
}

/// A shell with `DIR/env` loaded, as a user's would be, in the scene's directory.
struct Shell<'a> {
    scene: &'a Scene,
    az: &'a Path,
}

impl<'a> Shell<'a> {
    fn new(scene: &'a Scene, az: &'a Path) -> Self {
        Self { scene, az }
    }

    fn command(&self, program: &Path, args: &[&str]) -> Command {
        let dir = self.scene.path();
        let proxy = self
            .scene
            .sandbox
            .endpoint()
            .replacen("https://", "http://", 1);
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir)
            .env("AZURE_CONFIG_DIR", dir.join("azure"))
            .env("AZURE_CORE_COLLECT_TELEMETRY", "false")
            .env("KUBECONFIG", dir.join("kubeconfig"))
            .env("HTTPS_PROXY", &proxy)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("REQUESTS_CA_BUNDLE", dir.join("ca.pem"))
            .env("SSL_CERT_FILE", dir.join("ca.pem"))
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .stdout(Stdio::piped());
        command
    }

    /// Runs a command that must succeed; returns its standard output, trimmed.
    fn run(&self, program: &Path, args: &[&str]) -> String {
        let output = self
            .command(program, args)
            .output()
            .unwrap_or_else(|error| panic!("start `{}`: {error}", program.display()));
        assert!(
            output.status.success(),
            "`{} {}` failed:\n{}",
            program.display(),
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    fn az(&self, args: &[&str]) -> String {
        self.run(self.az, args)
    }

    fn login(&self) {
        self.az(&[
            "login",
            "--service-principal",
            "-u",
            ids::CLIENT_ID,
            "-p",
            ids::CLIENT_SECRET,
            "--tenant",
            ids::TENANT_ID,
            "-o",
            "none",
        ]);
    }

    /// The implementation procedure; returns how many commands it took.
    fn procedure(&self, no_wait: bool) -> usize {
        let cluster = ["-g", "rg-demo", "-n", "aks-demo"];
        let enable = |extra: &[&str]| {
            let mut args = vec![
                "aks",
                "enable-addons",
                "--addons",
                "azure-keyvault-secrets-provider",
                "--enable-secret-rotation",
                "-o",
                "none",
            ];
            args.extend_from_slice(&cluster);
            args.extend_from_slice(extra);
            self.az(&args);
        };
        let mut commands = 0;
        if no_wait {
            enable(&["--no-wait"]);
            commands += 1;
        }
        let vault_id = self.az(&[
            "keyvault",
            "create",
            "-n",
            VAULT,
            "-g",
            "rg-demo",
            "-l",
            "westeurope",
            "--query",
            "id",
            "-o",
            "tsv",
        ]);
        commands += 1;
        if no_wait {
            let mut args = vec!["aks", "wait", "--updated"];
            args.extend_from_slice(&cluster);
            self.az(&args);
        } else {
            enable(&[]);
        }
        commands += 1;
        let mut args = vec![
            "aks",
            "show",
            "--query",
            "addonProfiles.azureKeyvaultSecretsProvider.identity.clientId",
            "-o",
            "tsv",
        ];
        args.extend_from_slice(&cluster);
        let client_id = self.az(&args);
        self.az(&[
            "role",
            "assignment",
            "create",
            "--assignee",
            &client_id,
            "--role",
            "Key Vault Secrets User",
            "--scope",
            &vault_id,
            "-o",
            "none",
        ]);
        let mut args = vec!["aks", "get-credentials", "--admin", "-o", "none"];
        args.extend_from_slice(&cluster);
        self.az(&args);
        let manifest = self.scene.path().join("spc.yaml");
        std::fs::write(&manifest, spc(&client_id)).expect("write the SecretProviderClass");
        self.run(
            Path::new("kubectl"),
            &["apply", "-f", &manifest.to_string_lossy()],
        );
        commands + 4
    }
}

/// The SecretProviderClass the procedure applies (the one the plan describes).
fn spc(client_id: &str) -> String {
    format!(
        "apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: payments-db
  namespace: payments
spec:
  provider: azure
  parameters:
    usePodIdentity: \"false\"
    useVMManagedIdentity: \"true\"
    userAssignedIdentityID: \"{client_id}\"
    keyvaultName: \"{VAULT}\"
    tenantId: \"{}\"
    objects: |
      array:
        - |
          objectName: db-password
          objectType: secret
",
        ids::TENANT_ID
    )
}
