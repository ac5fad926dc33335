//! What the API server does to an object between decoding and storage: system metadata (uid,
//! creationTimestamp, generation), status ownership, per-type defaults and normalisation
//! (Secret `stringData`, Namespace labels) and validation (names, Secret types, Leases).
//!
//! Pure functions over one object; preconditions and field ownership are the handlers' job.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::object;
use super::resources::ResourceDef;
use super::status::{Cause, StatusError};
use super::store::Store;

const SUBDOMAIN_MESSAGE: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MESSAGE: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/// RFC 3339 with seconds, as `metav1.Time` serialises.
pub(super) fn time(now: Timestamp) -> String {
    now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Fills in what the server owns and checks the result; `live` is the stored object on update.
pub(super) fn prepare(
    def: &ResourceDef,
    store: &mut Store,
    live: Option<&Value>,
    mut candidate: Value,
    namespace: Option<&str>,
    name: &str,
    now: Timestamp,
) -> Result<Value, StatusError> {
    if !candidate.is_object() {
        return Err(StatusError::bad_request(format!(
            "{} in version \"{}\" cannot be handled as a {}: the body must be an object",
            def.kind,
            def.storage_version(),
            def.kind
        )));
    }
    if let Some(fields) = candidate.as_object_mut() {
        fields.insert(
            "apiVersion".to_owned(),
            json!(def.api_version(def.storage_version())),
        );
        fields.insert("kind".to_owned(), json!(def.kind));
    }
    let metadata = object::metadata_mut(&mut candidate);
    metadata.insert("name".to_owned(), json!(name));
    match namespace {
        Some(namespace) => metadata.insert("namespace".to_owned(), json!(namespace)),
        None => metadata.remove("namespace"),
    };
    metadata.remove("resourceVersion");
    metadata.remove("selfLink");
    metadata.remove("deletionTimestamp");
    metadata.remove("deletionGracePeriodSeconds");
    match live {
        Some(live) => {
            for key in ["uid", "creationTimestamp", "generation", "generateName"] {
                match object::metadata(live).and_then(|meta| meta.get(key)) {
                    Some(value) => metadata.insert(key.to_owned(), value.clone()),
                    None => metadata.remove(key),
                };
            }
        }
        None => {
            metadata.insert("uid".to_owned(), json!(store.mint_uid()));
            metadata.insert("creationTimestamp".to_owned(), json!(time(now)));
            if def.generation {
                metadata.insert("generation".to_owned(), json!(1));
            } else {
                metadata.remove("generation");
            }
        }
    }
    own_status(def, live, &mut candidate);
    normalise(def, live, &mut candidate, name)?;
    let mut causes = Vec::new();
    if live.is_none()
        && let Some(cause) = invalid_name(def, name)
    {
        causes.push(cause);
    }
    causes.extend(validate(def, live, &candidate));
    if !causes.is_empty() {
        return Err(StatusError::invalid(def, name, &causes));
    }
    if let Some(live) = live
        && def.generation
        && spec_changed(def, live, &candidate)
    {
        let generation = object::metadata(live)
            .and_then(|meta| meta.get("generation"))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        object::metadata_mut(&mut candidate).insert("generation".to_owned(), json!(generation + 1));
    }
    Ok(candidate)
}

/// A subresource owns status: writes to the main resource keep the stored one, and creates
/// start from what the real strategies set.
fn own_status(def: &ResourceDef, live: Option<&Value>, candidate: &mut Value) {
    if !def.status_subresource {
        return;
    }
    let status = match live {
        Some(live) => live.get("status").cloned(),
        None => Some(match def.kind {
            "Namespace" => json!({"phase": "Active"}),
            "Pod" => json!({"phase": "Pending", "qosClass": "BestEffort"}),
            _ => json!({}),
        }),
    };
    if let Some(fields) = candidate.as_object_mut() {
        match status {
            Some(status) => fields.insert("status".to_owned(), status),
            None => fields.remove("status"),
        };
    }
}

fn normalise(
    def: &ResourceDef,
    live: Option<&Value>,
    candidate: &mut Value,
    name: &str,
) -> Result<(), StatusError> {
    match def.kind {
        "Namespace" => {
            let metadata = object::metadata_mut(candidate);
            let labels = metadata
                .entry("labels")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(labels) = labels.as_object_mut() {
                labels.insert("kubernetes.io/metadata.name".to_owned(), json!(name));
            }
            if candidate.get("spec").is_none()
                && let Some(fields) = candidate.as_object_mut()
            {
                fields.insert("spec".to_owned(), json!({"finalizers": ["kubernetes"]}));
            }
        }
        "Secret" => normalise_secret(live, candidate)?,
        _ => {}
    }
    Ok(())
}

/// `stringData` is write-only: it is encoded into `data`. `type` defaults to `Opaque`.
fn normalise_secret(live: Option<&Value>, candidate: &mut Value) -> Result<(), StatusError> {
    let Some(fields) = candidate.as_object_mut() else {
        return Ok(());
    };
    let undecodable = |detail: String| {
        StatusError::bad_request(format!(
            "Secret in version \"v1\" cannot be handled as a Secret: {detail}"
        ))
    };
    if let Some(Value::Object(data)) = fields.get("data") {
        for value in data.values() {
            let Some(text) = value.as_str() else {
                return Err(undecodable(
                    "json: cannot unmarshal data values: expected a base64 string".to_owned(),
                ));
            };
            if let Err(error) = STANDARD.decode(text) {
                return Err(undecodable(format!("illegal base64 data: {error}")));
            }
        }
    }
    if let Some(string_data) = fields.remove("stringData") {
        let Value::Object(string_data) = string_data else {
            return Err(undecodable("stringData must be an object".to_owned()));
        };
        let data = fields
            .entry("data")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(data) = data.as_object_mut() {
            for (key, value) in string_data {
                let text = value.as_str().unwrap_or_default();
                data.insert(key, json!(STANDARD.encode(text)));
            }
        }
    }
    if fields
        .get("type")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        let inherited = live.and_then(|live| live.get("type")).cloned();
        fields.insert(
            "type".to_owned(),
            inherited.unwrap_or_else(|| json!("Opaque")),
        );
    }
    Ok(())
}

/// `metadata.name` against the resource's naming rule.
pub(super) fn invalid_name(def: &ResourceDef, name: &str) -> Option<Cause> {
    let (max, is_label) = if def.kind == "Namespace" {
        (63, true)
    } else {
        (253, false)
    };
    let quoted = format!("\"{name}\"");
    if name.len() > max {
        return Some(Cause::invalid(
            "metadata.name",
            &quoted,
            &format!("must be no more than {max} characters"),
        ));
    }
    let valid = if is_label {
        is_dns_label(name)
    } else {
        name.split('.').all(is_dns_label)
    };
    (!valid).then(|| {
        Cause::invalid(
            "metadata.name",
            &quoted,
            if is_label {
                LABEL_MESSAGE
            } else {
                SUBDOMAIN_MESSAGE
            },
        )
    })
}

fn is_dns_label(part: &str) -> bool {
    let bytes = part.as_bytes();
    let alnum = |byte: &u8| byte.is_ascii_lowercase() || byte.is_ascii_digit();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
        && bytes.iter().all(|byte| alnum(byte) || *byte == b'-')
}

fn validate(def: &ResourceDef, live: Option<&Value>, candidate: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    match def.kind {
        "Secret" => {
            let kind = object::str_at(candidate, "type").unwrap_or("Opaque");
            if let Some(before) = live.and_then(|live| object::str_at(live, "type"))
                && before != kind
            {
                causes.push(Cause::invalid(
                    "type",
                    &format!("\"{kind}\""),
                    "field is immutable",
                ));
            }
            let required: &[&str] = match kind {
                "kubernetes.io/tls" => &["tls.crt", "tls.key"],
                "kubernetes.io/dockerconfigjson" => &[".dockerconfigjson"],
                _ => &[],
            };
            for key in required {
                if object::at_path(candidate, "data")
                    .and_then(|data| data.get(key))
                    .is_none()
                {
                    causes.push(Cause::required(&format!("data[{key}]"), ""));
                }
            }
        }
        "Lease" => {
            if let Some(duration) = object::i64_at(candidate, "spec.leaseDurationSeconds")
                && duration <= 0
            {
                causes.push(Cause::invalid(
                    "spec.leaseDurationSeconds",
                    &duration.to_string(),
                    "must be greater than 0",
                ));
            }
            if let Some(transitions) = object::i64_at(candidate, "spec.leaseTransitions")
                && transitions < 0
            {
                causes.push(Cause::invalid(
                    "spec.leaseTransitions",
                    &transitions.to_string(),
                    "must be greater than or equal to 0",
                ));
            }
        }
        _ => {}
    }
    causes
}

/// Whether anything but metadata (and status, where a subresource owns it) changed.
fn spec_changed(def: &ResourceDef, live: &Value, candidate: &Value) -> bool {
    let strip = |object: &Value| {
        let mut copy = object.clone();
        if let Some(fields) = copy.as_object_mut() {
            fields.remove("metadata");
            if def.status_subresource {
                fields.remove("status");
            }
        }
        copy
    };
    strip(live) != strip(candidate)
}
