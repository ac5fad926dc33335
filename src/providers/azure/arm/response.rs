//! An ARM response: status, headers and the raw body.
//!
//! Bodies may carry credentials (`listClusterUserCredential` returns kubeconfigs), so `Debug`
//! prints the status, request ID and body size only.

use std::collections::BTreeMap;
use std::fmt;

use azure_core::Bytes;
use serde_json::Value;

#[derive(Clone)]
pub struct ArmResponse {
    pub status: u16,
    headers: BTreeMap<String, String>,
    body: Bytes,
}

impl ArmResponse {
    pub fn new(status: u16, headers: BTreeMap<String, String>, body: Bytes) -> Self {
        Self {
            status,
            headers,
            body,
        }
    }

    /// From an azure_core response, keeping every header under its lowercase name.
    pub(crate) fn from_raw(raw: azure_core::http::RawResponse) -> Self {
        let (status, headers, body) = raw.deconstruct();
        let headers = headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_ascii_lowercase(),
                    value.as_str().to_owned(),
                )
            })
            .collect();
        Self::new(u16::from(status), headers, Bytes::from(body))
    }

    /// A header by lowercase name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// `x-ms-request-id`, which Azure support asks for.
    pub fn request_id(&self) -> Option<&str> {
        self.header("x-ms-request-id")
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body as JSON; an empty body is `null`.
    pub fn json(&self) -> Result<Value, serde_json::Error> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body)
    }
}

impl fmt::Debug for ArmResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmResponse")
            .field("status", &self.status)
            .field("request_id", &self.request_id())
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_leaves_the_body_out() {
        let response = ArmResponse::new(
            200,
            BTreeMap::from([("x-ms-request-id".to_owned(), "r-1".to_owned())]),
            Bytes::from_static(br#"{"kubeconfigs":[{"value":"c2VjcmV0"}]}"#),
        );
        let debug = format!("{response:?}");
        assert!(debug.contains("r-1"));
        assert!(!debug.contains("c2VjcmV0"));
    }

    #[test]
    fn an_empty_body_reads_as_null() {
        let response = ArmResponse::new(204, BTreeMap::new(), Bytes::new());
        assert_eq!(response.json().unwrap(), Value::Null);
    }
}
