//! Typed ARM failures that keep what an operator needs: HTTP status, ARM error code, message
//! and `x-ms-request-id`.
//!
//! Parses both error shapes ARM services use — `{"error":{"code","message","details"}}` and the
//! bare `{"code","message"}` some resource providers and operation-status documents send.

use std::time::Duration;

use serde_json::Value;

use super::ArmResponse;

/// One entry of an ARM error's `details`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmErrorDetail {
    pub code: Option<String>,
    pub message: String,
}

/// An error status from ARM.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{request}` failed with {status}{}: {message}{}", code_suffix(.code), request_id_suffix(.request_id))]
pub struct ApiFailure {
    pub request: String,
    pub status: u16,
    pub code: Option<String>,
    pub message: String,
    pub request_id: Option<String>,
    pub details: Vec<ArmErrorDetail>,
}

/// A long-running operation that ended `Failed` or `Canceled`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{request}` ended {status}{}: {message}{}", code_suffix(.code), request_id_suffix(.request_id))]
pub struct OperationFailure {
    pub request: String,
    pub status: String,
    pub code: Option<String>,
    pub message: String,
    pub request_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ArmError {
    /// ARM answered with an error status.
    #[error(transparent)]
    Api(Box<ApiFailure>),
    /// No response: connection refused, reset or timed out, after retries.
    #[error("`{request}` could not reach azure")]
    Transport {
        request: String,
        #[source]
        source: Box<azure_core::Error>,
    },
    /// The credential could not produce a token for ARM.
    #[error("`{request}` could not get an azure token")]
    Credential {
        request: String,
        #[source]
        source: Box<azure_core::Error>,
    },
    /// A success response vaultwire cannot read.
    #[error("`{request}` returned a response vaultwire cannot read: {detail}")]
    Decode { request: String, detail: String },
    /// A long-running operation ended `Failed` or `Canceled`.
    #[error(transparent)]
    OperationFailed(Box<OperationFailure>),
    #[error("`{request}` was still running after {}s", .waited.as_secs())]
    OperationTimedOut { request: String, waited: Duration },
    /// ARM pointed a poll or next page at another host; following it would send the ARM token
    /// there.
    #[error("`{request}` was pointed at `{url}`, outside `{endpoint}`")]
    ForeignUrl {
        request: String,
        url: String,
        endpoint: String,
    },
    #[error("`{request}` has an invalid URL `{url}`")]
    InvalidUrl { request: String, url: String },
    /// `ArmRequest` takes any `http::Method`; azure_core's pipeline sends only six.
    #[error("`{request}` uses a method the azure client cannot send")]
    UnsupportedMethod { request: String },
}

fn code_suffix(code: &Option<String>) -> String {
    code.as_ref()
        .map(|code| format!(" `{code}`"))
        .unwrap_or_default()
}

fn request_id_suffix(request_id: &Option<String>) -> String {
    request_id
        .as_ref()
        .map(|id| format!(" (x-ms-request-id `{id}`)"))
        .unwrap_or_default()
}

impl ArmError {
    /// The error of a non-success response to `request`.
    pub fn from_response(request: &str, response: &ArmResponse) -> Self {
        let body = response.json().unwrap_or(Value::Null);
        let (code, message, details) = parse_error_body(&body);
        let message = message.unwrap_or_else(|| {
            let text = String::from_utf8_lossy(response.body());
            let text = text.trim();
            if text.is_empty() {
                format!("HTTP {}", response.status)
            } else {
                text.chars().take(500).collect()
            }
        });
        ArmError::Api(Box::new(ApiFailure {
            request: request.to_owned(),
            status: response.status,
            code,
            message,
            request_id: response.request_id().map(str::to_owned),
            details,
        }))
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ArmError::Api(failure) => Some(failure.status),
            _ => None,
        }
    }

    /// The ARM error code, from an error response or a failed operation.
    pub fn code(&self) -> Option<&str> {
        match self {
            ArmError::Api(failure) => failure.code.as_deref(),
            ArmError::OperationFailed(failure) => failure.code.as_deref(),
            _ => None,
        }
    }

    pub fn message(&self) -> Option<&str> {
        match self {
            ArmError::Api(failure) => Some(&failure.message),
            ArmError::OperationFailed(failure) => Some(&failure.message),
            _ => None,
        }
    }

    pub fn request_id(&self) -> Option<&str> {
        match self {
            ArmError::Api(failure) => failure.request_id.as_deref(),
            ArmError::OperationFailed(failure) => failure.request_id.as_deref(),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Whether this is an error with the given status and code (compared case-insensitively,
    /// as ARM codes vary in case between services).
    pub fn is(&self, status: u16, code: &str) -> bool {
        self.status() == Some(status)
            && self
                .code()
                .is_some_and(|actual| actual.eq_ignore_ascii_case(code))
    }
}

/// `(code, message, details)` of an ARM error document, in either shape.
pub(crate) fn parse_error_body(
    body: &Value,
) -> (Option<String>, Option<String>, Vec<ArmErrorDetail>) {
    let error = body
        .get("error")
        .filter(|error| error.is_object())
        .unwrap_or(body);
    let text = |value: &Value, key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    let details = error
        .get("details")
        .and_then(Value::as_array)
        .map(|details| {
            details
                .iter()
                .map(|detail| ArmErrorDetail {
                    code: text(detail, "code"),
                    message: text(detail, "message").unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    (text(error, "code"), text(error, "message"), details)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use azure_core::Bytes;

    fn response(status: u16, body: &str) -> ArmResponse {
        ArmResponse::new(
            status,
            BTreeMap::from([("x-ms-request-id".to_owned(), "9f1c".to_owned())]),
            Bytes::from(body.to_owned()),
        )
    }

    #[test]
    fn keeps_status_code_message_and_request_id() {
        let error = ArmError::from_response(
            "PUT /subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv",
            &response(
                409,
                r#"{"error":{"code":"ConflictError","message":"A vault with the same name already exists in deleted state."}}"#,
            ),
        );
        assert_eq!(error.status(), Some(409));
        assert_eq!(error.code(), Some("ConflictError"));
        assert_eq!(error.request_id(), Some("9f1c"));
        assert!(error.is(409, "conflicterror"));
        assert_eq!(
            error.to_string(),
            "`PUT /subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv` failed with 409 `ConflictError`: A vault with the same name already exists in deleted state. (x-ms-request-id `9f1c`)"
        );
    }

    #[test]
    fn reads_the_bare_error_shape_and_details() {
        let body = serde_json::json!({
            "code": "InvalidTemplate",
            "message": "outer",
            "details": [{"code": "Inner", "message": "inner"}]
        });
        let (code, message, details) = parse_error_body(&body);
        assert_eq!(code.as_deref(), Some("InvalidTemplate"));
        assert_eq!(message.as_deref(), Some("outer"));
        assert_eq!(
            details,
            [ArmErrorDetail {
                code: Some("Inner".into()),
                message: "inner".into()
            }]
        );
    }

    #[test]
    fn a_body_that_is_not_json_becomes_the_message() {
        let error = ArmError::from_response("GET /x", &response(502, "Bad Gateway"));
        assert_eq!(error.message(), Some("Bad Gateway"));
        assert_eq!(error.code(), None);
    }
}
