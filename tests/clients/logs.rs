//! Nothing secret reaches the logs, end to end: with `tracing` at TRACE (and the `log` records
//! of dependencies bridged in, as `vaultwire -vvv` does) the clients sign in with the client
//! secret, call ARM through retries, read a secret value from Key Vault and talk to Kubernetes
//! with an Entra token — and the captured output holds none of the secret, the tokens or the
//! value. The sandbox runs in the same process, so its logs are checked too.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};
use serde_json::json;
use vaultwire::plan::model::{Authorization, BuiltInRole, PrincipalType, Role};
use vaultwire::providers::azure::rbac::RoleAssignmentSpec;
use vaultwire::sandbox::{Faults, SandboxOptions, ids};

use crate::sandbox_support::KV_API;
use crate::support::{Clients, SUB, vault_spec};

const SECRET_VALUE: &str = "s3cr3t-value-that-must-not-leak";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Installs (once per process) the global subscriber at TRACE, bridging `log` records, into a
/// buffer. Global rather than scoped: tracing caches per call site whether anyone listens, and
/// the sandbox's and the clients' tasks run on other threads.
fn capture_all_logs() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .try_init()
            .expect("no other test installs a subscriber");
        captured
    })
}

#[track_caller]
fn assert_absent(logs: &str, what: &str, secret: &str) {
    assert!(!secret.is_empty());
    if let Some(at) = logs.find(secret) {
        let line = logs[..at].lines().count();
        panic!("{what} appears in the logs, line {line}");
    }
}

#[tokio::test]
async fn tokens_client_secrets_and_secret_values_never_reach_trace_logs() {
    let captured = capture_all_logs();
    let clients = Clients::start_with(SandboxOptions {
        faults: Faults {
            throttle_rate: 0.3,
            ..Faults::none()
        },
        seed: 5,
        ..SandboxOptions::default()
    })
    .await;

    let spec = vault_spec("kv-clients-logs", Authorization::Rbac);
    let uri = clients
        .session
        .key_vaults()
        .create(&spec)
        .await
        .unwrap()
        .vault_uri
        .unwrap();
    clients
        .rbac()
        .assign(&RoleAssignmentSpec {
            scope: spec.id.path(),
            subscription_id: SUB.to_owned(),
            role: Role::BuiltIn(BuiltInRole::SecretsOfficer),
            principal_id: ids::CLIENT_OBJECT_ID.to_owned(),
            principal_type: PrincipalType::ServicePrincipal,
        })
        .await
        .unwrap();
    clients.env.sandbox.set_faults(Faults::none());
    let token = clients.env.kv_token().await;
    clients
        .env
        .call(
            "PUT",
            &format!("/vaults/kv-clients-logs/secrets/db-password?{KV_API}"),
            Some(&token),
            Some(&json!({"value": SECRET_VALUE})),
        )
        .await
        .expect(200);
    let value = clients
        .session
        .secrets(&uri)
        .unwrap()
        .get_secret_value("db-password")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(value.expose(), SECRET_VALUE, "the value did cross the wire");
    let connection = clients.cluster().await;
    Api::<Namespace>::all(connection.client().await.unwrap())
        .list(&ListParams::default())
        .await
        .unwrap();

    let credential = clients.session.token_credential();
    let mut tokens = Vec::new();
    for scope in [
        clients.session.cloud().arm_scope(),
        "https://vault.azure.net/.default",
        clients.session.cloud().aks_server_scope(),
    ] {
        let token = credential.get_token(&[scope], None).await.unwrap();
        tokens.push(token.token.secret().to_owned());
    }
    let logs = captured.text();
    assert!(
        logs.contains("azure resource manager"),
        "ARM calls were logged"
    );
    assert!(logs.contains("key vault"), "Key Vault calls were logged");
    assert!(
        logs.contains("retrying an azure request"),
        "retries were logged"
    );
    assert!(logs.contains("TRACE"), "trace level was on");
    assert_absent(&logs, "the client secret", ids::CLIENT_SECRET);
    assert_absent(&logs, "the secret value", SECRET_VALUE);
    for (token, scope) in tokens.iter().zip(["arm", "key vault", "aks"]) {
        assert_absent(&logs, &format!("the {scope} token"), token);
        let signature = token.rsplit('.').next().unwrap();
        assert_absent(&logs, &format!("the {scope} token's signature"), signature);
    }
    assert_absent(&logs, "a JWT", "eyJ");
}
