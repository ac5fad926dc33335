//! Nothing secret reaches the logs, even at `trace`: a client secret sign-in and ARM calls
//! (with a retry) run under a subscriber that records everything.
//!
//! The subscriber is the process-wide default, not a scoped one: tracing caches per call site
//! whether anyone listens, and a scoped subscriber misses events from call sites that tests on
//! other threads hit first. Other tests' logs land in the buffer too, which is harmless here.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::json;

use crate::plan::model::AuthMethod;
use crate::providers::Environment;
use crate::providers::azure::arm::{ArmClient, ArmClientOptions, ArmRequest};
use crate::providers::azure::{AzureCloud, sign_in};
use crate::providers::testing::{FakeTimer, Reply, ScriptedHttp};

const TENANT: &str = crate::sandbox::ids::TENANT_ID;
const CLIENT_SECRET: &str = "client-secret-that-must-not-leak";
const ACCESS_TOKEN: &str = "access-token-that-must-not-leak";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs (once) a global subscriber recording everything at `trace`.
fn capture_all_logs() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        // Fails only if another test installed one; then the assertions below say so.
        let _ = tracing::subscriber::set_global_default(subscriber);
        captured
    })
}

#[tokio::test]
async fn tokens_and_client_secrets_never_reach_the_logs() {
    let captured = capture_all_logs();

    let http = ScriptedHttp::new();
    let vault = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv";
    // The ARM token, and the AKS API servers' token fetched beside it.
    for _ in 0..2 {
        http.expect(
            "POST",
            &format!("/{TENANT}/oauth2/v2.0/token"),
            Reply::json(
                200,
                json!({"token_type": "Bearer", "expires_in": 3600, "access_token": ACCESS_TOKEN}),
            ),
        );
    }
    http.expect(
        "GET",
        vault,
        Reply::arm_error(429, "TooManyRequests", "slow down").header("retry-after", "1"),
    )
    .expect("GET", vault, Reply::json(200, json!({"name": "kv"})));
    let cloud = AzureCloud::public().with_http_client(http.clone());
    let env = Environment::from_pairs([
        ("AZURE_CLIENT_ID", crate::sandbox::ids::CLIENT_ID),
        ("AZURE_CLIENT_SECRET", CLIENT_SECRET),
    ]);
    let credential = sign_in(&AuthMethod::Auto, &env, &cloud, TENANT)
        .await
        .unwrap();
    let options = ArmClientOptions {
        timer: FakeTimer::new(),
        ..ArmClientOptions::default()
    };
    let arm = ArmClient::new(&cloud, credential.token_credential(), options);
    arm.send(&ArmRequest::get(vault, "2025-05-01"))
        .await
        .unwrap();

    // The requests did carry them: the test would prove nothing otherwise.
    let requests = http.requests();
    assert!(requests[0].body.contains(CLIENT_SECRET));
    assert_eq!(
        requests[3].header("authorization"),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );

    let logs = String::from_utf8_lossy(
        &captured
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
    .into_owned();
    assert!(
        logs.contains("azure resource manager"),
        "logs were captured:\n{logs}"
    );
    assert!(
        logs.to_ascii_lowercase().contains("authorization"),
        "headers were logged:\n{logs}"
    );
    assert!(!logs.contains(CLIENT_SECRET), "{logs}");
    assert!(!logs.contains(ACCESS_TOKEN), "{logs}");
}
