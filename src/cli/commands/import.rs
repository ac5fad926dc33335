//! `vaultwire import PLAN ADDR ID`: adopt an existing resource into the state under an address
//! the plan file defines (`engine::import`).

use std::path::PathBuf;

use crate::cli::args::ImportArgs;
use crate::cli::commands::common::{LoadedPlan, StateRead, lock_holder};
use crate::cli::connect::with_target;
use crate::cli::error::{Error, Outcome};
use crate::cli::output::Output;
use crate::engine::backend::Backend;
use crate::engine::import::{Import, check_defined, import};
use crate::plan::address::Address;

/// The validated arguments of `import`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportCommand {
    pub plan: PathBuf,
    pub address: Address,
    pub id: String,
}

impl ImportCommand {
    pub fn from_args(args: ImportArgs) -> Result<Self, Error> {
        Ok(Self {
            plan: args.plan,
            address: args
                .address
                .parse()
                .map_err(|source| Error::Address { source })?,
            id: args.id.trim().to_owned(),
        })
    }
}

pub fn execute(command: &ImportCommand, output: Output) -> Result<Outcome, Error> {
    with_target(
        &command.plan,
        None,
        output,
        async |loaded, state, connected| run(&*connected.backend, loaded, state, command).await,
    )
}

pub async fn run<B: Backend>(
    backend: &B,
    loaded: &LoadedPlan,
    state: StateRead,
    command: &ImportCommand,
) -> Result<Outcome, Error> {
    let address = &command.address;
    let request = Import {
        address: address.clone(),
        id: command.id.clone(),
        state_path: loaded.state_path(),
        holder: lock_holder(),
    };
    // Before waiting for the state: an address the plan lacks is the first thing to report.
    check_defined(&loaded.plan, address)?;
    import(backend, &loaded.plan, state.get().await?, &request).await?;
    println!("{address}: Import prepared: found {}", command.id);
    println!(
        "\nImport successful! `{address}` is now managed; run `vaultwire plan` to see how it differs from the plan file."
    );
    Ok(Outcome::Success)
}
