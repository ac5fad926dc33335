//! Migration end to end, with the real binary, the real kubectl and the sandbox: `migrate`
//! shows what moves off the seeded `payments` namespace's native Secrets, `--write
//! --copy-values` adds the plan entries, writes the workload patch and copies the values,
//! `apply` creates the class, kubectl applies the patch — and the new pod runs with files
//! byte-identical to the original Secret, binary values included. No value is ever printed
//! or written.

use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::kubectl_driver::{Kubectl, wait_for};
use crate::repo_support::Repo;

const PLAN: &str = "plans/example.toml";
/// The seeded Secret `payments/payments-db-legacy`'s password.
const SEEDED_PASSWORD: &str = "placeholder-db-password";
/// A value no output may contain.
const CANARY: &str = "canary-7f3e9d-migrate-never-printed";
/// Not UTF-8: must be stored as base64 and mounted byte-identical.
const BINARY: [u8; 6] = [0xff, 0x00, 0xfe, 0x10, 0x80, 0x7f];

/// Lets the sandbox's deployer principal copy values (Key Vault Secrets Officer).
const OFFICER_GRANT: &str = r#"
[grant.deployer-migrates-payments]
vault = "payments"
principal = { object_id = "9d4c3b2a-1e0f-4a5b-8c7d-6e5f4a3b2c1d", type = "ServicePrincipal" }
role = "Key Vault Secrets Officer"
"#;

fn kubectl(repo: &Repo) -> Kubectl {
    let kubeconfig = repo.test.write(
        "kubeconfig",
        &repo.sandbox.kubeconfig(Duration::from_secs(3600)).unwrap(),
    );
    Kubectl::with_kubeconfig(&kubeconfig)
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A TLS Secret's chain, kept byte for byte.
const TLS_CHAIN: &str = "-----BEGIN CERTIFICATE-----\nleaf\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nintermediate\n-----END CERTIFICATE-----\n";

/// Adds to `payments` the Deployment `billing` and what it reads: a Secret with an underscore
/// key, a binary value and the canary (an env var and a secret volume), a TLS Secret (a
/// volume), a 30 KB value (an env var), and a registry's dockerconfigjson (imagePullSecrets).
fn add_billing(kubectl: &Kubectl) {
    let secret = |name: &str, kind: &str, data: Value| {
        json!({"apiVersion": "v1", "kind": "Secret", "type": kind,
            "metadata": {"name": name, "namespace": "payments"}, "data": data})
    };
    let keys = secret(
        "billing-keys",
        "Opaque",
        json!({"api_token": b64(CANARY.as_bytes()), "signing.key": b64(&BINARY)}),
    );
    let tls = secret(
        "billing-tls",
        "kubernetes.io/tls",
        json!({"tls.crt": b64(TLS_CHAIN.as_bytes()), "tls.key": b64(b"-----BEGIN PRIVATE KEY-----\nk\n")}),
    );
    let dump = secret(
        "billing-dump",
        "Opaque",
        json!({"dump": b64(&[b'x'; 30 * 1024])}),
    );
    let registry = secret(
        "registry",
        "kubernetes.io/dockerconfigjson",
        json!({".dockerconfigjson": b64(br#"{"auths":{}}"#)}),
    );
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "billing", "namespace": "payments"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "billing"}},
            "template": {"metadata": {"labels": {"app": "billing"}}, "spec": {
                "imagePullSecrets": [{"name": "registry"}],
                "containers": [{"name": "billing", "image": "busybox:1.36",
                    "env": [
                        {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "billing-keys", "key": "api_token"}}},
                        {"name": "DUMP", "valueFrom": {"secretKeyRef": {"name": "billing-dump", "key": "dump"}}}],
                    "volumeMounts": [
                        {"name": "keys", "mountPath": "/etc/billing", "readOnly": true},
                        {"name": "tls", "mountPath": "/etc/tls", "readOnly": true}]}],
                "volumes": [
                    {"name": "keys", "secret": {"secretName": "billing-keys"}},
                    {"name": "tls", "secret": {"secretName": "billing-tls"}}]}}}});
    for (name, object) in [
        ("billing-secret", keys),
        ("billing-tls", tls),
        ("billing-dump", dump),
        ("registry", registry),
        ("billing-deployment", deployment),
    ] {
        let file = kubectl.write(&format!("{name}.json"), &object.to_string());
        kubectl.run(&["apply", "-f", &file.display().to_string()]);
    }
}

/// The files the kubelet mounted into the pod whose name starts with `prefix`, as
/// `volume/file → sha256`; else what its mounts say.
fn mounted_files(repo: &Repo, prefix: &str) -> Value {
    let http = crate::sandbox_support::client_for(repo.sandbox.ca_pem());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let all: Value = runtime.block_on(async {
        let url = format!("{}/_sandbox/mounts", repo.sandbox.endpoint());
        let response = http.get(url).send().await.unwrap();
        crate::sandbox_support::reply(response)
            .await
            .expect(200)
            .body
    });
    let mounts: Vec<&Value> = all["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|mount| {
            mount["namespace"] == "payments"
                && mount["pod"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with(prefix)
        })
        .collect();
    mounts
        .iter()
        .find(|mount| mount["mounted"] == true)
        .map(|mount| mount["files"].clone())
        .unwrap_or_else(|| json!(mounts))
}

#[test]
fn payments_moves_into_key_vault_and_its_pods_read_identical_files() {
    let repo = Repo::new();
    let kubectl = kubectl(&repo);
    add_billing(&kubectl);
    let mut outputs = Vec::new();

    // Review: exit 2, names and sizes, never a value.
    let shown = repo.expect(2, &["migrate", PLAN, "--namespace", "payments"]);
    assert!(
        shown.contains("+ Secret payments/payments-db-legacy (Opaque, 2 keys)"),
        "{shown}"
    );
    assert!(
        shown.contains("password  → payments--payments-db-legacy--password  (23 B, utf-8)"),
        "{shown}"
    );
    assert!(
        shown.contains("signing.key  → payments--billing-keys--signing-key  (8 B, base64)"),
        "{shown}"
    );
    assert!(
        shown.contains("api_token    → payments--billing-keys--api-token"),
        "{shown}"
    );
    assert!(shown.contains("Secret payments/secrets-store-creds: the CSI driver's own service-principal credentials"), "{shown}");
    assert!(
        shown.contains("+ Secret payments/billing-tls (kubernetes.io/tls, 2 keys)"),
        "{shown}"
    );
    assert!(shown.contains("Secret payments/billing-dump: Key Vault holds values of at most 25 KB; `dump` (30.0 KB) is larger as stored"), "{shown}");
    assert!(
        shown.contains("Secret payments/registry: used in imagePullSecrets"),
        "{shown}"
    );
    outputs.push(shown);
    outputs.push(repo.expect(
        2,
        &[
            "migrate",
            PLAN,
            "--namespace",
            "payments",
            "--format",
            "json",
        ],
    ));
    outputs.push(repo.expect(
        2,
        &[
            "migrate",
            PLAN,
            "--namespace",
            "payments",
            "--format",
            "markdown",
        ],
    ));

    // Copying before the vault exists is refused, and changes nothing.
    repo.test
        .write(PLAN, &format!("{}{OFFICER_GRANT}", repo.test.read(PLAN)));
    let before = repo.test.read(PLAN);
    repo.expect_error(
        1,
        &["migrate", PLAN, "--namespace", "payments", "--copy-values"],
        "does not exist yet",
    );
    assert_eq!(repo.test.read(PLAN), before);

    // Write the plan entries and patches, apply, copy the values.
    outputs.push(repo.expect(0, &["migrate", PLAN, "--namespace", "payments", "--write"]));
    let plan = repo.test.read(PLAN);
    assert!(plan.starts_with(&before), "--write only appends");
    assert!(plan.contains("[spc.payments-billing-keys]"), "{plan}");
    assert!(
        plan.contains(r#"alias = "signing.key", encoding = "base64""#),
        "{plan}"
    );
    outputs.push(repo.apply());
    let copy = repo.run(&["migrate", PLAN, "--namespace", "payments", "--copy-values"]);
    assert_eq!(copy.status.code(), Some(0), "{copy:?}");
    let copied = String::from_utf8_lossy(&copy.stderr).into_owned();
    assert!(
        copied.contains("Copied 6 of 6 values into Key Vault."),
        "{copied}"
    );
    outputs.push(copied);
    // Idempotent: the same values are left alone.
    let again = repo.run(&["migrate", PLAN, "--namespace", "payments", "--copy-values"]);
    let again = String::from_utf8_lossy(&again.stderr).into_owned();
    assert!(
        again.contains("Copied 0 of 6 values into Key Vault."),
        "{again}"
    );

    // The owners apply the patches with kubectl; the new pods mount the classes and run.
    for patch in ["deployment-payments-api", "deployment-billing"] {
        let path = repo
            .test
            .path()
            .join(format!("patches/aks-demo/payments/{patch}.yaml"));
        let text = std::fs::read_to_string(&path).unwrap();
        outputs.push(text);
        let name = patch.trim_start_matches("deployment-");
        kubectl.run(&[
            "patch",
            "deployment",
            name,
            "-n",
            "payments",
            "--patch-file",
            &path.display().to_string(),
        ]);
    }
    for (prefix, volume, key, value) in [
        (
            "payments-api-",
            "secrets-store-payments-db-legacy",
            "password",
            SEEDED_PASSWORD.as_bytes(),
        ),
        (
            "billing-",
            "secrets-store-billing-keys",
            "signing.key",
            &BINARY[..],
        ),
        (
            "billing-",
            "secrets-store-billing-keys",
            "api_token",
            CANARY.as_bytes(),
        ),
        (
            "billing-",
            "secrets-store-billing-tls",
            "tls.crt",
            TLS_CHAIN.as_bytes(),
        ),
    ] {
        let files = wait_for(
            &format!("{prefix} mounts {volume}"),
            || mounted_files(&repo, prefix).to_string(),
            |files| files.contains(volume),
        );
        let files: Value = serde_json::from_str(&files).unwrap();
        assert_eq!(files[format!("{volume}/{key}")], sha256(value), "{files}");
    }
    let pods = kubectl.run(&["get", "pods", "-n", "payments"]);
    assert!(
        pods.lines()
            .any(|l| l.starts_with("billing-") && l.contains("Running")),
        "{pods}"
    );

    // The synced Secret keeps the env vars working and comes from Key Vault now; nothing is
    // left to migrate; no workload mounts a native Secret in payments (CIS 4.5.2).
    let synced = kubectl.run(&[
        "get",
        "secret",
        "payments-db-legacy",
        "-n",
        "payments",
        "-o",
        "json",
    ]);
    let synced: Value = serde_json::from_str(&synced).unwrap();
    assert_eq!(
        synced["metadata"]["labels"]["secrets-store.csi.k8s.io/managed"],
        "true"
    );
    outputs.push(repo.expect(0, &["migrate", PLAN, "--namespace", "payments"]));
    let audit = repo.run(&["audit", PLAN, "--format", "json"]);
    let report: Value = serde_json::from_slice(&audit.stdout).unwrap();
    let files_check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "secrets-as-files")
        .unwrap();
    let native_in_payments =
        files_check["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|evidence| {
                evidence["namespace"] == "payments" && evidence["secret"]["origin"] == "native"
            });
    assert_eq!(native_in_payments.count(), 0, "{files_check}");

    // Finish: the three moved Secrets are retired (the driver's synced copies stand in their
    // place) and recorded in the state, without a value.
    let finished = repo.expect(0, &["migrate", PLAN, "--namespace", "payments", "--finish"]);
    assert!(
        finished.contains("Finished 3 Secrets; 0 kept."),
        "{finished}"
    );
    let state = repo.state();
    let record = &state["migrated"]["demo/payments/billing-keys"];
    assert_eq!(
        record["keys"]["signing.key"]["encoding"], "base64",
        "{state}"
    );
    outputs.push(finished);

    // Backout: destroy writes them back as native Secrets from Key Vault first; the pods keep
    // running, and the Secrets hold the original bytes.
    let destroyed = repo.expect(0, &["destroy", PLAN, "--auto-approve"]);
    assert!(
        destroyed
            .contains("Before destroying, vaultwire restores these native Secrets from Key Vault:"),
        "{destroyed}"
    );
    assert!(
        destroyed.contains("Restored Secret payments/billing-tls"),
        "{destroyed}"
    );
    outputs.push(destroyed);
    for (name, key, value) in [
        ("payments-db-legacy", "password", SEEDED_PASSWORD.as_bytes()),
        ("billing-keys", "signing.key", &BINARY[..]),
        ("billing-keys", "api_token", CANARY.as_bytes()),
        ("billing-tls", "tls.crt", TLS_CHAIN.as_bytes()),
    ] {
        let secret = kubectl.run(&["get", "secret", name, "-n", "payments", "-o", "json"]);
        let secret: Value = serde_json::from_str(&secret).unwrap();
        assert_eq!(secret["data"][key], b64(value), "{name}");
        assert!(
            secret["metadata"]["labels"]
                .get("secrets-store.csi.k8s.io/managed")
                .is_none()
        );
        assert!(secret["metadata"]["annotations"]["vaultwire.io/restored-from"].is_string());
    }
    let tls = kubectl.run(&[
        "get",
        "secret",
        "billing-tls",
        "-n",
        "payments",
        "-o",
        "jsonpath={.type}",
    ]);
    assert_eq!(tls, "kubernetes.io/tls");
    let pods = kubectl.run(&["get", "pods", "-n", "payments"]);
    for app in ["billing-", "payments-api-"] {
        assert!(
            pods.lines()
                .any(|l| l.starts_with(app) && l.contains("Running")),
            "{pods}"
        );
    }

    for text in outputs.iter().chain([
        &repo.test.read(PLAN),
        &repo.test.read("state/example.state.json"),
    ]) {
        for value in [SEEDED_PASSWORD, CANARY] {
            assert!(!text.contains(value), "a value leaked: {text}");
        }
    }
}

#[test]
fn finish_and_destroy_refuse_while_the_original_secret_is_still_in_use() {
    let repo = Repo::new();
    repo.expect(0, &["migrate", PLAN, "--namespace", "payments", "--write"]);
    repo.apply();
    // Without Key Vault Secrets Officer, copying says which role it needs, and copies nothing.
    repo.expect_error(
        1,
        &["migrate", PLAN, "--namespace", "payments", "--copy-values"],
        "copying values into key vault `kv-vaultwire-demo` needs the Key Vault Secrets Officer role",
    );
    repo.test
        .write(PLAN, &format!("{}{OFFICER_GRANT}", repo.test.read(PLAN)));
    repo.apply();
    repo.expect(
        0,
        &["migrate", PLAN, "--namespace", "payments", "--copy-values"],
    );

    // The Deployment is not patched: it still reads the original Secret natively.
    let kept = repo.expect_error(
        1,
        &["migrate", PLAN, "--namespace", "payments", "--finish"],
        "1 Secret was kept",
    );
    let out = repo.run(&["migrate", PLAN, "--namespace", "payments", "--finish"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Secret payments/payments-db-legacy: kept: still read by Deployment/payments-api without mounting SecretProviderClass `payments-db-legacy`"),
        "{stdout}\n{kept}"
    );
    assert!(repo.state().get("migrated").is_none());

    // The destroy would restore over the original, which vaultwire did not write: refused
    // before anything changes.
    let before = repo.test.read("state/example.state.json");
    repo.expect_error(
        1,
        &["destroy", PLAN, "--auto-approve"],
        "refusing to restore Secret `payments/payments-db-legacy` over a native Secret vaultwire did not write",
    );
    assert_eq!(repo.test.read("state/example.state.json"), before);
    assert!(
        repo.world()["vaults"]
            .to_string()
            .contains("kv-vaultwire-demo")
    );

    // With --force it replaces the original with the Key Vault values, which are the same.
    let destroyed = repo.expect(0, &["destroy", PLAN, "--auto-approve", "--force"]);
    assert!(
        destroyed.contains("replace a native Secret (--force)"),
        "{destroyed}"
    );
    let secret = repo.kubectl(&[
        "get",
        "secret",
        "payments-db-legacy",
        "-n",
        "payments",
        "-o",
        "json",
    ]);
    let secret: Value = serde_json::from_str(&secret).unwrap();
    assert_eq!(secret["data"]["password"], b64(SEEDED_PASSWORD.as_bytes()));
    assert!(secret["metadata"]["annotations"]["vaultwire.io/restored-from"].is_string());
}

#[test]
fn as_files_a_secret_volume_becomes_a_csi_volume_with_the_same_files() {
    let repo = Repo::new();
    let kubectl = kubectl(&repo);
    add_billing(&kubectl);
    repo.test
        .write(PLAN, &format!("{}{OFFICER_GRANT}", repo.test.read(PLAN)));
    let args = [
        "migrate",
        PLAN,
        "--namespace",
        "payments",
        "--secret",
        "billing-keys",
        "--as",
        "files",
    ];
    let shown = repo.expect(2, &args);
    assert!(
        shown.contains("volume `keys`: read SecretProviderClass `billing-keys` instead of Secret `billing-keys` (same files)"),
        "{shown}"
    );
    assert!(
        shown.contains("! owner: container `billing`: read `/etc/billing/api_token` instead of env var `API_TOKEN`"),
        "{shown}"
    );
    let mut write = args.to_vec();
    write.push("--write");
    repo.expect(0, &write);
    let plan = repo.test.read(PLAN);
    let added = &plan[plan.find("[spc.payments-billing-keys]").unwrap()..];
    assert!(
        !added.contains("sync = ["),
        "--as files recreates no Secret: {added}"
    );
    repo.apply();
    let mut copy = args.to_vec();
    copy.push("--copy-values");
    repo.expect(0, &copy);
    let path = repo
        .test
        .path()
        .join("patches/aks-demo/payments/deployment-billing.yaml");
    kubectl.run(&[
        "patch",
        "deployment",
        "billing",
        "-n",
        "payments",
        "--patch-file",
        &path.display().to_string(),
    ]);
    let template = kubectl.run(&[
        "get",
        "deployment",
        "billing",
        "-n",
        "payments",
        "-o",
        "jsonpath={.spec.template.spec.volumes[0]}",
    ]);
    let volume: Value = serde_json::from_str(&template).unwrap();
    assert_eq!(volume["name"], "keys");
    assert!(volume.get("secret").is_none(), "{volume}");
    assert_eq!(
        volume["csi"]["volumeAttributes"]["secretProviderClass"],
        "billing-keys"
    );
    // The same volume, at the same path, holds the same bytes.
    let files = wait_for(
        "billing mounts keys from Key Vault",
        || mounted_files(&repo, "billing-").to_string(),
        |files| files.contains("keys/signing.key") && !files.contains("secrets-store-"),
    );
    let files: Value = serde_json::from_str(&files).unwrap();
    assert_eq!(files["keys/signing.key"], sha256(&BINARY), "{files}");
    assert_eq!(
        files["keys/api_token"],
        sha256(CANARY.as_bytes()),
        "{files}"
    );

    // The env var still reads the original: --finish keeps it. Once the owner has the app
    // read the file instead, --finish deletes the original and records it.
    let mut finish = args.to_vec();
    finish.push("--finish");
    let kept = repo.run(&finish);
    assert_eq!(kept.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&kept.stdout)
            .contains("still read by Deployment/billing and the class does not recreate it"),
        "{kept:?}"
    );
    let owner_change = r#"[{"op": "remove", "path": "/spec/template/spec/containers/0/env/0"}]"#;
    kubectl.run(&[
        "patch",
        "deployment",
        "billing",
        "-n",
        "payments",
        "--type",
        "json",
        "-p",
        owner_change,
    ]);
    // Until the rollout has replaced the old pod, that pod still reads it.
    wait_for(
        "finish deletes billing-keys",
        || String::from_utf8_lossy(&repo.run(&finish).stdout).into_owned(),
        |out| {
            out.contains("Secret payments/billing-keys: deleted (its values are in Key Vault; recorded in the state)")
        },
    );
    let gone = kubectl.fail(&["get", "secret", "billing-keys", "-n", "payments"]);
    assert!(gone.contains("not found"), "{gone}");

    // The backout writes it back, byte for byte, from Key Vault.
    repo.expect(0, &["destroy", PLAN, "--auto-approve"]);
    let secret = kubectl.run(&[
        "get",
        "secret",
        "billing-keys",
        "-n",
        "payments",
        "-o",
        "json",
    ]);
    let secret: Value = serde_json::from_str(&secret).unwrap();
    assert_eq!(secret["data"]["signing.key"], b64(&BINARY));
    assert_eq!(secret["data"]["api_token"], b64(CANARY.as_bytes()));
    assert_eq!(secret["type"], "Opaque");
}
