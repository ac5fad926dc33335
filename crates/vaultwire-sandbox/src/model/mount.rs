//! What the sandbox's kubelet remembers of each pod's Secrets Store CSI volumes: whether they
//! are mounted, the files (names and content hashes, never values), and when a failed mount is
//! tried again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodMount {
    pub cluster: String,
    pub namespace: String,
    pub pod: String,
    pub uid: String,
    pub mounted: bool,
    /// Failed attempts since the last success; the kubelet's backoff grows with them.
    pub failures: u32,
    /// When a failed mount may be tried again.
    pub retry_at: Option<jiff::Timestamp>,
    /// The last failure's message, as the FailedMount Event carries it.
    pub error: Option<String>,
    /// `volume/file` → SHA-256 (hex) of the file's content.
    pub files: BTreeMap<String, String>,
    /// The Kubernetes Secrets (names, in the pod's namespace) synced for this pod's
    /// `secretObjects`; they go when no pod syncs them any more.
    #[serde(default)]
    pub synced: Vec<String>,
    /// When the driver next rotates the mounted contents (while the add-on rotates secrets).
    #[serde(default)]
    pub rotate_at: Option<jiff::Timestamp>,
}
