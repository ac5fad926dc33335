//! The add-on client over a scripted ARM.

use std::time::Duration;

use serde_json::{Value, json};

use super::super::addon::tests::cluster_with_policy_addon;
use super::*;
use crate::providers::azure::aks::ADDON_KEY;
use crate::providers::testing::{Reply, ScriptedHttp, arm_client, spec_response};

const PATH: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/clustername1";
const OPERATION: &str = "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.ContainerService/locations/location1/operations/op1";
const OPERATION_PATH: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.ContainerService/locations/location1/operations/op1";

fn id() -> ClusterId {
    ClusterId::new(
        "00000000-0000-0000-0000-000000000000",
        "rg1",
        "clustername1",
    )
}

fn enable() -> AddonSettings {
    AddonSettings {
        enabled: true,
        secret_rotation: true,
        rotation_poll_interval: "2m".into(),
        workload_identity: false,
    }
}

/// The cluster after AKS enabled the add-on and created its identity.
fn enabled_cluster(etag: &str) -> Value {
    let mut cluster = cluster_with_policy_addon();
    cluster["eTag"] = json!(etag);
    cluster["properties"]["addonProfiles"][ADDON_KEY] = json!({
        "enabled": true,
        "config": {"enableSecretRotation": "true", "rotationPollInterval": "2m"},
        "identity": {
            "clientId": "aaaaaaaa-0000-0000-0000-000000000001",
            "objectId": "aaaaaaaa-0000-0000-0000-000000000002",
            "resourceId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/MC_rg1_clustername1_location1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/azurekeyvaultsecretsprovider-clustername1"
        }
    });
    cluster
}

fn client(
    http: &std::sync::Arc<ScriptedHttp>,
) -> (
    AksClient,
    std::sync::Arc<crate::providers::testing::FakeTimer>,
) {
    let (arm, timer) = arm_client(http);
    (AksClient::new(arm, AksOptions::default()), timer)
}

#[tokio::test]
async fn enabling_puts_the_document_back_with_if_match_follows_the_operation_and_returns_the_identity()
 {
    let http = ScriptedHttp::new();
    http.expect("GET", PATH, Reply::json(200, cluster_with_policy_addon()))
        .expect(
            "PUT",
            PATH,
            Reply::json(
                200,
                json!({"properties": {"provisioningState": "Updating"}}),
            )
            .header("azure-asyncoperation", OPERATION),
        )
        .expect(
            "GET",
            OPERATION_PATH,
            Reply::json(200, json!({"status": "Succeeded"})),
        )
        .expect("GET", PATH, Reply::json(200, enabled_cluster("after")));
    let (aks, _) = client(&http);
    let cluster = aks.set_addon(&id(), &enable(), &[]).await.unwrap();
    assert_eq!(
        cluster.addon.identity.map(|identity| identity.client_id),
        Some("aaaaaaaa-0000-0000-0000-000000000001".to_owned())
    );
    assert_eq!(
        cluster.etag.as_deref(),
        Some("after"),
        "the cluster the operation ended with, not read again"
    );

    let put = &http.requests()[1];
    assert_eq!(put.header("if-match"), Some("beywbwei"));
    let sent = put.json();
    assert_eq!(
        sent["properties"]["addonProfiles"]["azurepolicy"]["config"]["version"],
        "v2"
    );
    assert_eq!(
        sent["properties"]["futureProfileUnknownToVaultwire"]["knobs"],
        json!([1, 2, 3])
    );
    assert_eq!(
        sent["properties"]["servicePrincipalProfile"],
        json!({"clientId": "clientid"})
    );
    assert_eq!(
        sent["properties"]["addonProfiles"][ADDON_KEY]["enabled"],
        true
    );
    http.assert_done();
}

#[tokio::test]
async fn an_addon_that_already_matches_is_left_alone() {
    let http = ScriptedHttp::new();
    http.expect("GET", PATH, Reply::json(200, enabled_cluster("e1")));
    let (aks, _) = client(&http);
    aks.set_addon(&id(), &enable(), &[]).await.unwrap();
    assert_eq!(http.requests().len(), 1);
}

#[tokio::test]
async fn a_busy_cluster_is_read_again_and_retried_with_backoff() {
    let http = ScriptedHttp::new();
    http.expect("GET", PATH, Reply::json(200, cluster_with_policy_addon()))
        .expect(
            "PUT",
            PATH,
            Reply::arm_error(
                409,
                "OperationNotAllowed",
                "Operation is not allowed: Another operation (Updating) is in progress, please wait for it to finish before starting a new operation.",
            ),
        )
        .expect("GET", PATH, Reply::json(200, {
            let mut changed = cluster_with_policy_addon();
            changed["eTag"] = json!("changed-meanwhile");
            changed
        }))
        .expect("PUT", PATH, Reply::arm_error(412, "PreconditionFailed", "etag mismatch"))
        .expect("GET", PATH, Reply::json(200, cluster_with_policy_addon()))
        .expect("PUT", PATH, Reply::json(200, enabled_cluster("done")));
    let (aks, timer) = client(&http);
    aks.set_addon(&id(), &enable(), &[]).await.unwrap();
    let requests = http.requests();
    assert_eq!(requests[3].header("if-match"), Some("changed-meanwhile"));
    let sleeps = timer.sleeps();
    assert_eq!(sleeps.len(), 2);
    assert!(sleeps[0] >= Duration::from_millis(7500) && sleeps[1] >= Duration::from_secs(15));
    http.assert_done();
}

#[tokio::test]
async fn a_cluster_busy_for_too_long_is_an_error_that_says_so() {
    let http = ScriptedHttp::new();
    let options = AksOptions {
        max_attempts: 2,
        ..AksOptions::default()
    };
    for _ in 0..2 {
        http.expect("GET", PATH, Reply::json(200, cluster_with_policy_addon()))
            .expect(
                "PUT",
                PATH,
                Reply::arm_error(
                    409,
                    "OperationNotAllowed",
                    "Another operation is in progress",
                ),
            );
    }
    let (arm, _) = arm_client(&http);
    let error = AksClient::new(arm, options)
        .set_addon(&id(), &enable(), &[])
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "aks cluster `clustername1` stayed busy with another operation through 2 attempts"
    );
}

#[tokio::test]
async fn disabling_blocked_by_secret_provider_classes_names_them() {
    let http = ScriptedHttp::new();
    http.expect("GET", PATH, Reply::json(200, enabled_cluster("e1")))
        .expect(
            "PUT",
            PATH,
            Reply::arm_error(
                400,
                "AddonDisableBlocked",
                "Cannot disable azureKeyvaultSecretsProvider while SecretProviderClasses exist: payments/payments-db",
            ),
        );
    let (aks, _) = client(&http);
    let error = aks
        .set_addon(
            &id(),
            &AddonSettings::disabled(),
            &["shop/shop-api".to_owned()],
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the key vault secrets provider add-on of `clustername1` cannot be disabled while SecretProviderClasses exist: `payments/payments-db`, `shop/shop-api`"
    );
    assert!(error.help().is_some());
    let put = &http.requests()[1];
    assert_eq!(
        put.json()["properties"]["addonProfiles"][ADDON_KEY],
        json!({"enabled": false})
    );
    assert_eq!(
        put.json()["properties"]["addonProfiles"]["azurepolicy"]["enabled"],
        true
    );
}

#[tokio::test]
async fn a_cluster_read_earlier_is_put_back_without_reading_it_again() {
    let http = ScriptedHttp::new();
    http.expect("PUT", PATH, Reply::json(200, enabled_cluster("done")));
    let (aks, timer) = client(&http);
    let read = LiveCluster::from_document(cluster_with_policy_addon(), None).unwrap();
    aks.set_addon_from(&id(), &enable(), &[], Some(read))
        .await
        .unwrap();
    http.assert_done();
    assert_eq!(http.requests()[0].header("if-match"), Some("beywbwei"));
    assert!(timer.sleeps().is_empty());
}

#[tokio::test]
async fn a_stale_earlier_read_is_read_again_at_once() {
    let http = ScriptedHttp::new();
    let mut current = cluster_with_policy_addon();
    current["eTag"] = json!("changed-since");
    http.expect(
        "PUT",
        PATH,
        Reply::arm_error(412, "PreconditionFailed", "etag mismatch"),
    )
    .expect("GET", PATH, Reply::json(200, current))
    .expect("PUT", PATH, Reply::json(200, enabled_cluster("done")));
    let (aks, timer) = client(&http);
    let read = LiveCluster::from_document(cluster_with_policy_addon(), None).unwrap();
    aks.set_addon_from(&id(), &enable(), &[], Some(read))
        .await
        .unwrap();
    http.assert_done();
    assert_eq!(http.requests()[2].header("if-match"), Some("changed-since"));
    assert!(timer.sleeps().is_empty(), "no backoff for a stale read");
}

#[tokio::test]
async fn an_earlier_read_that_already_matches_is_checked_by_reading_again() {
    let http = ScriptedHttp::new();
    http.expect("GET", PATH, Reply::json(200, enabled_cluster("e1")));
    let (aks, _) = client(&http);
    let read = LiveCluster::from_document(enabled_cluster("e0"), None).unwrap();
    let cluster = aks
        .set_addon_from(&id(), &enable(), &[], Some(read))
        .await
        .unwrap();
    assert_eq!(cluster.etag.as_deref(), Some("e1"));
    http.assert_done();
}

#[tokio::test]
async fn a_missing_cluster_is_an_error_not_a_creation() {
    let http = ScriptedHttp::new();
    http.expect(
        "GET",
        PATH,
        Reply::arm_error(404, "ResourceNotFound", "not found"),
    );
    let (aks, _) = client(&http);
    let error = aks.set_addon(&id(), &enable(), &[]).await.unwrap_err();
    assert!(matches!(error, AksError::ClusterNotFound { .. }));
}

#[tokio::test]
async fn the_published_user_credentials_decode_to_a_kubeconfig() {
    let http = ScriptedHttp::new();
    http.expect(
        "POST",
        &format!("{PATH}/listClusterUserCredential"),
        Reply::json(
            200,
            spec_response(
                "containerservice/ManagedClustersListClusterUserCredentials.json",
                200,
            ),
        ),
    );
    let (aks, _) = client(&http);
    let kubeconfig = aks.user_kubeconfig(&id()).await.unwrap();
    assert_eq!(kubeconfig.as_bytes(), b"credentialValue1");
    assert_eq!(format!("{kubeconfig:?}"), "ClusterKubeconfig(16 bytes)");
}

/// The cluster while another operation (a run that died, a portal user) is changing it.
fn busy_cluster() -> Value {
    let mut cluster = cluster_with_policy_addon();
    cluster["properties"]["provisioningState"] = json!("Updating");
    cluster
}

/// A run that found the cluster busy waited a fixed 5 s between reads, though the operation
/// took 1 s (regression): it waits as long as the service asks, else 1 s, then longer.
#[tokio::test]
async fn an_operation_already_running_is_waited_for_as_the_service_asks_else_briefly_first() {
    let http = ScriptedHttp::new();
    http.expect(
        "GET",
        PATH,
        Reply::json(200, busy_cluster()).header("retry-after", "3"),
    );
    for _ in 0..3 {
        http.expect("GET", PATH, Reply::json(200, busy_cluster()));
    }
    http.expect("GET", PATH, Reply::json(200, cluster_with_policy_addon()))
        .expect("PUT", PATH, Reply::json(200, enabled_cluster("done")));
    let (aks, timer) = client(&http);
    aks.set_addon(&id(), &enable(), &[]).await.unwrap();
    assert_eq!(
        timer.sleeps(),
        [3, 1, 2, 4].map(Duration::from_secs),
        "as long as Retry-After asks, else doubling from 1 s"
    );
    http.assert_done();
}
