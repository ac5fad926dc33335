//! ARM requests as plain values: built by pure functions in the resource modules, inspected by
//! unit tests, and sent by [`crate::providers::azure::arm::ArmClient`].
//!
//! Owns URL construction (percent-encoding path segments and query values); must not send
//! anything.

use azure_core::http::Url;
use http::Method;
use serde_json::Value;

use super::ArmError;

/// azure_core's own method type, which `ArmRequest` leaves to the client. `None` for a method
/// azure_core cannot send (it knows GET, HEAD, PUT, PATCH, POST and DELETE).
pub(crate) fn azure_method(method: &Method) -> Option<azure_core::http::Method> {
    method.as_str().parse().ok()
}

/// ARM's throttling classes: each has its own token bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OperationKind {
    Read,
    Write,
    Delete,
}

impl OperationKind {
    /// ARM counts GET (and HEAD) as reads, DELETE as deletes, everything else as writes.
    pub fn of(method: &azure_core::http::Method) -> Self {
        use azure_core::http::Method;
        match method {
            Method::Get | Method::Head => OperationKind::Read,
            Method::Delete => OperationKind::Delete,
            _ => OperationKind::Write,
        }
    }
}

/// One ARM call: method, resource path, api-version, extra query, headers and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmRequest {
    pub method: Method,
    /// The path below the ARM endpoint, segments already encoded, such as
    /// `/subscriptions/…/providers/Microsoft.KeyVault/vaults/kv-demo`.
    pub path: String,
    pub api_version: &'static str,
    /// Query parameters besides `api-version`, in order, not yet encoded.
    pub query: Vec<(String, String)>,
    /// Headers with lowercase names, such as `if-match`.
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl ArmRequest {
    pub fn new(method: Method, path: impl Into<String>, api_version: &'static str) -> Self {
        Self {
            method,
            path: path.into(),
            api_version,
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn get(path: impl Into<String>, api_version: &'static str) -> Self {
        Self::new(Method::GET, path, api_version)
    }

    pub fn put(path: impl Into<String>, api_version: &'static str, body: Value) -> Self {
        Self::new(Method::PUT, path, api_version).with_body(body)
    }

    pub fn patch(path: impl Into<String>, api_version: &'static str, body: Value) -> Self {
        Self::new(Method::PATCH, path, api_version).with_body(body)
    }

    pub fn post(path: impl Into<String>, api_version: &'static str) -> Self {
        Self::new(Method::POST, path, api_version)
    }

    pub fn delete(path: impl Into<String>, api_version: &'static str) -> Self {
        Self::new(Method::DELETE, path, api_version)
    }

    pub fn with_body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn with_query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn operation_kind(&self) -> OperationKind {
        // A method azure_core cannot send counts as a write, as ARM counts it.
        azure_method(&self.method).map_or(OperationKind::Write, |method| OperationKind::of(&method))
    }

    /// `METHOD /path`, how errors name the request (never with the query: `$skiptoken`s are
    /// long and meaningless to people).
    pub fn describe(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The full URL below `endpoint`, with `api-version` first and the other parameters
    /// percent-encoded (spaces as `%20`, which ARM's OData `$filter` parser expects).
    pub fn url(&self, endpoint: &Url) -> Result<Url, ArmError> {
        let mut text = endpoint.as_str().trim_end_matches('/').to_owned();
        if !self.path.starts_with('/') {
            text.push('/');
        }
        text.push_str(&self.path);
        text.push_str("?api-version=");
        text.push_str(&encode_query_value(self.api_version));
        for (name, value) in &self.query {
            text.push('&');
            text.push_str(&encode_query_value(name));
            text.push('=');
            text.push_str(&encode_query_value(value));
        }
        Url::parse(&text).map_err(|_| ArmError::InvalidUrl {
            request: self.describe(),
            url: text,
        })
    }
}

/// `/subscriptions/{subscription}`.
pub fn subscription_path(subscription_id: &str) -> String {
    format!("/subscriptions/{}", encode_segment(subscription_id))
}

/// `/subscriptions/{s}/resourceGroups/{rg}/providers/{provider_type}/{name}`, where
/// `provider_type` is a constant such as `Microsoft.KeyVault/vaults`.
pub fn resource_path(
    subscription_id: &str,
    resource_group: &str,
    provider_type: &str,
    name: &str,
) -> String {
    format!(
        "{}/resourceGroups/{}/providers/{provider_type}/{}",
        subscription_path(subscription_id),
        encode_segment(resource_group),
        encode_segment(name)
    )
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

fn percent_encode(text: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if keep(byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Percent-encodes one path segment (a resource group or resource name): everything but
/// unreserved characters and the parentheses resource group names may contain.
pub fn encode_segment(segment: &str) -> String {
    percent_encode(segment, |byte| {
        is_unreserved(byte) || matches!(byte, b'(' | b')')
    })
}

/// Percent-encodes a query name or value, keeping the `$` of OData parameter names.
fn encode_query_value(value: &str) -> String {
    percent_encode(value, |byte| is_unreserved(byte) || byte == b'$')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> Url {
        Url::parse("https://management.azure.com/").unwrap()
    }

    #[test]
    fn url_puts_api_version_first_and_encodes_filters_with_percent_twenty() {
        let request = ArmRequest::get("/subscriptions/s/providers/X", "2022-04-01")
            .with_query("$filter", "principalId eq 'abc'");
        assert_eq!(
            request.url(&endpoint()).unwrap().as_str(),
            "https://management.azure.com/subscriptions/s/providers/X?api-version=2022-04-01&$filter=principalId%20eq%20%27abc%27"
        );
    }

    #[test]
    fn segments_keep_names_readable_and_encode_the_rest() {
        assert_eq!(encode_segment("rg-demo_1.(eu)"), "rg-demo_1.(eu)");
        assert_eq!(encode_segment("a b/c"), "a%20b%2Fc");
        assert_eq!(encode_segment("ä"), "%C3%A4");
    }

    #[test]
    fn operation_kind_follows_arm_throttling_classes() {
        let kind = |method| ArmRequest::new(method, "/x", "v").operation_kind();
        assert_eq!(kind(Method::GET), OperationKind::Read);
        assert_eq!(kind(Method::PUT), OperationKind::Write);
        assert_eq!(kind(Method::PATCH), OperationKind::Write);
        assert_eq!(kind(Method::POST), OperationKind::Write);
        assert_eq!(kind(Method::DELETE), OperationKind::Delete);
    }

    #[test]
    fn describe_names_method_and_path_without_the_query() {
        let request = ArmRequest::delete("/subscriptions/s/x", "v").with_query("a", "b");
        assert_eq!(request.describe(), "DELETE /subscriptions/s/x");
    }
}
