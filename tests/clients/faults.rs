//! The clients under injected faults, against the real sandbox: 429s with `Retry-After`, 5xx,
//! dropped connections and slow long-running operations. Every run uses a fixed seed, so the
//! same requests fail every time; assertions are about outcomes, the journal and the waits the
//! clients asked for — never about how long anything took.
//!
//! ARM and Key Vault calls share one retry policy (azure_core's pipeline): 429, 5xx and
//! connection errors are retried with backoff, and a `Retry-After` is honoured (capped). The
//! Kubernetes calls are retried by vaultwire's own policy alone (`providers::kube::retry`):
//! kube-rs's retry layer is left out of the client, so nothing is retried twice over.

use std::collections::BTreeSet;
use std::time::Duration;

use vaultwire::plan::model::{Authorization, BuiltInRole, PrincipalType, Role};
use vaultwire::providers::azure::ArmClientOptions;
use vaultwire::providers::azure::aks::{AddonSettings, AksClient, AksError};
use vaultwire::providers::azure::arm::{ArmClient, ArmError, LroSettings};
use vaultwire::providers::azure::rbac::RoleAssignmentSpec;
use vaultwire::providers::kube::{
    Backoff, DEFAULT_BACKOFF, LeaseLock, LockHolder, SpcClient, retry, with_retries,
};
use vaultwire::providers::timer::TokioTimer;
use vaultwire::sandbox::{Faults, JournalEntry, SandboxOptions, ids};

use crate::support::{
    Clients, RETRY_AFTER_CAP, SUB, demo_cluster, fast_aks, fast_retry, payments_db_spc, statuses,
    vault_spec,
};

fn enabled() -> AddonSettings {
    AddonSettings {
        enabled: true,
        secret_rotation: true,
        rotation_poll_interval: "2m".to_owned(),
        workload_identity: false,
    }
}

async fn with_faults(seed: u64, faults: Faults) -> Clients {
    Clients::start_with(SandboxOptions {
        faults,
        seed,
        ..SandboxOptions::default()
    })
    .await
}

/// Every kind of ARM and Key Vault call vaultwire makes, start to finish: name check, vault
/// create, update and soft delete and purge, a role assignment and its listing, the add-on
/// (an LRO), the cluster's kubeconfig, and the vault's secrets.
async fn arm_and_key_vault_workload(clients: &Clients) {
    let vaults = clients.session.key_vaults();
    let mut spec = vault_spec("kv-clients-faults", Authorization::Rbac);
    assert!(
        vaults
            .check_name(SUB, "kv-clients-faults")
            .await
            .unwrap()
            .available
    );
    let live = vaults.create(&spec).await.unwrap();
    let uri = live.vault_uri.clone().expect("a vault URI");
    spec.tags.insert("env".to_owned(), "dev".to_owned());
    let updated = vaults.update(&spec, live, &BTreeSet::new()).await.unwrap();
    assert_eq!(updated.tags.get("env").map(String::as_str), Some("dev"));

    let rbac = clients.rbac();
    let grant = RoleAssignmentSpec {
        scope: spec.id.path(),
        subscription_id: SUB.to_owned(),
        role: Role::BuiltIn(BuiltInRole::SecretsUser),
        principal_id: ids::CLIENT_OBJECT_ID.to_owned(),
        principal_type: PrincipalType::ServicePrincipal,
    };
    rbac.assign(&grant).await.unwrap();
    assert!(rbac.find(&grant).await.unwrap().is_some());

    let aks = clients.aks();
    let addon = aks
        .set_addon(&demo_cluster(), &enabled(), &[])
        .await
        .unwrap()
        .addon;
    assert!(addon.identity.is_some());
    aks.user_kubeconfig(&demo_cluster()).await.unwrap();

    let secrets = clients.session.secrets(&uri).unwrap();
    assert_eq!(secrets.list_secret_properties().await.unwrap(), Vec::new());

    assert!(vaults.delete(&spec.id).await.unwrap());
    assert_eq!(vaults.list_deleted(SUB).await.unwrap().len(), 1);
    vaults
        .purge(SUB, ids::LOCATION, "kv-clients-faults")
        .await
        .unwrap();
    assert!(vaults.list_deleted(SUB).await.unwrap().is_empty());
}

fn faulted<'a>(journal: &'a [JournalEntry], fault: &str) -> Vec<&'a JournalEntry> {
    journal
        .iter()
        .filter(|entry| entry.fault.as_deref() == Some(fault))
        .collect()
}

/// Whether some request was faulted twice in a row (a burst the client rode out).
fn has_burst(journal: &[JournalEntry], fault: &str) -> bool {
    journal.windows(2).any(|pair| {
        pair[0].fault.as_deref() == Some(fault)
            && pair[1].fault.as_deref() == Some(fault)
            && pair[0].method == pair[1].method
            && pair[0].path == pair[1].path
    })
}

#[tokio::test]
async fn throttling_is_retried_after_the_servers_retry_after_and_everything_succeeds() {
    let clients = with_faults(
        11,
        Faults {
            throttle_rate: 0.4,
            ..Faults::none()
        },
    )
    .await;
    arm_and_key_vault_workload(&clients).await;

    let journal = clients.env.sandbox.journal();
    let throttled = faulted(&journal, "throttle");
    assert!(throttled.len() >= 3, "{journal:#?}");
    assert!(throttled.iter().all(|entry| entry.status == 429));
    assert!(
        has_burst(&journal, "throttle"),
        "a request was throttled twice in a row"
    );
    // Each 429 asked for `Retry-After: 1`; the client waited exactly that (capped at the
    // tests' cap) before its retry — longer than its own backoff would have.
    let honoured = clients
        .timer
        .waits()
        .iter()
        .filter(|wait| **wait == RETRY_AFTER_CAP)
        .count();
    assert_eq!(honoured, throttled.len());
}

#[tokio::test]
async fn server_errors_are_retried_and_everything_succeeds() {
    let clients = with_faults(
        12,
        Faults {
            error_rate: 0.3,
            ..Faults::none()
        },
    )
    .await;
    arm_and_key_vault_workload(&clients).await;

    let journal = clients.env.sandbox.journal();
    let failed: BTreeSet<u16> = faulted(&journal, "error")
        .iter()
        .map(|entry| entry.status)
        .collect();
    assert_eq!(failed, BTreeSet::from([500, 503]), "{journal:#?}");
    assert!(has_burst(&journal, "error"));
    assert!(
        clients
            .timer
            .waits()
            .iter()
            .all(|wait| *wait < RETRY_AFTER_CAP),
        "without Retry-After the client's own backoff decides"
    );
}

#[tokio::test]
async fn dropped_connections_are_retried_and_everything_succeeds() {
    // The seed decides which requests are dropped; this one drops writes as well as reads
    // (asserted below), so a change of request order that loses that fails here.
    let clients = with_faults(
        14,
        Faults {
            drop_rate: 0.25,
            ..Faults::none()
        },
    )
    .await;
    arm_and_key_vault_workload(&clients).await;

    let journal = clients.env.sandbox.journal();
    let dropped = faulted(&journal, "drop");
    assert!(dropped.len() >= 3, "{journal:#?}");
    assert!(dropped.iter().all(|entry| entry.status == 0));
    assert!(
        dropped.iter().any(|entry| entry.method != "GET"),
        "writes are retried too (the sandbox drops before acting): {dropped:#?}"
    );
}

#[tokio::test]
async fn slow_operations_are_polled_to_completion() {
    // Half a second per operation: enough margin for the first poll to find it running.
    let clients = Clients::start_with(SandboxOptions {
        lro_duration: Duration::from_millis(500),
        ..SandboxOptions::default()
    })
    .await;
    arm_and_key_vault_workload(&clients).await;

    let operations = statuses(&clients.journal_of("GET Microsoft.ContainerService/operations"));
    assert!(
        operations.len() >= 2,
        "polled while running: {operations:?}"
    );
    let purge = statuses(&clients.journal_of("GET Microsoft.KeyVault/operationResults"));
    assert!(
        purge.contains(&202) && purge.last() == Some(&200),
        "{purge:?}"
    );
    let cluster = clients.aks().get(&demo_cluster()).await.unwrap().unwrap();
    assert_eq!(cluster.provisioning_state.as_deref(), Some("Succeeded"));
}

#[tokio::test]
async fn an_operation_that_outlasts_the_timeout_is_a_clear_error() {
    let clients = Clients::start_with(SandboxOptions {
        lro_duration: Duration::from_secs(3600),
        ..SandboxOptions::default()
    })
    .await;
    let arm = ArmClient::new(
        clients.session.cloud(),
        clients.session.token_credential(),
        ArmClientOptions {
            retry: fast_retry(),
            lro: LroSettings {
                timeout: Duration::from_millis(100),
                poll_interval: Duration::from_millis(5),
                max_poll_interval: Duration::from_millis(10),
            },
            timer: clients.timer.clone(),
            throttle: None,
        },
    );
    let error = AksClient::new(arm, fast_aks())
        .set_addon(&demo_cluster(), &enabled(), &[])
        .await
        .unwrap_err();
    let AksError::Arm(ArmError::OperationTimedOut { request, .. }) = &error else {
        panic!("expected a timeout, got {error}");
    };
    assert!(request.starts_with("PUT /subscriptions/"), "{request}");
    assert!(
        error
            .to_string()
            .contains("/managedClusters/aks-demo` was still running after"),
        "{error}"
    );
    assert_eq!(
        statuses(&clients.journal_of("PUT Microsoft.ContainerService/managedClusters")),
        [200],
        "the operation is left to finish; nothing is sent again"
    );
}

#[tokio::test]
async fn kubernetes_throttling_is_retried() {
    let clients = Clients::start_with(SandboxOptions {
        seed: 21,
        ..SandboxOptions::default()
    })
    .await;
    let client = clients.cluster().await.client().await.unwrap();
    clients.env.sandbox.set_faults(Faults {
        throttle_rate: 0.3,
        ..Faults::none()
    });
    let lock = LeaseLock::new(
        client,
        ids::CLUSTER,
        LockHolder::from_identity("ci@runner pid 1 run faults"),
        Duration::from_secs(60),
    );
    let now = jiff::Timestamp::now();
    lock.acquire(now).await.unwrap();
    lock.renew(now).await.unwrap();
    lock.release().await.unwrap();

    let journal = clients.env.sandbox.journal();
    let throttled: Vec<&JournalEntry> = faulted(&journal, "throttle")
        .into_iter()
        .filter(|entry| entry.route.ends_with("kubernetes"))
        .collect();
    assert!(!throttled.is_empty(), "{journal:#?}");
}

#[tokio::test]
async fn kubernetes_server_errors_and_dropped_connections_are_retried() {
    let clients = Clients::start_with(SandboxOptions {
        seed: 33,
        ..SandboxOptions::default()
    })
    .await;
    clients
        .aks()
        .set_addon(&demo_cluster(), &enabled(), &[])
        .await
        .unwrap();
    let client = clients.cluster().await.client().await.unwrap();
    clients.env.sandbox.set_faults(Faults {
        error_rate: 0.25,
        drop_rate: 0.15,
        ..Faults::none()
    });
    let spcs = SpcClient::new(client.clone());
    let spec = payments_db_spc("aaaaaaaa-0000-0000-0000-000000000001");
    for _ in 0..3 {
        spcs.apply_manifest(&spec.namespace, &spec.name, &spec.manifest())
            .await
            .unwrap();
        assert!(spcs.get("payments", "payments-db").await.unwrap().is_some());
        assert!(spcs.list_all().await.unwrap().is_some());
    }
    let lock = LeaseLock::new(
        client,
        ids::CLUSTER,
        LockHolder::from_identity("ci@runner pid 1 run faults"),
        Duration::from_secs(60),
    );
    let now = jiff::Timestamp::now();
    lock.acquire(now).await.unwrap();
    lock.renew(now).await.unwrap();
    lock.release().await.unwrap();
    spcs.delete("payments", "payments-db").await.unwrap();
    clients.env.sandbox.set_faults(Faults::none());
    assert!(spcs.get("payments", "payments-db").await.unwrap().is_none());

    let journal = clients.env.sandbox.journal();
    let kubernetes = |fault: &str| {
        faulted(&journal, fault)
            .into_iter()
            .filter(|entry| entry.route.ends_with("kubernetes"))
            .count()
    };
    assert!(kubernetes("error") + kubernetes("drop") > 0, "{journal:#?}");
}

/// A Kubernetes request that fails every time costs exactly the policy's attempts: one retry
/// layer, not kube-rs's under ours (which made a persistent 503 cost 80 requests).
#[tokio::test]
async fn a_persistent_kubernetes_failure_costs_the_policys_attempts_and_no_more() {
    let clients = Clients::start_with(SandboxOptions {
        seed: 8,
        ..SandboxOptions::default()
    })
    .await;
    let client = clients.cluster().await.client().await.unwrap();
    let leases: kube::Api<k8s_openapi::api::coordination::v1::Lease> =
        kube::Api::namespaced(client, "kube-system");
    let before = kubernetes_requests(&clients);
    clients.env.sandbox.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::none()
    });
    // The default policy's attempts, without its waits.
    let no_waits = Backoff {
        first_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
        ..DEFAULT_BACKOFF
    };
    let error = retry(no_waits, &*TokioTimer::new(), || {
        leases.get_opt("vaultwire-lock")
    })
    .await
    .unwrap_err();
    assert!(
        matches!(&error, kube::Error::Api(status) if matches!(status.code, 500 | 503)),
        "{error:?}"
    );
    assert_eq!(
        kubernetes_requests(&clients) - before,
        DEFAULT_BACKOFF.attempts as usize,
        "{:#?}",
        clients.env.sandbox.journal()
    );

    // A failure that is not transient is not retried at all.
    clients.env.sandbox.set_faults(Faults::none());
    let before = kubernetes_requests(&clients);
    let missing: kube::Api<k8s_openapi::api::coordination::v1::Lease> =
        kube::Api::namespaced(leases.into_client(), "kube-system");
    let error = with_retries(|| missing.get("no-such-lease"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, kube::Error::Api(status) if status.code == 404),
        "{error:?}"
    );
    assert_eq!(kubernetes_requests(&clients) - before, 1);
}

fn kubernetes_requests(clients: &Clients) -> usize {
    clients
        .env
        .sandbox
        .journal()
        .iter()
        .filter(|entry| entry.route.ends_with("kubernetes"))
        .count()
}
