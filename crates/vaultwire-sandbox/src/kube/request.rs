//! What a request asks for beyond its path: query parameters, the representation the `Accept`
//! header negotiates (object, Table, PartialObjectMetadata, aggregated discovery), the patch
//! type, and the decoded body.
//!
//! Parsing only; handlers decide what the parsed values mean.

use std::collections::BTreeMap;

use http::{HeaderMap, header};
use serde_json::Value;

use super::status::StatusError;

/// Decoded query parameters; a repeated key keeps its first value, as Go's `Values.Get` does.
#[derive(Debug, Default)]
pub(super) struct Query {
    params: BTreeMap<String, String>,
}

impl Query {
    pub fn parse(raw: &str) -> Self {
        let mut params = BTreeMap::new();
        for pair in raw.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            params
                .entry(decode_component(key))
                .or_insert_with(|| decode_component(value));
        }
        Self { params }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }

    /// A boolean flag such as `force=true` or `watch=1`.
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1" | "True" | "TRUE"))
    }

    /// `dryRun=All` (the only value the API server accepts besides none).
    pub fn dry_run(&self) -> Result<bool, StatusError> {
        match self.get("dryRun") {
            None | Some("") => Ok(false),
            Some("All") => Ok(true),
            Some(other) => Err(StatusError::bad_request(format!(
                "Invalid dry run value: \"{other}\". Allowed values: [All]"
            ))),
        }
    }
}

/// Form-style percent decoding (`+` is a space), lenient about malformed escapes.
fn decode_component(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(index + 1..index + 3)
                    .and_then(|pair| std::str::from_utf8(pair).ok())
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok());
                if let Some(decoded) = hex {
                    out.push(decoded);
                    index += 2;
                } else {
                    out.push(b'%');
                }
            }
            other => out.push(other),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The representation an `Accept` header negotiates for reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Representation {
    Object,
    Table,
    PartialObjectMetadata,
}

/// One `Accept` media range with its parameters.
#[derive(Debug)]
struct MediaRange {
    essence: String,
    params: BTreeMap<String, String>,
}

fn media_ranges(headers: &HeaderMap) -> Vec<MediaRange> {
    let raw = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    raw.split(',')
        .filter(|range| !range.trim().is_empty())
        .map(|range| {
            let mut parts = range.split(';');
            let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let params = parts
                .filter_map(|param| param.split_once('='))
                .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
                .collect();
            MediaRange { essence, params }
        })
        .collect()
}

/// The first range the server can produce wins, as in the API server's negotiation; a
/// protobuf-only `Accept` still gets JSON, which every client here also accepts.
pub(super) fn representation(headers: &HeaderMap) -> Representation {
    for range in media_ranges(headers) {
        if range.essence != "application/json" && range.essence != "*/*" {
            continue;
        }
        let group = range.params.get("g").map(String::as_str);
        match (range.params.get("as").map(String::as_str), group) {
            (None, _) => return Representation::Object,
            (Some("Table"), Some("meta.k8s.io")) => return Representation::Table,
            (Some("PartialObjectMetadata" | "PartialObjectMetadataList"), Some("meta.k8s.io")) => {
                return Representation::PartialObjectMetadata;
            }
            _ => {}
        }
    }
    Representation::Object
}

/// Whether the client asks for aggregated discovery (`apidiscovery.k8s.io/v2`), which kubectl
/// 1.32 and kube-rs' `run_aggregated` do; otherwise legacy discovery documents are served.
pub(super) fn wants_aggregated_discovery(headers: &HeaderMap) -> bool {
    for range in media_ranges(headers) {
        if range.essence != "application/json" {
            continue;
        }
        let is_discovery = range.params.get("g").map(String::as_str) == Some("apidiscovery.k8s.io")
            && range.params.get("as").map(String::as_str) == Some("APIGroupDiscoveryList");
        if is_discovery && range.params.get("v").map(String::as_str) == Some("v2") {
            return true;
        }
        if range.params.is_empty() {
            return false;
        }
    }
    false
}

/// The media type of the body, without parameters.
pub(super) fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The body as JSON; YAML is accepted where the media type says so (apply patches and
/// `application/yaml` writes).
pub(super) fn decode_body(body: &[u8], media_type: &str) -> Result<Value, StatusError> {
    let known = matches!(
        media_type,
        "" | "application/json" | "application/yaml" | "application/apply-patch+yaml"
    );
    if !known {
        // Typed clients (`kubectl create secret …`) send protobuf; without the Go types there
        // is nothing to decode it with, so say so instead of pretending the body is broken.
        return Err(StatusError::not_emulated_media_type(media_type));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(StatusError::bad_request(
            "the body of the request was empty",
        ));
    }
    let yaml = media_type.contains("yaml");
    // JSON is YAML, and what clients send as an apply patch (kube-rs, kubectl) is JSON: read
    // it as JSON first, which is many times cheaper than the YAML parser.
    let json_object = body
        .iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|byte| *byte == b'{');
    let decoded = if yaml && json_object {
        serde_json::from_slice::<Value>(body)
            .or_else(|_| serde_norway::from_slice::<Value>(body).map_err(|error| error.to_string()))
    } else if yaml {
        serde_norway::from_slice::<Value>(body).map_err(|error| error.to_string())
    } else {
        serde_json::from_slice::<Value>(body).map_err(|error| error.to_string())
    };
    decoded.map_err(|error| {
        let what = if yaml { "YAML" } else { "JSON" };
        StatusError::bad_request(format!("error decoding {what}: {error}"))
    })
}

/// The `User-Agent` prefix the API server uses as a field manager when none is given
/// (`kubectl/v1.32.4 (linux/amd64) kubernetes/…` → `kubectl`).
pub(super) fn default_field_manager(headers: &HeaderMap) -> String {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let prefix = agent.split('/').next().unwrap_or_default().trim();
    if prefix.is_empty() {
        "unknown".to_owned()
    } else {
        prefix.chars().take(128).collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn apply_patches_are_read_as_json_when_they_are_json_and_as_yaml_otherwise() {
        let media = "application/apply-patch+yaml";
        let expected = json!({"a": 1, "b": ["x"]});
        assert_eq!(
            decode_body(br#" {"a": 1, "b": ["x"]}"#, media).unwrap(),
            expected
        );
        assert_eq!(decode_body(b"{a: 1, b: [x]}", media).unwrap(), expected);
        assert_eq!(decode_body(b"a: 1\nb:\n- x\n", media).unwrap(), expected);
        assert!(decode_body(b"{a: [", media).is_err());
    }
}
