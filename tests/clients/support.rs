//! The one start helper of the client tests: an in-process sandbox (HTTPS with its CA) and an
//! [`AzureSession`] signed in with the sandbox's client secret through the real `sign_in`, with
//! retry, polling and conflict waits shrunk to milliseconds so faults cost no real time.
//!
//! Two instruments sit between the clients and the sandbox without changing what is sent: a
//! [`Wire`] that records every request (and can run an action just before one, to stage a race)
//! and a [`RecordingTimer`] that remembers every wait a client asked for. Assertions use them,
//! the sandbox's journal and the clients' results — never durations.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use azure_core::http::headers::HeaderName;
use azure_core::http::{AsyncRawResponse, Body, HttpClient, Request};
use serde_json::Value;
use vaultwire::plan::load::{PlanSource, check};
use vaultwire::plan::model::Plan;
use vaultwire::plan::model::{AuthMethod, Authorization, PublicNetworkAccess, Sku};
use vaultwire::providers::azure::aks::{AksClient, AksOptions, ClusterId};
use vaultwire::providers::azure::arm::{LroSettings, RetrySettings};
use vaultwire::providers::azure::keyvault::{VaultId, VaultSpec};
use vaultwire::providers::azure::rbac::{RbacClient, RbacOptions};
use vaultwire::providers::azure::{ArmClientOptions, AzureCloud, sign_in};
use vaultwire::providers::kube::ClusterConnection;
use vaultwire::providers::timer::{Sleep, Timer, TokioTimer};
use vaultwire::providers::{AzureSession, Environment};
use vaultwire::resources::spc_document::{SpcIdentityRef, SpcSpec};
use vaultwire::sandbox::{JournalEntry, SandboxOptions, ids};

use crate::sandbox_support::{self, Env};

pub const SUB: &str = ids::SUBSCRIPTION_ID;
pub const RG: &str = ids::RESOURCE_GROUP;

/// The longest wait a `Retry-After` may impose in these tests: the sandbox asks for 1 s, the
/// clients cap it here, so a retry after a 429 waits exactly this long (other retries less).
pub const RETRY_AFTER_CAP: Duration = Duration::from_millis(20);

/// ARM retries in milliseconds: backoff from 1 ms, doubling to under [`RETRY_AFTER_CAP`].
pub fn fast_retry() -> RetrySettings {
    RetrySettings {
        max_retries: 10,
        initial_delay: Duration::from_millis(1),
        max_delay: RETRY_AFTER_CAP,
        max_retry_after: RETRY_AFTER_CAP,
    }
}

/// Polls every few milliseconds, whatever `Retry-After` the sandbox sends (always under
/// [`RETRY_AFTER_CAP`], so the two kinds of wait stay apart); gives up after a minute (a test
/// that reaches it has hung).
pub fn fast_lro() -> LroSettings {
    LroSettings {
        timeout: Duration::from_secs(60),
        poll_interval: Duration::from_millis(5),
        max_poll_interval: Duration::from_millis(15),
    }
}

/// Re-reads a busy cluster every few milliseconds, for long enough to outlast a slow LRO.
pub fn fast_aks() -> AksOptions {
    AksOptions {
        max_attempts: 200,
        conflict_delay: Duration::from_millis(5),
        max_conflict_delay: Duration::from_millis(20),
        max_operation_wait: Duration::from_secs(30),
    }
}

pub fn fast_rbac() -> RbacOptions {
    RbacOptions {
        max_attempts: 3,
        principal_delay: Duration::from_millis(1),
        max_principal_delay: Duration::from_millis(5),
    }
}

/// The real clock, remembering every wait asked of it.
#[derive(Debug)]
pub struct RecordingTimer {
    clock: Arc<TokioTimer>,
    waits: Mutex<Vec<Duration>>,
}

impl RecordingTimer {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            clock: TokioTimer::new(),
            waits: Mutex::new(Vec::new()),
        })
    }

    pub fn waits(&self) -> Vec<Duration> {
        self.waits.lock().unwrap().clone()
    }
}

impl Timer for RecordingTimer {
    fn now(&self) -> Duration {
        self.clock.now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        self.waits.lock().unwrap().push(duration);
        self.clock.sleep(duration)
    }
}

/// One request as it went on the wire.
#[derive(Debug, Clone)]
pub struct Sent {
    pub method: String,
    pub path: String,
    pub query: String,
    /// The JSON body; never recorded for Entra token requests (they carry the client secret).
    pub body: Option<Value>,
    pub if_match: Option<String>,
}

type Action = Pin<Box<dyn Future<Output = ()> + Send>>;

struct Interposed {
    method: String,
    path_suffix: String,
    action: Action,
}

/// The sandbox transport, recording requests and running staged actions.
pub struct Wire {
    inner: Arc<dyn HttpClient>,
    sent: Mutex<Vec<Sent>>,
    staged: Mutex<Vec<Interposed>>,
}

impl std::fmt::Debug for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wire").finish_non_exhaustive()
    }
}

impl Wire {
    pub fn new(inner: Arc<dyn HttpClient>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            sent: Mutex::new(Vec::new()),
            staged: Mutex::new(Vec::new()),
        })
    }

    /// Runs `action` once, just before the next `method` request whose path ends with
    /// `path_suffix` is sent.
    pub fn before_next(
        &self,
        method: &str,
        path_suffix: &str,
        action: impl Future<Output = ()> + Send + 'static,
    ) {
        self.staged.lock().unwrap().push(Interposed {
            method: method.to_owned(),
            path_suffix: path_suffix.to_owned(),
            action: Box::pin(action),
        });
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.sent.lock().unwrap().clone()
    }

    /// The requests with `method` whose path ends with `path_suffix`.
    pub fn sent_to(&self, method: &str, path_suffix: &str) -> Vec<Sent> {
        self.sent()
            .into_iter()
            .filter(|sent| sent.method == method && sent.path.ends_with(path_suffix))
            .collect()
    }
}

#[async_trait::async_trait]
impl HttpClient for Wire {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let method = request.method().as_str().to_owned();
        let path = request.url().path().to_owned();
        let body = match request.body() {
            _ if path.contains("/oauth2/") => None,
            Body::Bytes(bytes) => serde_json::from_slice(bytes).ok(),
            _ => None,
        };
        self.sent.lock().unwrap().push(Sent {
            method: method.clone(),
            path: path.clone(),
            query: request.url().query().unwrap_or_default().to_owned(),
            body,
            if_match: request
                .headers()
                .get_optional_string(&HeaderName::from_static("if-match")),
        });
        let action = {
            let mut staged = self.staged.lock().unwrap();
            let index = staged.iter().position(|staged| {
                staged.method == method && path.ends_with(staged.path_suffix.as_str())
            });
            index.map(|index| staged.remove(index).action)
        };
        if let Some(action) = action {
            action.await;
        }
        self.inner.execute_request(request).await
    }
}

/// A started sandbox and a session signed in to it.
pub struct Clients {
    pub env: Env,
    pub session: AzureSession,
    pub timer: Arc<RecordingTimer>,
    pub wire: Arc<Wire>,
}

/// The variables a pipeline signing in with the sandbox's client secret has.
pub fn client_secret_environment() -> Environment {
    Environment::from_pairs([
        ("AZURE_CLIENT_ID", ids::CLIENT_ID),
        ("AZURE_CLIENT_SECRET", ids::CLIENT_SECRET),
        ("AZURE_TENANT_ID", ids::TENANT_ID),
    ])
}

impl Clients {
    /// A memory-only sandbox with instant LROs, no RBAC delay and no faults.
    pub async fn start() -> Self {
        Self::start_with(SandboxOptions::default()).await
    }

    pub async fn start_with(options: SandboxOptions) -> Self {
        let env = sandbox_support::start_with(options);
        let cloud = AzureCloud::sandbox(env.sandbox.endpoint(), env.sandbox.ca_pem().as_bytes())
            .expect("the sandbox cloud");
        let wire = Wire::new(cloud.http_client().expect("the sandbox transport"));
        let cloud = cloud.with_http_client(wire.clone());
        let credential = sign_in(
            &AuthMethod::ClientSecret,
            &client_secret_environment(),
            &cloud,
            ids::TENANT_ID,
        )
        .await
        .expect("sign in with the sandbox client secret");
        let timer = RecordingTimer::new();
        let options = ArmClientOptions {
            retry: fast_retry(),
            lro: fast_lro(),
            timer: timer.clone(),
            throttle: None,
        };
        let session = AzureSession::new(cloud, credential, SUB, ids::TENANT_ID, options);
        Self {
            env,
            session,
            timer,
            wire,
        }
    }

    pub fn aks(&self) -> AksClient {
        AksClient::new(self.session.arm().clone(), fast_aks())
    }

    pub fn rbac(&self) -> RbacClient {
        RbacClient::new(self.session.arm().clone(), fast_rbac())
    }

    /// The Kubernetes API of `aks-demo`, reached the default way: the user kubeconfig from
    /// ARM and this session's Entra token.
    pub async fn cluster(&self) -> ClusterConnection {
        self.session
            .cluster_connection_at(RG, ids::CLUSTER, None, &Environment::default())
            .await
            .expect("connect to aks-demo")
    }

    /// Journal entries of `route` (such as `PUT Microsoft.KeyVault/vaults`), oldest first.
    pub fn journal_of(&self, route: &str) -> Vec<JournalEntry> {
        self.env
            .sandbox
            .journal()
            .into_iter()
            .filter(|entry| entry.route == route)
            .collect()
    }
}

/// `status` of each entry, in order.
pub fn statuses(entries: &[JournalEntry]) -> Vec<u16> {
    entries.iter().map(|entry| entry.status).collect()
}

pub fn demo_cluster() -> ClusterId {
    ClusterId::new(SUB, RG, ids::CLUSTER)
}

/// A vault in `rg-demo` as a plan would want it.
pub fn vault_spec(name: &str, authorization: Authorization) -> VaultSpec {
    VaultSpec {
        id: VaultId::new(SUB, RG, name),
        location: ids::LOCATION.to_owned(),
        tenant_id: ids::TENANT_ID.to_owned(),
        sku: Sku::Standard,
        authorization,
        soft_delete_retention_days: 7,
        purge_protection: false,
        public_network_access: PublicNetworkAccess::Enabled,
        network_acls: None,
        tags: [("owner".to_owned(), "platform".to_owned())].into(),
    }
}

/// `plans/example.toml`, checked.
pub fn example_plan() -> Plan {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("plans/example.toml");
    let source = PlanSource {
        name: "plans/example.toml".to_owned(),
        text: std::fs::read_to_string(path).expect("read the example plan"),
    };
    check(&source).plan.expect("the example plan is valid")
}

/// The example plan's `spc.payments-db`, read as the add-on identity `client_id`.
pub fn payments_db_spc(client_id: &str) -> SpcSpec {
    let plan = example_plan();
    SpcSpec::from_plan(
        &plan.spcs["payments-db"],
        "kv-vaultwire-demo",
        ids::TENANT_ID,
        "AzurePublicCloud",
        SpcIdentityRef::AddonIdentity {
            client_id: client_id.to_owned(),
        },
    )
}
