//! Helpers for the sandbox conformance tests: a started in-process sandbox, an HTTP client
//! that trusts its CA, tokens, and the comparison of response fields with the services'
//! published examples (the workspace's `tests/fixtures/spec-examples/`).
//!
//! Shared with vaultwire's own tests (`tests/cli/main.rs` includes this file), so both crates
//! reach the sandbox the same way.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use vaultwire_sandbox::ids;
use vaultwire_sandbox::{Sandbox, SandboxHandle, SandboxOptions};

pub const SUB: &str = ids::SUBSCRIPTION_ID;
pub const VAULTS_API: &str = "api-version=2025-05-01";
pub const AKS_API: &str = "api-version=2025-10-01";
pub const AUTHZ_API: &str = "api-version=2022-04-01";
pub const KV_API: &str = "api-version=2025-07-01";

/// A started sandbox and a client that trusts it.
pub struct Env {
    pub sandbox: SandboxHandle,
    pub http: reqwest::Client,
}

/// An answer: status, headers and the body as JSON (`Null` when empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }

    /// `error.code` of an ARM or Key Vault error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
}

/// A memory-only sandbox with instant LROs and no RBAC delay.
pub fn start() -> Env {
    start_with(SandboxOptions::default())
}

pub fn start_with(options: SandboxOptions) -> Env {
    let sandbox = Sandbox::start(options).expect("start the sandbox");
    let http = client_for(sandbox.ca_pem());
    Env { sandbox, http }
}

/// A reqwest client trusting only `ca_pem`.
pub fn client_for(ca_pem: &str) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("parse the CA");
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .timeout(Duration::from_secs(30))
        .build()
        .expect("build a client")
}

/// A reqwest client trusting only `ca_pem` that reaches every `https` URL through the proxy
/// at `endpoint` (the sandbox's own, as `DIR/env`'s `HTTPS_PROXY` names it).
pub fn proxied_client_for(ca_pem: &str, endpoint: &str) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("parse the CA");
    let proxy = endpoint.replacen("https://", "http://", 1);
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .proxy(reqwest::Proxy::https(proxy).expect("a proxy URL"))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("build a client")
}

impl Env {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.endpoint())
    }

    /// A token from the token endpoint for the deploying app (client secret) and `scope`.
    pub async fn token(&self, scope: &str) -> String {
        let reply = self
            .form(
                &format!("/{}/oauth2/v2.0/token", ids::TENANT_ID),
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", ids::CLIENT_ID),
                    ("client_secret", ids::CLIENT_SECRET),
                    ("scope", scope),
                ],
            )
            .await
            .expect(200);
        reply.body["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    pub async fn arm_token(&self) -> String {
        self.token("https://management.azure.com/.default").await
    }

    pub async fn kv_token(&self) -> String {
        self.token("https://vault.azure.net/.default").await
    }

    pub async fn form(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let response = self
            .http
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(fields.iter().copied()))
            .send()
            .await
            .expect("send");
        reply(response).await
    }

    /// A request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        send(&self.http, method, &self.url(path), token, body).await
    }

    /// An ARM call as the deploying app.
    pub async fn arm(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        let token = self.arm_token().await;
        self.call(method, path, Some(&token), body).await
    }

    /// An admin API call.
    pub async fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        self.call(method, &format!("/_sandbox/{path}"), None, body)
            .await
    }
}

/// `method url` with `http`, an optional bearer token and JSON body.
pub async fn send(
    http: &reqwest::Client,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = http.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    reply(request.send().await.expect("send")).await
}

/// An `application/x-www-form-urlencoded` body.
/// The JSON of a JWT's header (0) or payload (1).
pub fn jwt_part(token: &str, index: usize) -> Value {
    use base64::Engine as _;
    let part = token.split('.').nth(index).expect("a JWT part");
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&json).expect("JSON")
}

pub fn form_body<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in fields {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

pub async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("read the body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
    }
}

/// A published example, such as `keyvault/createVault.json`.
pub fn example(name: &str) -> Value {
    // The fixtures sit at the workspace root, above this crate and beside vaultwire's manifest.
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("tests/fixtures/spec-examples"))
        .find(|dir| dir.is_dir())
        .expect("tests/fixtures/spec-examples in the workspace")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("read the example"))
        .expect("parse the example")
}

/// Keys whose children are data (tags, add-on names, identity IDs), not schema.
const DATA_MAPS: &[&str] = &[
    "tags",
    "addonProfiles",
    "userAssignedIdentities",
    "autoScalerProfile",
    "config",
];

/// Every field path the example shows that `actual` lacks (objects recursively; arrays by
/// their first element), ignoring the paths in `optional`.
pub fn missing_fields(actual: &Value, example: &Value, optional: &[&str]) -> Vec<String> {
    let mut missing = Vec::new();
    walk(actual, example, "", optional, &mut missing);
    missing
}

fn walk(actual: &Value, example: &Value, path: &str, optional: &[&str], missing: &mut Vec<String>) {
    match (actual, example) {
        (Value::Object(actual), Value::Object(example)) => {
            let last = path.rsplit('.').next().unwrap_or_default();
            if DATA_MAPS.contains(&last) {
                return;
            }
            for (key, value) in example {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if optional.contains(&child.as_str()) {
                    continue;
                }
                match actual.get(key) {
                    Some(inner) => walk(inner, value, &child, optional, missing),
                    None => missing.push(child),
                }
            }
        }
        (Value::Array(actual), Value::Array(example)) => {
            if let (Some(a), Some(e)) = (actual.first(), example.first()) {
                walk(a, e, &format!("{path}[]"), optional, missing);
            }
        }
        _ => {}
    }
}

#[track_caller]
pub fn assert_fields(actual: &Value, example: &Value, optional: &[&str]) {
    let missing = missing_fields(actual, example, optional);
    assert!(
        missing.is_empty(),
        "fields the example shows are missing: {missing:?}\nactual: {actual:#}"
    );
}

pub fn vault_path(rg: &str, name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}")
}

pub fn cluster_path(rg: &str, name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}"
    )
}

/// A vault body as plans send it: the deploying app's tenant, RBAC or access policies.
pub fn vault_body(rbac: bool) -> Value {
    serde_json::json!({
        "location": "westeurope",
        "properties": {
            "tenantId": ids::TENANT_ID,
            "sku": {"family": "A", "name": "standard"},
            "enableRbacAuthorization": rbac,
            "accessPolicies": [],
        }
    })
}

#[test]
fn missing_fields_finds_nested_and_array_fields_but_not_data_keys() {
    let example = serde_json::json!({"a": {"b": 1, "c": [{"d": 1}]}, "tags": {"x": ""}});
    let actual = serde_json::json!({"a": {"c": [{"e": 1}]}, "tags": {}});
    assert_eq!(
        missing_fields(&actual, &example, &[]),
        vec!["a.b".to_owned(), "a.c[].d".to_owned()]
    );
    assert_eq!(
        missing_fields(&actual, &example, &["a.b", "a.c[].d"]),
        Vec::<String>::new()
    );
}
