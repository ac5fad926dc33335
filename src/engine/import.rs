//! Adopting an existing vault, add-on, role assignment or access-policy entry, or
//! SecretProviderClass into the state under an address the plan file defines. Nothing in Azure
//! or the cluster changes; the next plan shows any difference.
//!
//! The resource is found the way refresh finds it (where the plan file says it is), and must
//! be the one the given ID names, so a typo cannot adopt the wrong thing.

use std::path::PathBuf;
use std::sync::Arc;

use crate::engine::apply::{ApplyError, clusters, write_state_locked};
use crate::engine::backend::Backend;
use crate::engine::plan::{Mode, PlanError, PlanOptions, plan};
use crate::engine::state_writer::StateWriter;
use crate::plan::address::{Address, ResourceKind};
use crate::plan::model::Plan;
use crate::state::model::StateFile;
use crate::state::store::Stamp;

/// Why a resource was not imported.
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
    /// Finding it failed.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Recording it failed (a lock, or the state write).
    #[error(transparent)]
    Apply(#[from] ApplyError),
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
            ImportError::Plan(_) | ImportError::Apply(_) => None,
        }
    }
}

/// What to import, and where the state goes.
#[derive(Debug, Clone)]
pub struct Import {
    pub address: Address,
    /// The live ID the user named.
    pub id: String,
    pub state_path: PathBuf,
    /// Who holds the clusters' locks while the state is written.
    pub holder: String,
}

/// Finds `import.address` live, checks it is the resource `import.id` names, and records it
/// in the state, written as an apply writes it: under the clusters' run locks, and only if no
/// other run rewrote the file since `state` was read.
pub async fn import<B: Backend>(
    backend: &B,
    plan_file: &Plan,
    state: Option<StateFile>,
    import: &Import,
) -> Result<(), ImportError> {
    let address = &import.address;
    check_defined(plan_file, address)?;
    if state
        .as_ref()
        .is_some_and(|state| state.resources.contains_key(address))
    {
        return Err(ImportError::AlreadyManaged(address.clone()));
    }
    let options = PlanOptions {
        mode: Mode::Normal,
        targets: vec![address.clone()],
        parallelism: 4,
        keep_refreshed: true,
        preflight: false,
    };
    let planned = plan(backend, plan_file, state.as_ref(), &options).await?;
    let record = planned
        .refreshed
        .get(address)
        .cloned()
        .ok_or_else(|| ImportError::NotFound {
            address: address.clone(),
        })?;
    if !same_resource(address.kind, &import.id, &record.id) {
        return Err(ImportError::Mismatch {
            address: address.clone(),
            id: import.id.clone(),
            found: record.id,
        });
    }
    let read_as = state.as_ref().map(Stamp::of);
    let writer = Arc::new(
        StateWriter::new(state.unwrap_or_default(), Some(import.state_path.clone()))
            .read_as(read_as),
    );
    write_state_locked(
        backend,
        &clusters(&planned, plan_file),
        &writer,
        &import.holder,
        |writer| writer.record(address, Some(record)).map(drop),
    )
    .await?;
    Ok(())
}

/// Refuses an address the plan file does not define: import adopts only what the plan
/// describes. Checked before anything is read.
pub fn check_defined(plan_file: &Plan, address: &Address) -> Result<(), ImportError> {
    // The plan's addresses alone: the command checks before the state is in, and the engine
    // again, so neither builds the dependency graph for it.
    if crate::plan::dependencies::addresses(plan_file).any(|defined| defined == *address) {
        Ok(())
    } else {
        Err(ImportError::NotInPlan(address.clone()))
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
