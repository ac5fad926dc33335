//! Request builders and answer accessors shared by the behaviour tests.

use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use jiff::Timestamp;
use serde_json::Value;

use super::super::{KubeCluster, KubeRequest, KubeResponse, TokenSigner};

/// A fixed "now": 2026-11-26T12:00:00Z, a few weeks after the seed's objects were created.
pub fn now() -> Timestamp {
    "2026-11-26T12:00:00Z".parse().expect("valid timestamp")
}

pub const SPC_PATH: &str =
    "/apis/secrets-store.csi.x-k8s.io/v1/namespaces/payments/secretproviderclasses";

/// A request under construction.
pub struct Call {
    method: Method,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

pub fn call(method: Method, target: &str) -> Call {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers = HeaderMap::new();
    headers.insert(
        header::USER_AGENT,
        HeaderValue::from_static("kubectl/v1.32.4 (linux/amd64) kubernetes/test"),
    );
    Call {
        method,
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        body: Vec::new(),
    }
}

pub fn get(target: &str) -> Call {
    call(Method::GET, target)
}

impl Call {
    pub fn header(mut self, name: header::HeaderName, value: &str) -> Self {
        self.headers
            .insert(name, HeaderValue::from_str(value).expect("valid header"));
        self
    }

    pub fn json(self, body: &Value) -> Self {
        self.raw("application/json", body.to_string().as_bytes())
    }

    pub fn raw(mut self, content_type: &str, body: &[u8]) -> Self {
        self.body = body.to_vec();
        self.header(header::CONTENT_TYPE, content_type)
    }

    pub fn table(self) -> Self {
        self.header(
            header::ACCEPT,
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json",
        )
    }

    pub fn send(&self, cluster: &mut KubeCluster) -> Answer {
        Answer(cluster.handle(&self.request(), now()))
    }

    /// [`Self::send`] to a cluster whose service-account tokens `signer` signs.
    pub fn send_with_tokens(&self, cluster: &mut KubeCluster, signer: &dyn TokenSigner) -> Answer {
        Answer(cluster.handle_with_tokens(&self.request(), now(), signer))
    }

    fn request(&self) -> KubeRequest<'_> {
        KubeRequest {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            body: &self.body,
        }
    }
}

/// A response with accessors that fail the test with the body shown.
pub struct Answer(pub KubeResponse);

impl Answer {
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    #[track_caller]
    pub fn body(&self) -> Value {
        self.0.json_body().expect("a JSON body")
    }

    /// The body, after checking the status.
    #[track_caller]
    pub fn expect(&self, status: StatusCode) -> Value {
        let body = self.body();
        assert_eq!(self.0.status, status, "unexpected status; body: {body:#}");
        body
    }

    pub fn warnings(&self) -> Vec<String> {
        self.0
            .headers
            .get_all(header::WARNING)
            .iter()
            .filter_map(|value| value.to_str().ok().map(str::to_owned))
            .collect()
    }
}

/// `cluster` with the CSI driver (the Key Vault add-on) installed.
pub fn with_driver(mut cluster: KubeCluster) -> KubeCluster {
    cluster.set_csi_driver_installed(true);
    cluster
}

/// The names of a list's items.
pub fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    item["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A SecretProviderClass manifest for `name` in `payments`.
pub fn spc(name: &str, vault: &str) -> Value {
    serde_json::json!({
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClass",
        "metadata": {"name": name, "namespace": "payments"},
        "spec": {
            "provider": "azure",
            "parameters": {"keyvaultName": vault, "tenantId": "7c1e5a3b-2d4f-4e6a-8b9c-0d1e2f3a4b5c", "objects": "array: []"},
        },
    })
}

/// A server-side apply of `body` by `manager`.
pub fn apply(path: &str, manager: &str, force: bool, body: &Value) -> Call {
    call(
        Method::PATCH,
        &format!("{path}?fieldManager={manager}&force={force}"),
    )
    .raw("application/apply-patch+yaml", body.to_string().as_bytes())
}
