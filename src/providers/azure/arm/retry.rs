//! Retries for ARM calls: azure_core's retry loop, configured with vaultwire's delays.
//!
//! azure_core's `RetryPolicy` trait already decides *what* to retry — 408, 429, 500, 502, 503,
//! 504 and connection/IO errors — and reads `Retry-After` (seconds or HTTP date),
//! `retry-after-ms` and `x-ms-retry-after-ms` on 429 and 503. This policy only supplies the
//! waits: exponential backoff with jitter, never shorter than the server's `Retry-After`
//! (capped, so a bogus header cannot stall a run for hours), slept on the injectable
//! [`Timer`]. Conflicts (409) are not retried here: only the caller knows whether one is
//! transient (see the AKS add-on).

use std::sync::Arc;
use std::time::Duration;

use azure_core::http::StatusCode;
use azure_core::http::headers::{HeaderName, RETRY_AFTER, RETRY_AFTER_MS};
use azure_core::http::policies::{RetryHeaders, RetryPolicy};

use crate::providers::timer::{Timer, jitter_fraction};

/// How ARM calls are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySettings {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff; it doubles on every retry.
    pub initial_delay: Duration,
    /// The longest backoff.
    pub max_delay: Duration,
    /// The longest wait a `Retry-After` header can impose.
    pub max_retry_after: Duration,
}

impl Default for RetrySettings {
    fn default() -> Self {
        Self {
            max_retries: 6,
            initial_delay: Duration::from_millis(800),
            max_delay: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

/// The backoff before retry number `retry` (1-based): `initial * 2^(retry-1)`, capped at
/// `max_delay`, of which the upper half is jittered by `jitter` (in `[0, 1)`) so concurrent
/// clients spread out.
pub fn backoff_delay(settings: &RetrySettings, retry: u32, jitter: f64) -> Duration {
    let exponent = retry.saturating_sub(1).min(20);
    let base = settings
        .initial_delay
        .saturating_mul(1u32 << exponent)
        .min(settings.max_delay);
    base / 2 + (base / 2).mul_f64(jitter.clamp(0.0, 1.0))
}

const X_MS_RETRY_AFTER_MS: HeaderName = HeaderName::from_static("x-ms-retry-after-ms");

const RETRY_STATUS_CODES: [StatusCode; 6] = [
    StatusCode::RequestTimeout,
    StatusCode::TooManyRequests,
    StatusCode::InternalServerError,
    StatusCode::BadGateway,
    StatusCode::ServiceUnavailable,
    StatusCode::GatewayTimeout,
];

#[derive(Debug)]
pub(crate) struct ArmRetryPolicy {
    settings: RetrySettings,
    timer: Arc<dyn Timer>,
    headers: RetryHeaders,
}

impl ArmRetryPolicy {
    pub(crate) fn new(settings: RetrySettings, timer: Arc<dyn Timer>) -> Self {
        Self {
            settings,
            timer,
            headers: RetryHeaders {
                retry_headers: vec![X_MS_RETRY_AFTER_MS, RETRY_AFTER_MS, RETRY_AFTER],
            },
        }
    }

    /// The wait before retry `retry`: the backoff, or the server's `Retry-After` when longer.
    fn wait_for(&self, retry: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        let backoff = backoff_delay(&self.settings, retry, jitter);
        match retry_after {
            Some(server) => backoff.max(server.min(self.settings.max_retry_after)),
            None => backoff,
        }
    }
}

fn to_std(duration: azure_core::time::Duration) -> Duration {
    Duration::try_from(duration).unwrap_or(Duration::ZERO)
}

fn from_std(duration: Duration) -> azure_core::time::Duration {
    azure_core::time::Duration::try_from(duration).unwrap_or(azure_core::time::Duration::MAX)
}

#[async_trait::async_trait]
impl RetryPolicy for ArmRetryPolicy {
    fn is_expired(&self, _elapsed: azure_core::time::Duration, retry_count: u32) -> bool {
        retry_count >= self.settings.max_retries
    }

    fn retry_headers(&self) -> Option<&RetryHeaders> {
        Some(&self.headers)
    }

    fn retry_status_codes(&self) -> &[StatusCode] {
        &RETRY_STATUS_CODES
    }

    fn sleep_duration(&self, retry_count: u32) -> azure_core::time::Duration {
        from_std(backoff_delay(
            &self.settings,
            retry_count,
            jitter_fraction(),
        ))
    }

    async fn wait(&self, retry_count: u32, retry_after: Option<azure_core::time::Duration>) {
        let wait = self.wait_for(retry_count, retry_after.map(to_std), jitter_fraction());
        tracing::debug!(
            retry = retry_count,
            wait_ms = wait.as_millis(),
            "retrying an azure request"
        );
        self.timer.sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::FakeTimer;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitters_only_the_upper_half() {
        let settings = RetrySettings {
            max_retries: 10,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        };
        let low: Vec<u64> = (1..=5)
            .map(|retry| backoff_delay(&settings, retry, 0.0).as_millis() as u64)
            .collect();
        assert_eq!(low, [500, 1000, 2000, 4000, 4000]);
        let high = backoff_delay(&settings, 3, 0.999_999);
        assert!(high > Duration::from_millis(3999) && high <= Duration::from_secs(4));
    }

    #[test]
    fn retry_after_wins_over_a_shorter_backoff_but_is_capped() {
        let policy = ArmRetryPolicy::new(
            RetrySettings {
                max_retry_after: Duration::from_secs(30),
                ..RetrySettings::default()
            },
            FakeTimer::new(),
        );
        assert_eq!(
            policy.wait_for(1, Some(Duration::from_secs(7)), 0.0),
            Duration::from_secs(7)
        );
        assert_eq!(
            policy.wait_for(1, Some(Duration::from_secs(3600)), 0.0),
            Duration::from_secs(30)
        );
        assert_eq!(policy.wait_for(1, None, 0.0), Duration::from_millis(400));
    }
}
