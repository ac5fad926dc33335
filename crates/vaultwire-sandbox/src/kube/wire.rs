//! The request and response values exchanged with the HTTPS server, and the few ways this
//! emulator builds a response body.
//!
//! Owns only shapes and encodings; it must not decide anything about Kubernetes semantics.

use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::Value;

/// One request to a cluster's API, with the cluster prefix already removed from `path`.
#[derive(Debug, Clone, Copy)]
pub struct KubeRequest<'a> {
    pub method: &'a Method,
    /// Such as `/api/v1/namespaces/payments/secrets`.
    pub path: &'a str,
    /// The raw query string without `?`, possibly empty.
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// The answer to a [`KubeRequest`].
#[derive(Debug, Clone)]
pub struct KubeResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl KubeResponse {
    /// A JSON body with the API server's usual headers.
    pub(super) fn json<T: serde::Serialize + ?Sized>(status: StatusCode, body: &T) -> Self {
        Self::json_typed(status, body, "application/json")
    }

    /// A JSON body whose `Content-Type` carries media-type parameters, as aggregated discovery
    /// needs (clients pick the decoder from them).
    pub(super) fn json_typed<T: serde::Serialize + ?Sized>(
        status: StatusCode,
        body: &T,
        content_type: &'static str,
    ) -> Self {
        // serde_json's writer rather than `Display`, which goes through `fmt` per token.
        // Serializing a `Value` cannot fail.
        let body = serde_json::to_vec(body).unwrap_or_default();
        Self::with_body(status, body, content_type)
    }

    /// A body already written as JSON.
    pub(super) fn json_bytes(status: StatusCode, body: Vec<u8>) -> Self {
        Self::with_body(status, body, "application/json")
    }

    fn with_body(status: StatusCode, body: Vec<u8>, content_type: &'static str) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        // The API server marks every answer private so proxies never cache one user's view.
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, private"),
        );
        Self {
            status,
            headers,
            body,
        }
    }

    /// Adds one `Warning: 299 - "…"` header, as the API server does for deprecated versions and
    /// unknown fields under `fieldValidation=Warn`; kubectl prints them as `Warning: …`.
    pub(super) fn with_warnings(mut self, warnings: &[String]) -> Self {
        for warning in warnings {
            let escaped = warning.replace('\\', "\\\\").replace('"', "\\\"");
            if let Ok(value) = HeaderValue::from_str(&format!("299 - \"{escaped}\"")) {
                self.headers.append(header::WARNING, value);
            }
        }
        self
    }

    /// The body as JSON, for tests and for callers that inspect answers.
    pub fn json_body(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}
