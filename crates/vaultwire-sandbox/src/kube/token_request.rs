//! The TokenRequest API: `POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token`, an
//! `authentication.k8s.io/v1` TokenRequest in, the same object with `status.token` out (201),
//! in the order kube-apiserver's `TokenREST.Create` checks: names, the service account,
//! validation, the bound object.
//!
//! The emulator holds no keys and reads no clusters' settings, so the caller brings the
//! issuer and the signature as a [`TokenSigner`]. The body is JSON, YAML, or the protobuf
//! `kubectl create token` sends (`protobuf.rs`).

use http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};

use super::admission::time;
use super::protobuf;
use super::request;
use super::resources::{self, ResourceDef};
use super::status::{Cause, StatusError};
use super::store::Store;
use super::wire::{KubeRequest, KubeResponse};

/// What signs a cluster's service-account tokens: its issuer and the sandbox's key.
pub trait TokenSigner {
    /// The `iss` of the tokens, which is also the API server's own audience: the default of a
    /// TokenRequest that names none.
    fn issuer(&self) -> String;

    /// A token for `system:serviceaccount:{namespace}:{name}` for `audiences`, issued at the
    /// request's `now` and valid `seconds`; `None` if it cannot be signed.
    fn sign(
        &self,
        namespace: &str,
        name: &str,
        audiences: &[String],
        seconds: i64,
    ) -> Option<String>;
}

const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";
/// `authentication.k8s.io/v1` defaulting.
const DEFAULT_SECONDS: i64 = 60 * 60;
/// `MinTokenAgeSec` of the API's validation.
const MIN_SECONDS: i64 = 10 * 60;
const MAX_SECONDS: i64 = 1 << 32;

/// The fields of a TokenRequest the API server reads.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct TokenRequestBody {
    pub name: String,
    pub namespace: String,
    pub audiences: Vec<String>,
    pub expiration_seconds: Option<i64>,
    pub bound_object_ref: Option<BoundObjectRef>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct BoundObjectRef {
    pub kind: String,
    pub api_version: String,
    pub name: String,
    pub uid: String,
}

/// Creates a token for the service account `namespace/name` at `now`.
pub(super) fn create(
    store: &Store,
    request: &KubeRequest<'_>,
    namespace: &str,
    name: &str,
    now: Timestamp,
    signer: &dyn TokenSigner,
) -> Result<KubeResponse, StatusError> {
    let body = decode(request)?;
    let mismatch = |field: &str, given: &str, what: &str| {
        let cause = Cause::invalid(
            field,
            &format!("\"{given}\""),
            &format!("must match the service account {what} if specified"),
        );
        StatusError::invalid_token_request(name, &[cause])
    };
    if !body.name.is_empty() && body.name != name {
        return Err(mismatch("metadata.name", &body.name, "name"));
    }
    if !body.namespace.is_empty() && body.namespace != namespace {
        return Err(mismatch("metadata.namespace", &body.namespace, "namespace"));
    }
    let accounts = core("ServiceAccount")?;
    if store.get(accounts, Some(namespace), name).is_none() {
        return Err(StatusError::not_found(accounts, name));
    }
    let audiences = if body.audiences.is_empty() {
        vec![signer.issuer()]
    } else {
        body.audiences.clone()
    };
    let seconds = body.expiration_seconds.unwrap_or(DEFAULT_SECONDS);
    let too = if seconds < MIN_SECONDS {
        Some("may not specify a duration less than 10 minutes")
    } else if seconds > MAX_SECONDS {
        Some("may not specify a duration larger than 2^32 seconds")
    } else {
        None
    };
    if let Some(detail) = too {
        // The API server validates the object after naming it, but reports it as "".
        let cause = Cause::invalid("spec.expirationSeconds", &seconds.to_string(), detail);
        return Err(StatusError::invalid_token_request("", &[cause]));
    }
    if let Some(bound) = &body.bound_object_ref {
        check_bound(store, namespace, name, bound)?;
    }
    let token = signer
        .sign(namespace, name, &audiences, seconds)
        .ok_or_else(|| StatusError::internal("failed to generate token".to_owned()))?;
    let expires = now
        .checked_add(SignedDuration::from_secs(seconds))
        .unwrap_or(Timestamp::MAX);
    let mut spec = json!({"audiences": audiences, "expirationSeconds": seconds});
    if let Some(bound) = &body.bound_object_ref {
        spec["boundObjectRef"] = bound_json(bound);
    }
    let answer = json!({
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": time(now)},
        "spec": spec,
        "status": {"token": token, "expirationTimestamp": time(expires)},
    });
    Ok(KubeResponse::json(StatusCode::CREATED, &answer))
}

/// The body as a TokenRequest: protobuf for this endpoint only, else what every write reads.
fn decode(request: &KubeRequest<'_>) -> Result<TokenRequestBody, StatusError> {
    let cannot = |error: String| {
        StatusError::bad_request(format!(
            "TokenRequest in version \"v1\" cannot be handled as a TokenRequest: {error}"
        ))
    };
    let media_type = request::content_type(request.headers);
    if media_type == PROTOBUF {
        return protobuf::token_request(request.body).map_err(|error| cannot(error.to_string()));
    }
    let value = request::decode_body(request.body, &media_type)?;
    let document: Document =
        serde_json::from_value(value).map_err(|error| cannot(error.to_string()))?;
    Ok(TokenRequestBody {
        name: document.metadata.name,
        namespace: document.metadata.namespace,
        audiences: document.spec.audiences.unwrap_or_default(),
        expiration_seconds: document.spec.expiration_seconds,
        bound_object_ref: document.spec.bound_object_ref,
    })
}

/// A TokenRequest as JSON has it; `null` reads as absent, as Go's decoder does.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Document {
    metadata: Metadata,
    spec: Spec,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Metadata {
    name: String,
    namespace: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Spec {
    audiences: Option<Vec<String>>,
    expiration_seconds: Option<i64>,
    bound_object_ref: Option<BoundObjectRef>,
}

/// The bound object must exist (a Pod must run as this account) and have the given uid. Node
/// binding is not emulated (the sandbox serves no Node objects).
fn check_bound(
    store: &Store,
    namespace: &str,
    account: &str,
    bound: &BoundObjectRef,
) -> Result<(), StatusError> {
    let (group, version) = bound
        .api_version
        .split_once('/')
        .unwrap_or(("", &bound.api_version));
    let def = match (group, bound.kind.as_str()) {
        ("", "Pod" | "Secret") => core(&bound.kind)?,
        _ => {
            return Err(StatusError::bad_request(format!(
                "cannot bind token to object of type {group}/{version}, Kind={}",
                bound.kind
            )));
        }
    };
    let object = store
        .get(def, Some(namespace), &bound.name)
        .ok_or_else(|| StatusError::not_found(def, &bound.name))?;
    if bound.kind == "Pod" {
        let runs_as = object["spec"]["serviceAccountName"]
            .as_str()
            .unwrap_or("default");
        if runs_as != account {
            return Err(StatusError::bad_request(format!(
                "cannot bind token for serviceaccount \"{account}\" to pod running with different serviceaccount name."
            )));
        }
    }
    let uid = super::object::uid(object).unwrap_or_default();
    if !bound.uid.is_empty() && bound.uid != uid {
        return Err(StatusError::conflict_on(
            group,
            &bound.kind,
            &bound.name,
            &format!(
                "the UID in the bound object reference ({}) does not match the UID in record. The object might have been deleted and then recreated",
                bound.uid
            ),
        ));
    }
    Ok(())
}

fn bound_json(bound: &BoundObjectRef) -> Value {
    let mut reference = serde_json::Map::new();
    for (key, value) in [
        ("kind", &bound.kind),
        ("apiVersion", &bound.api_version),
        ("name", &bound.name),
        ("uid", &bound.uid),
    ] {
        if !value.is_empty() {
            reference.insert(key.to_owned(), json!(value));
        }
    }
    Value::Object(reference)
}

/// A core resource the emulator always serves.
fn core(kind: &str) -> Result<&'static ResourceDef, StatusError> {
    resources::by_kind("", kind).ok_or_else(|| StatusError::internal(format!("no {kind} resource")))
}
