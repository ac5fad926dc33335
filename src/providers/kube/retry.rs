//! Retrying one Kubernetes request through transient failures — a 5xx, a 429, a connection
//! dropped before the answer — with exponential backoff and jitter. The only retries of a
//! Kubernetes request: kube's own layer (429/503/504 only, up to 15 times) is left out of the
//! client's stack, so a persistent 503 costs `attempts` requests, not sixteen times as many.
//!
//! API servers behind load balancers also answer 500/502 and drop connections under load. Every request vaultwire makes is safe to repeat:
//! reads, server-side apply of the same object, deletes (a second one finds nothing), and
//! Lease writes carry a `resourceVersion` precondition, so a repeated write that already took
//! effect fails as a conflict, which the lock handles by reading again.

use std::future::Future;
use std::time::Duration;

use crate::providers::timer::{Timer, TokioTimer, jitter_fraction};

/// How hard to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Attempts in all, the first included.
    pub attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

/// What every Kubernetes request of vaultwire uses.
pub const DEFAULT_BACKOFF: Backoff = Backoff {
    attempts: 5,
    first_delay: Duration::from_millis(200),
    max_delay: Duration::from_secs(5),
};

/// Whether `error` may go away if the same request is sent again.
pub fn is_transient(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) => matches!(status.code, 429 | 500 | 502 | 503 | 504),
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// Runs `call` until it succeeds, fails for good, or the default attempts are used, waiting
/// on the real clock.
pub async fn with_retries<T, F, Fut>(call: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    retry(DEFAULT_BACKOFF, &*TokioTimer::new(), call).await
}

/// As [`with_retries`], with explicit settings, waiting on `timer`.
pub async fn retry<T, F, Fut>(
    backoff: Backoff,
    timer: &dyn Timer,
    mut call: F,
) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Err(error) if attempt < backoff.attempts && is_transient(&error) => {
                let delay = delay(backoff, attempt);
                tracing::debug!(
                    attempt,
                    delay_ms = delay.as_millis(),
                    "kubernetes request failed; retrying: {error}"
                );
                timer.sleep(delay).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// Doubling from the first delay, capped, with up to 25% jitter so parallel runs spread out.
fn delay(backoff: Backoff, attempt: u32) -> Duration {
    let base = backoff
        .first_delay
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
        .min(backoff.max_delay);
    base + base.mul_f64(jitter_fraction() / 4.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::FakeTimer;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn status(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(kube::core::Status {
            code,
            ..kube::core::Status::default()
        }))
    }

    #[test]
    fn only_transient_failures_are_retried() {
        for code in [429, 500, 502, 503, 504] {
            assert!(is_transient(&status(code)), "{code}");
        }
        for code in [400, 403, 404, 409, 422] {
            assert!(!is_transient(&status(code)), "{code}");
        }
    }

    const FAST: Backoff = Backoff {
        attempts: 4,
        first_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(2),
    };

    #[tokio::test]
    async fn a_transient_failure_is_retried_until_it_succeeds() {
        let calls = AtomicU32::new(0);
        let timer = FakeTimer::new();
        let result = retry(FAST, &*timer, || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(status(500)),
                _ => Ok("done"),
            }
        })
        .await;
        assert_eq!(result.unwrap(), "done");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        // Doubling from the first delay, each with up to a quarter more of jitter.
        let sleeps = timer.sleeps();
        assert_eq!(sleeps.len(), 2);
        assert!(sleeps[0] >= Duration::from_secs(1) && sleeps[0] < Duration::from_millis(1250));
        assert!(sleeps[1] >= Duration::from_secs(2) && sleeps[1] < Duration::from_millis(2500));
    }

    #[tokio::test]
    async fn a_permanent_failure_is_returned_at_once_and_retries_are_bounded() {
        let calls = AtomicU32::new(0);
        let timer = FakeTimer::new();
        let result: Result<(), _> = retry(FAST, &*timer, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(status(409))
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(timer.sleeps().is_empty());
        calls.store(0, Ordering::SeqCst);
        let result: Result<(), _> = retry(FAST, &*timer, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(status(503))
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), FAST.attempts);
        assert_eq!(timer.sleeps().len(), 3, "one wait between attempts");
    }
}
