//! The sandbox's kubelet mounting Secrets Store CSI volumes as the driver and the Azure provider
//! do: a pod waits in `ContainerCreating` with a `FailedMount` Event carrying the provider's
//! text until its identity may read every object, then runs, with its files' hashes (never
//! their values) on the admin API.

use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use vaultwire_sandbox::ids;

use crate::support::{
    AKS_API, AUTHZ_API, Env, KV_API, VAULTS_API, cluster_path, start, vault_body, vault_path,
};

const SECRETS_USER: &str = "4633458b-17de-408a-b874-0445c86b69e6";
const SECRETS_OFFICER: &str = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";
const KUBE: &str = "/k8s/clusters/aks-demo";

/// Enables the Key Vault add-on of `aks-demo`; returns its identity (`clientId`, `objectId`).
async fn enable_addon(env: &Env) -> Value {
    enable_addon_with(env, json!({"enableSecretRotation": "false"})).await
}

async fn enable_addon_with(env: &Env, config: Value) -> Value {
    let path = format!("{}?{AKS_API}", cluster_path("rg-demo", "aks-demo"));
    let mut cluster = env.arm("GET", &path, None).await.expect(200).body;
    cluster["properties"]["addonProfiles"]["azureKeyvaultSecretsProvider"] =
        json!({"enabled": true, "config": config});
    env.arm("PUT", &path, Some(&cluster)).await.expect(200);
    let cluster = env.arm("GET", &path, None).await.expect(200).body;
    cluster["properties"]["addonProfiles"]["azureKeyvaultSecretsProvider"]["identity"].clone()
}

async fn grant(env: &Env, vault: &str, role: &str, principal: &str) {
    let path = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments/{}?{AUTHZ_API}",
        vault_path("rg-demo", vault),
        uuid::Uuid::new_v4()
    );
    let body = json!({"properties": {"roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{role}", ids::SUBSCRIPTION_ID), "principalId": principal}});
    env.arm("PUT", &path, Some(&body)).await.expect(201);
}

async fn kube(env: &Env, method: &str, path: &str, body: Option<&Value>) -> Value {
    let token = env
        .token(&format!("{}/.default", ids::AKS_SERVER_APP_ID))
        .await;
    env.call(method, &format!("{KUBE}{path}"), Some(&token), body)
        .await
        .body
}

async fn create_vault(env: &Env) {
    env.arm(
        "PUT",
        &format!("{}?{VAULTS_API}", vault_path("rg-demo", "kv-mounts")),
        Some(&vault_body(true)),
    )
    .await
    .expect(201);
}

async fn post_class(env: &Env, class: &Value) {
    kube(
        env,
        "POST",
        "/apis/secrets-store.csi.x-k8s.io/v1/namespaces/payments/secretproviderclasses",
        Some(class),
    )
    .await;
}

async fn post_pod(env: &Env) {
    kube(
        env,
        "POST",
        "/api/v1/namespaces/payments/pods",
        Some(&pod()),
    )
    .await;
}

/// The latest FailedMount message of the worker.
async fn failed_mount_message(env: &Env) -> String {
    // Events are named after their time: the last is the latest.
    failed_mounts(env)
        .await
        .last()
        .expect("a FailedMount event")["message"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn class(client_id: &str) -> Value {
    json!({
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClass",
        "metadata": {"name": "payments-db", "namespace": "payments"},
        "spec": {"provider": "azure", "parameters": {
            "usePodIdentity": "false",
            "useVMManagedIdentity": "true",
            "userAssignedIdentityID": client_id,
            "keyvaultName": "kv-mounts",
            "tenantId": ids::TENANT_ID,
            "objects": "array:\n  - |\n    objectName: db-password\n    objectType: secret\n    objectAlias: password\n",
        }},
    })
}

fn pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "worker", "namespace": "payments"},
        "spec": {
            "containers": [{"name": "app", "image": "busybox:1.36", "volumeMounts": [{"name": "secrets", "mountPath": "/mnt/secrets", "readOnly": true}]}],
            "volumes": [{"name": "secrets", "csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": true, "volumeAttributes": {"secretProviderClass": "payments-db"}}}],
        },
    })
}

async fn pod_status(env: &Env) -> (String, String) {
    let pod = kube(env, "GET", "/api/v1/namespaces/payments/pods/worker", None).await;
    (
        pod["status"]["phase"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

async fn failed_mounts(env: &Env) -> Vec<Value> {
    let events = kube(
        env,
        "GET",
        "/api/v1/namespaces/payments/events?fieldSelector=involvedObject.name%3Dworker%2Creason%3DFailedMount",
        None,
    )
    .await;
    events["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_pod_whose_class_is_missing_waits_with_the_drivers_message() {
    let env = start();
    enable_addon(&env).await;
    post_pod(&env).await;
    assert_eq!(
        pod_status(&env).await,
        ("Pending".to_owned(), "ContainerCreating".to_owned())
    );
    let events = failed_mounts(&env).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["type"], "Warning");
    assert_eq!(event["source"]["component"], "kubelet");
    assert_eq!(event["involvedObject"]["kind"], "Pod");
    assert_eq!(
        event["message"],
        "MountVolume.SetUp failed for volume \"secrets\" : rpc error: code = Unknown desc = failed to get secretproviderclass payments/payments-db, error: SecretProviderClass.secrets-store.csi.x-k8s.io \"payments-db\" not found"
    );
}

#[tokio::test]
async fn without_the_add_on_the_kubelet_finds_no_csi_driver() {
    let env = start();
    post_pod(&env).await;
    let events = failed_mounts(&env).await;
    assert_eq!(
        events[0]["message"],
        "MountVolume.SetUp failed for volume \"secrets\" : kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name secrets-store.csi.k8s.io not found in the list of registered CSI drivers"
    );
}

#[tokio::test]
async fn a_pod_starts_once_its_identity_may_read_every_object() {
    let env = start();
    let identity = enable_addon(&env).await;
    create_vault(&env).await;
    grant(&env, "kv-mounts", SECRETS_OFFICER, ids::CLIENT_OBJECT_ID).await;
    let value = "mount-canary-value";
    env.call(
        "PUT",
        &format!("/vaults/kv-mounts/secrets/db-password?{KV_API}"),
        Some(&env.kv_token().await),
        Some(&json!({"value": value})),
    )
    .await
    .expect(200);
    let client_id = identity["clientId"].as_str().unwrap();
    post_class(&env, &class(client_id)).await;
    post_pod(&env).await;

    // The add-on identity has no role on the vault yet: Key Vault's 403, as the SDK prints it.
    assert_eq!(pod_status(&env).await.1, "ContainerCreating");
    let message = failed_mount_message(&env).await;
    assert!(
        message.starts_with("MountVolume.SetUp failed for volume \"secrets\" : rpc error: code = Unknown desc = failed to mount secrets store objects for pod payments/worker, err: rpc error: code = Unknown desc = failed to mount objects, error: failed to get objectType:secret, objectName:db-password, objectVersion:: GET https://kv-mounts.vault.azure.net/secrets/db-password/\n"),
        "{message}"
    );
    assert!(
        message.contains("RESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden\n"),
        "{message}"
    );
    assert!(message.contains("ForbiddenByRbac"), "{message}");

    // Granted, the kubelet's next try (after its 500 ms backoff) mounts the file and starts it.
    grant(
        &env,
        "kv-mounts",
        SECRETS_USER,
        identity["objectId"].as_str().unwrap(),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(pod_status(&env).await.0, "Running");
    let mounts = env.admin("GET", "mounts", None).await.expect(200).body;
    let mount = mounts["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|mount| mount["pod"] == "worker")
        .expect("the worker's mount");
    assert_eq!(mount["mounted"], true);
    let digest: String = Sha256::digest(value.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    assert_eq!(mount["files"], json!({"secrets/password": digest}));
    assert!(!mounts.to_string().contains(value));
}

#[tokio::test]
async fn an_identity_not_on_the_node_cannot_get_a_token() {
    let env = start();
    enable_addon(&env).await;
    create_vault(&env).await;
    post_class(&env, &class("00000000-0000-0000-0000-00000000abcd")).await;
    post_pod(&env).await;
    let message = failed_mount_message(&env).await;
    assert!(
        message.contains("objectVersion:: ManagedIdentityCredential authentication failed. the requested identity isn't assigned to this resource\nGET http://169.254.169.254/metadata/identity/oauth2/token\n"),
        "{message}"
    );
}

#[tokio::test]
async fn a_vault_that_does_not_exist_fails_to_resolve() {
    let env = start();
    let identity = enable_addon(&env).await;
    let mut class = class(identity["clientId"].as_str().unwrap());
    class["spec"]["parameters"]["keyvaultName"] = json!("kv-nowhere");
    post_class(&env, &class).await;
    post_pod(&env).await;
    let message = failed_mount_message(&env).await;
    assert!(
        message.ends_with("objectName:db-password, objectVersion:: Get \"https://kv-nowhere.vault.azure.net/secrets/db-password/?api-version=7.4\": dial tcp: lookup kv-nowhere.vault.azure.net on 10.0.0.10:53: no such host"),
        "{message}"
    );
}

/// A vault the add-on identity may read, holding `db-password`; returns the add-on identity.
async fn readable_vault(env: &Env) -> Value {
    let identity = enable_addon(env).await;
    fill_vault(env, &identity).await;
    identity
}

async fn fill_vault(env: &Env, identity: &Value) {
    create_vault(env).await;
    grant(env, "kv-mounts", SECRETS_OFFICER, ids::CLIENT_OBJECT_ID).await;
    grant(
        env,
        "kv-mounts",
        SECRETS_USER,
        identity["objectId"].as_str().unwrap(),
    )
    .await;
    env.call(
        "PUT",
        &format!("/vaults/kv-mounts/secrets/db-password?{KV_API}"),
        Some(&env.kv_token().await),
        Some(&json!({"value": "firewalled-value"})),
    )
    .await
    .expect(200);
}

async fn set_firewall(env: &Env, ip_rules: &[String]) {
    let mut body = vault_body(true);
    body["properties"]["networkAcls"] = json!({
        "defaultAction": "Deny",
        "bypass": "AzureServices",
        "ipRules": ip_rules.iter().map(|rule| json!({"value": rule})).collect::<Vec<_>>(),
        "virtualNetworkRules": [],
    });
    env.arm(
        "PUT",
        &format!("{}?{VAULTS_API}", vault_path("rg-demo", "kv-mounts")),
        Some(&body),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn a_vault_firewall_admits_pods_from_the_clusters_outbound_ip_only() {
    let env = start();
    let identity = readable_vault(&env).await;
    post_class(&env, &class(identity["clientId"].as_str().unwrap())).await;
    set_firewall(&env, &["203.0.113.0/24".to_owned()]).await;
    post_pod(&env).await;

    // The address a user finds as on Azure: the cluster's outbound IP resource.
    let cluster = env
        .arm(
            "GET",
            &format!("{}?{AKS_API}", cluster_path("rg-demo", "aks-demo")),
            None,
        )
        .await
        .expect(200)
        .body;
    let ip_id = cluster["properties"]["networkProfile"]["loadBalancerProfile"]
        ["effectiveOutboundIPs"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ip = env
        .arm("GET", &format!("{ip_id}?api-version=2024-05-01"), None)
        .await
        .expect(200)
        .body;
    crate::support::assert_fields(
        &ip,
        &crate::support::example("network/PublicIpAddressGet.json")["responses"]["200"]["body"],
        &["properties.ipConfiguration", "properties.ddosSettings"],
    );
    let address = ip["properties"]["ipAddress"].as_str().unwrap().to_owned();

    let message = failed_mount_message(&env).await;
    assert!(
        message.contains("RESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden\n"),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "Client address is not authorized and caller is not a trusted service.\\r\\nClient address: {address}\\r\\n"
        )),
        "{message}"
    );
    assert!(message.contains("ForbiddenByFirewall"), "{message}");

    // Allowed, the kubelet's next try mounts.
    set_firewall(
        &env,
        &["203.0.113.0/24".to_owned(), format!("{address}/32")],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(pod_status(&env).await.0, "Running");
}

#[tokio::test]
async fn a_wrong_object_name_fails_with_key_vaults_secret_not_found() {
    let env = start();
    let identity = readable_vault(&env).await;
    let mut class = class(identity["clientId"].as_str().unwrap());
    class["spec"]["parameters"]["objects"] =
        json!("array:\n  - |\n    objectName: db-pasword\n    objectType: secret\n");
    post_class(&env, &class).await;
    post_pod(&env).await;
    let message = failed_mount_message(&env).await;
    assert!(
        message.contains("failed to get objectType:secret, objectName:db-pasword, objectVersion:: GET https://kv-mounts.vault.azure.net/secrets/db-pasword/\n"),
        "{message}"
    );
    assert!(
        message.contains("RESPONSE 404: 404 Not Found\nERROR CODE: SecretNotFound\n"),
        "{message}"
    );
}

async fn synced_password(env: &Env) -> String {
    let secret = kube(
        env,
        "GET",
        "/api/v1/namespaces/payments/secrets/payments-db",
        None,
    )
    .await;
    secret["data"]["password"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn with_rotation_on_a_changed_value_reaches_the_mount_and_the_synced_secret() {
    use base64::Engine as _;
    let env = start();
    // A minute on AKS is a second in the sandbox.
    let identity = enable_addon_with(
        &env,
        json!({"enableSecretRotation": "true", "rotationPollInterval": "1m"}),
    )
    .await;
    fill_vault(&env, &identity).await;
    let mut class = class(identity["clientId"].as_str().unwrap());
    class["spec"]["secretObjects"] = json!([{"secretName": "payments-db", "type": "Opaque", "data": [{"objectName": "password", "key": "password"}]}]);
    post_class(&env, &class).await;
    post_pod(&env).await;
    // The kubelet mounts at the first read of the pod.
    let mounted = std::time::Instant::now();
    assert_eq!(pod_status(&env).await.0, "Running");
    let encode = |value: &str| base64::engine::general_purpose::STANDARD.encode(value);
    assert_eq!(synced_password(&env).await, encode("firewalled-value"));

    env.call(
        "PUT",
        &format!("/vaults/kv-mounts/secrets/db-password?{KV_API}"),
        Some(&env.kv_token().await),
        Some(&json!({"value": "rotated-value"})),
    )
    .await
    .expect(200);
    // Not before the poll interval has passed (when this machine is quick enough to tell).
    let before_poll = mounted.elapsed() < Duration::from_millis(900);
    let seen = synced_password(&env).await;
    if before_poll {
        assert_eq!(seen, encode("firewalled-value"));
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(synced_password(&env).await, encode("rotated-value"));
    let mounts = env.admin("GET", "mounts", None).await.expect(200).body;
    let digest: String = Sha256::digest(b"rotated-value")
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let worker = mounts["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|mount| mount["pod"] == "worker")
        .unwrap();
    assert_eq!(worker["files"], json!({"secrets/password": digest}));

    let events = kube(
        &env,
        "GET",
        "/api/v1/namespaces/payments/events?fieldSelector=involvedObject.name%3Dworker",
        None,
    )
    .await;
    let normal: Vec<(String, String)> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["type"] == "Normal")
        .inspect(|event| assert_eq!(event["source"]["component"], "csi-secrets-store-rotation"))
        .map(|event| {
            (
                event["reason"].as_str().unwrap().to_owned(),
                event["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        normal.contains(&(
            "MountRotationComplete".to_owned(),
            "successfully rotated mounted contents for spc payments/payments-db".to_owned()
        )),
        "{normal:?}"
    );
    assert!(
        normal.contains(&(
            "SecretRotationComplete".to_owned(),
            "successfully rotated K8s secret payments-db".to_owned()
        )),
        "{normal:?}"
    );

    // A value the identity may no longer read keeps the old contents, with the driver's warning.
    env.call(
        "DELETE",
        &format!("/vaults/kv-mounts/secrets/db-password?{KV_API}"),
        Some(&env.kv_token().await),
        None,
    )
    .await
    .expect(200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(synced_password(&env).await, encode("rotated-value"));
    let events = kube(
        &env,
        "GET",
        "/api/v1/namespaces/payments/events?fieldSelector=involvedObject.name%3Dworker%2Creason%3DMountRotationFailed",
        None,
    )
    .await;
    let message = events["items"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("provider mount err: rpc error: code = Unknown desc = failed to mount objects, error: failed to get objectType:secret, objectName:db-password"),
        "{message}"
    );
    assert!(message.contains("SecretNotFound"), "{message}");
    assert_eq!(pod_status(&env).await.0, "Running");
}

const MSI_API: &str = "api-version=2023-01-31";

fn identity_path(name: &str) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/rg-demo/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
        ids::SUBSCRIPTION_ID
    )
}

async fn federate(env: &Env, identity: &str, name: &str, issuer: &str, subject: &str) -> Value {
    env.arm(
        "PUT",
        &format!("{}/federatedIdentityCredentials/{name}?{MSI_API}", identity_path(identity)),
        Some(&json!({"properties": {"issuer": issuer, "subject": subject, "audiences": ["api://AzureADTokenExchange"]}})),
    )
    .await
    .expect(201)
    .body
}

#[tokio::test]
async fn a_workload_identity_mount_needs_a_federated_credential_for_the_pods_service_account() {
    let env = start();
    let addon = enable_addon(&env).await;
    fill_vault(&env, &addon).await;
    let identity = env
        .arm(
            "PUT",
            &format!("{}?{MSI_API}", identity_path("id-payments")),
            Some(&json!({"location": "westeurope", "tags": {"team": "payments"}})),
        )
        .await
        .expect(201)
        .body;
    crate::support::assert_fields(
        &identity,
        &crate::support::example("msi/IdentityCreate.json")["responses"]["201"]["body"],
        &[],
    );
    grant(
        &env,
        "kv-mounts",
        SECRETS_USER,
        identity["properties"]["principalId"].as_str().unwrap(),
    )
    .await;
    let client_id = identity["properties"]["clientId"].as_str().unwrap();
    let mut class = class(client_id);
    let parameters = class["spec"]["parameters"].as_object_mut().unwrap();
    parameters.remove("useVMManagedIdentity");
    parameters.remove("userAssignedIdentityID");
    parameters.insert("clientID".to_owned(), json!(client_id));
    post_class(&env, &class).await;
    post_pod(&env).await;

    // No federated credential: Entra finds no record for the cluster's issuer.
    let message = failed_mount_message(&env).await;
    assert!(
        message.contains("objectVersion:: ClientAssertionCredential authentication failed. \nPOST https://login.microsoftonline.com/"),
        "{message}"
    );
    assert!(message.contains("AADSTS700211"), "{message}");

    // Trusted for another service account: the subject does not match.
    let cluster = env
        .arm(
            "GET",
            &format!("{}?{AKS_API}", cluster_path("rg-demo", "aks-demo")),
            None,
        )
        .await
        .expect(200)
        .body;
    let issuer = cluster["properties"]["oidcIssuerProfile"]["issuerURL"]
        .as_str()
        .unwrap()
        .to_owned();
    let credential = federate(
        &env,
        "id-payments",
        "payments-api",
        &issuer,
        "system:serviceaccount:payments:payments-api",
    )
    .await;
    crate::support::assert_fields(
        &credential,
        &crate::support::example("msi/FederatedIdentityCredentialCreate.json")["responses"]["201"]
            ["body"],
        &[],
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    let message = failed_mount_message(&env).await;
    assert!(message.contains("AADSTS700213"), "{message}");
    assert!(
        message.contains("system:serviceaccount:payments:default"),
        "{message}"
    );

    // Trusted for the pod's own service account (`default`), the next try mounts.
    federate(
        &env,
        "id-payments",
        "payments-default",
        &issuer,
        "system:serviceaccount:payments:default",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(pod_status(&env).await.0, "Running");
}

#[tokio::test]
async fn federated_credentials_follow_the_services_rules() {
    let env = start();
    env.arm(
        "PUT",
        &format!("{}?{MSI_API}", identity_path("id-rules")),
        Some(&json!({"location": "westeurope"})),
    )
    .await
    .expect(201);
    let path = |name: &str| {
        format!(
            "{}/federatedIdentityCredentials/{name}?{MSI_API}",
            identity_path("id-rules")
        )
    };
    let body = |subject: &str| json!({"properties": {"issuer": "https://example.test/issuer/", "subject": subject, "audiences": ["api://AzureADTokenExchange"]}});
    env.arm("PUT", &path("x"), Some(&body("system:serviceaccount:a:b")))
        .await
        .expect(400);
    env.arm(
        "PUT",
        &path("first"),
        Some(&body("system:serviceaccount:a:b")),
    )
    .await
    .expect(201);
    let duplicate = env
        .arm(
            "PUT",
            &path("second"),
            Some(&body("system:serviceaccount:a:b")),
        )
        .await
        .expect(400);
    assert!(
        duplicate.body.to_string().contains("'first'"),
        "{}",
        duplicate.body
    );
    env.arm(
        "PUT",
        &path("first"),
        Some(&body("system:serviceaccount:a:c")),
    )
    .await
    .expect(200);
    for index in 1..20 {
        env.arm(
            "PUT",
            &path(&format!("fic-{index}")),
            Some(&body(&format!("system:serviceaccount:a:sa-{index}"))),
        )
        .await
        .expect(201);
    }
    let over = env
        .arm(
            "PUT",
            &path("fic-20"),
            Some(&body("system:serviceaccount:a:sa-20")),
        )
        .await
        .expect(400);
    assert!(
        over.body.to_string().contains("maximum of 20"),
        "{}",
        over.body
    );
    let listed = env
        .arm(
            "GET",
            &format!(
                "{}/federatedIdentityCredentials?{MSI_API}",
                identity_path("id-rules")
            ),
            None,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(listed["value"].as_array().unwrap().len(), 20);
    env.arm("DELETE", &path("first"), None).await.expect(200);
    env.arm("DELETE", &path("first"), None).await.expect(204);
}

#[tokio::test]
async fn a_new_identity_is_not_a_principal_until_entra_has_replicated_it() {
    let env = crate::support::start_with(vaultwire_sandbox::SandboxOptions {
        principal_replication_delay: Duration::from_millis(400),
        ..vaultwire_sandbox::SandboxOptions::default()
    });
    create_vault(&env).await;
    let identity = env
        .arm(
            "PUT",
            &format!("{}?{MSI_API}", identity_path("id-new")),
            Some(&json!({"location": "westeurope"})),
        )
        .await
        .expect(201)
        .body;
    let principal = identity["properties"]["principalId"].as_str().unwrap();
    let path = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments/{}?{AUTHZ_API}",
        vault_path("rg-demo", "kv-mounts"),
        uuid::Uuid::new_v4()
    );
    let body = json!({"properties": {"roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{SECRETS_USER}", ids::SUBSCRIPTION_ID), "principalId": principal}});
    let refused = env.arm("PUT", &path, Some(&body)).await.expect(400);
    assert_eq!(refused.code(), "PrincipalNotFound");
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("replication delay")
    );
    tokio::time::sleep(Duration::from_millis(450)).await;
    env.arm("PUT", &path, Some(&body)).await.expect(201);
}

#[tokio::test]
async fn two_federated_credential_writes_in_flight_under_one_identity_conflict() {
    let env = start();
    env.arm(
        "PUT",
        &format!("{}?{MSI_API}", identity_path("id-busy")),
        Some(&json!({"location": "westeurope"})),
    )
    .await
    .expect(201);
    env.arm_token().await;
    env.sandbox.set_faults(vaultwire_sandbox::Faults {
        latency: Duration::from_millis(200),
        ..vaultwire_sandbox::Faults::none()
    });
    let write = |name: &'static str, delay: u64| {
        let env = &env;
        async move {
            tokio::time::sleep(Duration::from_millis(delay)).await;
            env.arm(
                "PUT",
                &format!("{}/federatedIdentityCredentials/{name}?{MSI_API}", identity_path("id-busy")),
                Some(&json!({"properties": {"issuer": "https://example.test/", "subject": format!("system:serviceaccount:a:{name}"), "audiences": ["api://AzureADTokenExchange"]}})),
            )
            .await
        }
    };
    // The second leaves while the first's answer is still on its way.
    let (first, second) = futures::future::join(write("first", 0), write("second", 50)).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(second.status, 409, "{}", second.body);
    assert_eq!(
        second.code(),
        "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity"
    );
    // One after the other, both go through.
    write("second", 0).await.expect(201);
    write("third", 0).await.expect(201);
}
