//! The pod gets its secret: the seeded `payments-worker` mounts the SecretProviderClass
//! `plans/example.toml` creates. Before apply it waits in `ContainerCreating` (no CSI driver on
//! the node); after apply it still waits (the values are not in the vault); once a team puts
//! them there it runs, with exactly those values in its files — checked by their hashes, as the
//! sandbox keeps no value. Driven by the real binary and the real kubectl.

use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::kubectl_driver::{Kubectl, rows, wait_for};
use crate::repo_support::Repo;

/// The pod's STATUS column, as `kubectl get pod` shows it.
fn status(kubectl: &Kubectl) -> String {
    let output = kubectl.run(&["get", "pod", "payments-worker", "-n", "payments"]);
    rows(&output)
        .get(1)
        .and_then(|row| row.get(2))
        .cloned()
        .unwrap_or_default()
}

fn describe(kubectl: &Kubectl) -> String {
    kubectl.run(&["describe", "pod", "payments-worker", "-n", "payments"])
}

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[test]
fn the_seeded_worker_runs_once_the_plan_is_applied_and_its_values_are_in_the_vault() {
    let repo = Repo::new();
    let kubeconfig = repo.test.write(
        "kubeconfig",
        &repo.sandbox.kubeconfig(Duration::from_secs(3600)).unwrap(),
    );
    let kubectl = Kubectl::with_kubeconfig(&kubeconfig);

    assert_eq!(status(&kubectl), "ContainerCreating");
    let before = describe(&kubectl);
    assert!(
        before.contains(
            "driver name secrets-store.csi.k8s.io not found in the list of registered CSI drivers"
        ),
        "{before}"
    );

    repo.apply();
    let applied = wait_for(
        "the worker reports the missing values",
        || describe(&kubectl),
        |text| text.contains("ERROR CODE: SecretNotFound"),
    );
    assert!(
        applied.contains("objectName:db-password, objectVersion:: GET https://kv-vaultwire-demo.vault.azure.net/secrets/db-password/"),
        "{applied}"
    );
    assert_eq!(status(&kubectl), "ContainerCreating");

    repo.set_secrets(&["db-password", "db-username"]);
    wait_for(
        "the worker runs",
        || status(&kubectl),
        |status| status == "Running",
    );
    let http = crate::sandbox_support::client_for(repo.sandbox.ca_pem());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mounts: Value = runtime.block_on(async {
        let response = http
            .get(format!("{}/_sandbox/mounts", repo.sandbox.endpoint()))
            .send()
            .await
            .unwrap();
        crate::sandbox_support::reply(response)
            .await
            .expect(200)
            .body
    });
    let worker = mounts["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|mount| mount["pod"] == "payments-worker")
        .expect("the worker's mount");
    assert_eq!(
        worker["files"],
        serde_json::json!({
            "secrets-store/db-password": sha256("not-a-real-db-password"),
            "secrets-store/db-username": sha256("not-a-real-db-username"),
        })
    );

    // The plan's `sync` table: the driver keeps the Secret `payments-db` while the pod mounts
    // the class, with the keys the plan maps the objects to.
    let synced: Value = serde_json::from_str(&kubectl.run(&[
        "get",
        "secret",
        "payments-db",
        "-n",
        "payments",
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(
        synced["metadata"]["labels"]["secrets-store.csi.k8s.io/managed"],
        "true"
    );
    let decoded = |key: &str| {
        use base64::Engine as _;
        let encoded = synced["data"][key].as_str().unwrap_or_default();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        sha256(&String::from_utf8(bytes).unwrap())
    };
    assert_eq!(decoded("password"), sha256("not-a-real-db-password"));
    assert_eq!(decoded("username"), sha256("not-a-real-db-username"));

    // No pod mounts the class any more: the synced Secret goes with it.
    kubectl.run(&["delete", "pod", "payments-worker", "-n", "payments"]);
    let gone = kubectl.fail(&["get", "secret", "payments-db", "-n", "payments"]);
    assert!(
        gone.contains("NotFound") || gone.contains("not found"),
        "{gone}"
    );
}

/// The report of `vaultwire audit plans/example.toml --format json`, with exit code `code`.
fn audit(repo: &Repo, code: i32) -> Value {
    let text = repo.expect(code, &["audit", "plans/example.toml", "--format", "json"]);
    serde_json::from_str(&text).expect("the report is JSON")
}

/// The check `id` on the payments class.
fn payments_check(report: &Value, id: &str) -> Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["id"] == id && check["subject"] == "aks-demo/payments/payments-db")
        .cloned()
        .unwrap_or_else(|| panic!("no {id} check: {report}"))
}

#[test]
fn a_grant_deleted_out_of_band_stops_new_pods_and_the_audit_says_why() {
    let repo = Repo::new();
    let kubeconfig = repo.test.write(
        "kubeconfig",
        &repo.sandbox.kubeconfig(Duration::from_secs(3600)).unwrap(),
    );
    let kubectl = Kubectl::with_kubeconfig(&kubeconfig);
    repo.apply();
    repo.set_secrets(&["db-password", "db-username"]);
    wait_for(
        "the worker runs",
        || status(&kubectl),
        |status| status == "Running",
    );

    let id = repo.state()["resources"]["grant.demo-reads-payments"]["id"].clone();
    repo.drift("delete-role-assignment", serde_json::json!({"id": id}));
    // The running pod keeps its files; a new one cannot get them.
    let manifest = kubectl.run(&[
        "get",
        "pod",
        "payments-worker",
        "-n",
        "payments",
        "-o",
        "json",
    ]);
    let mut pod: Value = serde_json::from_str(&manifest).unwrap();
    pod["metadata"] = serde_json::json!({"name": "payments-worker-2", "namespace": "payments"});
    pod.as_object_mut().unwrap().remove("status");
    let file = repo.test.write("worker-2.json", &pod.to_string());
    kubectl.run(&["apply", "-f", &file.display().to_string()]);
    let events = wait_for(
        "the new pod fails to mount",
        || kubectl.run(&["describe", "pod", "payments-worker-2", "-n", "payments"]),
        |text| text.contains("ForbiddenByRbac"),
    );
    assert!(events.contains("FailedMount"), "{events}");

    let report = audit(&repo, 4);
    let grant = payments_check(&report, "spc-grant");
    assert_eq!(grant["status"], "fail", "{grant}");
    let mounts = payments_check(&report, "spc-pods-mount");
    assert_eq!(mounts["status"], "fail", "{mounts}");
    let evidence = mounts["evidence"].as_array().unwrap();
    assert_eq!(evidence.len(), 1, "{mounts}");
    assert_eq!(evidence[0]["name"], "payments-worker-2");
    let detail = evidence[0]["detail"].as_str().unwrap();
    assert!(detail.contains("ForbiddenByRbac"), "{detail}");
}

#[test]
fn a_vault_firewall_that_shuts_out_the_nodes_is_found_before_any_pod_fails() {
    let repo = Repo::new();
    repo.apply();
    // The team locks the vault down to its office range and forgets the cluster.
    let plan = std::fs::read_to_string(repo.test.path().join("plans/example.toml")).unwrap();
    let locked = plan.replacen(
        "[vault.payments]\n",
        "[vault.payments]\nnetwork_acls = { default_action = \"Deny\", ip_rules = [\"203.0.113.0/24\"] }\n",
        1,
    );
    assert_ne!(plan, locked, "the example names [vault.payments]");
    repo.test.write("plans/example.toml", &locked);
    repo.apply();

    let report = audit(&repo, 4);
    let network = payments_check(&report, "spc-vault-network");
    assert_eq!(network["status"], "fail", "{network}");
    let detail = network["evidence"][0]["detail"].as_str().unwrap();
    let outbound = repo.cluster()["properties"]["networkProfile"]["loadBalancerProfile"]
        ["effectiveOutboundIPs"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!outbound.is_empty());
    assert!(
        detail.starts_with("the cluster's outbound IP 20."),
        "{detail}"
    );
    assert!(detail.ends_with("is in no IP rule"), "{detail}");
    // vaultwire's own machine is outside the firewall too: the objects are not listed.
    let objects = payments_check(&report, "spc-objects");
    assert_eq!(objects["status"], "skip", "{objects}");
    assert!(
        objects["message"]
            .as_str()
            .unwrap()
            .contains("Client address is not authorized"),
        "{objects}"
    );
}

#[test]
fn apply_warns_about_a_class_whose_pods_cannot_mount_it_and_still_succeeds() {
    let repo = Repo::new();
    let applied = repo.apply();
    assert!(
        applied.contains("Warning: spc.payments-db: pod payments/payments-worker cannot mount it: MountVolume.SetUp failed for volume \"secrets-store\""),
        "{applied}"
    );
    assert!(
        applied.contains("(SecretNotFound), seen 1 time(s)"),
        "{applied}"
    );
    assert!(!applied.contains("spc.shop-api: pod"), "{applied}");
    assert!(
        applied
            .trim_end()
            .ends_with("Apply complete! Resources: 4 added, 1 changed, 0 destroyed."),
        "{applied}"
    );

    // With the values in the vault the pod runs; a class created again finds it running.
    repo.set_secrets(&["db-password", "db-username"]);
    let kubeconfig = repo.test.write(
        "kubeconfig",
        &repo.sandbox.kubeconfig(Duration::from_secs(3600)).unwrap(),
    );
    let kubectl = Kubectl::with_kubeconfig(&kubeconfig);
    wait_for(
        "the worker runs",
        || status(&kubectl),
        |status| status == "Running",
    );
    kubectl.run(&[
        "delete",
        "secretproviderclass",
        "payments-db",
        "-n",
        "payments",
    ]);
    let again = repo.apply();
    assert!(again.contains("1 added"), "{again}");
    assert!(!again.contains("Warning"), "{again}");
}

#[test]
fn a_deployment_applied_with_kubectl_gets_pods_that_mount_the_class() {
    let repo = Repo::new();
    repo.apply();
    repo.set_secrets(&["db-password", "db-username"]);
    let kubeconfig = repo.test.write(
        "kubeconfig",
        &repo.sandbox.kubeconfig(Duration::from_secs(3600)).unwrap(),
    );
    let kubectl = Kubectl::with_kubeconfig(&kubeconfig);
    let manifest = kubectl.write(
        "reader.yaml",
        "apiVersion: apps/v1
kind: Deployment
metadata: {name: reader, namespace: payments}
spec:
  replicas: 2
  selector: {matchLabels: {app: reader}}
  template:
    metadata: {labels: {app: reader}}
    spec:
      containers:
        - name: reader
          image: busybox:1.36
          volumeMounts: [{name: secrets, mountPath: /mnt/secrets, readOnly: true}]
      volumes:
        - name: secrets
          csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: payments-db}}
",
    );
    kubectl.run(&["apply", "-f", &manifest.display().to_string()]);
    let pods = || {
        kubectl.run(&[
            "get",
            "pods",
            "-n",
            "payments",
            "-l",
            "app=reader",
            "--no-headers",
        ])
    };
    let running = wait_for("both replicas run", pods, |text| {
        text.lines().filter(|line| line.contains("Running")).count() == 2
    });
    assert!(
        running.lines().all(|line| line.starts_with("reader-")),
        "{running}"
    );
    let sets = kubectl.run(&[
        "get",
        "rs",
        "-n",
        "payments",
        "-l",
        "app=reader",
        "--no-headers",
    ]);
    assert_eq!(sets.lines().count(), 1, "{sets}");

    kubectl.run(&["delete", "deployment", "reader", "-n", "payments"]);
    wait_for("the replicas are gone", pods, |text| text.trim().is_empty());
}

#[test]
fn the_audit_finds_a_workload_identity_that_does_not_trust_the_pods_service_account() {
    let repo = Repo::new();
    let identity_path = format!(
        "/subscriptions/{}/resourceGroups/rg-demo/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-payments",
        vaultwire_sandbox::ids::SUBSCRIPTION_ID
    );
    let identity = repo.arm_put(
        &format!("{identity_path}?api-version=2023-01-31"),
        serde_json::json!({"location": "westeurope"}),
    );
    let client_id = identity["properties"]["clientId"].as_str().unwrap();
    let plan = std::fs::read_to_string(repo.test.path().join("plans/example.toml")).unwrap();
    // The first class of the example is `payments-db`.
    let federated = plan.replacen(
        "identity = { addon = \"demo\" }",
        &format!("identity = {{ workload_identity_client_id = \"{client_id}\" }}"),
        1,
    );
    assert_ne!(plan, federated);
    repo.test.write("plans/example.toml", &federated);
    repo.apply();

    // The seeded worker runs as `default`; nothing trusts it yet.
    let report = audit(&repo, 4);
    let check = payments_check(&report, "spc-federation");
    assert_eq!(check["status"], "fail", "{check}");
    assert_eq!(
        check["evidence"][0]["detail"],
        "service account `default` (pods payments-worker) is trusted by no federated credential"
    );

    let cluster = repo.cluster();
    let issuer = cluster["properties"]["oidcIssuerProfile"]["issuerURL"]
        .as_str()
        .unwrap();
    repo.arm_put(
        &format!("{identity_path}/federatedIdentityCredentials/payments-default?api-version=2023-01-31"),
        serde_json::json!({"properties": {"issuer": issuer, "subject": "system:serviceaccount:payments:default", "audiences": ["api://AzureADTokenExchange"]}}),
    );
    let report = audit(&repo, 4);
    let check = payments_check(&report, "spc-federation");
    assert_eq!(check["status"], "pass", "{check}");
}
