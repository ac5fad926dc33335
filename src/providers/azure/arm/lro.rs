//! Long-running operations: what the first response says about how to follow an operation,
//! and what each poll says about its progress.
//!
//! Pure decisions; the polling loop (and its waits) live in the client. Follows ARM's async
//! operation protocol: prefer `Azure-AsyncOperation`, then `Location`, then the resource's
//! `provisioningState`; `Succeeded`, `Failed` and `Canceled` are terminal and a missing state
//! means done. azure_core's `Poller` expects a typed status model per operation; ARM's three
//! monitors over untyped documents are simpler to follow here.

use std::time::Duration;

use azure_core::http::Url;
use http::Method;
use serde_json::Value;

use super::ArmResponse;
use super::error::parse_error_body;

/// How long-running operations are followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LroSettings {
    /// Give up after this long (AKS updates take minutes; 30 minutes is generous).
    pub timeout: Duration,
    /// The first wait between polls when the service sends no `Retry-After`; it doubles.
    pub poll_interval: Duration,
    /// The longest wait between polls, whatever `Retry-After` says.
    pub max_poll_interval: Duration,
}

impl Default for LroSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30 * 60),
            poll_interval: Duration::from_secs(5),
            max_poll_interval: Duration::from_secs(60),
        }
    }
}

/// Where to watch a running operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Monitor {
    /// An operation-status document (`{"status": …}`); `final_location` is the initial
    /// `Location` header, where a POST's result is fetched.
    AsyncOperation {
        url: Url,
        final_location: Option<Url>,
    },
    /// `202` while running; the final status and body when done.
    Location(Url),
    /// The resource itself, until its `provisioningState` is terminal.
    ResourceState,
}

/// The progress an operation-status document or a resource reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Progress {
    Running,
    Succeeded,
    Ended {
        status: String,
        code: Option<String>,
        message: String,
    },
}

fn header_url(response: &ArmResponse, name: &str) -> Option<Url> {
    response
        .header(name)
        .and_then(|value| Url::parse(value).ok())
}

/// `properties.provisioningState` of a resource document.
pub(crate) fn provisioning_state(body: &Value) -> Option<&str> {
    body.pointer("/properties/provisioningState")
        .and_then(Value::as_str)
}

fn classify(state: Option<&str>, body: &Value) -> Progress {
    match state {
        None => Progress::Succeeded,
        Some(state) if state.eq_ignore_ascii_case("Succeeded") => Progress::Succeeded,
        Some(state)
            if state.eq_ignore_ascii_case("Failed") || state.eq_ignore_ascii_case("Canceled") =>
        {
            let (code, message, _) = parse_error_body(body);
            Progress::Ended {
                status: state.to_owned(),
                code,
                message: message.unwrap_or_else(|| format!("the operation ended {state}")),
            }
        }
        Some(_) => Progress::Running,
    }
}

/// The progress in an `Azure-AsyncOperation` status document.
pub(crate) fn operation_progress(body: &Value) -> Progress {
    match body.get("status").and_then(Value::as_str) {
        // A status document without a status is malformed; keep polling until the timeout
        // rather than declaring success.
        None => Progress::Running,
        state => classify(state, body),
    }
}

/// The progress a resource document reports through `provisioningState`.
pub(crate) fn resource_progress(body: &Value) -> Progress {
    match classify(provisioning_state(body), body) {
        // A failed resource carries no error of its own.
        Progress::Ended { status, .. } => Progress::Ended {
            message: format!("the resource's provisioningState is {status}"),
            status,
            code: None,
        },
        progress => progress,
    }
}

/// Whether (and how) the first response of `method` starts a long-running operation.
pub(crate) fn monitor_for(method: &Method, response: &ArmResponse) -> Option<Monitor> {
    let location = header_url(response, "location");
    if let Some(url) = header_url(response, "azure-asyncoperation") {
        // A 200/201 whose body already reports a terminal state is done, header or not.
        let body = response.json().unwrap_or(Value::Null);
        if response.status != 202
            && matches!(*method, Method::PUT | Method::PATCH)
            && provisioning_state(&body).is_some()
            && resource_progress(&body) != Progress::Running
        {
            return None;
        }
        return Some(Monitor::AsyncOperation {
            url,
            final_location: location,
        });
    }
    if matches!(response.status, 201 | 202)
        && let Some(url) = location
    {
        return Some(Monitor::Location(url));
    }
    if matches!(*method, Method::PUT | Method::PATCH) {
        let body = response.json().unwrap_or(Value::Null);
        if resource_progress(&body) == Progress::Running {
            return Some(Monitor::ResourceState);
        }
    }
    None
}

/// The wait a poll response asks for (`Retry-After` in seconds), else `fallback`, capped.
pub(crate) fn poll_wait(
    response: Option<&ArmResponse>,
    fallback: Duration,
    settings: &LroSettings,
) -> Duration {
    response
        .and_then(|response| response.header("retry-after"))
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map_or(fallback, Duration::from_secs)
        .min(settings.max_poll_interval)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use azure_core::Bytes;
    use serde_json::json;

    fn response(status: u16, headers: &[(&str, &str)], body: Value) -> ArmResponse {
        let headers: BTreeMap<String, String> = headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        let body = if body.is_null() {
            Bytes::new()
        } else {
            Bytes::from(body.to_string())
        };
        ArmResponse::new(status, headers, body)
    }

    const OP: &str = "https://management.azure.com/subscriptions/s/providers/Microsoft.ContainerService/locations/westeurope/operations/op1?api-version=2025-10-01";

    #[test]
    fn azure_async_operation_is_preferred_over_location() {
        let first = response(
            201,
            &[
                ("azure-asyncoperation", OP),
                ("location", "https://management.azure.com/x"),
            ],
            json!({"properties": {"provisioningState": "Updating"}}),
        );
        let Some(Monitor::AsyncOperation {
            url,
            final_location,
        }) = monitor_for(&Method::PUT, &first)
        else {
            panic!("an Azure-AsyncOperation header starts polling");
        };
        assert_eq!(url.as_str(), OP);
        assert!(final_location.is_some());
    }

    #[test]
    fn location_is_followed_when_it_is_the_only_header() {
        let first = response(
            202,
            &[("location", "https://management.azure.com/x?api-version=1")],
            Value::Null,
        );
        assert!(matches!(
            monitor_for(&Method::POST, &first),
            Some(Monitor::Location(_))
        ));
    }

    #[test]
    fn a_running_provisioning_state_is_polled_on_the_resource() {
        let first = response(
            200,
            &[],
            json!({"properties": {"provisioningState": "RegisteringDns"}}),
        );
        assert_eq!(
            monitor_for(&Method::PUT, &first),
            Some(Monitor::ResourceState)
        );
    }

    #[test]
    fn a_terminal_or_missing_state_needs_no_polling() {
        let done = response(
            200,
            &[("azure-asyncoperation", OP)],
            json!({"properties": {"provisioningState": "Succeeded"}}),
        );
        assert_eq!(monitor_for(&Method::PUT, &done), None);
        let plain = response(200, &[], json!({"properties": {}}));
        assert_eq!(monitor_for(&Method::PUT, &plain), None);
        let deleted = response(200, &[], Value::Null);
        assert_eq!(monitor_for(&Method::DELETE, &deleted), None);
    }

    #[test]
    fn operation_status_documents_map_to_progress() {
        assert_eq!(
            operation_progress(&json!({"status": "InProgress"})),
            Progress::Running
        );
        assert_eq!(
            operation_progress(&json!({"status": "Succeeded"})),
            Progress::Succeeded
        );
        assert_eq!(
            operation_progress(&json!({
                "status": "Failed",
                "error": {"code": "AddonFailed", "message": "identity creation failed"}
            })),
            Progress::Ended {
                status: "Failed".into(),
                code: Some("AddonFailed".into()),
                message: "identity creation failed".into(),
            }
        );
        assert!(matches!(
            operation_progress(&json!({"status": "Canceled"})),
            Progress::Ended { .. }
        ));
        assert_eq!(operation_progress(&json!({})), Progress::Running);
    }

    #[test]
    fn retry_after_sets_the_poll_wait_up_to_the_cap() {
        let settings = LroSettings::default();
        let fallback = Duration::from_secs(5);
        let asks = |value: &str| response(202, &[("retry-after", value)], Value::Null);
        assert_eq!(
            poll_wait(Some(&asks("12")), fallback, &settings),
            Duration::from_secs(12)
        );
        assert_eq!(
            poll_wait(Some(&asks("3600")), fallback, &settings),
            Duration::from_secs(60)
        );
        assert_eq!(
            poll_wait(Some(&asks("soon")), fallback, &settings),
            fallback
        );
        assert_eq!(poll_wait(None, fallback, &settings), fallback);
    }
}
