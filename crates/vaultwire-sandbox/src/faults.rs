//! Deciding, request by request, whether to inject a fault, reproducibly from the seed.
//!
//! Owns the random sequence (SplitMix64, so no dependency and a stable sequence across
//! versions) and the decision; how each service words a fault is the server's business.

use crate::options::Faults;

/// What to do to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    Pass,
    /// Close the connection without answering.
    Drop,
    /// 429 with `Retry-After`.
    Throttle,
    /// A 5xx: 500 or 503.
    ServerError {
        status: u16,
    },
}

/// The current fault settings and the random sequence behind them.
#[derive(Debug, Clone)]
pub struct FaultState {
    pub faults: Faults,
    state: u64,
}

impl FaultState {
    pub fn new(faults: Faults, seed: u64) -> Self {
        Self {
            faults,
            state: seed ^ 0x5DEE_CE66_D1CE_4E5B,
        }
    }

    /// Replaces the settings; the random sequence continues.
    pub fn set(&mut self, faults: Faults) {
        self.faults = faults;
    }

    /// The action for the next request. Draws the same number of random values whatever the
    /// settings, so changing one rate does not shift the others' choices.
    pub fn decide(&mut self) -> FaultAction {
        let drop = self.next_unit();
        let throttle = self.next_unit();
        let error = self.next_unit();
        let which = self.next_unit();
        if drop < self.faults.drop_rate {
            FaultAction::Drop
        } else if throttle < self.faults.throttle_rate {
            FaultAction::Throttle
        } else if error < self.faults.error_rate {
            FaultAction::ServerError {
                status: if which < 0.5 { 500 } else { 503 },
            }
        } else {
            FaultAction::Pass
        }
    }

    /// A uniform value in `[0, 1)`.
    fn next_unit(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // The top 53 bits make an exactly representable fraction.
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(seed: u64, faults: Faults, n: usize) -> Vec<FaultAction> {
        let mut state = FaultState::new(faults, seed);
        (0..n).map(|_| state.decide()).collect()
    }

    #[test]
    fn no_faults_pass_everything() {
        assert!(
            run(1, Faults::none(), 200)
                .iter()
                .all(|a| *a == FaultAction::Pass)
        );
    }

    #[test]
    fn the_same_seed_fails_the_same_requests() {
        let faults = Faults {
            throttle_rate: 0.3,
            error_rate: 0.2,
            drop_rate: 0.1,
            ..Faults::none()
        };
        assert_eq!(run(42, faults.clone(), 100), run(42, faults.clone(), 100));
        assert_ne!(run(42, faults.clone(), 100), run(43, faults, 100));
    }

    #[test]
    fn a_rate_of_one_always_fires() {
        let faults = Faults {
            throttle_rate: 1.0,
            ..Faults::none()
        };
        assert!(
            run(5, faults, 50)
                .iter()
                .all(|a| *a == FaultAction::Throttle)
        );
    }

    #[test]
    fn rates_are_roughly_honoured() {
        let faults = Faults {
            error_rate: 0.25,
            ..Faults::none()
        };
        let errors = run(9, faults, 4000)
            .iter()
            .filter(|a| matches!(a, FaultAction::ServerError { .. }))
            .count();
        assert!((800..1200).contains(&errors), "{errors} errors in 4000");
    }
}
