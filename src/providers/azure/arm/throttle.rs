//! A client-side rate limit: one token bucket per ARM operation kind, shared by every request
//! of a run.
//!
//! ARM throttles per subscription and principal with token buckets (reads 250 refilling 25/s,
//! writes 200 refilling 10/s, deletes 200 refilling 10/s; the read refill and the delete bucket
//! are UNVERIFIED, from the learn page table). Staying under them avoids 429s — and the
//! minutes-long `Retry-After` that can follow — when a plan touches many resources at once.
//! The bucket is a pure value; the policy waits on the injectable [`Timer`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{Context, Request};

use super::OperationKind;
use crate::providers::timer::Timer;

/// The size and refill rate of one bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketLimit {
    pub capacity: f64,
    pub refill_per_second: f64,
}

impl BucketLimit {
    pub const ARM_READS: BucketLimit = BucketLimit {
        capacity: 250.0,
        refill_per_second: 25.0,
    };
    pub const ARM_WRITES: BucketLimit = BucketLimit {
        capacity: 200.0,
        refill_per_second: 10.0,
    };
    pub const ARM_DELETES: BucketLimit = BucketLimit {
        capacity: 200.0,
        refill_per_second: 10.0,
    };
}

#[derive(Debug, Clone)]
struct TokenBucket {
    limit: BucketLimit,
    tokens: f64,
    last: Duration,
}

impl TokenBucket {
    fn full(limit: BucketLimit, now: Duration) -> Self {
        Self {
            limit,
            tokens: limit.capacity,
            last: now,
        }
    }

    /// Takes a token at `now`, or says how long until one is available.
    fn take(&mut self, now: Duration) -> Result<(), Duration> {
        let elapsed = now.saturating_sub(self.last).as_secs_f64();
        self.tokens =
            (self.tokens + elapsed * self.limit.refill_per_second).min(self.limit.capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let missing = 1.0 - self.tokens;
        Err(Duration::from_secs_f64(
            missing / self.limit.refill_per_second.max(f64::MIN_POSITIVE),
        ))
    }
}

/// The buckets of one run. Clone the `Arc` into every client that talks to the same
/// subscription with the same identity.
#[derive(Debug)]
pub struct Throttle {
    buckets: Mutex<[TokenBucket; 3]>,
    timer: Arc<dyn Timer>,
}

impl Throttle {
    /// ARM's published limits.
    pub fn arm(timer: Arc<dyn Timer>) -> Arc<Self> {
        Self::new(
            BucketLimit::ARM_READS,
            BucketLimit::ARM_WRITES,
            BucketLimit::ARM_DELETES,
            timer,
        )
    }

    pub fn new(
        reads: BucketLimit,
        writes: BucketLimit,
        deletes: BucketLimit,
        timer: Arc<dyn Timer>,
    ) -> Arc<Self> {
        let now = timer.now();
        Arc::new(Self {
            buckets: Mutex::new([
                TokenBucket::full(reads, now),
                TokenBucket::full(writes, now),
                TokenBucket::full(deletes, now),
            ]),
            timer,
        })
    }

    /// Waits until a request of `kind` may be sent.
    pub async fn acquire(&self, kind: OperationKind) {
        loop {
            let wait = {
                let mut buckets = self
                    .buckets
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let index = match kind {
                    OperationKind::Read => 0,
                    OperationKind::Write => 1,
                    OperationKind::Delete => 2,
                };
                match buckets.get_mut(index) {
                    Some(bucket) => bucket.take(self.timer.now()),
                    None => Ok(()),
                }
            };
            match wait {
                Ok(()) => return,
                Err(wait) => {
                    tracing::debug!(?kind, wait_ms = wait.as_millis(), "client-side rate limit");
                    self.timer.sleep(wait).await;
                }
            }
        }
    }
}

/// The per-try pipeline policy: every attempt, retries included, spends a token, as ARM counts
/// them.
#[derive(Debug)]
pub(crate) struct ThrottlePolicy {
    throttle: Arc<Throttle>,
}

impl ThrottlePolicy {
    pub(crate) fn new(throttle: Arc<Throttle>) -> Self {
        Self { throttle }
    }
}

#[async_trait::async_trait]
impl Policy for ThrottlePolicy {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        self.throttle
            .acquire(OperationKind::of(&request.method()))
            .await;
        match next.split_first() {
            Some((first, rest)) => first.send(ctx, request, rest).await,
            None => Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Other,
                "the rate-limit policy must not be the last policy of a pipeline",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::FakeTimer;

    #[test]
    fn a_full_bucket_serves_its_capacity_then_refills_at_its_rate() {
        let limit = BucketLimit {
            capacity: 3.0,
            refill_per_second: 2.0,
        };
        let mut bucket = TokenBucket::full(limit, Duration::ZERO);
        for _ in 0..3 {
            assert_eq!(bucket.take(Duration::ZERO), Ok(()));
        }
        assert_eq!(bucket.take(Duration::ZERO), Err(Duration::from_millis(500)));
        assert_eq!(bucket.take(Duration::from_millis(500)), Ok(()));
    }

    #[test]
    fn an_idle_bucket_never_holds_more_than_its_capacity() {
        let limit = BucketLimit {
            capacity: 2.0,
            refill_per_second: 1.0,
        };
        let mut bucket = TokenBucket::full(limit, Duration::ZERO);
        let later = Duration::from_secs(3600);
        assert!(bucket.take(later).is_ok());
        assert!(bucket.take(later).is_ok());
        assert!(bucket.take(later).is_err());
    }

    #[tokio::test]
    async fn writes_beyond_the_bucket_wait_for_the_refill_and_reads_do_not() {
        let timer = FakeTimer::new();
        let throttle = Throttle::new(
            BucketLimit::ARM_READS,
            BucketLimit {
                capacity: 2.0,
                refill_per_second: 10.0,
            },
            BucketLimit::ARM_DELETES,
            timer.clone(),
        );
        for _ in 0..3 {
            throttle.acquire(OperationKind::Write).await;
        }
        assert_eq!(timer.sleeps(), [Duration::from_millis(100)]);
        for _ in 0..10 {
            throttle.acquire(OperationKind::Read).await;
        }
        assert_eq!(timer.sleeps().len(), 1, "reads have their own bucket");
    }
}
