//! The AKS client against the sandbox: reading the cluster, enabling and disabling the Key Vault
//! add-on by a conditional full PUT that changes nothing else, the refusal to disable while
//! SecretProviderClasses exist, retries on 412 and `OperationNotAllowed`, and the user
//! kubeconfig.

use std::time::Duration;

use serde_json::{Value, json};
use vaultwire::providers::azure::aks::{AddonSettings, AksClient, AksError, AksOptions, ClusterId};
use vaultwire::providers::kube::SpcClient;
use vaultwire::sandbox::{SandboxOptions, ids};

use crate::sandbox_support::{AKS_API, cluster_path};
use crate::support::{Clients, RG, SUB, demo_cluster, payments_db_spc, statuses};

const CLUSTER_PUT: &str = "PUT Microsoft.ContainerService/managedClusters";

fn enabled() -> AddonSettings {
    AddonSettings {
        enabled: true,
        secret_rotation: true,
        rotation_poll_interval: "2m".to_owned(),
        workload_identity: false,
    }
}

fn demo_path() -> String {
    format!("{}?{AKS_API}", cluster_path(RG, ids::CLUSTER))
}

/// Adds a property vaultwire does not know to the cluster, as a newer api-version might.
async fn add_unknown_property(clients: &Clients) {
    let mut document = clients
        .env
        .arm("GET", &demo_path(), None)
        .await
        .expect(200)
        .body;
    document["properties"]["futureProfile"] = json!({"preview": true, "level": 3});
    clients
        .env
        .arm("PUT", &demo_path(), Some(&document))
        .await
        .expect(200);
}

/// `document` without the fields an add-on change may legitimately alter.
fn without_addon_change(document: &Value) -> Value {
    let mut document = document.clone();
    if let Some(profiles) = document["properties"]["addonProfiles"].as_object_mut() {
        profiles.remove("azureKeyvaultSecretsProvider");
    }
    if let Some(object) = document.as_object_mut() {
        object.remove("eTag");
    }
    document
}

#[tokio::test]
async fn get_reads_the_cluster_its_etag_and_the_disabled_addon() {
    let clients = Clients::start().await;
    let aks = clients.aks();
    let cluster = aks.get(&demo_cluster()).await.unwrap().expect("aks-demo");
    assert_eq!(cluster.name, "aks-demo");
    assert_eq!(cluster.location, "westeurope");
    assert_eq!(
        cluster.node_resource_group.as_deref(),
        Some(ids::NODE_RESOURCE_GROUP)
    );
    assert_eq!(cluster.provisioning_state.as_deref(), Some("Succeeded"));
    assert!(cluster.etag.is_some());
    assert!(!cluster.addon.enabled);
    assert_eq!(
        cluster.document["properties"]["addonProfiles"]["azurepolicy"]["enabled"],
        true
    );
    assert_eq!(
        aks.get(&ClusterId::new(SUB, RG, "aks-nope")).await.unwrap(),
        None
    );
    let missing = aks
        .set_addon(&ClusterId::new(SUB, RG, "aks-nope"), &enabled(), &[])
        .await
        .unwrap_err();
    assert_eq!(
        missing.to_string(),
        "aks cluster `aks-nope` does not exist in resource group `rg-demo`"
    );
}

#[tokio::test]
async fn enabling_changes_only_the_addon_and_returns_its_identity() {
    let clients = Clients::start().await;
    let aks = clients.aks();
    add_unknown_property(&clients).await;
    let before = aks.get(&demo_cluster()).await.unwrap().unwrap();

    let addon = aks
        .set_addon(&demo_cluster(), &enabled(), &[])
        .await
        .unwrap()
        .addon;
    let identity = addon.identity.expect("the add-on identity");
    // The identity docs/sandbox.md lists for seed 1.
    assert_eq!(identity.client_id, "1b51f71f-cd70-5ca2-ad15-56767d558cd9");
    assert_eq!(identity.object_id, "c5852541-61bd-5157-81ee-d4740e7d0a6c");
    // AKS spells `resourcegroups` in lower case here; IDs compare case-insensitively.
    assert!(
        identity.resource_id.to_ascii_lowercase().ends_with(
            &format!(
                "/resourcegroups/{}/providers/microsoft.managedidentity/userassignedidentities/azurekeyvaultsecretsprovider-aks-demo",
                ids::NODE_RESOURCE_GROUP
            )
            .to_ascii_lowercase()
        ),
        "{}",
        identity.resource_id
    );
    assert_eq!(addon.secret_rotation, Some(true));
    assert_eq!(addon.rotation_poll_interval.as_deref(), Some("2m"));

    let puts = clients.wire.sent_to("PUT", "/managedClusters/aks-demo");
    let put = puts.last().expect("the add-on PUT");
    let mut expected = before.document.clone();
    expected["properties"]["addonProfiles"]["azureKeyvaultSecretsProvider"] = json!({
        "enabled": true,
        "config": {"enableSecretRotation": "true", "rotationPollInterval": "2m"},
    });
    assert_eq!(
        put.body.as_ref(),
        Some(&expected),
        "the document goes back verbatim"
    );
    assert_eq!(put.if_match, before.etag, "conditional on the eTag read");

    let after = aks.get(&demo_cluster()).await.unwrap().unwrap();
    assert_eq!(
        without_addon_change(&after.document),
        without_addon_change(&before.document),
        "the azurepolicy add-on and the unknown property survive"
    );
    assert_eq!(after.document["properties"]["futureProfile"]["level"], 3);

    // Already as wanted: no PUT.
    aks.set_addon(&demo_cluster(), &enabled(), &[])
        .await
        .unwrap();
    assert_eq!(
        clients
            .wire
            .sent_to("PUT", "/managedClusters/aks-demo")
            .len(),
        puts.len()
    );
}

#[tokio::test]
async fn disabling_removes_only_the_addon() {
    let clients = Clients::start().await;
    let aks = clients.aks();
    add_unknown_property(&clients).await;
    aks.set_addon(&demo_cluster(), &enabled(), &[])
        .await
        .unwrap();
    let before = aks.get(&demo_cluster()).await.unwrap().unwrap();

    let addon = aks
        .set_addon(&demo_cluster(), &AddonSettings::disabled(), &[])
        .await
        .unwrap()
        .addon;
    assert!(!addon.enabled);
    assert_eq!(addon.identity, None);
    let put = clients
        .wire
        .sent_to("PUT", "/managedClusters/aks-demo")
        .pop()
        .unwrap();
    assert_eq!(
        put.body.unwrap()["properties"]["addonProfiles"]["azureKeyvaultSecretsProvider"],
        json!({"enabled": false})
    );
    let after = aks.get(&demo_cluster()).await.unwrap().unwrap();
    assert_eq!(
        without_addon_change(&after.document),
        without_addon_change(&before.document)
    );
    assert_eq!(
        clients
            .env
            .sandbox
            .csi_driver_installed(ids::CLUSTER)
            .unwrap(),
        Some(false)
    );
}

#[tokio::test]
async fn disabling_is_refused_while_a_secret_provider_class_exists_and_the_error_names_it() {
    let clients = Clients::start().await;
    let aks = clients.aks();
    let identity = aks
        .set_addon(&demo_cluster(), &enabled(), &[])
        .await
        .unwrap()
        .addon
        .identity
        .unwrap();
    let connection = clients.cluster().await;
    let spcs = SpcClient::new(connection.client().await.unwrap());
    let spec = payments_db_spc(&identity.client_id);
    spcs.apply_manifest(&spec.namespace, &spec.name, &spec.manifest())
        .await
        .unwrap();
    let known: Vec<String> = spcs
        .list_all()
        .await
        .unwrap()
        .expect("served once the add-on is on")
        .iter()
        .map(|spc| format!("{}/{}", spc.namespace, spc.name))
        .collect();

    let error = aks
        .set_addon(&demo_cluster(), &AddonSettings::disabled(), &known)
        .await
        .unwrap_err();
    let AksError::DisableBlocked { spcs: blocking, .. } = &error else {
        panic!("expected DisableBlocked, got {error}");
    };
    assert_eq!(blocking, &["payments/payments-db"]);
    assert_eq!(
        error.to_string(),
        "the key vault secrets provider add-on of `aks-demo` cannot be disabled while SecretProviderClasses exist: `payments/payments-db`"
    );
    assert!(error.help().unwrap().contains("destroy"));
    assert!(
        aks.get(&demo_cluster())
            .await
            .unwrap()
            .unwrap()
            .addon
            .enabled
    );
    assert_eq!(
        statuses(&clients.journal_of(CLUSTER_PUT)).last(),
        Some(&400)
    );
}

#[tokio::test]
async fn a_stale_etag_gets_412_and_the_client_reads_again() {
    let clients = Clients::start().await;
    // Between the client's GET and its PUT, someone else changes the cluster's tags.
    let http = clients.env.http.clone();
    let url = clients.env.url(&demo_path());
    let token = clients.env.arm_token().await;
    clients
        .wire
        .before_next("PUT", "/managedClusters/aks-demo", async move {
            let response = http
                .patch(url)
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(json!({"tags": {"changed-by": "someone-else"}}).to_string())
                .send()
                .await
                .expect("the interposed PATCH");
            assert_eq!(response.status(), 200);
        });

    let addon = clients
        .aks()
        .set_addon(&demo_cluster(), &enabled(), &[])
        .await
        .unwrap()
        .addon;
    assert!(addon.enabled);
    assert_eq!(statuses(&clients.journal_of(CLUSTER_PUT)), [412, 200]);
    let puts = clients.wire.sent_to("PUT", "/managedClusters/aks-demo");
    assert_ne!(
        puts[0].if_match, puts[1].if_match,
        "the retry uses the new eTag"
    );
    let after = clients.aks().get(&demo_cluster()).await.unwrap().unwrap();
    assert_eq!(
        after.document["tags"]["changed-by"], "someone-else",
        "the concurrent change is kept, not overwritten"
    );
}

#[tokio::test]
async fn an_operation_that_slips_in_is_waited_out_and_the_client_takes_its_turn() {
    // Another operation (a PUT of the same document, running for a second — a margin, not a
    // measurement) slips in between the client's GET and its PUT.
    let clients = Clients::start_with(SandboxOptions {
        lro_duration: Duration::from_secs(1),
        ..SandboxOptions::default()
    })
    .await;
    let document = clients
        .env
        .arm("GET", &demo_path(), None)
        .await
        .expect(200)
        .body;
    let http = clients.env.http.clone();
    let url = clients.env.url(&demo_path());
    let token = clients.env.arm_token().await;
    clients
        .wire
        .before_next("PUT", "/managedClusters/aks-demo", async move {
            let response = http
                .put(url)
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(document.to_string())
                .send()
                .await
                .expect("the interposed PUT");
            assert_eq!(response.status(), 200);
        });

    let addon = clients
        .aks()
        .set_addon(&demo_cluster(), &enabled(), &[])
        .await
        .unwrap()
        .addon;
    assert!(addon.identity.is_some());
    let puts = statuses(&clients.journal_of(CLUSTER_PUT));
    // The other operation; ours refused (its eTag moved: 412 — or, without that, 409
    // OperationNotAllowed, which the scripted unit tests cover); ours accepted once the other
    // finished.
    assert_eq!(puts.len(), 3, "{puts:?}");
    assert!(matches!(puts[1], 409 | 412), "{puts:?}");
    assert_eq!(puts[2], 200, "{puts:?}");
    assert!(
        !clients.timer.waits().is_empty(),
        "the client waited for the other operation"
    );
    let polls = statuses(&clients.journal_of("GET Microsoft.ContainerService/operations"));
    assert!(!polls.is_empty(), "our operation was followed");
}

#[tokio::test]
async fn a_cluster_that_stays_busy_is_a_clear_error() {
    let clients = Clients::start_with(SandboxOptions {
        lro_duration: Duration::from_secs(600),
        ..SandboxOptions::default()
    })
    .await;
    let document = clients
        .env
        .arm("GET", &demo_path(), None)
        .await
        .expect(200)
        .body;
    clients
        .env
        .arm("PUT", &demo_path(), Some(&document))
        .await
        .expect(200);
    let aks = AksClient::new(
        clients.session.arm().clone(),
        AksOptions {
            max_attempts: 3,
            conflict_delay: Duration::from_millis(1),
            max_conflict_delay: Duration::from_millis(2),
            max_operation_wait: Duration::from_millis(20),
        },
    );
    let error = aks
        .set_addon(&demo_cluster(), &enabled(), &[])
        .await
        .unwrap_err();
    assert!(
        matches!(error, AksError::OperationStillRunning { .. }),
        "{error}"
    );
    assert!(
        error.to_string().starts_with(
            "aks cluster `aks-demo` was still in provisioning state `Updating` after waiting"
        ),
        "{error}"
    );
    assert!(error.help().is_some());
    // It waited for the running operation instead of sending PUTs that would be refused.
    assert_eq!(statuses(&clients.journal_of(CLUSTER_PUT)), [200]);
}

#[tokio::test]
async fn the_user_kubeconfig_points_at_the_clusters_api() {
    let clients = Clients::start().await;
    let kubeconfig = clients
        .aks()
        .user_kubeconfig(&demo_cluster())
        .await
        .unwrap();
    let yaml: Value = serde_norway::from_slice(kubeconfig.as_bytes()).unwrap();
    assert_eq!(
        yaml["clusters"][0]["cluster"]["server"],
        format!("{}/k8s/clusters/aks-demo", clients.env.sandbox.endpoint())
    );
    assert!(yaml["clusters"][0]["cluster"]["certificate-authority-data"].is_string());
    assert_eq!(
        yaml["users"][0]["user"]["exec"]["command"], "kubelogin",
        "an Entra-integrated cluster, as AKS returns it"
    );
}
