//! What a migration is: the Secrets to move and how, the plan entries and workload patches
//! that move them, and the Secrets left alone with the reason. Plain data, and never a value:
//! values stay in [`SecretContent`], which nothing serializes or prints.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// How migrated workloads read their secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The CSI driver recreates the same Secret from Key Vault (name, type, keys), so existing
    /// `secretKeyRef` and `envFrom` keep working; the workload mounts the class to drive it.
    Sync,
    /// Files only (CIS AKS 4.5.1 too): Secret volumes become CSI volumes with the same files;
    /// environment variables are listed for the owner to change into file reads.
    Files,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Sync => "sync",
            Mode::Files => "files",
        }
    }
}

/// What the user asked to migrate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub namespaces: Vec<String>,
    /// Only this Secret (by name, in each namespace).
    pub secret: Option<String>,
    /// The plan's `[vault.KEY]` to move values into; otherwise the one the namespace's
    /// SecretProviderClasses read, or the plan's only vault.
    pub vault: Option<String>,
    pub mode: Mode,
}

/// Secret bytes, in memory only: `Debug` never shows them and nothing serializes them.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<{} bytes redacted>)", self.0.len())
    }
}

/// One native Secret as the cluster holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretContent {
    pub secret_type: String,
    pub labels: BTreeMap<String, String>,
    pub data: BTreeMap<String, SecretBytes>,
}

/// How a value is stored in Key Vault, which holds strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// UTF-8 text, stored as it is.
    #[serde(rename = "utf-8")]
    Utf8,
    /// Anything else, stored as base64 and mounted with `objectEncoding: base64`, so the file
    /// is byte-identical.
    Base64,
}

impl Encoding {
    pub fn of(bytes: &[u8]) -> Self {
        if std::str::from_utf8(bytes).is_ok() {
            Encoding::Utf8
        } else {
            Encoding::Base64
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Base64 => "base64",
        }
    }

    /// The string Key Vault stores for `bytes`.
    pub fn stored(self, bytes: &[u8]) -> String {
        use base64::Engine as _;
        match self {
            Encoding::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
            Encoding::Base64 => base64::engine::general_purpose::STANDARD.encode(bytes),
        }
    }
}

/// Key Vault's largest secret value: 25 KB.
pub const MAX_VALUE_BYTES: usize = 25 * 1024;

/// The whole migration, sorted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Migration {
    pub mode: Mode,
    pub moves: Vec<SecretMove>,
    pub grants: Vec<NewGrant>,
    pub workloads: Vec<WorkloadPatch>,
    pub left_alone: Vec<LeftAlone>,
}

impl Migration {
    /// Whether nothing is left to add: every move's class is in the plan already, no grant
    /// is missing and no workload needs a patch.
    pub fn is_empty(&self) -> bool {
        self.moves.iter().all(|moved| moved.spc.in_plan)
            && self.grants.is_empty()
            && self.workloads.is_empty()
    }

    /// The migration without the moves whose class the plan already has: what `--write`
    /// adds to the plan file.
    pub fn without_planned(&self) -> Migration {
        Migration {
            moves: self
                .moves
                .iter()
                .filter(|moved| !moved.spc.in_plan)
                .cloned()
                .collect(),
            ..self.clone()
        }
    }
}

/// One native Secret moving into Key Vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretMove {
    pub addon: String,
    pub cluster: String,
    pub namespace: String,
    pub secret: String,
    #[serde(rename = "type")]
    pub secret_type: String,
    /// The plan's `[vault.KEY]`, and the vault's Azure name.
    pub vault: String,
    pub vault_name: String,
    pub keys: Vec<KeyMove>,
    pub spc: NewSpc,
    /// The workloads that read it, as `Kind/name`.
    pub workloads: Vec<String>,
}

/// One key of a Secret and the Key Vault secret that will hold its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyMove {
    pub key: String,
    pub vault_secret: String,
    /// The value's size in the Secret, and as Key Vault stores it.
    pub bytes: usize,
    pub stored_bytes: usize,
    pub encoding: Encoding,
}

/// Who a new SecretProviderClass reads the vault as.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityRef {
    /// The add-on identity of `[addon.KEY]`.
    Addon(String),
    /// The managed identity of `[identity.KEY]`.
    Identity(String),
    /// A workload identity by client ID, as a class of the plan names it.
    ClientId(String),
}

/// A `[spc.KEY]` entry to add to the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewSpc {
    pub key: String,
    /// The SecretProviderClass's name in Kubernetes.
    pub name: String,
    pub addon: String,
    pub namespace: String,
    pub vault: String,
    pub identity: IdentityRef,
    pub objects: Vec<NewObject>,
    /// With `--as sync`: the Secret the driver recreates.
    pub sync: Option<NewSync>,
    /// Where the class's files appear in the workloads' containers.
    pub mount_path: String,
    /// The plan has this class already (an earlier `--write`, or written by hand): the move
    /// goes on with it and adds nothing to the plan.
    pub in_plan: bool,
}

/// One `objects` entry: a Key Vault secret mounted as the file named like the Secret's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewObject {
    pub name: String,
    pub alias: String,
    pub encoding: Encoding,
}

/// One `sync` entry recreating the original Secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewSync {
    pub secret_name: String,
    #[serde(rename = "type")]
    pub secret_type: String,
    pub labels: BTreeMap<String, String>,
    /// `(object file name, Secret key)`; both are the original key.
    pub keys: Vec<String>,
}

/// A `[grant.KEY]` entry the new classes' identity needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewGrant {
    pub key: String,
    pub vault: String,
    pub principal: IdentityRef,
    /// RBAC vaults: the role; access-policy vaults: `None`, and the grant reads `get`.
    pub role: Option<String>,
}

/// The patch for one workload, for its owner's manifests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkloadPatch {
    pub cluster: String,
    pub namespace: String,
    pub kind: String,
    pub name: String,
    /// The Secrets it moves off.
    pub secrets: Vec<String>,
    /// What the patch does, in words, one line each.
    pub changes: Vec<String>,
    /// Environment variables the owner must change into file reads (`--as files`).
    pub owner_changes: Vec<String>,
    /// A caveat for applying it, such as a bare Pod whose volumes cannot change.
    pub caveat: Option<String>,
    /// The file under the patch directory: `CLUSTER/NAMESPACE/KIND-NAME.yaml`.
    pub file: String,
    /// The strategic-merge patch.
    pub patch: Value,
}

/// Why a Secret that workloads read is not migrated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeftAloneReason {
    NotFound,
    ServiceAccountToken,
    HelmRelease,
    AlreadySynced,
    AlreadyPlanned,
    ImagePullSecret,
    CsiCredentials,
    TooLarge,
    Empty,
}

/// A Secret workloads read that the migration leaves as it is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct LeftAlone {
    pub cluster: String,
    pub namespace: String,
    pub secret: String,
    pub reason: LeftAloneReason,
    pub detail: String,
    pub workloads: Vec<String>,
}
