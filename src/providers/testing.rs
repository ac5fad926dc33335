//! Test doubles for the providers: a scripted HTTP transport, a fake credential and a fake
//! clock. Test-only; nothing here is compiled into the binary.
//!
//! The scripted transport sits where reqwest normally does (`ClientOptions.transport`), so the
//! real azure_core pipeline — retry, rate limit, bearer-token policy — runs over it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::error::ErrorKind;
use azure_core::http::headers::Headers;
use azure_core::http::{AsyncRawResponse, Body, HttpClient, Request, StatusCode};
use azure_core::time::OffsetDateTime;

use crate::providers::timer::{Sleep, Timer};

/// The token every [`FakeCredential`] hands out.
pub const FAKE_TOKEN: &str = "fake-access-token";

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One request as the transport saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The value of query parameter `name`, percent-decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        let url = azure_core::http::Url::parse(&self.url).ok()?;
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }
}

/// What the scripted transport answers.
#[derive(Debug, Clone)]
pub enum Reply {
    Response {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// The connection dropped before a response arrived.
    ConnectionError,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Reply::Response {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    pub fn empty(status: u16) -> Self {
        Reply::Response {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// An ARM error body `{"error":{"code","message"}}`.
    pub fn arm_error(status: u16, code: &str, message: &str) -> Self {
        Self::json(
            status,
            serde_json::json!({"error": {"code": code, "message": message}}),
        )
        .header("x-ms-request-id", "req-0000")
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let Reply::Response { headers, .. } = &mut self {
            headers.push((name.to_ascii_lowercase(), value.to_owned()));
        }
        self
    }
}

/// An [`HttpClient`] that answers from a script and records every request.
///
/// Each expectation names the method and URL path the next request must have; a request that
/// does not match, or arrives after the script ran out, fails the test.
#[derive(Debug, Default)]
pub struct ScriptedHttp {
    steps: Mutex<VecDeque<(String, String, Reply)>>,
    log: Mutex<Vec<Recorded>>,
}

impl ScriptedHttp {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Expects the next request to be `method` on URL path `path`, and answers `reply`.
    pub fn expect(&self, method: &str, path: &str, reply: Reply) -> &Self {
        lock(&self.steps).push_back((method.to_owned(), path.to_owned(), reply));
        self
    }

    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.log).clone()
    }

    #[track_caller]
    pub fn assert_done(&self) {
        let left = lock(&self.steps).len();
        assert_eq!(left, 0, "{left} scripted exchanges were never requested");
    }
}

#[async_trait::async_trait]
impl HttpClient for ScriptedHttp {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let method = format!("{:?}", request.method()).to_ascii_uppercase();
        let url = request.url().to_string();
        let body = match request.body() {
            Body::Bytes(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            Body::SeekableStream(_) => String::from("<stream>"),
        };
        let headers = request
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), value.as_str().to_owned()))
            .collect();
        lock(&self.log).push(Recorded {
            method: method.clone(),
            url: url.clone(),
            headers,
            body,
        });
        let step = lock(&self.steps).pop_front();
        let Some((want_method, want_path, reply)) = step else {
            panic!("unexpected request after the script ended: {method} {url}");
        };
        let path = request.url().path();
        assert!(
            want_method == method && want_path == path,
            "expected {want_method} {want_path}, got {method} {url}"
        );
        match reply {
            Reply::ConnectionError => Err(azure_core::Error::with_message(
                ErrorKind::Io,
                "connection reset by peer",
            )),
            Reply::Response {
                status,
                headers,
                body,
            } => {
                let mut response_headers = Headers::new();
                for (name, value) in headers {
                    response_headers.insert(name, value);
                }
                Ok(AsyncRawResponse::from_bytes(
                    StatusCode::from(status),
                    response_headers,
                    body.into_bytes(),
                ))
            }
        }
    }
}

/// A credential that hands out [`FAKE_TOKEN`] and records the scopes it was asked for.
#[derive(Debug, Default)]
pub struct FakeCredential {
    scopes: Mutex<Vec<String>>,
}

impl FakeCredential {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn scopes(&self) -> Vec<String> {
        lock(&self.scopes).clone()
    }
}

#[async_trait::async_trait]
impl TokenCredential for FakeCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        lock(&self.scopes).extend(scopes.iter().map(|scope| (*scope).to_owned()));
        Ok(AccessToken::new(
            FAKE_TOKEN,
            OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1),
        ))
    }
}

/// A clock that only moves when something sleeps on it; sleeps return at once and are recorded.
#[derive(Debug, Default)]
pub struct FakeTimer {
    state: Mutex<(Duration, Vec<Duration>)>,
}

impl FakeTimer {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Every sleep requested so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        lock(&self.state).1.clone()
    }
}

impl Timer for FakeTimer {
    fn now(&self) -> Duration {
        lock(&self.state).0
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        let mut state = lock(&self.state);
        state.0 += duration;
        state.1.push(duration);
        Box::pin(std::future::ready(()))
    }
}

/// A published example from `tests/fixtures/spec-examples/` (`keyvault/getVault.json`, …).
#[track_caller]
pub fn spec_example(path: &str) -> serde_json::Value {
    let file = format!(
        "{}/tests/fixtures/spec-examples/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&file).unwrap_or_else(|error| panic!("{file}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{file}: {error}"))
}

/// The body of the `status` response of a published example.
#[track_caller]
pub fn spec_response(path: &str, status: u16) -> serde_json::Value {
    let example = spec_example(path);
    example
        .pointer(&format!("/responses/{status}/body"))
        .cloned()
        .unwrap_or_else(|| panic!("{path} has no {status} response body"))
}

/// An ARM client for the public cloud over `http`, with a fake credential and clock.
pub fn arm_client(
    http: &Arc<ScriptedHttp>,
) -> (crate::providers::azure::ArmClient, Arc<FakeTimer>) {
    use crate::providers::azure::{ArmClient, ArmClientOptions, AzureCloud};
    let timer = FakeTimer::new();
    let cloud = AzureCloud::public().with_http_client(http.clone());
    let options = ArmClientOptions {
        timer: timer.clone(),
        ..ArmClientOptions::default()
    };
    (
        ArmClient::new(&cloud, FakeCredential::new(), options),
        timer,
    )
}

/// One request a [`ScriptedKube`] received.
#[derive(Debug, Clone)]
pub struct KubeRecorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub content_type: Option<String>,
    pub body: serde_json::Value,
}

type KubeStep = (String, String, u16, serde_json::Value);

/// A scripted Kubernetes API server behind a real `kube::Client` (a tower service in place of
/// the HTTP connection).
#[derive(Debug, Clone, Default)]
pub struct ScriptedKube {
    steps: Arc<Mutex<VecDeque<KubeStep>>>,
    log: Arc<Mutex<Vec<KubeRecorded>>>,
}

impl ScriptedKube {
    pub fn new() -> Self {
        Self::default()
    }

    /// Expects `method` on `path` next and answers `status` with the JSON `body`.
    pub fn expect(&self, method: &str, path: &str, status: u16, body: serde_json::Value) -> &Self {
        lock(&self.steps).push_back((method.to_owned(), path.to_owned(), status, body));
        self
    }

    pub fn requests(&self) -> Vec<KubeRecorded> {
        lock(&self.log).clone()
    }

    #[track_caller]
    pub fn assert_done(&self) {
        let left = lock(&self.steps).len();
        assert_eq!(left, 0, "{left} scripted exchanges were never requested");
    }

    /// A client whose every request is answered from the script.
    pub fn client(&self) -> kube::Client {
        let steps = self.steps.clone();
        let log = self.log.clone();
        let service = tower::service_fn(move |request: http::Request<kube::client::Body>| {
            let steps = steps.clone();
            let log = log.clone();
            async move {
                let (parts, body) = request.into_parts();
                let bytes = body.collect_bytes().await.unwrap_or_default();
                let method = parts.method.to_string();
                let path = parts.uri.path().to_owned();
                lock(&log).push(KubeRecorded {
                    method: method.clone(),
                    path: path.clone(),
                    query: parts.uri.query().unwrap_or_default().to_owned(),
                    content_type: parts
                        .headers
                        .get(http::header::CONTENT_TYPE)
                        .and_then(|value| value.to_str().ok())
                        .map(str::to_owned),
                    body: serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
                });
                let step = lock(&steps).pop_front();
                let Some((want_method, want_path, status, body)) = step else {
                    panic!("unexpected request after the script ended: {method} {path}");
                };
                assert!(
                    want_method == method && want_path == path,
                    "expected {want_method} {want_path}, got {method} {path}"
                );
                let response = http::Response::builder()
                    .status(status)
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(kube::client::Body::from(body.to_string().into_bytes()))
                    .expect("a scripted response is valid");
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        kube::Client::new(service, "default")
    }
}

/// A Kubernetes `Status` error body.
pub fn kube_status(code: u16, reason: &str, message: &str) -> serde_json::Value {
    serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    })
}
