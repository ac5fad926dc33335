//! The ARM client: sends [`ArmRequest`]s through azure_core's pipeline and follows what ARM
//! answers — errors, long-running operations and pages.
//!
//! Pipeline, in order: azure_core's client-request-id and user-agent policies; the retry
//! policy (`retry.rs`); per try, the rate limit (`throttle.rs`), then the bearer-token policy
//! for the cloud's ARM scope; azure_core's logging policy, which redacts `Authorization` and
//! logs no bodies; the transport. This module must not know any resource type.

use std::collections::HashSet;
use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use azure_core::error::ErrorKind;
use azure_core::http::policies::Policy;
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::{Context, Pipeline, PipelineSendOptions, Request, RetryOptions, Url};
use http::Method;
use serde_json::Value;

use super::error::OperationFailure;
use super::lro::{self, Monitor, Progress};
use super::request::azure_method;
use super::retry::ArmRetryPolicy;
use super::throttle::ThrottlePolicy;
use super::{ArmError, ArmRequest, ArmResponse, LroSettings, RetrySettings, Throttle};
use crate::providers::azure::AzureCloud;
use crate::providers::timer::{Timer, TokioTimer};

/// How an [`ArmClient`] retries, rate-limits, polls and waits.
#[derive(Debug, Clone)]
pub struct ArmClientOptions {
    pub retry: RetrySettings,
    pub lro: LroSettings,
    pub timer: Arc<dyn Timer>,
    /// The buckets to share; `None` starts fresh ones with ARM's limits.
    pub throttle: Option<Arc<Throttle>>,
}

impl Default for ArmClientOptions {
    fn default() -> Self {
        Self {
            retry: RetrySettings::default(),
            lro: LroSettings::default(),
            timer: TokioTimer::new(),
            throttle: None,
        }
    }
}

/// A client for one cloud's ARM endpoint, with one identity. Cheap to clone; clones share the
/// pipeline and the rate-limit buckets, so one per run keeps the whole run under ARM's limits.
#[derive(Debug, Clone)]
pub struct ArmClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pipeline: Pipeline,
    endpoint: Url,
    timer: Arc<dyn Timer>,
    throttle: Arc<Throttle>,
    lro: LroSettings,
    retry: RetrySettings,
}

/// 404 codes that mean the plan points at the wrong place rather than that a resource is
/// absent; reads report them instead of answering "does not exist".
const MISPLACED_CODES: [&str; 3] = [
    "ResourceGroupNotFound",
    "SubscriptionNotFound",
    "InvalidSubscriptionId",
];

impl ArmClient {
    pub fn new(
        cloud: &AzureCloud,
        credential: Arc<dyn TokenCredential>,
        options: ArmClientOptions,
    ) -> Self {
        let throttle = options
            .throttle
            .unwrap_or_else(|| Throttle::arm(options.timer.clone()));
        let mut client_options = cloud.client_options();
        client_options.retry = RetryOptions::custom(Arc::new(ArmRetryPolicy::new(
            options.retry,
            options.timer.clone(),
        )));
        let per_try: Vec<Arc<dyn Policy>> = vec![
            Arc::new(ThrottlePolicy::new(throttle.clone())),
            Arc::new(BearerTokenAuthorizationPolicy::new(
                credential,
                [cloud.arm_scope()],
            )),
        ];
        let pipeline = Pipeline::new(
            Some("vaultwire"),
            Some(env!("CARGO_PKG_VERSION")),
            client_options,
            Vec::new(),
            per_try,
            None,
        );
        Self {
            inner: Arc::new(Inner {
                pipeline,
                endpoint: cloud.arm_endpoint().clone(),
                timer: options.timer,
                throttle,
                lro: options.lro,
                retry: options.retry,
            }),
        }
    }

    pub fn endpoint(&self) -> &Url {
        &self.inner.endpoint
    }

    /// The timer this client waits on; resource clients use it for their own backoff.
    pub fn timer(&self) -> Arc<dyn Timer> {
        self.inner.timer.clone()
    }

    /// How this client retries; other pipelines of the run (the Key Vault data plane) use
    /// the same settings.
    pub fn retry_settings(&self) -> RetrySettings {
        self.inner.retry
    }

    pub fn throttle(&self) -> Arc<Throttle> {
        self.inner.throttle.clone()
    }

    /// Sends `request` (with retries) and returns the response, whatever its status.
    pub async fn send_raw(&self, request: &ArmRequest) -> Result<ArmResponse, ArmError> {
        let url = request.url(&self.inner.endpoint)?;
        self.fetch(
            &request.method,
            url,
            &request.headers,
            request.body.as_ref(),
            &request.describe(),
        )
        .await
    }

    /// Sends `request`; any non-success status is an [`ArmError::Api`].
    pub async fn send(&self, request: &ArmRequest) -> Result<ArmResponse, ArmError> {
        let response = self.send_raw(request).await?;
        if response.is_success() {
            Ok(response)
        } else {
            Err(ArmError::from_response(&request.describe(), &response))
        }
    }

    /// Reads a resource: `None` when ARM says it does not exist (404), unless the 404 is about
    /// the resource group or subscription, which is reported.
    pub async fn read(&self, request: &ArmRequest) -> Result<Option<ArmResponse>, ArmError> {
        let response = self.send_raw(request).await?;
        if response.is_success() {
            return Ok(Some(response));
        }
        let error = ArmError::from_response(&request.describe(), &response);
        let misplaced = error
            .code()
            .is_some_and(|code| MISPLACED_CODES.iter().any(|m| m.eq_ignore_ascii_case(code)));
        if response.status == 404 && !misplaced {
            Ok(None)
        } else {
            Err(error)
        }
    }

    /// Sends `request` and, when it starts a long-running operation, follows it to the end.
    /// Returns the final resource (PUT/PATCH), the operation's result (POST), or the last
    /// response (DELETE).
    pub async fn execute(&self, request: &ArmRequest) -> Result<ArmResponse, ArmError> {
        let first = self.send(request).await?;
        match lro::monitor_for(&request.method, &first) {
            None => Ok(first),
            Some(monitor) => self.follow(request, first, monitor).await,
        }
    }

    /// Reads every page of a list (`value` arrays, following `nextLink`).
    pub async fn list(&self, request: &ArmRequest) -> Result<Vec<Value>, ArmError> {
        let describe = request.describe();
        let mut items = Vec::new();
        let mut seen = HashSet::new();
        let mut response = self.send(request).await?;
        loop {
            let body = json(&response, &describe)?;
            if let Some(values) = body.get("value").and_then(Value::as_array) {
                items.extend(values.iter().cloned());
            }
            let Some(next) = body
                .get("nextLink")
                .and_then(Value::as_str)
                .filter(|link| !link.is_empty())
            else {
                return Ok(items);
            };
            // A service that repeats a link would loop forever.
            if !seen.insert(next.to_owned()) {
                return Ok(items);
            }
            let url = self.checked_url(next, &describe)?;
            response = self.fetch(&Method::GET, url, &[], None, &describe).await?;
            if !response.is_success() {
                return Err(ArmError::from_response(&describe, &response));
            }
        }
    }

    async fn follow(
        &self,
        request: &ArmRequest,
        first: ArmResponse,
        monitor: Monitor,
    ) -> Result<ArmResponse, ArmError> {
        let describe = request.describe();
        let settings = self.inner.lro;
        let timer = &self.inner.timer;
        let started = timer.now();
        let mut fallback = settings.poll_interval;
        let mut last = first;
        loop {
            let wait = lro::poll_wait(Some(&last), fallback, &settings);
            let waited = timer.now().saturating_sub(started);
            if waited + wait > settings.timeout {
                return Err(ArmError::OperationTimedOut {
                    request: describe,
                    waited,
                });
            }
            timer.sleep(wait).await;
            fallback = (fallback * 2).min(settings.max_poll_interval);
            let (response, progress) = match &monitor {
                Monitor::AsyncOperation { url, .. } => {
                    let poll = polling(url, &describe);
                    let url = self.checked_url(url.as_str(), &poll)?;
                    let response = self.get_success(url, &poll).await?;
                    let progress = lro::operation_progress(&json(&response, &poll)?);
                    (response, progress)
                }
                Monitor::Location(url) => {
                    let poll = polling(url, &describe);
                    let url = self.checked_url(url.as_str(), &poll)?;
                    let response = self.get_success(url, &poll).await?;
                    if response.status == 202 {
                        (response, Progress::Running)
                    } else {
                        return Ok(response);
                    }
                }
                Monitor::ResourceState => {
                    let response = self
                        .send(&ArmRequest::get(request.path.clone(), request.api_version))
                        .await?;
                    let progress = lro::resource_progress(&json(&response, &describe)?);
                    (response, progress)
                }
            };
            match progress {
                Progress::Running => last = response,
                Progress::Ended {
                    status,
                    code,
                    message,
                } => {
                    return Err(ArmError::OperationFailed(Box::new(OperationFailure {
                        request: describe,
                        status,
                        code,
                        message,
                        request_id: response.request_id().map(str::to_owned),
                    })));
                }
                Progress::Succeeded => {
                    return self.final_result(request, &monitor, response).await;
                }
            }
        }
    }

    /// After a successful operation: PUT and PATCH return the resource as it is now; a POST
    /// with a `Location` returns what is there; anything else the last poll.
    async fn final_result(
        &self,
        request: &ArmRequest,
        monitor: &Monitor,
        last: ArmResponse,
    ) -> Result<ArmResponse, ArmError> {
        let describe = request.describe();
        match (&request.method, monitor) {
            (&Method::PUT | &Method::PATCH, Monitor::AsyncOperation { .. }) => {
                self.send(&ArmRequest::get(request.path.clone(), request.api_version))
                    .await
            }
            (
                &Method::POST,
                Monitor::AsyncOperation {
                    final_location: Some(location),
                    ..
                },
            ) => {
                let fetch = polling(location, &describe);
                let url = self.checked_url(location.as_str(), &fetch)?;
                self.get_success(url, &fetch).await
            }
            _ => Ok(last),
        }
    }

    async fn get_success(&self, url: Url, describe: &str) -> Result<ArmResponse, ArmError> {
        let response = self.fetch(&Method::GET, url, &[], None, describe).await?;
        if response.is_success() {
            Ok(response)
        } else {
            Err(ArmError::from_response(describe, &response))
        }
    }

    /// Parses a URL ARM handed back and refuses any other origin than the ARM endpoint: the
    /// pipeline would send it the ARM token.
    fn checked_url(&self, text: &str, describe: &str) -> Result<Url, ArmError> {
        let url = Url::parse(text).map_err(|_| ArmError::InvalidUrl {
            request: describe.to_owned(),
            url: text.to_owned(),
        })?;
        let endpoint = &self.inner.endpoint;
        if url.scheme() != endpoint.scheme()
            || url.host_str() != endpoint.host_str()
            || url.port_or_known_default() != endpoint.port_or_known_default()
        {
            return Err(ArmError::ForeignUrl {
                request: describe.to_owned(),
                url: text.to_owned(),
                endpoint: endpoint.to_string(),
            });
        }
        Ok(url)
    }

    async fn fetch(
        &self,
        method: &Method,
        url: Url,
        headers: &[(String, String)],
        body: Option<&Value>,
        describe: &str,
    ) -> Result<ArmResponse, ArmError> {
        let method = azure_method(method).ok_or_else(|| ArmError::UnsupportedMethod {
            request: describe.to_owned(),
        })?;
        let mut raw = Request::new(url, method);
        for (name, value) in headers {
            raw.insert_header(name.clone(), value.clone());
        }
        if let Some(body) = body {
            raw.insert_header("content-type", "application/json");
            raw.set_body(body.to_string());
        }
        send(
            &self.inner.pipeline,
            &mut raw,
            describe,
            "azure resource manager",
        )
        .await
    }
}

/// How a request that follows `operation` (its status poll, its result) is named in errors:
/// by itself, since it is what failed, and by the operation it serves.
fn polling(url: &Url, operation: &str) -> String {
    format!("GET {} (following {operation})", url.path())
}

/// Sends `request` through `pipeline` (retries and sign-in included) and logs the outcome
/// with the request ID — never headers or bodies. Status checks are the caller's: ARM, Key
/// Vault and the operation poller each read error bodies their own way.
pub(crate) async fn send(
    pipeline: &Pipeline,
    request: &mut Request,
    describe: &str,
    service: &'static str,
) -> Result<ArmResponse, ArmError> {
    let options = PipelineSendOptions {
        skip_checks: true,
        ..PipelineSendOptions::default()
    };
    let response = pipeline
        .send(&Context::new(), request, Some(options))
        .await
        .map_err(|source| match source.kind() {
            ErrorKind::Credential => ArmError::Credential {
                request: describe.to_owned(),
                source: Box::new(source),
            },
            _ => ArmError::Transport {
                request: describe.to_owned(),
                source: Box::new(source),
            },
        })?;
    let response = ArmResponse::from_raw(response);
    tracing::debug!(
        request = describe,
        status = response.status,
        request_id = response.request_id().unwrap_or("-"),
        service
    );
    Ok(response)
}

/// The JSON body of a successful response.
pub(crate) fn json(response: &ArmResponse, describe: &str) -> Result<Value, ArmError> {
    response.json().map_err(|error| ArmError::Decode {
        request: describe.to_owned(),
        detail: error.to_string(),
    })
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
