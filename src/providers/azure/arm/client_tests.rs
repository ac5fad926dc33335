//! The ARM client over a scripted transport: the real azure_core pipeline (retry, rate limit,
//! bearer token) runs; only the network is replaced.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::providers::azure::arm::OperationKind;
use crate::providers::testing::{FAKE_TOKEN, FakeCredential, FakeTimer, Reply, ScriptedHttp};

const VAULT: &str =
    "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-demo";
const CLUSTER: &str =
    "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks";
const OPERATION: &str = "https://management.azure.com/subscriptions/sub/providers/Microsoft.ContainerService/locations/westeurope/operations/op1";

fn client(http: &Arc<ScriptedHttp>) -> (ArmClient, Arc<FakeTimer>, Arc<FakeCredential>) {
    let timer = FakeTimer::new();
    let credential = FakeCredential::new();
    let cloud = AzureCloud::public().with_http_client(http.clone());
    let options = ArmClientOptions {
        timer: timer.clone(),
        ..ArmClientOptions::default()
    };
    (
        ArmClient::new(&cloud, credential.clone(), options),
        timer,
        credential,
    )
}

fn vault_get() -> ArmRequest {
    ArmRequest::get(VAULT, "2025-05-01")
}

#[tokio::test]
async fn requests_carry_the_arm_token_api_version_and_a_client_request_id() {
    let http = ScriptedHttp::new();
    http.expect("PUT", VAULT, Reply::json(200, json!({"name": "kv-demo"})));
    let (arm, _, credential) = client(&http);
    let request = ArmRequest::put(VAULT, "2025-05-01", json!({"location": "westeurope"}));
    arm.send(&request).await.unwrap();

    let sent = &http.requests()[0];
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {FAKE_TOKEN}").as_str())
    );
    assert_eq!(sent.query("api-version").as_deref(), Some("2025-05-01"));
    assert!(sent.header("x-ms-client-request-id").is_some());
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.json(), json!({"location": "westeurope"}));
    assert_eq!(
        credential.scopes(),
        ["https://management.core.windows.net//.default"]
    );
}

#[tokio::test]
async fn throttled_requests_wait_as_long_as_retry_after_says() {
    let http = ScriptedHttp::new();
    http.expect(
        "GET",
        VAULT,
        Reply::arm_error(429, "TooManyRequests", "slow down").header("retry-after", "7"),
    )
    .expect("GET", VAULT, Reply::json(200, json!({"name": "kv-demo"})));
    let (arm, timer, _) = client(&http);
    let response = arm.send(&vault_get()).await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(timer.sleeps(), [Duration::from_secs(7)]);
    http.assert_done();
}

#[tokio::test]
async fn server_errors_and_dropped_connections_are_retried_with_backoff() {
    let http = ScriptedHttp::new();
    http.expect(
        "GET",
        VAULT,
        Reply::arm_error(503, "ServiceUnavailable", "busy"),
    )
    .expect("GET", VAULT, Reply::ConnectionError)
    .expect(
        "GET",
        VAULT,
        Reply::arm_error(500, "InternalServerError", "oops"),
    )
    .expect("GET", VAULT, Reply::json(200, json!({})));
    let (arm, timer, _) = client(&http);
    arm.send(&vault_get()).await.unwrap();
    let sleeps = timer.sleeps();
    assert_eq!(sleeps.len(), 3);
    // Exponential: each backoff at least half of its doubled base (800 ms, 1.6 s, 3.2 s).
    assert!(sleeps[0] >= Duration::from_millis(400) && sleeps[0] <= Duration::from_millis(800));
    assert!(sleeps[2] >= Duration::from_millis(1600) && sleeps[2] <= Duration::from_millis(3200));
    http.assert_done();
}

#[tokio::test]
async fn when_retries_run_out_the_last_error_is_returned_with_its_request_id() {
    let http = ScriptedHttp::new();
    for _ in 0..=RetrySettings::default().max_retries {
        http.expect(
            "GET",
            VAULT,
            Reply::arm_error(503, "ServiceUnavailable", "busy"),
        );
    }
    let (arm, _, _) = client(&http);
    let error = arm.send(&vault_get()).await.unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert_eq!(error.request_id(), Some("req-0000"));
    http.assert_done();
}

#[tokio::test]
async fn conflicts_are_not_retried_by_the_pipeline() {
    let http = ScriptedHttp::new();
    http.expect("GET", VAULT, Reply::arm_error(409, "Conflict", "no"));
    let (arm, _, _) = client(&http);
    assert!(
        arm.send(&vault_get())
            .await
            .unwrap_err()
            .is(409, "Conflict")
    );
}

#[tokio::test]
async fn reads_answer_none_for_a_missing_resource_but_report_a_missing_resource_group() {
    let http = ScriptedHttp::new();
    http.expect(
        "GET",
        VAULT,
        Reply::arm_error(404, "ResourceNotFound", "gone"),
    )
    .expect(
        "GET",
        VAULT,
        Reply::arm_error(
            404,
            "ResourceGroupNotFound",
            "Resource group 'rg' could not be found.",
        ),
    );
    let (arm, _, _) = client(&http);
    assert!(arm.read(&vault_get()).await.unwrap().is_none());
    let error = arm.read(&vault_get()).await.unwrap_err();
    assert_eq!(error.code(), Some("ResourceGroupNotFound"));
}

#[tokio::test]
async fn an_async_operation_is_polled_until_it_succeeds_then_the_resource_is_read() {
    let http = ScriptedHttp::new();
    http.expect(
        "PUT",
        CLUSTER,
        Reply::json(200, json!({"properties": {"provisioningState": "Updating"}}))
            .header("azure-asyncoperation", OPERATION)
            .header("retry-after", "10"),
    )
    .expect(
        "GET",
        "/subscriptions/sub/providers/Microsoft.ContainerService/locations/westeurope/operations/op1",
        Reply::json(200, json!({"status": "InProgress"})).header("retry-after", "3"),
    )
    .expect(
        "GET",
        "/subscriptions/sub/providers/Microsoft.ContainerService/locations/westeurope/operations/op1",
        Reply::json(200, json!({"status": "Succeeded"})),
    )
    .expect(
        "GET",
        CLUSTER,
        Reply::json(200, json!({"properties": {"provisioningState": "Succeeded"}, "eTag": "new"})),
    );
    let (arm, timer, _) = client(&http);
    let request = ArmRequest::put(CLUSTER, "2025-10-01", json!({}));
    let done = arm.execute(&request).await.unwrap();
    assert_eq!(done.json().unwrap()["eTag"], "new");
    assert_eq!(
        timer.sleeps(),
        [Duration::from_secs(10), Duration::from_secs(3)]
    );
    http.assert_done();
}

#[tokio::test]
async fn a_failed_operation_carries_its_error() {
    let http = ScriptedHttp::new();
    http.expect(
        "PUT",
        CLUSTER,
        Reply::json(201, json!({"properties": {"provisioningState": "Creating"}}))
            .header("azure-asyncoperation", OPERATION),
    )
    .expect(
        "GET",
        "/subscriptions/sub/providers/Microsoft.ContainerService/locations/westeurope/operations/op1",
        Reply::json(
            200,
            json!({"status": "Failed", "error": {"code": "ReconcileAddonIdentityError", "message": "identity failed"}}),
        )
        .header("x-ms-request-id", "op-req"),
    );
    let (arm, _, _) = client(&http);
    let error = arm
        .execute(&ArmRequest::put(CLUSTER, "2025-10-01", json!({})))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("ReconcileAddonIdentityError"));
    assert_eq!(error.request_id(), Some("op-req"));
    assert!(
        error
            .to_string()
            .contains("ended Failed `ReconcileAddonIdentityError`: identity failed")
    );
}

#[tokio::test]
async fn an_operation_that_never_ends_times_out() {
    let http = ScriptedHttp::new();
    http.expect(
        "PUT",
        CLUSTER,
        Reply::json(201, json!({})).header("azure-asyncoperation", OPERATION),
    );
    for _ in 0..40 {
        http.expect(
            "GET",
            "/subscriptions/sub/providers/Microsoft.ContainerService/locations/westeurope/operations/op1",
            Reply::json(200, json!({"status": "InProgress"})).header("retry-after", "60"),
        );
    }
    let (arm, _, _) = client(&http);
    let error = arm
        .execute(&ArmRequest::put(CLUSTER, "2025-10-01", json!({})))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ArmError::OperationTimedOut { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn a_poll_url_on_another_host_is_refused_so_the_token_stays_home() {
    let http = ScriptedHttp::new();
    http.expect(
        "POST",
        "/subscriptions/sub/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv/purge",
        Reply::empty(202).header("location", "https://attacker.example/steal"),
    );
    let (arm, _, _) = client(&http);
    let request = ArmRequest::post(
        "/subscriptions/sub/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv/purge",
        "2025-05-01",
    );
    let error = arm.execute(&request).await.unwrap_err();
    assert!(matches!(error, ArmError::ForeignUrl { .. }), "{error}");
    assert_eq!(http.requests().len(), 1);
}

#[tokio::test]
async fn location_is_polled_while_it_answers_202() {
    let http = ScriptedHttp::new();
    let purge = "/subscriptions/sub/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv/purge";
    let status = "https://management.azure.com/subscriptions/sub/providers/Microsoft.KeyVault/locations/westeurope/operationResults/x";
    http.expect("POST", purge, Reply::empty(202).header("location", status))
        .expect(
            "GET",
            "/subscriptions/sub/providers/Microsoft.KeyVault/locations/westeurope/operationResults/x",
            Reply::empty(202),
        )
        .expect(
            "GET",
            "/subscriptions/sub/providers/Microsoft.KeyVault/locations/westeurope/operationResults/x",
            Reply::empty(200),
        );
    let (arm, timer, _) = client(&http);
    let done = arm
        .execute(&ArmRequest::post(purge, "2025-05-01"))
        .await
        .unwrap();
    assert_eq!(done.status, 200);
    // No Retry-After: the default interval, doubling.
    assert_eq!(
        timer.sleeps(),
        [Duration::from_secs(5), Duration::from_secs(10)]
    );
}

#[tokio::test]
async fn lists_follow_next_link_across_pages() {
    let http = ScriptedHttp::new();
    let path = "/subscriptions/sub/providers/Microsoft.KeyVault/deletedVaults";
    http.expect(
        "GET",
        path,
        Reply::json(
            200,
            json!({"value": [{"name": "a"}], "nextLink": format!("https://management.azure.com{path}?api-version=2025-05-01&%24skiptoken=abc")}),
        ),
    )
    .expect("GET", path, Reply::json(200, json!({"value": [{"name": "b"}]})));
    let (arm, _, _) = client(&http);
    let items = arm
        .list(&ArmRequest::get(path, "2025-05-01"))
        .await
        .unwrap();
    let names: Vec<&str> = items
        .iter()
        .filter_map(|item| item["name"].as_str())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(
        http.requests()[1].query("$skiptoken").as_deref(),
        Some("abc")
    );
}

/// A failed destroy named the PUT that started the operation, though its status poll was what
/// failed (regression): a poll's error names the poll. Transport errors on it are retried as
/// 5xx are.
#[tokio::test]
async fn a_failing_status_poll_is_retried_and_then_named_itself() {
    const POLL: &str = "/subscriptions/sub/providers/Microsoft.ContainerService/locations/westeurope/operations/op1";
    let started = || {
        Reply::json(
            200,
            json!({"properties": {"provisioningState": "Updating"}}),
        )
        .header("azure-asyncoperation", OPERATION)
    };
    let http = ScriptedHttp::new();
    http.expect("PUT", CLUSTER, started())
        .expect("GET", POLL, Reply::ConnectionError)
        .expect(
            "GET",
            POLL,
            Reply::json(200, json!({"status": "Succeeded"})),
        )
        .expect("GET", CLUSTER, Reply::json(200, json!({"properties": {}})));
    let (arm, _, _) = client(&http);
    arm.execute(&ArmRequest::put(CLUSTER, "2025-10-01", json!({})))
        .await
        .unwrap();
    http.assert_done();

    let http = ScriptedHttp::new();
    http.expect("PUT", CLUSTER, started());
    for _ in 0..=RetrySettings::default().max_retries {
        http.expect("GET", POLL, Reply::ConnectionError);
    }
    let (arm, _, _) = client(&http);
    let error = arm
        .execute(&ArmRequest::put(CLUSTER, "2025-10-01", json!({})))
        .await
        .unwrap_err();
    assert!(matches!(error, ArmError::Transport { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!("`GET {POLL} (following PUT {CLUSTER})` could not reach azure")
    );
    http.assert_done();
}

#[tokio::test]
async fn a_method_azure_core_cannot_send_is_an_error_and_nothing_is_sent() {
    let http = ScriptedHttp::new();
    let (arm, _, _) = client(&http);
    let request = ArmRequest::new(http::Method::OPTIONS, VAULT, "2025-05-01");
    let error = arm.send_raw(&request).await.unwrap_err();
    assert!(
        matches!(error, ArmError::UnsupportedMethod { .. }),
        "{error}"
    );
    assert_eq!(request.operation_kind(), OperationKind::Write);
    assert!(http.requests().is_empty());
}
