//! Workload identity end to end, with the real binary, the real kubectl and the sandbox:
//! `plans/workload-identity.toml` creates a managed identity, federates it with
//! `payments/payments-api`, grants it the vault and names it in a SecretProviderClass — and a
//! pod running as that service account gets its file, while one running as another is refused
//! by Entra and fails the audit. `kubectl create token` issues the same token by hand.

use std::time::Duration;

use serde_json::{Value, json};

use crate::kubectl_driver::{Kubectl, wait_for};
use crate::repo_support::Repo;
use crate::sandbox_support::{client_for, form_body, jwt_part, proxied_client_for, reply};
use vaultwire::sandbox::ids;

const PLAN: &str = include_str!("../../plans/workload-identity.toml");
const PLAN_PATH: &str = "plans/workload-identity.toml";
const VAULT: &str = "kv-vaultwire-wi";

/// A repository holding the workload-identity plan, and a kubectl for `aks-demo`.
fn repo() -> (Repo, Kubectl) {
    let repo = Repo::new();
    repo.test.write(PLAN_PATH, PLAN);
    let kubeconfig = repo.test.write(
        "kubeconfig",
        &repo.sandbox.kubeconfig(Duration::from_secs(3600)).unwrap(),
    );
    (repo, Kubectl::with_kubeconfig(&kubeconfig))
}

fn apply(repo: &Repo) -> String {
    repo.expect(0, &["apply", PLAN_PATH, "--auto-approve"])
}

/// The ServiceAccount `name` in `payments` (`kubectl create serviceaccount` sends protobuf).
fn create_account(kubectl: &Kubectl, name: &str) {
    let account = json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": name, "namespace": "payments"}});
    let file = kubectl.write(&format!("{name}-account.json"), &account.to_string());
    kubectl.run(&["apply", "-f", &file.display().to_string()]);
}

/// A pod `name` in `payments` running as `account`, mounting the class `payments-api`.
fn start_pod(kubectl: &Kubectl, name: &str, account: &str) {
    create_account(kubectl, account);
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "payments"},
        "spec": {
            "serviceAccountName": account,
            "containers": [{"name": "app", "image": "busybox", "volumeMounts": [
                {"name": "secrets", "mountPath": "/mnt/secrets", "readOnly": true}]}],
            "volumes": [{"name": "secrets", "csi": {
                "driver": "secrets-store.csi.k8s.io", "readOnly": true,
                "volumeAttributes": {"secretProviderClass": "payments-api"}}}]}});
    let file = kubectl.write(&format!("{name}-pod.json"), &pod.to_string());
    kubectl.run(&["apply", "-f", &file.display().to_string()]);
}

fn phase(kubectl: &Kubectl, pod: &str) -> String {
    kubectl.run(&[
        "get",
        "pod",
        pod,
        "-n",
        "payments",
        "-o",
        "jsonpath={.status.phase}",
    ])
}

/// The check `id` of the class `payments-api` in `vaultwire audit --format json`.
fn audit_check(repo: &Repo, code: i32, id: &str) -> Value {
    let text = repo.expect(code, &["audit", PLAN_PATH, "--format", "json"]);
    let report: Value = serde_json::from_str(&text).expect("the report is JSON");
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["id"] == id && check["subject"] == "aks-demo/payments/payments-api")
        .cloned()
        .unwrap_or_else(|| panic!("no {id} check: {report}"))
}

#[test]
fn a_pod_of_the_federated_service_account_mounts_and_another_fails_the_audit() {
    let (repo, kubectl) = repo();
    apply(&repo);
    repo.expect(0, &["plan", PLAN_PATH, "--detailed-exitcode"]);
    repo.set_secrets_in(VAULT, &["db-password"]);

    // The identity's client ID is in the class, as the provider reads it.
    let client_id = identity_client_id(&repo);
    let class = kubectl.run(&[
        "get",
        "secretproviderclass",
        "payments-api",
        "-n",
        "payments",
        "-o",
        "jsonpath={.spec.parameters.clientID}",
    ]);
    assert_eq!(class, client_id);

    start_pod(&kubectl, "payments-api", "payments-api");
    wait_for(
        "the pod runs",
        || phase(&kubectl, "payments-api"),
        |phase| phase == "Running",
    );
    // The seeded cluster's other workloads fail the audit (exit code 4) whatever this plan does.
    let federation = audit_check(&repo, 4, "spc-federation");
    assert_eq!(federation["status"], "pass", "{federation}");
    for id in [
        "spc-matches-plan",
        "spc-identity",
        "spc-grant",
        "spc-pods-mount",
    ] {
        let check = audit_check(&repo, 4, id);
        assert_eq!(check["status"], "pass", "{check}");
    }

    // The same pod on another service account: Entra refuses its token, the kubelet says so,
    // and the audit names the pod, its account and what the identity trusts.
    start_pod(&kubectl, "payments-api-2", "payments-batch");
    let described = wait_for(
        "the pod on another service account fails to mount",
        || kubectl.run(&["describe", "pod", "payments-api-2", "-n", "payments"]),
        |text| text.contains("FailedMount"),
    );
    assert!(described.contains("AADSTS700213"), "{described}");
    let federation = audit_check(&repo, 4, "spc-federation");
    assert_eq!(federation["status"], "fail", "{federation}");
    // `plan` warns about it too, before anything is applied: nothing to change, one warning.
    let planned = repo.expect(0, &["plan", PLAN_PATH, "--detailed-exitcode"]);
    assert!(
        planned.contains(
            "spc.payments-api: pod payments/payments-api-2 runs as service account `payments-batch`, but identity `payments` trusts `payments-api` there"
        ),
        "{planned}"
    );
    assert!(
        !planned.contains("pod payments/payments-api runs"),
        "{planned}"
    );
    let text = federation.to_string();
    assert!(text.contains("payments-batch"), "{text}");
    assert!(text.contains("payments-api-2"), "{text}");
}

/// The identity's client ID, as the state records it.
fn identity_client_id(repo: &Repo) -> String {
    let state =
        serde_json::from_str::<Value>(&repo.test.read("state/workload-identity.state.json"))
            .unwrap();
    state["resources"]["identity.payments"]["derived"]["client_id"]
        .as_str()
        .expect("the identity's client ID is recorded")
        .to_owned()
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// Entra's answer (status, body) to `assertion` presented as `client_id`'s client assertion
/// for a Key Vault token, as azidentity's ClientAssertionCredential sends it.
fn exchange(repo: &Repo, client_id: &str, assertion: &str) -> (u16, Value) {
    let http = client_for(repo.sandbox.ca_pem());
    let url = format!(
        "{}/{}/oauth2/v2.0/token",
        repo.sandbox.endpoint(),
        ids::TENANT_ID
    );
    let body = form_body([
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
        ("scope", "https://vault.azure.net/.default"),
    ]);
    let request = http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    let answer = block_on(async { reply(request.send().await.unwrap()).await });
    (answer.status, answer.body)
}

#[test]
fn kubectl_create_token_is_exchanged_by_entra_for_the_federated_account_only() {
    let (repo, kubectl) = repo();
    apply(&repo);
    create_account(&kubectl, "payments-api");
    create_account(&kubectl, "payments-batch");
    let issuer = repo.cluster()["properties"]["oidcIssuerProfile"]["issuerURL"]
        .as_str()
        .expect("the plan turns the OIDC issuer on")
        .to_owned();

    let create_token = |account: &str| {
        let args = [
            "create",
            "token",
            account,
            "-n",
            "payments",
            "--audience",
            "api://AzureADTokenExchange",
        ];
        kubectl.run(&args).trim().to_owned()
    };
    let token = create_token("payments-api");
    let claims = jwt_part(&token, 1);
    assert_eq!(claims["iss"], issuer.as_str(), "{claims}");
    assert_eq!(claims["sub"], "system:serviceaccount:payments:payments-api");
    assert_eq!(claims["aud"], "api://AzureADTokenExchange");
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 3600, "{claims}");
    // The issuer publishes the key that signed it, where Entra looks for it.
    let kid = jwt_part(&token, 0)["kid"].clone();
    let proxied = proxied_client_for(repo.sandbox.ca_pem(), repo.sandbox.endpoint());
    let jwks = block_on(async {
        let response = proxied
            .get(format!("{issuer}openid/v1/jwks"))
            .send()
            .await
            .unwrap();
        reply(response).await.expect(200).body
    });
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|key| key["kid"] == kid),
        "{jwks}"
    );

    let client_id = identity_client_id(&repo);
    let (status, body) = exchange(&repo, &client_id, &token);
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string(), "{body}");

    let (status, body) = exchange(&repo, &client_id, &create_token("payments-batch"));
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error_codes"], json!([700213]), "{body}");
    let error = body["error_description"].as_str().unwrap_or_default();
    assert!(
        error.contains("'system:serviceaccount:payments:payments-batch'"),
        "{body}"
    );

    // What the API server checks itself, through kubectl's protobuf body.
    let stderr = kubectl.fail(&["create", "token", "nobody", "-n", "payments"]);
    assert_eq!(
        stderr.trim(),
        "error: failed to create token: serviceaccounts \"nobody\" not found"
    );
    let stderr = kubectl.fail(&[
        "create",
        "token",
        "payments-api",
        "-n",
        "payments",
        "--duration=5m",
    ]);
    assert_eq!(
        stderr.trim(),
        "error: failed to create token: TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes"
    );
}

#[test]
fn a_21st_federation_of_one_identity_is_refused_before_anything_runs() {
    let (repo, _) = repo();
    let mut plan = PLAN.to_owned();
    for n in 1..=20 {
        plan.push_str(&format!(
            "\n[federation.batch-{n:02}]\nidentity = \"payments\"\naddon = \"demo\"\nnamespace = \"payments\"\nservice_account = \"batch-{n:02}\"\n"
        ));
    }
    repo.test.write("plans/many.toml", &plan);
    let stderr = repo.expect_error(
        1,
        &["validate", "plans/many.toml"],
        "identity `payments` has 21 federations; `federation.batch-20` is the 21st",
    );
    assert!(
        stderr.contains("Azure allows 20 federated credentials"),
        "{stderr}"
    );
}

#[test]
fn federations_of_one_identity_are_written_one_at_a_time() {
    // With latency every write overlaps another unless vaultwire serializes them: the sandbox
    // then refuses with ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity.
    let repo = Repo::with_options(vaultwire::sandbox::SandboxOptions {
        faults: vaultwire::sandbox::Faults {
            latency: Duration::from_millis(60),
            ..Default::default()
        },
        ..Default::default()
    });
    let mut plan = PLAN.to_owned();
    for n in 1..=4 {
        plan.push_str(&format!(
            "\n[federation.batch-{n}]\nidentity = \"payments\"\naddon = \"demo\"\nnamespace = \"payments\"\nservice_account = \"batch-{n}\"\n"
        ));
    }
    repo.test.write(PLAN_PATH, &plan);
    let out = repo.expect(
        0,
        &["apply", PLAN_PATH, "--auto-approve", "--parallelism", "10"],
    );
    assert!(out.contains("Resources: 9 added"), "{out}");
    let journal = repo.sandbox.journal();
    let refused = journal.iter().filter(|entry| entry.status == 409).count();
    assert_eq!(refused, 0, "a credential write was refused");
}

#[test]
fn destroy_leaves_nothing_and_an_identity_deleted_out_of_band_is_repaired() {
    let (repo, _) = repo();
    apply(&repo);
    let state = |repo: &Repo| {
        serde_json::from_str::<Value>(&repo.test.read("state/workload-identity.state.json"))
            .unwrap()
    };
    let before = state(&repo);
    let identity_id = before["resources"]["identity.payments"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let old_principal = before["resources"]["identity.payments"]["derived"]["principal_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Someone deletes the identity in the portal: its credential goes with it, the role
    // assignment to its principal stays behind, dangling.
    repo.drift("delete-identity", json!({"id": identity_id}));
    let planned = repo.expect(2, &["plan", PLAN_PATH, "--detailed-exitcode"]);
    for line in [
        "identity.payments will be created",
        "federation.payments-api will be created",
        "grant.payments-api-reads must be replaced",
        "spc.payments-api will be updated in place",
    ] {
        assert!(planned.contains(line), "{line}:\n{planned}");
    }
    apply(&repo);
    repo.expect(0, &["plan", PLAN_PATH, "--detailed-exitcode"]);
    let after = state(&repo);
    let new_principal = after["resources"]["identity.payments"]["derived"]["principal_id"]
        .as_str()
        .unwrap();
    assert_ne!(new_principal, old_principal);
    assert_eq!(repo.role_assignments_of(&old_principal), 0);
    assert_eq!(repo.role_assignments_of(new_principal), 1);

    repo.expect(0, &["destroy", PLAN_PATH, "--auto-approve"]);
    let world = repo.world();
    let identities = world["identities"].to_string();
    assert!(!identities.contains("id-payments-api"), "{identities}");
    assert_eq!(repo.role_assignments_of(new_principal), 0);
    assert!(repo.spcs().is_empty(), "{:?}", repo.spcs());
    let remaining = state(&repo);
    assert_eq!(remaining["resources"], json!({}), "{remaining}");
}

#[test]
fn an_identity_and_its_credential_forgotten_are_imported_back_by_id() {
    let (repo, _) = repo();
    apply(&repo);
    let state =
        serde_json::from_str::<Value>(&repo.test.read("state/workload-identity.state.json"))
            .unwrap();
    let id_of = |address: &str| {
        state["resources"][address]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let addresses = ["identity.payments", "federation.payments-api"];
    for address in addresses {
        repo.expect(0, &["state", "rm", PLAN_PATH, address]);
    }
    // Forgotten, they are still found where the plan puts them: adopted, not duplicated.
    repo.expect(0, &["plan", PLAN_PATH, "--detailed-exitcode"]);
    for address in addresses {
        repo.expect(
            0,
            &["import", PLAN_PATH, address, &id_of(address).to_uppercase()],
        );
    }
    repo.expect(0, &["plan", PLAN_PATH, "--detailed-exitcode"]);
    let imported =
        serde_json::from_str::<Value>(&repo.test.read("state/workload-identity.state.json"))
            .unwrap();
    for address in addresses {
        assert_eq!(
            imported["resources"][address]["id"],
            id_of(address).as_str()
        );
    }
}

#[test]
fn a_grant_to_a_principal_entra_has_not_replicated_waits_and_says_so() {
    let repo = Repo::with_options(vaultwire::sandbox::SandboxOptions {
        principal_replication_delay: Duration::from_secs(1),
        ..Default::default()
    });
    repo.test.write(PLAN_PATH, PLAN);
    let out = apply(&repo);
    let waited = out
        .lines()
        .find(|line| line.starts_with("grant.payments-api-reads: principal `"))
        .unwrap_or_else(|| panic!("no progress line for the wait:\n{out}"));
    assert!(
        waited.contains("is not replicated in Entra yet (PrincipalNotFound); retrying in"),
        "{waited}"
    );
    assert!(out.contains("Apply complete! Resources: 5 added"), "{out}");
}

#[test]
fn output_gives_the_client_id_and_vault_uri_for_the_next_step() {
    let (repo, _) = repo();
    repo.expect_error(
        1,
        &["output", PLAN_PATH],
        "there is no state file `state/workload-identity.state.json`",
    );
    apply(&repo);
    let state =
        serde_json::from_str::<Value>(&repo.test.read("state/workload-identity.state.json"))
            .unwrap();
    let client_id = state["resources"]["identity.payments"]["derived"]["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = repo.expect(0, &["output", PLAN_PATH]);
    assert!(
        listed.contains(&format!("identity.payments.client_id    = \"{client_id}\"")),
        "{listed}"
    );
    for name in [
        "addon.demo.client_id",
        "addon.demo.oidc_issuer_url",
        "identity.payments.principal_id",
        "tenant_id",
        "vault.payments.uri",
    ] {
        assert!(listed.contains(name), "{name}:\n{listed}");
    }
    let bare = repo.expect(0, &["output", PLAN_PATH, "identity.payments.client_id"]);
    assert_eq!(bare, format!("{client_id}\n"));
    let json: Value =
        serde_json::from_str(&repo.expect(0, &["output", PLAN_PATH, "--format", "json"])).unwrap();
    assert_eq!(json["identity.payments.client_id"], client_id.as_str());
    let uri = json["vault.payments.uri"].as_str().unwrap();
    assert!(uri.ends_with("/vaults/kv-vaultwire-wi/"), "{uri}");
    let stderr = repo.expect_error(
        1,
        &["output", PLAN_PATH, "identity.payments.clientid"],
        "no output `identity.payments.clientid`",
    );
    assert!(
        stderr.contains("did you mean `identity.payments.client_id`?"),
        "{stderr}"
    );
}

#[test]
fn a_new_credential_is_refused_until_entra_uses_it_then_the_pod_runs() {
    let repo = Repo::with_options(vaultwire::sandbox::SandboxOptions {
        credential_propagation_delay: Duration::from_millis(1500),
        ..Default::default()
    });
    repo.test.write(PLAN_PATH, PLAN);
    let kubeconfig = repo.test.write(
        "kubeconfig",
        &repo.sandbox.kubeconfig(Duration::from_secs(3600)).unwrap(),
    );
    let kubectl = Kubectl::with_kubeconfig(&kubeconfig);
    apply(&repo);
    repo.set_secrets_in(VAULT, &["db-password"]);
    start_pod(&kubectl, "payments-api", "payments-api");
    let described = wait_for(
        "the pod is refused while the credential propagates",
        || kubectl.run(&["describe", "pod", "payments-api", "-n", "payments"]),
        |text| text.contains("AADSTS70021"),
    );
    assert!(
        described.contains("Assertion Subject: 'system:serviceaccount:payments:payments-api'"),
        "{described}"
    );
    wait_for(
        "the pod runs once Entra uses the credential",
        || phase(&kubectl, "payments-api"),
        |phase| phase == "Running",
    );
}
