//! Injected faults (reproducible from the seed, settable at run time), the request journal and
//! counters, and the admin API's drift changes and timing control.

use serde_json::json;
use vaultwire_sandbox::{Faults, SandboxOptions, ids};

use crate::support::{
    AKS_API, Env, SUB, VAULTS_API, cluster_path, start, start_with, vault_body, vault_path,
};

fn group_path() -> String {
    format!("/subscriptions/{SUB}/resourceGroups/rg-demo?api-version=2024-11-01")
}

/// `GET` of the resource group through `client`, as it went.
async fn get_group(
    env: &Env,
    client: &reqwest::Client,
    token: &str,
) -> reqwest::Result<reqwest::Response> {
    client
        .get(env.url(&group_path()))
        .bearer_auth(token)
        .send()
        .await
}

#[tokio::test]
async fn throttling_answers_429_with_retry_after_in_each_services_shape_but_entra_stays_up() {
    let env = start();
    let token = env.arm_token().await;
    let kv_token = env.kv_token().await;
    env.sandbox.set_faults(Faults {
        throttle_rate: 1.0,
        ..Faults::none()
    });
    let arm = env
        .call("GET", &group_path(), Some(&token), None)
        .await
        .expect(429);
    assert_eq!(arm.header("retry-after"), Some("1"));
    assert_eq!(arm.code(), "TooManyRequests");
    assert!(arm.header("x-ms-request-id").is_some());
    let kv = env
        .call(
            "GET",
            "/vaults/any/secrets?api-version=2025-07-01",
            Some(&kv_token),
            None,
        )
        .await
        .expect(429);
    assert_eq!(kv.code(), "Throttled");
    let _still_issued = env.arm_token().await;
    env.sandbox.set_faults(Faults::none());
    env.call("GET", &group_path(), Some(&token), None)
        .await
        .expect(200);
}

#[tokio::test]
async fn server_errors_and_dropped_connections_are_injected() {
    let env = start();
    let token = env.arm_token().await;
    env.sandbox.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::none()
    });
    let failed = env.call("GET", &group_path(), Some(&token), None).await;
    assert!(
        failed.status == 500 || failed.status == 503,
        "{}",
        failed.status
    );
    env.sandbox.set_faults(Faults {
        drop_rate: 1.0,
        ..Faults::none()
    });
    let dropped = get_group(&env, &env.http, &token).await;
    assert!(dropped.is_err(), "the connection closes without an answer");
    let last = env.sandbox.journal().pop().unwrap();
    assert_eq!((last.status, last.fault.as_deref()), (0, Some("drop")));
    assert_eq!(
        last.route, "GET resourceGroups",
        "a faulted request keeps its route name"
    );
}

#[tokio::test]
async fn http2_and_http1_are_both_offered_and_a_drop_fails_only_that_request() {
    let env = start();
    let token = env.arm_token().await;
    let http1 = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(env.sandbox.ca_pem().as_bytes()).unwrap()])
        .http1_only()
        .build()
        .unwrap();
    for (client, version) in [
        (&env.http, reqwest::Version::HTTP_2),
        (&http1, reqwest::Version::HTTP_11),
    ] {
        let answer = get_group(&env, client, &token).await.unwrap();
        assert_eq!((answer.status().as_u16(), answer.version()), (200, version));
    }
    // A drop on a shared HTTP/2 connection resets that stream only: the connection serves on.
    env.sandbox.set_faults(Faults {
        drop_rate: 1.0,
        ..Faults::none()
    });
    let dropped = get_group(&env, &env.http, &token).await;
    assert!(dropped.is_err(), "no answer to a dropped request");
    env.sandbox.set_faults(Faults::none());
    env.call("GET", &group_path(), Some(&token), None)
        .await
        .expect(200);
}

async fn statuses(env: &Env, token: &str, n: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..n {
        statuses.push(
            env.call("GET", &group_path(), Some(token), None)
                .await
                .status,
        );
    }
    statuses
}

#[tokio::test]
async fn the_same_seed_fails_the_same_requests() {
    let faults = Faults {
        throttle_rate: 0.3,
        error_rate: 0.3,
        ..Faults::none()
    };
    let options = SandboxOptions {
        faults,
        seed: 42,
        ..SandboxOptions::default()
    };
    let (first, second) = (start_with(options.clone()), start_with(options));
    let (a, b) = (first.arm_token().await, second.arm_token().await);
    let run = statuses(&first, &a, 30).await;
    assert_eq!(run, statuses(&second, &b, 30).await);
    assert!(
        run.contains(&200) && run.iter().any(|s| *s != 200),
        "{run:?}"
    );
}

#[tokio::test]
async fn faults_and_timing_are_set_through_the_admin_api() {
    let env = start();
    let token = env.arm_token().await;
    env.admin("PUT", "faults", Some(&json!({"errorRate": 1.0})))
        .await
        .expect(200);
    assert_eq!(env.sandbox.faults().error_rate, 1.0);
    assert!(
        env.call("GET", &group_path(), Some(&token), None)
            .await
            .status
            >= 500
    );
    env.admin("PUT", "faults", Some(&json!({})))
        .await
        .expect(200);
    env.call("GET", &group_path(), Some(&token), None)
        .await
        .expect(200);
    let timing = env
        .admin("PUT", "timing", Some(&json!({"lroMs": 3_600_000})))
        .await
        .expect(200);
    assert_eq!(timing.body["lroMs"], 3_600_000);
    let cluster = env
        .arm(
            "GET",
            &format!("{}?{AKS_API}", cluster_path("rg-demo", "aks-demo")),
            None,
        )
        .await
        .body;
    env.arm(
        "PUT",
        &format!("{}?{AKS_API}", cluster_path("rg-demo", "aks-demo")),
        Some(&cluster),
    )
    .await
    .expect(200);
    let read = env
        .arm(
            "GET",
            &format!("{}?{AKS_API}", cluster_path("rg-demo", "aks-demo")),
            None,
        )
        .await;
    assert_eq!(read.body["properties"]["provisioningState"], "Updating");
}

#[tokio::test]
async fn the_journal_records_routes_and_statuses_but_never_secrets_or_tokens() {
    let env = start();
    env.arm(
        "PUT",
        &format!("{}?{VAULTS_API}", vault_path("rg-demo", "kv-journal")),
        Some(&vault_body(false)),
    )
    .await
    .expect(201);
    let token = env.kv_token().await;
    env.call(
        "PUT",
        "/vaults/kv-journal/secrets/pw?api-version=2025-07-01",
        Some(&token),
        Some(&json!({"value": "hunter2-secret-value"})),
    )
    .await;
    let journal = env.admin("GET", "journal", None).await.expect(200);
    let text = journal.body.to_string();
    assert!(!text.contains("hunter2-secret-value"));
    assert!(!text.contains(&token));
    assert!(!text.contains(ids::CLIENT_SECRET));
    assert!(
        !text.contains("api-version"),
        "query strings are not recorded"
    );
    let entry = journal.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["route"] == "PUT Microsoft.KeyVault/vaults")
        .unwrap()
        .clone();
    assert_eq!(entry["status"], 201);
    assert_eq!(entry["path"], vault_path("rg-demo", "kv-journal"));
    let counters = env.admin("GET", "counters", None).await.expect(200);
    assert_eq!(counters.body["routes"]["POST entra token"], 2);
    assert_eq!(env.sandbox.counters()["PUT keyvault secrets"], 1);
}

#[tokio::test]
async fn drift_disables_the_add_on_and_deletes_role_assignments_behind_arms_back() {
    let env = start();
    let path = format!("{}?{AKS_API}", cluster_path("rg-demo", "aks-demo"));
    let mut cluster = env.arm("GET", &path, None).await.body;
    cluster["properties"]["addonProfiles"]["azureKeyvaultSecretsProvider"] = json!({"enabled": true, "config": {"enableSecretRotation": "false", "rotationPollInterval": "2m"}});
    env.arm("PUT", &path, Some(&cluster)).await.expect(200);
    assert_eq!(
        env.sandbox.csi_driver_installed("aks-demo").unwrap(),
        Some(true)
    );
    env.admin(
        "POST",
        "drift/disable-addon",
        Some(&json!({"cluster": "aks-demo"})),
    )
    .await
    .expect(200);
    let read = env.arm("GET", &path, None).await.body;
    assert_eq!(
        read["properties"]["addonProfiles"]["azureKeyvaultSecretsProvider"]["enabled"],
        false
    );
    assert_eq!(
        env.sandbox.csi_driver_installed("aks-demo").unwrap(),
        Some(false)
    );

    let scope = format!(
        "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01"
    );
    let before = env.arm("GET", &scope, None).await.body["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    env.admin(
        "POST",
        "drift/delete-role-assignment",
        Some(&json!({"id": before})),
    )
    .await
    .expect(200);
    assert_eq!(env.arm("GET", &scope, None).await.body["value"], json!([]));
    env.admin(
        "POST",
        "drift/delete-role-assignment",
        Some(&json!({"id": before})),
    )
    .await
    .expect(404);
}

/// A sandbox that adds `latency` to every answer from now on, an ARM token got before it,
/// and an empty journal.
async fn signed_in_with_latency(latency: std::time::Duration) -> (Env, String) {
    let env = start();
    let token = env.arm_token().await;
    env.sandbox.set_faults(Faults {
        latency,
        ..Faults::none()
    });
    env.sandbox.clear_journal();
    (env, token)
}

#[tokio::test]
async fn latency_holds_back_every_answer_and_answers_go_out_in_the_order_requests_came() {
    let latency = std::time::Duration::from_millis(150);
    let (env, token) = signed_in_with_latency(latency).await;
    let groups = ["rg-demo", "rg-missing-1", "rg-missing-2", "rg-missing-3"];
    // Sent 10 ms apart, each while the ones before it still wait on the latency.
    let sent = groups.iter().enumerate().map(|(index, group)| {
        let (env, token) = (&env, &token);
        async move {
            tokio::time::sleep(std::time::Duration::from_millis(10) * index as u32).await;
            let sent = std::time::Instant::now();
            let path =
                format!("/subscriptions/{SUB}/resourceGroups/{group}?api-version=2024-11-01");
            let reply = env.call("GET", &path, Some(token), None).await;
            (sent.elapsed(), reply.status)
        }
    });
    for (waited, status) in futures::future::join_all(sent).await {
        assert!(waited >= latency, "answered after {waited:?}");
        assert!(status == 200 || status == 404, "{status}");
    }
    let answered: Vec<String> = env
        .sandbox
        .journal()
        .iter()
        .map(|entry| entry.path.rsplit('/').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(answered, groups);
}

#[tokio::test]
async fn a_request_is_worked_out_halfway_through_its_latency_and_answered_when_it_has_passed() {
    let latency = std::time::Duration::from_millis(400);
    let (env, token) = signed_in_with_latency(latency).await;
    let path = group_path();
    let sent = std::time::Instant::now();
    let reply = env.call("GET", &path, Some(&token), None);
    tokio::pin!(reply);
    // Three quarters of the way through: worked out (so journaled), not yet answered.
    let early = tokio::time::timeout(latency * 3 / 4, reply.as_mut()).await;
    assert!(early.is_err(), "answered before the latency had passed");
    let looked = sent.elapsed();
    let worked_out = env.sandbox.journal().len();
    reply.await.expect(200);
    assert!(
        sent.elapsed() >= latency,
        "answered after {:?}",
        sent.elapsed()
    );
    // A test machine stalled past the latency would look too late to tell the difference.
    assert!(
        worked_out == 1 || looked >= latency,
        "not worked out {looked:?} after it was sent"
    );
}
