//! What apply and destroy report while they run. The engine emits events; a reporter in `cli`
//! turns them into Terraform-style progress lines (or a spinner on a terminal).

use std::time::Duration;

use crate::diff::action::Action;
use crate::plan::address::Address;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Started {
        address: Address,
        action: Action,
        /// The resource ID, when it already exists.
        id: Option<String>,
    },
    /// A long-running operation is still going.
    StillWaiting {
        address: Address,
        action: Action,
        elapsed: Duration,
    },
    Finished {
        address: Address,
        action: Action,
        elapsed: Duration,
        id: Option<String>,
    },
    Failed {
        address: Address,
        action: Action,
        message: String,
    },
    Skipped {
        address: Address,
        failed_dependency: Address,
    },
    /// Waiting for another run's lock, or taking ours.
    Locking { clusters: Vec<String> },
    /// A change waits for something it says (a principal Entra has not replicated yet).
    Waiting { address: Address, reason: String },
}

/// Receives events; implementations must be cheap and never block for long.
pub trait Reporter: Send + Sync {
    fn event(&self, event: Event);
}

/// Drops every event (tests that only look at outcomes).
#[derive(Debug, Default)]
pub struct Silent;

impl Reporter for Silent {
    fn event(&self, _event: Event) {}
}
