//! `Status` errors exactly as the API server words them (apimachinery `api/errors`), so kube-rs'
//! `is_not_found()`/`is_conflict()`/`is_already_exists()` and kubectl's messages behave as
//! against a real cluster.
//!
//! Owns error shapes and wording only; deciding *when* an error happens belongs to the handlers.

use http::StatusCode;
use serde_json::{Value, json};

use super::resources::ResourceDef;
use super::wire::KubeResponse;

/// The apiserver's optimistic-lock message (`OptimisticLockErrorMsg`).
const MODIFIED: &str =
    "the object has been modified; please apply your changes to the latest version and try again";

/// One failed request, rendered as a `Status` object.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub(super) struct StatusError {
    pub code: StatusCode,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

/// One entry of `details.causes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Cause {
    pub reason: &'static str,
    pub message: String,
    pub field: String,
}

impl Cause {
    /// `field: Invalid value: <value>: <detail>`, the apimachinery `field.Invalid` wording;
    /// `value` is already rendered (strings quoted, numbers bare).
    pub fn invalid(field: &str, value: &str, detail: &str) -> Self {
        Self {
            reason: "FieldValueInvalid",
            message: format!("Invalid value: {value}: {detail}"),
            field: field.to_owned(),
        }
    }

    pub fn required(field: &str, detail: &str) -> Self {
        Self {
            reason: "FieldValueRequired",
            message: format!("Required value: {detail}"),
            field: field.to_owned(),
        }
    }

    /// A value of the wrong JSON type against a custom resource's schema.
    pub fn type_invalid(field: &str, found: &str, expected: &str) -> Self {
        Self {
            reason: "FieldValueTypeInvalid",
            message: format!(
                "Invalid value: \"{found}\": {field} in body must be of type {expected}: \"{found}\""
            ),
            field: field.to_owned(),
        }
    }

    fn to_json(&self) -> Value {
        json!({"reason": self.reason, "message": self.message, "field": self.field})
    }

    /// `field: message`, as `field.Error.Error()` prints.
    fn display(&self) -> String {
        format!("{}: {}", self.field, self.message)
    }
}

impl StatusError {
    fn new(code: StatusCode, reason: &'static str, message: String) -> Self {
        Self {
            code,
            reason,
            message,
            details: None,
        }
    }

    fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// A path the server does not serve at all.
    pub fn unknown_path() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource".to_owned(),
        )
        .with_details(json!({}))
    }

    pub fn not_found(def: &ResourceDef, name: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{} \"{name}\" not found", def.qualified_resource()),
        )
        .with_details(resource_details(def, name))
    }

    /// Creating into a namespace that does not exist (the NamespaceLifecycle admission check).
    pub fn namespace_not_found(namespace: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("namespaces \"{namespace}\" not found"),
        )
        .with_details(json!({"name": namespace, "kind": "namespaces"}))
    }

    pub fn already_exists(def: &ResourceDef, name: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", def.qualified_resource()),
        )
        .with_details(resource_details(def, name))
    }

    /// A stale `resourceVersion` (PUT, or a patch or apply carrying one).
    pub fn modified(def: &ResourceDef, name: &str) -> Self {
        Self::conflict(def, name, MODIFIED)
    }

    /// `Operation cannot be fulfilled on <resource> "<name>": <why>`.
    pub fn conflict(def: &ResourceDef, name: &str, why: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": {why}",
                def.qualified_resource()
            ),
        )
        .with_details(resource_details(def, name))
    }

    /// [`Self::conflict`] on a group and resource the emulator does not serve itself, such as
    /// the `Pod` a TokenRequest names (the API server names it by kind there).
    pub fn conflict_on(group: &str, resource: &str, name: &str, why: &str) -> Self {
        let qualified = if group.is_empty() {
            resource.to_owned()
        } else {
            format!("{resource}.{group}")
        };
        let mut details = json!({"name": name});
        if !group.is_empty() {
            details["group"] = json!(group);
        }
        details["kind"] = json!(resource);
        Self::new(
            StatusCode::CONFLICT,
            "Conflict",
            format!("Operation cannot be fulfilled on {qualified} \"{name}\": {why}"),
        )
        .with_details(details)
    }

    /// Server-side apply conflicts; `message` is built by the field manager. The real server
    /// sends no name or kind in these details.
    pub fn apply_conflict(message: String, causes: &[Cause]) -> Self {
        let causes: Vec<Value> = causes.iter().map(Cause::to_json).collect();
        Self::new(StatusCode::CONFLICT, "Conflict", message).with_details(json!({"causes": causes}))
    }

    /// Validation failures, qualified by kind (`Secret "x" is invalid: …`).
    pub fn invalid(def: &ResourceDef, name: &str, causes: &[Cause]) -> Self {
        Self::invalid_as(def.group, &def.qualified_kind(), def.kind, name, causes)
    }

    /// Validation failures of a TokenRequest, which is no stored resource
    /// (`TokenRequest.authentication.k8s.io "" is invalid: …`).
    pub fn invalid_token_request(name: &str, causes: &[Cause]) -> Self {
        Self::invalid_as(
            "authentication.k8s.io",
            "TokenRequest.authentication.k8s.io",
            "TokenRequest",
            name,
            causes,
        )
    }

    /// A failure of the server itself (`InternalError`), such as a token it cannot sign.
    pub fn internal(message: String) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            format!("Internal error occurred: {message}"),
        )
        .with_details(json!({"causes": [{"message": message}]}))
    }

    /// An update without `resourceVersion` where the resource requires one. The store raises it,
    /// so it is qualified by resource, not kind (`leases.coordination.k8s.io "x" is invalid`).
    pub fn resource_version_required(def: &ResourceDef, name: &str) -> Self {
        let cause = Cause::invalid(
            "metadata.resourceVersion",
            "0",
            "must be specified for an update",
        );
        Self::invalid_as(
            def.group,
            &def.qualified_resource(),
            def.plural,
            name,
            std::slice::from_ref(&cause),
        )
    }

    fn invalid_as(
        group: &str,
        qualified: &str,
        details_kind: &str,
        name: &str,
        causes: &[Cause],
    ) -> Self {
        let aggregate = match causes {
            [one] => one.display(),
            many => format!(
                "[{}]",
                many.iter()
                    .map(Cause::display)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let mut details = json!({"name": name});
        if !group.is_empty() {
            details["group"] = json!(group);
        }
        details["kind"] = json!(details_kind);
        details["causes"] = Value::Array(causes.iter().map(Cause::to_json).collect());
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            format!("{qualified} \"{name}\" is invalid: {aggregate}"),
        )
        .with_details(details)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message.into())
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource".to_owned(),
        )
        .with_details(json!({}))
    }

    /// A method the real server has but this emulator does not (watch).
    pub fn not_emulated(what: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("{what} is not supported by the vaultwire sandbox"),
        )
        .with_details(json!({}))
    }

    pub fn unsupported_media_type(content_type: &str, accepted: &[&str]) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
        .with_details(json!({"causes": [{"reason": "UnexpectedHeader", "message": content_type, "field": "Content-Type"}]}))
    }

    /// A body encoding the real server reads but this emulator does not (protobuf, CBOR).
    pub fn not_emulated_media_type(content_type: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!(
                "the vaultwire sandbox reads JSON and YAML bodies only, not {content_type} (typed `kubectl create <kind>` commands send protobuf; use `kubectl create -f` or `kubectl apply -f`)"
            ),
        )
        .with_details(json!({}))
    }

    /// `<resource> "<name>" is forbidden: <why>`.
    pub fn forbidden(def: &ResourceDef, name: &str, why: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!(
                "{} \"{name}\" is forbidden: {why}",
                def.qualified_resource()
            ),
        )
        .with_details(resource_details(def, name))
    }

    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        });
        if let Some(details) = &self.details {
            body["details"] = details.clone();
        }
        body["code"] = json!(self.code.as_u16());
        body
    }

    pub fn to_response(&self) -> KubeResponse {
        KubeResponse::json(self.code, &self.to_json())
    }
}

/// `{name, group, kind: <plural>}`; the core group is omitted, as the real server does.
fn resource_details(def: &ResourceDef, name: &str) -> Value {
    let mut details = json!({"name": name});
    if !def.group.is_empty() {
        details["group"] = json!(def.group);
    }
    details["kind"] = json!(def.plural);
    details
}

/// The body of a successful delete for resources whose store does not return the object.
pub(super) fn delete_success(def: &ResourceDef, name: &str, uid: &str) -> Value {
    let mut details = resource_details(def, name);
    details["uid"] = json!(uid);
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}
