//! The real kubectl against `vaultwire sandbox serve` (the binary, as a child process), with the
//! kubeconfig it writes — HTTPS with the sandbox CA and a bearer token — and kubectl's default
//! settings (aggregated discovery, server-side Tables, strict validation through OpenAPI v3):
//! the commands users and auditors run.

use crate::kubectl_driver::{Kubectl, rows};
use crate::served::Served;
use crate::support::Test;

/// A served sandbox and a kubectl using its `DIR/kubeconfig`. Keep it whole while the test
/// runs (no `..` destructuring, which would drop the server); the test directory goes last so
/// the server stops before its files disappear.
struct Setup {
    served: Served,
    kubectl: Kubectl,
    _test: Test,
}

fn seeded() -> Setup {
    let test = Test::new();
    let served = Served::start(&test);
    let kubectl = Kubectl::with_kubeconfig(&served.kubeconfig());
    Setup {
        served,
        kubectl,
        _test: test,
    }
}

/// The seeded cluster with the Key Vault add-on enabled through ARM, so its API serves
/// SecretProviderClasses.
fn with_addon() -> Setup {
    let setup = seeded();
    setup.served.enable_key_vault_addon();
    setup
}

/// `namespace/name` of every SecretProviderClass, as kubectl lists them.
fn secret_provider_classes(kubectl: &Kubectl) -> Vec<String> {
    kubectl
        .run(&[
            "get",
            "secretproviderclasses",
            "-A",
            "-o",
            r#"jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\n"}{end}"#,
        ])
        .lines()
        .map(str::to_owned)
        .collect()
}

const SPC: &str = r#"apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: payments-db
  namespace: payments
spec:
  provider: azure
  parameters:
    usePodIdentity: "false"
    keyvaultName: kv-vaultwire-demo
    tenantId: 7c1e5a3b-2d4f-4e6a-8b9c-0d1e2f3a4b5c
    objects: |
      array:
        - |
          objectName: db-password
          objectType: secret
  secretObjects:
    - secretName: payments-db
      type: Opaque
      data:
        - objectName: db-password
          key: password
"#;

fn apply_spc(kubectl: &Kubectl, name: &str, text: &str, extra: &[&str]) -> Result<String, String> {
    let path = kubectl.write(name, text);
    let path = path.to_str().expect("a UTF-8 temporary path");
    let mut args = vec!["apply", "--server-side", "-f", path];
    args.extend_from_slice(extra);
    let output = kubectl.command(&args).output().expect("run kubectl");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    match output.status.code() {
        Some(0) => Ok(stdout),
        Some(1) => Err(stderr),
        other => panic!("kubectl apply exited with {other:?}: {stdout}{stderr}"),
    }
}

#[test]
fn the_dispatcher_runs_kubectl_1_32_for_this_server() {
    let setup = seeded();
    let kubectl = &setup.kubectl;
    let version: serde_json::Value =
        serde_json::from_str(&kubectl.run(&["version", "-o", "json"])).expect("JSON");
    assert_eq!(version["serverVersion"]["gitVersion"], "v1.32.4");
    let client = version["clientVersion"]["gitVersion"]
        .as_str()
        .unwrap_or_default();
    assert!(
        client.starts_with("v1.32."),
        "the dispatcher chose {client}"
    );
}

#[test]
fn get_namespaces() {
    let setup = seeded();
    let kubectl = &setup.kubectl;
    let table = rows(&kubectl.run(&["get", "ns"]));
    assert_eq!(table[0], ["NAME", "STATUS", "AGE"]);
    let namespaces: Vec<(&str, &str)> = table[1..]
        .iter()
        .map(|row| (row[0].as_str(), row[1].as_str()))
        .collect();
    assert_eq!(
        namespaces,
        [
            ("default", "Active"),
            ("kube-node-lease", "Active"),
            ("kube-public", "Active"),
            ("kube-system", "Active"),
            ("payments", "Active"),
            ("shop", "Active"),
        ]
    );
}

#[test]
fn get_secrets_in_all_namespaces_shows_the_servers_columns() {
    let setup = seeded();
    let kubectl = &setup.kubectl;
    let table = rows(&kubectl.run(&["get", "secrets", "--all-namespaces"]));
    assert_eq!(table[0], ["NAMESPACE", "NAME", "TYPE", "DATA", "AGE"]);
    let row = |name: &str| {
        table
            .iter()
            .find(|row| row[1] == name)
            .map(|row| row[..4].join(" "))
            .unwrap_or_default()
    };
    assert_eq!(
        row("registry-creds"),
        "shop registry-creds kubernetes.io/dockerconfigjson 1"
    );
    assert_eq!(
        row("shop-deployer-token"),
        "shop shop-deployer-token kubernetes.io/service-account-token 3"
    );
    assert_eq!(table.len(), 13, "twelve seeded Secrets and the header");
}

#[test]
fn get_pods_in_all_namespaces_shows_readiness_and_status() {
    let setup = seeded();
    let kubectl = &setup.kubectl;
    let table = rows(&kubectl.run(&["get", "pods", "-A"]));
    assert_eq!(
        table[0],
        ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    );
    let find = |name: &str| {
        table
            .iter()
            .find(|row| row[1] == name)
            .map(|row| row[..5].to_vec())
            .unwrap_or_default()
    };
    assert_eq!(
        find("payments-worker"),
        [
            "payments",
            "payments-worker",
            "0/1",
            "ContainerCreating",
            "0"
        ]
    );
    assert_eq!(
        find("shop-cache-0"),
        ["shop", "shop-cache-0", "1/1", "Running", "0"]
    );
}

#[test]
fn secret_provider_classes_are_served_once_the_addon_is_enabled_through_arm() {
    let setup = seeded();
    let (served, kubectl) = (&setup.served, &setup.kubectl);
    let error = kubectl.fail(&["get", "secretproviderclasses", "-A"]);
    assert!(
        error.contains("the server doesn't have a resource type \"secretproviderclasses\""),
        "{error}"
    );
    served.enable_key_vault_addon();
    let applied = apply_spc(kubectl, "spc.yaml", SPC, &[]).expect("apply succeeds");
    assert_eq!(
        applied,
        "secretproviderclass.secrets-store.csi.x-k8s.io/payments-db serverside-applied\n"
    );
    let paths: Vec<String> = served
        .journal()
        .iter()
        .map(|entry| {
            format!(
                "{} {}",
                entry["method"].as_str().unwrap_or_default(),
                entry["path"].as_str().unwrap_or_default()
            )
        })
        .collect();
    let api = "/k8s/clusters/aks-demo";
    assert!(
        paths.contains(&format!(
            "GET {api}/openapi/v3/apis/secrets-store.csi.x-k8s.io/v1"
        )),
        "kubectl validated against the schema: {paths:#?}"
    );
    assert!(
        paths.contains(&format!(
            "PATCH {api}/apis/secrets-store.csi.x-k8s.io/v1/namespaces/payments/secretproviderclasses/payments-db"
        )),
        "{paths:#?}"
    );
    assert_eq!(secret_provider_classes(kubectl), ["payments/payments-db"]);
}

#[test]
fn get_secret_provider_classes_as_yaml() {
    let setup = with_addon();
    let kubectl = &setup.kubectl;
    apply_spc(kubectl, "spc.yaml", SPC, &[]).expect("apply succeeds");
    let listed: serde_json::Value =
        serde_norway::from_str(&kubectl.run(&["get", "secretproviderclasses", "-A", "-o", "yaml"]))
            .expect("YAML");
    assert_eq!(listed["kind"], "List");
    let item = &listed["items"][0];
    assert_eq!(item["apiVersion"], "secrets-store.csi.x-k8s.io/v1");
    assert_eq!(item["metadata"]["namespace"], "payments");
    assert_eq!(
        item["spec"]["parameters"]["keyvaultName"],
        "kv-vaultwire-demo"
    );
    assert_eq!(
        item["spec"]["secretObjects"][0]["data"][0]["key"],
        "password"
    );
    assert!(
        item["metadata"].get("managedFields").is_none(),
        "kubectl hides managed fields"
    );
    let table = rows(&kubectl.run(&["get", "secretproviderclasses", "-A"]));
    assert_eq!(table[0], ["NAMESPACE", "NAME", "AGE"]);
}

#[test]
fn a_second_field_manager_conflicts_until_it_forces() {
    let setup = with_addon();
    let kubectl = &setup.kubectl;
    apply_spc(kubectl, "spc.yaml", SPC, &[]).expect("apply succeeds");
    let other = SPC.replace("kv-vaultwire-demo", "kv-other");
    let error = apply_spc(kubectl, "other.yaml", &other, &["--field-manager=other"])
        .expect_err("a conflict");
    assert!(
        error.starts_with("error: Apply failed with 1 conflict: conflict with \"kubectl\": .spec.parameters.keyvaultName\n"),
        "{error}"
    );
    assert!(error.contains("--force-conflicts"), "{error}");
    apply_spc(
        kubectl,
        "other.yaml",
        &other,
        &["--field-manager=other", "--force-conflicts"],
    )
    .expect("forced");
    let vault = kubectl.run(&[
        "get",
        "secretproviderclass",
        "payments-db",
        "-n",
        "payments",
        "-o",
        "jsonpath={.spec.parameters.keyvaultName}",
    ]);
    assert_eq!(vault, "kv-other");
}

#[test]
fn strict_validation_rejects_unknown_fields() {
    let setup = with_addon();
    let kubectl = &setup.kubectl;
    let typo = SPC.replace("  parameters:", "  paramaters:");
    let error = apply_spc(kubectl, "typo.yaml", &typo, &[]).expect_err("rejected");
    assert!(
        error.contains(".spec.paramaters: field not declared in schema"),
        "{error}"
    );
}

#[test]
fn delete_removes_a_secret_provider_class_at_once() {
    let setup = with_addon();
    let kubectl = &setup.kubectl;
    apply_spc(kubectl, "spc.yaml", SPC, &[]).expect("apply succeeds");
    let deleted = kubectl.run(&[
        "delete",
        "secretproviderclass",
        "payments-db",
        "-n",
        "payments",
    ]);
    assert_eq!(
        deleted,
        "secretproviderclass.secrets-store.csi.x-k8s.io \"payments-db\" deleted\n"
    );
    assert!(secret_provider_classes(kubectl).is_empty());
    let error = kubectl.fail(&[
        "delete",
        "secretproviderclass",
        "payments-db",
        "-n",
        "payments",
    ]);
    assert_eq!(
        error,
        "Error from server (NotFound): secretproviderclasses.secrets-store.csi.x-k8s.io \"payments-db\" not found\n"
    );
}

#[test]
fn the_kube_bench_audit_finds_secrets_in_environment_variables() {
    let setup = seeded();
    let kubectl = &setup.kubectl;
    let found = kubectl.run(&[
        "get",
        "all",
        "-A",
        "-o",
        r#"jsonpath={range .items[?(@..secretKeyRef)]}{.kind} {.metadata.name}{"\n"}{end}"#,
    ]);
    let mut lines: Vec<&str> = found.lines().collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            "DaemonSet log-agent",
            "Deployment payments-api",
            "Deployment shop-api",
            "Pod log-agent-tq8zb",
            "Pod payments-api-7d9c6b8f4d-q2xkz",
            "Pod shop-api-6b7d5f9c8b-n4rwd",
            "ReplicaSet payments-api-7d9c6b8f4d",
            "ReplicaSet shop-api-6b7d5f9c8b",
        ]
    );
}

const MOUNTING_POD: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: worker
  namespace: payments
spec:
  containers:
    - name: app
      image: busybox:1.36
      volumeMounts: [{name: secrets, mountPath: /mnt/secrets, readOnly: true}]
  volumes:
    - name: secrets
      csi:
        driver: secrets-store.csi.k8s.io
        readOnly: true
        volumeAttributes: {secretProviderClass: payments-db}
"#;

/// A pod whose SecretProviderClass does not exist waits as on AKS: `kubectl get pods` shows
/// `ContainerCreating`, and `kubectl describe pod` and `kubectl get events` the kubelet's
/// FailedMount with the driver's message.
#[test]
fn a_pod_that_cannot_mount_its_class_shows_failed_mount_events() {
    let setup = with_addon();
    let kubectl = &setup.kubectl;
    let manifest = kubectl.write("pod.yaml", MOUNTING_POD);
    kubectl.run(&["apply", "-f", &manifest.to_string_lossy()]);
    let pods = kubectl.run(&["get", "pod", "worker", "-n", "payments"]);
    let status = rows(&pods);
    assert_eq!(status[1][1..3], ["0/1", "ContainerCreating"], "{pods}");
    let describe = kubectl.run(&["describe", "pod", "worker", "-n", "payments"]);
    assert!(
        describe.contains("Reason:       ContainerCreating"),
        "{describe}"
    );
    assert!(describe.contains("Warning  FailedMount"), "{describe}");
    assert!(
        describe.contains("MountVolume.SetUp failed for volume \"secrets\" : rpc error: code = Unknown desc = failed to get secretproviderclass payments/payments-db"),
        "{describe}"
    );
    let events = kubectl.run(&["get", "events", "-n", "payments"]);
    let failed: Vec<Vec<String>> = rows(&events)
        .into_iter()
        .filter(|row| row.get(3).map(String::as_str) == Some("pod/worker"))
        .collect();
    assert_eq!(failed.len(), 1, "{events}");
    assert_eq!(failed[0][1..3], ["Warning", "FailedMount"], "{events}");
}
