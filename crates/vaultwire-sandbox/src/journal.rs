//! The request journal and per-route counters the admin API exposes.
//!
//! Records method, path (no query string), route, status and time only: never bodies, headers
//! or query strings, so no secret value or token can land here.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

/// How many entries the journal keeps (oldest dropped first).
const CAPACITY: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    pub time: jiff::Timestamp,
    pub method: String,
    /// The Azure host the request came for through the proxy; absent on the endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub path: String,
    /// A stable name for the route, such as `PUT Microsoft.KeyVault/vaults`.
    pub route: String,
    /// The status sent, or 0 for a dropped connection.
    pub status: u16,
    /// `HTTP/1.1` or `HTTP/2.0`, as the client negotiated.
    pub version: String,
    /// The connection it came on: the sandbox numbers them from 1 as it accepts them.
    pub connection: u64,
    /// Set when the sandbox injected the outcome.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
}

#[derive(Debug, Default)]
pub struct Journal {
    entries: VecDeque<JournalEntry>,
    counters: BTreeMap<String, u64>,
    /// Connections accepted, whether or not a request then came on them.
    connections: u64,
}

impl Journal {
    pub fn record(&mut self, entry: JournalEntry) {
        *self.counters.entry(entry.route.clone()).or_insert(0) += 1;
        if self.entries.len() == CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    pub fn entries(&self) -> Vec<JournalEntry> {
        self.entries.iter().cloned().collect()
    }

    /// Counts a connection the server accepted.
    pub fn connection_accepted(&mut self) {
        self.connections += 1;
    }

    /// Connections accepted since the journal was last cleared.
    pub fn connections(&self) -> u64 {
        self.connections
    }

    /// Requests per route, sorted by route.
    pub fn counters(&self) -> BTreeMap<String, u64> {
        self.counters.clone()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.counters.clear();
        self.connections = 0;
    }
}
