//! What every handler may read besides the world: the clock, the sandbox's own address, the
//! signing key and the timing settings.

use std::time::Duration;

use crate::token::TokenKeys;

#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub now: jiff::Timestamp,
    /// `https://127.0.0.1:PORT`, no trailing slash.
    pub endpoint: &'a str,
    pub keys: &'a TokenKeys,
    /// The CA certificate (PEM), for the kubeconfigs the sandbox hands out.
    pub ca_pem: &'a str,
    pub lro_duration: Duration,
    pub rbac_delay: Duration,
}

impl Ctx<'_> {
    /// `now` plus `duration`, saturating.
    pub fn after(&self, duration: Duration) -> jiff::Timestamp {
        later(self.now, duration)
    }
}

/// `time` plus `duration`, saturating at the end of time.
pub fn later(time: jiff::Timestamp, duration: Duration) -> jiff::Timestamp {
    jiff::SignedDuration::try_from(duration)
        .ok()
        .and_then(|duration| time.checked_add(duration).ok())
        .unwrap_or(jiff::Timestamp::MAX)
}
