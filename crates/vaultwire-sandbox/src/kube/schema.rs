//! The SecretProviderClass CRD's structural schema (`secrets-store.csi.x-k8s.io/v1`): pruning of
//! unknown fields, type checks, and what `fieldValidation` (Strict, Warn, Ignore) makes of them.
//!
//! Built-in resources have no schema here (their fields are accepted as sent); only the custom
//! resource, which vaultwire writes and users hand-edit, is checked.

use serde_json::Value;

use super::request::Query;
use super::resources::ResourceDef;
use super::status::{Cause, StatusError};

/// A node of a structural schema.
enum Node {
    String,
    /// `metadata`: validated by the server's ObjectMeta rules, never pruned.
    Meta,
    Object {
        properties: Vec<(&'static str, Node)>,
        /// `additionalProperties` (a map); `None` prunes unknown keys.
        additional: Option<Box<Node>>,
    },
    Array(Box<Node>),
}

fn object(properties: Vec<(&'static str, Node)>) -> Node {
    Node::Object {
        properties,
        additional: None,
    }
}

fn string_map() -> Node {
    Node::Object {
        properties: Vec::new(),
        additional: Some(Box::new(Node::String)),
    }
}

/// The v1 schema (also used for v1alpha1, whose only difference is `status.byPod`, a field
/// the driver writes, not users).
fn secret_provider_class() -> Node {
    let data = object(vec![("key", Node::String), ("objectName", Node::String)]);
    let secret_object = object(vec![
        ("annotations", string_map()),
        ("data", Node::Array(Box::new(data))),
        ("labels", string_map()),
        ("secretName", Node::String),
        ("type", Node::String),
    ]);
    object(vec![
        ("apiVersion", Node::String),
        ("kind", Node::String),
        ("metadata", Node::Meta),
        (
            "spec",
            object(vec![
                ("parameters", string_map()),
                ("provider", Node::String),
                ("secretObjects", Node::Array(Box::new(secret_object))),
            ]),
        ),
        ("status", object(Vec::new())),
    ])
}

/// What the schema found: unknown fields (already pruned) and wrong types.
#[derive(Debug, Default)]
pub(super) struct Report {
    pub unknown: Vec<String>,
    pub causes: Vec<Cause>,
}

/// Prunes and checks `object` in place when `def` has a schema.
pub(super) fn check(def: &ResourceDef, object: &mut Value) -> Report {
    let mut report = Report::default();
    if def.custom {
        walk(&secret_provider_class(), object, "", &mut report);
    }
    report
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(number) if number.is_i64() || number.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn walk(node: &Node, value: &mut Value, path: &str, report: &mut Report) {
    match (node, value) {
        (Node::Meta, _) => {}
        (Node::String, Value::String(_)) => {}
        (Node::Array(items), Value::Array(values)) => {
            for (index, item) in values.iter_mut().enumerate() {
                walk(items, item, &format!("{path}[{index}]"), report);
            }
        }
        (
            Node::Object {
                properties,
                additional,
            },
            Value::Object(fields),
        ) => {
            let mut unknown = Vec::new();
            for (key, child) in fields.iter_mut() {
                let schema = properties
                    .iter()
                    .find(|(name, _)| name == key)
                    .map(|(_, node)| node)
                    .or(additional.as_deref());
                match schema {
                    Some(schema) => walk(schema, child, &join(path, key), report),
                    None => unknown.push(key.clone()),
                }
            }
            for key in unknown {
                fields.remove(&key);
                report.unknown.push(join(path, &key));
            }
        }
        (node, value) => {
            let expected = match node {
                Node::String => "string",
                Node::Array(_) => "array",
                Node::Object { .. } | Node::Meta => "object",
            };
            report
                .causes
                .push(Cause::type_invalid(path, json_type(value), expected));
        }
    }
}

/// How the request wants unknown fields treated; the server default is `Warn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Directive {
    Strict,
    Warn,
    Ignore,
}

pub(super) fn directive(query: &Query) -> Result<Directive, StatusError> {
    match query.get("fieldValidation") {
        None | Some("") | Some("Warn") => Ok(Directive::Warn),
        Some("Strict") => Ok(Directive::Strict),
        Some("Ignore") => Ok(Directive::Ignore),
        Some(other) => Err(StatusError::bad_request(format!(
            "fieldValidation instance value \"{other}\" is invalid, must be one of \"Ignore\", \"Warn\", or \"Strict\""
        ))),
    }
}

/// Turns a report into the request's outcome: 422 for wrong types; for unknown fields a 400
/// (Strict), warnings (Warn) or nothing (Ignore). `apply_target` names the object for the
/// server-side apply wording (`namespace/name; group/version, Kind=Kind`).
pub(super) fn enforce(
    def: &ResourceDef,
    version: &str,
    name: &str,
    report: Report,
    directive: Directive,
    apply_target: Option<&str>,
) -> Result<Vec<String>, StatusError> {
    if !report.causes.is_empty() {
        return Err(StatusError::invalid(def, name, &report.causes));
    }
    if report.unknown.is_empty() {
        return Ok(Vec::new());
    }
    match directive {
        Directive::Ignore => Ok(Vec::new()),
        Directive::Warn => Ok(report
            .unknown
            .iter()
            .map(|field| format!("unknown field \"{field}\""))
            .collect()),
        Directive::Strict => Err(StatusError::bad_request(match apply_target {
            Some(target) => format!(
                "failed to create typed patch object ({target}; {}, Kind={}): {}",
                def.api_version(version),
                def.kind,
                report
                    .unknown
                    .iter()
                    .map(|field| format!(".{field}: field not declared in schema"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
            None => format!(
                "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {}",
                report
                    .unknown
                    .iter()
                    .map(|field| format!("unknown field \"{field}\""))
                    .collect::<Vec<_>>()
                    .join(", "),
                kind = def.kind,
            ),
        })),
    }
}
