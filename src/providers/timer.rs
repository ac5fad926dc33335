//! Time for the providers: a clock and a sleep that tests can replace.
//!
//! Retries, the client-side rate limit, long-running-operation polling and conflict backoff all
//! wait. Routing every wait through a [`Timer`] lets unit tests run them instantly and assert
//! *how long* a client would have waited (that it honoured `Retry-After`, say) without timing
//! anything. This module must not decide how long to wait.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// A future returned by [`Timer::sleep`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A monotonic clock and a way to wait on it.
pub trait Timer: Send + Sync + fmt::Debug {
    /// Time elapsed since an arbitrary fixed origin; only differences are meaningful.
    fn now(&self) -> Duration;
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// The real clock, on the tokio runtime.
#[derive(Debug)]
pub struct TokioTimer {
    origin: tokio::time::Instant,
}

impl TokioTimer {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            origin: tokio::time::Instant::now(),
        })
    }
}

impl Timer for TokioTimer {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A number in `[0, 1)` for jittering backoff delays.
///
/// Random bits come from a v4 UUID (the `uuid` crate's OS randomness) rather than a new
/// dependency; jitter only needs to spread retries out, not to be unpredictable.
pub fn jitter_fraction() -> f64 {
    // 53 random bits fit an f64 mantissa exactly.
    let bits = uuid::Uuid::new_v4().as_u128() >> 75;
    bits as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_fraction_stays_in_the_unit_interval() {
        for _ in 0..1000 {
            let fraction = jitter_fraction();
            assert!((0.0..1.0).contains(&fraction), "{fraction}");
        }
    }
}
