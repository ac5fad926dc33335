//! Why a migration could not be computed, read or copied.

use crate::audit::AuditError;
use crate::providers::ProviderError;

pub use super::compute::MigrateError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Compute(#[from] MigrateError),
    #[error(transparent)]
    Read(#[from] AuditError),
    #[error("cannot read Secret `{namespace}/{name}` of `{cluster}`")]
    ReadSecret {
        cluster: String,
        namespace: String,
        name: String,
        #[source]
        source: Box<ProviderError>,
    },
    #[error("vault.{key} (`{name}`) does not exist yet, so no value can be copied into it")]
    VaultMissing { key: String, name: String },
    #[error(
        "copying values into key vault `{vault}` needs the Key Vault Secrets Officer role (or the \
         secrets get and set permissions) for the signed-in principal; Key Vault said: {reason}"
    )]
    NeedsOfficer { vault: String, reason: String },
    #[error(
        "{} Key Vault secret{} already hold{} a different value: {}",
        conflicts.len(),
        if conflicts.len() == 1 { "" } else { "s" },
        if conflicts.len() == 1 { "s" } else { "" },
        conflicts.join(", ")
    )]
    DifferentValues { conflicts: Vec<String> },
    #[error("cannot restore Secret `{namespace}/{name}`")]
    Restore {
        namespace: String,
        name: String,
        #[source]
        source: Box<ProviderError>,
    },
    #[error(
        "cannot restore Secret `{namespace}/{name}`: key vault `{vault}` has no readable secret `{object}`"
    )]
    RestoreMissing {
        namespace: String,
        name: String,
        object: String,
        vault: String,
    },
    #[error("cannot restore Secret `{name}`: the plan has no {what}")]
    RestoreUnknown { what: String, name: String },
    #[error(
        "refusing to restore Secret `{namespace}/{name}` over a native Secret vaultwire did not write"
    )]
    RestoreNative { namespace: String, name: String },
    #[error("{count} Secret{} kept: see the reasons above", if *count == 1 { " was" } else { "s were" })]
    Kept { count: usize },
    #[error("cannot read key vault `{vault}`")]
    ReadVault {
        vault: String,
        #[source]
        source: Box<ProviderError>,
    },
    #[error("cannot delete Secret `{namespace}/{name}`")]
    Retire {
        namespace: String,
        name: String,
        #[source]
        source: Box<ProviderError>,
    },
    #[error("cannot copy into key vault `{vault}`")]
    Copy {
        vault: String,
        #[source]
        source: Box<ProviderError>,
    },
}

impl Error {
    pub fn help(&self) -> Option<String> {
        match self {
            Error::Read(error) => error.help(),
            Error::ReadSecret { .. } => Some(
                "migrate reads the values of the Secrets it moves (in memory only): it needs \
                 `get` on secrets in those namespaces"
                    .to_owned(),
            ),
            Error::VaultMissing { .. } => Some(
                "apply the plan first (`vaultwire apply PLAN`), then run `migrate --copy-values` again"
                    .to_owned(),
            ),
            Error::NeedsOfficer { .. } => Some(
                "grant it for the migration, for example a `[grant]` with \
                 `role = \"Key Vault Secrets Officer\"` for your principal's object ID, apply, and run \
                 `migrate --copy-values` again; nothing was copied"
                    .to_owned(),
            ),
            Error::DifferentValues { .. } => Some(
                "nothing was copied; check which value is right, and run again with `--overwrite` \
                 to replace the Key Vault values with the Secrets'"
                    .to_owned(),
            ),
            Error::Copy { source, .. }
            | Error::Restore { source, .. }
            | Error::ReadVault { source, .. }
            | Error::Retire { source, .. } => source.help(),
            Error::RestoreMissing { .. } | Error::RestoreUnknown { .. } => Some(
                "nothing was changed; the destroy restores Secrets from Key Vault before it removes anything"
                    .to_owned(),
            ),
            Error::RestoreNative { .. } => Some(
                "nothing was changed; check that Secret, and run the destroy with `--force` to replace it"
                    .to_owned(),
            ),
            Error::Compute(_) => None,
            Error::Kept { .. } => Some(
                "a Secret is retired only once no workload reads it natively and its values are in Key Vault"
                    .to_owned(),
            ),
        }
    }
}
