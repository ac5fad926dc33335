//! One HTTP exchange as the sandbox's handlers see it: a fully read request and the response
//! they build, independent of hyper so handlers stay synchronous and unit-testable.

use std::net::{IpAddr, Ipv4Addr};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::hosts::AzureHost;

/// A request with its body read.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: Method,
    /// The raw (still percent-encoded) path, such as `/subscriptions/…`.
    pub path: String,
    /// The raw query string without `?`, possibly empty.
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The Azure host the request came for through the proxy; `None` on the sandbox's own
    /// `https://127.0.0.1:PORT`. It decides the service and the URLs the answer carries.
    pub host: Option<AzureHost>,
    /// Where the request came from: the TCP peer, or a cluster's egress for what its pods
    /// send (`csi_provider.rs`).
    pub origin: Origin,
}

/// Where a request came from, as a vault firewall sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub address: IpAddr,
    /// The virtual network subnets it came through (a cluster's node subnets), if any.
    pub subnets: Vec<String>,
}

impl Origin {
    pub fn address(address: IpAddr) -> Self {
        Self {
            address,
            subnets: Vec::new(),
        }
    }
}

impl Req {
    pub fn new(method: Method, path_and_query: &str) -> Self {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        Self {
            method,
            path: path.to_owned(),
            query: query.to_owned(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            host: None,
            origin: Origin::address(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        }
    }

    /// The first value of query parameter `name` (case-insensitive, decoded).
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes())
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.into_owned())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The token of an `Authorization: Bearer …` header.
    pub fn bearer(&self) -> Option<&str> {
        let value = self.header("authorization")?;
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then_some(token.trim())
    }

    /// The path's segments, percent-decoded, without empty ones.
    pub fn segments(&self) -> Vec<String> {
        segments(&self.path)
    }

    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    pub fn is_read(&self) -> bool {
        self.method == Method::GET || self.method == Method::HEAD
    }
}

/// `path` split on `/`, each segment percent-decoded, empty segments dropped.
pub fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| {
            percent_encoding::percent_decode_str(segment)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

/// A response a handler built. Headers are a small list (names lower-case, one value each)
/// rather than a `HeaderMap`, to keep `Result<_, Resp>` cheap to return.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn empty(status: StatusCode) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn json(status: StatusCode, value: &serde_json::Value) -> Self {
        Self::empty(status)
            .with_header("content-type", "application/json; charset=utf-8")
            // serde_json's writer rather than `Display`, which goes through `fmt` per token.
            // Serializing a `Value` cannot fail.
            .with_body(serde_json::to_vec(value).unwrap_or_default())
    }

    pub fn with_body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    /// Adds a header; a value that is not a valid header value is left out rather than failing
    /// the response (values come from our own formatting).
    pub fn with_header(mut self, name: &str, value: impl AsRef<str>) -> Self {
        self.set_header(name, value);
        self
    }

    pub fn set_header(&mut self, name: &str, value: impl AsRef<str>) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value.as_ref()),
        ) {
            self.headers.retain(|(existing, _)| *existing != name);
            self.headers.push((name, value));
        }
    }

    /// The value of header `name`, if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(existing, _)| existing.as_str().eq_ignore_ascii_case(name))
            .and_then(|(_, value)| value.to_str().ok())
    }

    /// All headers as a `HeaderMap`.
    pub fn header_map(&self) -> HeaderMap {
        self.headers.iter().cloned().collect()
    }

    /// The body as JSON, for tests.
    pub fn body_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_decoded_and_empty_ones_dropped() {
        assert_eq!(
            segments("/a//b%20c/%24filter/"),
            vec!["a".to_owned(), "b c".to_owned(), "$filter".to_owned()]
        );
    }

    #[test]
    fn query_parameters_are_decoded_and_case_insensitive() {
        let req = Req::new(
            Method::GET,
            "/x?API-Version=2024-11-01&%24filter=principalId%20eq%20'a'",
        );
        assert_eq!(
            req.query_param("api-version").as_deref(),
            Some("2024-11-01")
        );
        assert_eq!(
            req.query_param("$filter").as_deref(),
            Some("principalId eq 'a'")
        );
    }
}
