//! ARM conformance for Microsoft.ContainerService managedClusters: GET with eTag, PUT as a
//! full replace running as an LRO, If-Match, OperationNotAllowed, the Key Vault add-on and its
//! identity, dropped add-ons, UpdateTags, user credentials, operation status.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use vaultwire_sandbox::{SandboxOptions, ids};

use crate::support::{AKS_API, Env, assert_fields, cluster_path, example, start, start_with};

fn demo() -> String {
    format!("{}?{AKS_API}", cluster_path("rg-demo", "aks-demo"))
}

/// PUTs `body` with `If-Match: etag`.
async fn put_if_match(env: &Env, path: &str, body: &Value, etag: &str) -> crate::support::Reply {
    let token = env.arm_token().await;
    let response = env
        .http
        .put(env.url(path))
        .bearer_auth(token)
        .header("if-match", etag)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    crate::support::reply(response).await
}

fn enable_key_vault(cluster: &mut Value) {
    cluster["properties"]["addonProfiles"]["azureKeyvaultSecretsProvider"] = json!({"enabled": true, "config": {"enableSecretRotation": "false", "rotationPollInterval": "2m"}});
}

#[tokio::test]
async fn the_seeded_cluster_has_the_get_examples_fields_an_etag_and_the_documented_add_ons() {
    let env = start();
    let reply = env.arm("GET", &demo(), None).await.expect(200);
    let optional = [
        "properties.diskEncryptionSetID",
        "properties.networkProfile.loadBalancerProfile.outboundIPs",
    ];
    assert_fields(
        &reply.body,
        &example("containerservice/ManagedClustersGet.json")["responses"]["200"]["body"],
        &optional,
    );
    let etag = reply.body["eTag"].as_str().unwrap();
    assert_eq!(reply.header("etag"), Some(format!("\"{etag}\"").as_str()));
    let addons = &reply.body["properties"]["addonProfiles"];
    assert_eq!(addons["azurepolicy"]["enabled"], true);
    assert!(addons["azurepolicy"]["identity"]["clientId"].is_string());
    assert!(addons.get("azureKeyvaultSecretsProvider").is_none());
    assert_eq!(
        reply.body["properties"]["nodeResourceGroup"],
        ids::NODE_RESOURCE_GROUP
    );
    assert_eq!(reply.body["properties"]["aadProfile"]["managed"], true);
}

#[tokio::test]
async fn creating_the_example_cluster_runs_an_lro_and_answers_with_the_examples_fields() {
    let env = start();
    let create = example("containerservice/ManagedClustersCreate_Update.json");
    let path = format!("{}?{AKS_API}", cluster_path("rg-demo", "clustername1"));
    let created = env
        .arm("PUT", &path, Some(&create["parameters"]["parameters"]))
        .await
        .expect(201);
    assert_fields(&created.body, &create["responses"]["201"]["body"], &[]);
    assert_eq!(created.body["properties"]["provisioningState"], "Creating");
    assert!(
        created.body["properties"]["servicePrincipalProfile"]
            .get("secret")
            .is_none(),
        "secrets are never echoed"
    );
    assert!(
        created.body["properties"]["windowsProfile"]
            .get("adminPassword")
            .is_none()
    );
    assert!(created.header("retry-after").is_some());
    let status_url = created.header("azure-asyncoperation").unwrap().to_owned();
    assert!(
        status_url
            .contains("/providers/Microsoft.ContainerService/locations/location1/operations/")
    );
    let status = env
        .arm(
            "GET",
            status_url.trim_start_matches(env.sandbox.endpoint()),
            None,
        )
        .await
        .expect(200);
    assert_eq!(status.body["status"], "Succeeded");
    assert!(status.body["startTime"].is_string() && status.body["endTime"].is_string());
    let read = env.arm("GET", &path, None).await.expect(200);
    assert_fields(&read.body, &create["responses"]["200"]["body"], &[]);
    assert_eq!(read.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(
        read.body["properties"]["agentPoolProfiles"][0]["provisioningState"],
        "Succeeded"
    );
    let node_group = env
        .arm(
            "GET",
            &format!(
                "/subscriptions/{}/resourceGroups/MC_rg-demo_clustername1_location1?api-version=2024-11-01",
                ids::SUBSCRIPTION_ID
            ),
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        node_group.body["managedBy"],
        cluster_path("rg-demo", "clustername1")
    );

    let keyvault =
        example("containerservice/ManagedClustersCreate_AzureKeyvaultSecretsProvider.json");
    let path = format!("{}?{AKS_API}", cluster_path("rg-demo", "clustername2"));
    let created = env
        .arm("PUT", &path, Some(&keyvault["parameters"]["parameters"]))
        .await
        .expect(201);
    assert_fields(&created.body, &keyvault["responses"]["201"]["body"], &[]);
}

#[tokio::test]
async fn enabling_the_key_vault_add_on_creates_its_identity_and_installs_the_csi_driver() {
    let env = start();
    let mut cluster = env.arm("GET", &demo(), None).await.expect(200).body;
    let etag = cluster["eTag"].as_str().unwrap().to_owned();
    enable_key_vault(&mut cluster);
    let updated = put_if_match(&env, &demo(), &cluster, &etag)
        .await
        .expect(200);
    assert_eq!(updated.body["properties"]["provisioningState"], "Updating");
    assert!(updated.header("azure-asyncoperation").is_some());
    assert_ne!(updated.body["eTag"], json!(etag), "a PUT changes the eTag");

    let read = env.arm("GET", &demo(), None).await.expect(200);
    let identity =
        &read.body["properties"]["addonProfiles"]["azureKeyvaultSecretsProvider"]["identity"];
    let resource_id = identity["resourceId"].as_str().unwrap();
    assert!(resource_id.ends_with(&format!("/resourcegroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/azurekeyvaultsecretsprovider-aks-demo", ids::NODE_RESOURCE_GROUP)), "{resource_id}");
    assert!(identity["clientId"].is_string() && identity["objectId"].is_string());
    assert_eq!(
        env.sandbox.csi_driver_installed("aks-demo").unwrap(),
        Some(true)
    );

    let again = start();
    let mut other = again.arm("GET", &demo(), None).await.body;
    enable_key_vault(&mut other);
    again.arm("PUT", &demo(), Some(&other)).await.expect(200);
    let twin = again.arm("GET", &demo(), None).await.body;
    assert_eq!(
        twin["properties"]["addonProfiles"]["azureKeyvaultSecretsProvider"]["identity"], *identity,
        "the same seed gives the same identity"
    );

    let mut disabled = read.body.clone();
    disabled["properties"]["addonProfiles"]["azureKeyvaultSecretsProvider"] =
        json!({"enabled": false, "config": null});
    env.arm("PUT", &demo(), Some(&disabled)).await.expect(200);
    let read = env.arm("GET", &demo(), None).await.expect(200);
    assert!(
        read.body["properties"]["addonProfiles"]["azureKeyvaultSecretsProvider"]
            .get("identity")
            .is_none()
    );
    assert_eq!(
        env.sandbox.csi_driver_installed("aks-demo").unwrap(),
        Some(false)
    );
}

#[tokio::test]
async fn a_put_that_omits_an_add_on_removes_it() {
    let env = start();
    let mut cluster = env.arm("GET", &demo(), None).await.expect(200).body;
    cluster["properties"]["addonProfiles"] = json!({});
    env.arm("PUT", &demo(), Some(&cluster)).await.expect(200);
    let read = env.arm("GET", &demo(), None).await.expect(200);
    assert_eq!(read.body["properties"]["addonProfiles"], json!({}));
}

/// azure-cli PUTs the whole cluster and reads `servicePrincipalProfile.clientId` back; a
/// managed-identity cluster keeps `msi` there whatever the PUT sends.
#[tokio::test]
async fn a_put_that_omits_the_service_principal_of_a_managed_identity_cluster_keeps_msi() {
    let env = start();
    let mut cluster = env.arm("GET", &demo(), None).await.expect(200).body;
    assert_eq!(cluster["identity"]["type"], "SystemAssigned");
    assert_eq!(
        cluster["properties"]["servicePrincipalProfile"],
        json!({"clientId": "msi"})
    );
    cluster["properties"]
        .as_object_mut()
        .unwrap()
        .remove("servicePrincipalProfile");
    env.arm("PUT", &demo(), Some(&cluster)).await.expect(200);
    let read = env.arm("GET", &demo(), None).await.expect(200);
    assert_eq!(
        read.body["properties"]["servicePrincipalProfile"],
        json!({"clientId": "msi"})
    );
}

#[tokio::test]
async fn a_stale_if_match_gets_412_and_a_put_during_an_operation_gets_409() {
    let env = start_with(SandboxOptions {
        lro_duration: Duration::from_secs(3600),
        ..SandboxOptions::default()
    });
    let cluster = env.arm("GET", &demo(), None).await.expect(200).body;
    let stale = put_if_match(&env, &demo(), &cluster, "\"not-the-etag\"")
        .await
        .expect(412);
    assert_eq!(stale.code(), "PreconditionFailed");
    let etag = cluster["eTag"].as_str().unwrap();
    put_if_match(&env, &demo(), &cluster, etag)
        .await
        .expect(200);
    let busy = env.arm("PUT", &demo(), Some(&cluster)).await.expect(409);
    assert_eq!(busy.code(), "OperationNotAllowed");
    assert!(
        busy.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Another operation (Updating) is in progress")
    );
    let read = env.arm("GET", &demo(), None).await.expect(200);
    assert_eq!(read.body["properties"]["provisioningState"], "Updating");
}

#[tokio::test]
async fn update_tags_replaces_the_tags_and_the_etag() {
    let env = start();
    let before = env.arm("GET", &demo(), None).await.expect(200).body;
    let tags = example("containerservice/ManagedClustersUpdateTags.json");
    let reply = env
        .arm("PATCH", &demo(), Some(&tags["parameters"]["parameters"]))
        .await
        .expect(200);
    assert_fields(
        &reply.body,
        &tags["responses"]["200"]["body"],
        &["properties.diskEncryptionSetID"],
    );
    assert_eq!(reply.body["tags"], json!({"tier": "testing", "archv3": ""}));
    assert_ne!(reply.body["eTag"], before["eTag"]);
}

/// The kubeconfig of a `listCluster{User,Admin}Credential` answer.
async fn credential_kubeconfig(env: &Env, action: &str) -> Value {
    let path = format!("{}/{action}?{AKS_API}", cluster_path("rg-demo", "aks-demo"));
    let reply = env.arm("POST", &path, None).await.expect(200);
    assert_fields(
        &reply.body,
        &example("containerservice/ManagedClustersListClusterUserCredentials.json")["responses"]["200"]
            ["body"],
        &[],
    );
    let config = STANDARD
        .decode(reply.body["kubeconfigs"][0]["value"].as_str().unwrap())
        .unwrap();
    serde_norway::from_slice(&config).unwrap()
}

#[tokio::test]
async fn user_credentials_of_an_entra_cluster_run_kubelogin_like_aks() {
    let env = start();
    let config = credential_kubeconfig(&env, "listClusterUserCredential").await;
    let server = config["clusters"][0]["cluster"]["server"].as_str().unwrap();
    assert_eq!(
        server,
        format!("{}/k8s/clusters/aks-demo", env.sandbox.endpoint())
    );
    let user = &config["users"][0]["user"];
    assert!(user.get("token").is_none(), "{user}");
    assert_eq!(user["exec"]["command"], "kubelogin");
    let args = user["exec"]["args"].to_string();
    assert!(
        args.contains(&format!("\"--server-id\",\"{}\"", ids::AKS_SERVER_APP_ID)),
        "{args}"
    );
}

#[tokio::test]
async fn admin_credentials_are_a_kubeconfig_with_a_token_for_the_clusters_sandbox_api() {
    let env = start();
    let config = credential_kubeconfig(&env, "listClusterAdminCredential").await;
    let server = config["clusters"][0]["cluster"]["server"].as_str().unwrap();
    assert_eq!(
        server,
        format!("{}/k8s/clusters/aks-demo", env.sandbox.endpoint())
    );
    let token = config["users"][0]["user"]["token"].as_str().unwrap();
    let kube = env
        .call("GET", "/k8s/clusters/aks-demo/version", Some(token), None)
        .await;
    assert_ne!(
        kube.status, 401,
        "the kubeconfig's token is accepted by the cluster's API"
    );
}

#[tokio::test]
async fn disabling_the_key_vault_add_on_while_secret_provider_classes_exist_is_refused() {
    let env = start();
    let mut cluster = env.arm("GET", &demo(), None).await.expect(200).body;
    enable_key_vault(&mut cluster);
    env.arm("PUT", &demo(), Some(&cluster)).await.expect(200);
    let token = env
        .token("6dae42f8-4368-4678-94ff-3960e28e3630/.default")
        .await;
    let spc = json!({
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClass",
        "metadata": {"name": "payments-db", "namespace": "payments"},
        "spec": {"provider": "azure", "parameters": {"keyvaultName": "kv-vaultwire-demo", "tenantId": ids::TENANT_ID}},
    });
    let created = env
        .call("POST", "/k8s/clusters/aks-demo/apis/secrets-store.csi.x-k8s.io/v1/namespaces/payments/secretproviderclasses", Some(&token), Some(&spc))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let mut disabled = env.arm("GET", &demo(), None).await.body;
    disabled["properties"]["addonProfiles"]["azureKeyvaultSecretsProvider"] =
        json!({"enabled": false, "config": null});
    let refused = env.arm("PUT", &demo(), Some(&disabled)).await.expect(400);
    assert_eq!(refused.code(), "BadRequest");
    assert_eq!(
        refused.body["error"]["message"],
        "AzureKeyvaultSecretsProvider addon cannot be disabled due to more than 0 Secret Provider Classes"
    );
}

#[tokio::test]
async fn extra_clusters_are_seeded_like_aks_demo_with_their_own_kubernetes_api() {
    let env = start_with(SandboxOptions {
        extra_clusters: vec!["aks-two".to_owned(), "aks-three".to_owned()],
        ..SandboxOptions::default()
    });
    let list = env
        .arm(
            "GET",
            &format!(
                "/subscriptions/{}/resourceGroups/rg-demo/providers/Microsoft.ContainerService/managedClusters?{AKS_API}",
                ids::SUBSCRIPTION_ID
            ),
            None,
        )
        .await
        .expect(200);
    let mut names: Vec<&str> = list.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|cluster| cluster["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["aks-demo", "aks-three", "aks-two"]);
    let two = env
        .arm(
            "GET",
            &format!("{}?{AKS_API}", cluster_path("rg-demo", "aks-two")),
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        two.body["properties"]["nodeResourceGroup"],
        "MC_rg-demo_aks-two_westeurope"
    );
    assert_eq!(
        two.body["properties"]["addonProfiles"]["azurepolicy"]["enabled"],
        true
    );
    let token = env
        .token("6dae42f8-4368-4678-94ff-3960e28e3630/.default")
        .await;
    let namespaces = env
        .call(
            "GET",
            "/k8s/clusters/aks-two/api/v1/namespaces/payments",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(namespaces.status, 200, "{}", namespaces.body);
    env.sandbox.reset().unwrap();
    env.arm(
        "GET",
        &format!("{}?{AKS_API}", cluster_path("rg-demo", "aks-three")),
        None,
    )
    .await
    .expect(200);
}

#[test]
fn an_invalid_extra_cluster_name_is_refused_at_start() {
    let error = vaultwire_sandbox::Sandbox::start(SandboxOptions {
        extra_clusters: vec!["not a name".to_owned()],
        ..SandboxOptions::default()
    })
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "`not a name` is not a valid aks cluster name"
    );
}
