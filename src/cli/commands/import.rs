//! `vaultwire import PLAN ADDR ID`: adopt an existing vault, add-on, role assignment or
//! access-policy entry, or SecretProviderClass into the state under an address the plan file
//! defines. Nothing in Azure or the cluster changes; the next plan shows any difference.
//!
//! The resource is found the way refresh finds it (where the plan file says it is), and must
//! be the one `ID` names, so a typo cannot adopt the wrong thing.

use std::sync::Arc;

use crate::cli::args::ImportArgs;
use crate::cli::commands::common::{LoadedPlan, StateRead, lock_holder};
use crate::engine::apply::{clusters, write_state_locked};
use crate::engine::backend::Backend;
use crate::engine::plan::{PlanOptions, plan};
use crate::engine::saved::Mode;
use crate::engine::state_writer::StateWriter;
use crate::error::{Error, Outcome};
use crate::plan::address::{Address, ResourceKind};
use crate::state::store::Stamp;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("`{0}` is not defined in the plan file")]
    NotInPlan(Address),
    #[error("`{0}` is already in the state")]
    AlreadyManaged(Address),
    #[error("no live resource matches `{address}` as the plan file defines it")]
    NotFound { address: Address },
    #[error("`{address}` is live as `{found}`, not `{id}`")]
    Mismatch {
        address: Address,
        id: String,
        found: String,
    },
}

impl ImportError {
    pub fn help(&self) -> Option<String> {
        match self {
            ImportError::NotInPlan(_) => Some(
                "add the resource to the plan file first: import adopts what the plan describes"
                    .to_owned(),
            ),
            ImportError::AlreadyManaged(_) => Some(
                "run `vaultwire state rm PLAN ADDR` first to import it again".to_owned(),
            ),
            ImportError::NotFound { .. } | ImportError::Mismatch { .. } => Some(
                "check the name, resource group, namespace or principal in the plan file against the ID"
                    .to_owned(),
            ),
        }
    }
}

/// The validated arguments of `import`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportCommand {
    pub address: Address,
    pub id: String,
}

impl ImportCommand {
    pub fn from_args(args: &ImportArgs) -> Result<Self, Error> {
        Ok(Self {
            address: args
                .address
                .parse()
                .map_err(|source| Error::Address { source })?,
            id: args.id.trim().to_owned(),
        })
    }
}

/// Whether the live ID `found` is what the user named: the full ID, or for a
/// SecretProviderClass `NAMESPACE/NAME`. ARM IDs compare without case.
fn same_resource(kind: ResourceKind, given: &str, found: &str) -> bool {
    if given.eq_ignore_ascii_case(found) {
        return true;
    }
    kind == ResourceKind::Spc
        && found
            .rsplit_once("/namespaces/")
            .map(|(_, rest)| rest.replacen("/secretproviderclasses/", "/", 1))
            .is_some_and(|short| short == given)
}

pub async fn run<B: Backend>(
    backend: &B,
    loaded: &LoadedPlan,
    state: StateRead,
    command: &ImportCommand,
) -> Result<Outcome, Error> {
    let address = &command.address;
    if !crate::graph::build(&loaded.plan).contains(address) {
        return Err(ImportError::NotInPlan(address.clone()).into());
    }
    let state = state.get().await?;
    if state
        .as_ref()
        .is_some_and(|state| state.resources.contains_key(address))
    {
        return Err(ImportError::AlreadyManaged(address.clone()).into());
    }
    let options = PlanOptions {
        mode: Mode::Normal,
        targets: vec![address.clone()],
        parallelism: 4,
        keep_refreshed: true,
    };
    let planned = plan(backend, &loaded.plan, state.as_ref(), &options).await?;
    let record = planned
        .refreshed
        .get(address)
        .cloned()
        .ok_or_else(|| ImportError::NotFound {
            address: address.clone(),
        })?;
    if !same_resource(address.kind, &command.id, &record.id) {
        return Err(ImportError::Mismatch {
            address: address.clone(),
            id: command.id.clone(),
            found: record.id,
        }
        .into());
    }
    // Written as an apply writes it: under the clusters' run locks, and only if no other run
    // rewrote the file since it was read here.
    let read_as = state.as_ref().map(Stamp::of);
    let writer = Arc::new(
        StateWriter::new(state.unwrap_or_default(), Some(loaded.state_path())).read_as(read_as),
    );
    write_state_locked(
        backend,
        &clusters(&planned, &loaded.plan),
        &writer,
        &lock_holder(),
        |writer| writer.record(address, Some(record)).map(drop),
    )
    .await?;
    println!("{address}: Import prepared: found {}", command.id);
    println!(
        "\nImport successful! `{address}` is now managed; run `vaultwire plan` to see how it differs from the plan file."
    );
    Ok(Outcome::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_provider_class_may_be_named_by_namespace_and_name() {
        let found = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks/namespaces/payments/secretproviderclasses/payments-db";
        assert!(same_resource(
            ResourceKind::Spc,
            "payments/payments-db",
            found
        ));
        assert!(same_resource(
            ResourceKind::Spc,
            &found.to_uppercase(),
            found
        ));
        assert!(!same_resource(ResourceKind::Spc, "shop/payments-db", found));
        assert!(!same_resource(
            ResourceKind::Vault,
            "payments/payments-db",
            found
        ));
    }
}
