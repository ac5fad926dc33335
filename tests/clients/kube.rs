//! The Kubernetes clients against the sandbox's cluster API: connecting with ARM's user
//! kubeconfig and the session's Entra token, SecretProviderClasses (absent without the add-on,
//! then applied, read, listed and deleted), and the run lock (acquire, renew, release, a second
//! holder refused, expiry and takeover, races settled by `resourceVersion`).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DynamicObject, ListParams};
use vaultwire::providers::azure::aks::AddonSettings;
use vaultwire::providers::kube::{
    ClusterConnection, KubeTransports, LeaseLock, LockError, LockHolder, SpcClient,
    spc_api_resource,
};
use vaultwire::providers::{AzureSession, Environment};
use vaultwire::sandbox::ids;

use crate::support::{
    Clients, client_secret_environment, demo_cluster, example_plan, payments_db_spc,
};

const LEASES: &str = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases";

fn run_of(name: &str) -> LockHolder {
    LockHolder::from_identity(format!(
        "{name}@{name}-host pid {} run {}",
        std::process::id(),
        uuid::Uuid::nil()
    ))
}

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + seconds).unwrap()
}

async fn lease(client: &kube::Client) -> Lease {
    Api::<Lease>::namespaced(client.clone(), "kube-system")
        .get("vaultwire-lock")
        .await
        .expect("the lock's Lease")
}

fn holder_of(lease: &Lease) -> Option<&str> {
    lease.spec.as_ref()?.holder_identity.as_deref()
}

type Action = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A client that runs `action` once, just before its first request whose method is `method`
/// and whose path ends with `path_suffix`.
fn interposing(
    inner: kube::Client,
    method: &'static str,
    path_suffix: &'static str,
    action: impl Future<Output = ()> + Send + 'static,
) -> kube::Client {
    let staged: Arc<Mutex<Option<Action>>> = Arc::new(Mutex::new(Some(Box::pin(action))));
    let service = tower::service_fn(move |request: http::Request<kube::client::Body>| {
        let inner = inner.clone();
        let staged = staged.clone();
        async move {
            let matches = request.method() == method && request.uri().path().ends_with(path_suffix);
            let action = if matches {
                staged.lock().unwrap().take()
            } else {
                None
            };
            if let Some(action) = action {
                action.await;
            }
            inner.send(request).await
        }
    });
    kube::Client::new(service, "default")
}

#[tokio::test]
async fn the_cluster_is_reached_with_arms_kubeconfig_and_the_sessions_entra_token() {
    let clients = Clients::start().await;
    let connection = clients.cluster().await;
    assert!(
        connection.uses_entra_token(),
        "AKS's kubeconfig runs kubelogin; vaultwire sends its own token instead"
    );
    assert_eq!(
        connection.cluster_url().to_string(),
        format!("{}/k8s/clusters/aks-demo", clients.env.sandbox.endpoint())
    );
    let namespaces = Api::<Namespace>::all(connection.client().await.unwrap())
        .list(&ListParams::default())
        .await
        .unwrap();
    let names: Vec<String> = namespaces
        .items
        .iter()
        .filter_map(|namespace| namespace.metadata.name.clone())
        .collect();
    assert!(names.contains(&"payments".to_owned()), "{names:?}");
    let journal = clients.env.sandbox.journal();
    assert!(
        journal.iter().any(
            |entry| entry.route.ends_with("managedClusters/credentials") && entry.status == 200
        )
    );
    assert!(
        journal
            .iter()
            .any(|entry| entry.route == "GET kubernetes" && entry.status == 200),
        "{journal:#?}"
    );
}

#[tokio::test]
async fn a_session_connects_from_the_plans_target_and_reaches_its_addons_cluster() {
    let clients = Clients::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, clients.env.sandbox.ca_pem()).unwrap();
    let env = client_secret_environment()
        .with("VAULTWIRE_SANDBOX_ENDPOINT", clients.env.sandbox.endpoint())
        .with("VAULTWIRE_SANDBOX_CA", ca.display().to_string());
    let plan = example_plan();

    let session = AzureSession::connect(&plan.target, &env).await.unwrap();
    let connection = session
        .cluster_connection(&plan.addons["demo"], &Environment::default())
        .await
        .unwrap();
    assert!(connection.uses_entra_token());
    Api::<Namespace>::all(connection.client().await.unwrap())
        .get("payments")
        .await
        .unwrap();
}

/// An HTTP proxy for tunnels: answers `CONNECT host:port` and relays both ways. Returns its URL
/// and the request lines it was sent.
async fn tunnelling_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = asked.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read_exact(&mut byte).await.is_err() {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let line = head.lines().next().unwrap_or_default().to_owned();
                let target = line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                seen.lock().unwrap().push(line);
                let Ok(mut upstream) = tokio::net::TcpStream::connect(&target).await else {
                    return;
                };
                let established = b"HTTP/1.1 200 Connection established\r\n\r\n";
                if client.write_all(established).await.is_ok() {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    (url, asked)
}

#[tokio::test]
async fn a_kubeconfig_context_with_a_proxy_url_reaches_the_cluster_through_the_proxy() {
    let clients = Clients::start().await;
    let (proxy, asked) = tunnelling_proxy().await;
    let text = clients
        .env
        .sandbox
        .kubeconfig(std::time::Duration::from_secs(3600))
        .unwrap();
    let mut kubeconfig = kube::config::Kubeconfig::from_yaml(&text).unwrap();
    for named in &mut kubeconfig.clusters {
        if let Some(cluster) = named.cluster.as_mut() {
            cluster.proxy_url = Some(proxy.clone());
        }
    }
    let connection = ClusterConnection::from_context(
        "aks-demo",
        kubeconfig,
        "aks-demo",
        &KubeTransports::default(),
    )
    .await
    .unwrap();
    Api::<Namespace>::all(connection.client().await.unwrap())
        .get("payments")
        .await
        .unwrap();
    let sandbox = clients
        .env
        .sandbox
        .endpoint()
        .trim_start_matches("https://");
    assert_eq!(
        *asked.lock().unwrap(),
        [format!("CONNECT {sandbox} HTTP/1.1")]
    );
}

#[tokio::test]
async fn secret_provider_classes_are_served_with_the_addon_and_applied_read_listed_deleted() {
    let clients = Clients::start().await;
    let connection = clients.cluster().await;
    let client = connection.client().await.unwrap();
    let spcs = SpcClient::new(client.clone());
    assert_eq!(
        spcs.list_all().await.unwrap(),
        None,
        "no CRD without the add-on"
    );

    let identity = clients
        .aks()
        .set_addon(
            &demo_cluster(),
            &AddonSettings {
                enabled: true,
                secret_rotation: false,
                rotation_poll_interval: "2m".to_owned(),
                workload_identity: false,
            },
            &[],
        )
        .await
        .unwrap()
        .addon
        .identity
        .unwrap();
    assert_eq!(spcs.list_all().await.unwrap(), Some(Vec::new()));

    let spec = payments_db_spc(&identity.client_id);
    let applied = spcs
        .apply_manifest(&spec.namespace, &spec.name, &spec.manifest())
        .await
        .unwrap();
    assert_eq!(
        applied.manifest,
        spec.manifest(),
        "live and desired compare equal"
    );
    assert!(applied.managed_by_vaultwire);
    assert_eq!(applied.provider(), Some("azure"));
    assert_eq!(
        applied.parameter("userAssignedIdentityID"),
        Some(identity.client_id.as_str())
    );
    assert_eq!(applied.secret_objects()[0]["secretName"], "payments-db");

    let read = spcs.get("payments", "payments-db").await.unwrap().unwrap();
    assert_eq!(read, applied);
    let raw =
        Api::<DynamicObject>::namespaced_with(client.clone(), "payments", &spc_api_resource())
            .get("payments-db")
            .await
            .unwrap();
    let managers: Vec<String> = raw
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|entry| entry.manager)
        .collect();
    assert_eq!(
        managers,
        ["vaultwire"],
        "server-side apply as field manager `vaultwire`"
    );
    let listed = spcs.list_all().await.unwrap().unwrap();
    assert_eq!(listed, [read]);

    assert!(spcs.delete("payments", "payments-db").await.unwrap());
    assert!(
        !spcs.delete("payments", "payments-db").await.unwrap(),
        "already gone"
    );
    assert_eq!(spcs.get("payments", "payments-db").await.unwrap(), None);
    assert_eq!(spcs.list_all().await.unwrap(), Some(Vec::new()));
}

#[tokio::test]
async fn the_lock_is_acquired_renewed_refused_to_another_holder_and_released() {
    let clients = Clients::start().await;
    let client = clients.cluster().await.client().await.unwrap();
    let duration = std::time::Duration::from_secs(60);
    let alice = LeaseLock::new(client.clone(), ids::CLUSTER, run_of("alice"), duration);
    let bob = LeaseLock::new(client.clone(), ids::CLUSTER, run_of("bob"), duration);

    alice.acquire(at(0)).await.unwrap();
    let held = lease(&client).await;
    assert_eq!(holder_of(&held), Some(run_of("alice").as_str()));
    let spec = held.spec.clone().unwrap();
    assert_eq!(spec.lease_duration_seconds, Some(60));
    assert_eq!(
        held.metadata.labels.unwrap()["app.kubernetes.io/managed-by"],
        "vaultwire"
    );

    alice.renew(at(10)).await.unwrap();
    let renewed = lease(&client).await.spec.unwrap();
    assert_eq!(renewed.renew_time.unwrap().0, at(10));
    assert_eq!(
        renewed.acquire_time, spec.acquire_time,
        "a renewal is no new acquisition"
    );

    let error = bob.acquire(at(20)).await.unwrap_err();
    let LockError::Held {
        holder: blocking,
        expires_at,
        ..
    } = &error
    else {
        panic!("expected Held, got {error}");
    };
    assert_eq!(blocking, run_of("alice").as_str());
    assert_eq!(*expires_at, at(70));
    assert_eq!(
        error.to_string(),
        format!(
            "cluster `aks-demo` is locked by {} until {}",
            run_of("alice").as_str(),
            at(70)
        )
    );
    assert!(error.help().is_some());

    alice.release().await.unwrap();
    let after_release = Api::<Lease>::namespaced(client.clone(), "kube-system")
        .get_opt("vaultwire-lock")
        .await
        .unwrap();
    assert!(
        after_release.is_none(),
        "releasing deletes the Lease: {after_release:?}"
    );
    bob.acquire(at(30)).await.unwrap();
    assert_eq!(
        holder_of(&lease(&client).await),
        Some(run_of("bob").as_str())
    );
    let lost = alice.renew(at(31)).await.unwrap_err();
    assert!(
        matches!(&lost, LockError::Lost { holder, .. } if holder == run_of("bob").as_str()),
        "{lost}"
    );
    alice.release().await.unwrap();
    assert_eq!(
        holder_of(&lease(&client).await),
        Some(run_of("bob").as_str()),
        "releasing a lock that is not ours changes nothing"
    );
}

#[tokio::test]
async fn an_expired_lock_is_taken_over() {
    let clients = Clients::start().await;
    let client = clients.cluster().await.client().await.unwrap();
    let short = std::time::Duration::from_secs(5);
    let alice = LeaseLock::new(client.clone(), ids::CLUSTER, run_of("alice"), short);
    let bob = LeaseLock::new(client.clone(), ids::CLUSTER, run_of("bob"), short);

    alice.acquire(at(0)).await.unwrap();
    assert!(matches!(
        bob.acquire(at(4)).await.unwrap_err(),
        LockError::Held { .. }
    ));
    bob.acquire(at(6)).await.unwrap();
    let taken = lease(&client).await.spec.unwrap();
    assert_eq!(
        taken.holder_identity.as_deref(),
        Some(run_of("bob").as_str())
    );
    assert_eq!(taken.lease_transitions, Some(1));
    assert_eq!(taken.acquire_time.unwrap().0, at(6));
    let lost = alice.renew(at(7)).await.unwrap_err();
    assert!(matches!(lost, LockError::Lost { .. }), "{lost}");
}

#[tokio::test]
async fn a_lock_created_first_by_another_run_is_reported_held_after_the_409() {
    let clients = Clients::start().await;
    let client = clients.cluster().await.client().await.unwrap();
    let duration = std::time::Duration::from_secs(60);
    let bob = LeaseLock::new(client.clone(), ids::CLUSTER, run_of("bob"), duration);
    // Alice reads no Lease; before her create arrives, Bob creates it.
    let racing = interposing(client.clone(), "POST", LEASES, async move {
        bob.acquire(at(0)).await.expect("bob wins the race");
    });
    let alice = LeaseLock::new(racing, ids::CLUSTER, run_of("alice"), duration);

    let error = alice.acquire(at(0)).await.unwrap_err();
    assert!(
        matches!(&error, LockError::Held { holder, .. } if holder == run_of("bob").as_str()),
        "{error}"
    );
    let posts: Vec<u16> = clients
        .env
        .sandbox
        .journal()
        .iter()
        .filter(|entry| entry.method == "POST" && entry.path.ends_with(LEASES))
        .map(|entry| entry.status)
        .collect();
    assert_eq!(posts, [201, 409], "bob's create, then alice's");
}

#[tokio::test]
async fn a_takeover_with_a_stale_resource_version_gets_409_and_reads_again() {
    let clients = Clients::start().await;
    let client = clients.cluster().await.client().await.unwrap();
    let short = std::time::Duration::from_secs(5);
    let alice = LeaseLock::new(client.clone(), ids::CLUSTER, run_of("alice"), short);
    alice.acquire(at(0)).await.unwrap();
    // Bob sees Alice's lock expired and takes it over; just before his write, Alice renews.
    let renewing = alice.clone();
    let racing = interposing(
        client.clone(),
        "PUT",
        "/leases/vaultwire-lock",
        async move {
            renewing.renew(at(6)).await.expect("alice renews");
        },
    );
    let bob = LeaseLock::new(racing, ids::CLUSTER, run_of("bob"), short);

    let error = bob.acquire(at(6)).await.unwrap_err();
    assert!(
        matches!(&error, LockError::Held { holder, expires_at, .. }
            if holder == run_of("alice").as_str() && *expires_at == at(11)),
        "{error}"
    );
    let puts: Vec<u16> = clients
        .env
        .sandbox
        .journal()
        .iter()
        .filter(|entry| entry.method == "PUT" && entry.path.ends_with("/leases/vaultwire-lock"))
        .map(|entry| entry.status)
        .collect();
    assert_eq!(
        puts,
        [200, 409],
        "alice's renewal, then bob's stale takeover"
    );
}
