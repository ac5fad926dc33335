//! `vaultwire state list|show|rm PLAN [ADDR]`: look at and edit the state file by hand.
//!
//! `rm` forgets an address without touching the resource, as `terraform state rm` does, and
//! writes the file as every state write does: holding the clusters' run lock (unless
//! `--lock=false`), with the previous state kept as `.backup`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cli::args::StateAddressArgs;
use crate::cli::commands::common::{LoadedPlan, StateRead, load_plan, lock_holder};
use crate::cli::connect::with_target;
use crate::cli::error::{Error, Outcome};
use crate::cli::output::Output;
use crate::engine::apply::{clusters_of, write_state_locked};
use crate::engine::backend::Backend;
use crate::engine::state_writer::StateWriter;
use crate::plan::address::Address;
use crate::state::model::{ResourceState, StateFile};
use crate::state::store::{self, Stamp};

/// Validated settings of `state show` and `state rm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressCommand {
    pub plan: PathBuf,
    pub address: Address,
}

impl AddressCommand {
    pub fn from_args(args: StateAddressArgs) -> Result<Self, Error> {
        Ok(Self {
            address: parse_address(&args.address)?,
            plan: args.plan,
        })
    }
}

pub fn list(plan: &Path, output: Output) -> Result<Outcome, Error> {
    let loaded = load_plan(plan, output)?;
    if let Some(state) = loaded.load_state()? {
        for address in state.resources.keys() {
            println!("{address}");
        }
    }
    Ok(Outcome::Success)
}

pub fn show(command: &AddressCommand, output: Output) -> Result<Outcome, Error> {
    let address = &command.address;
    let loaded = load_plan(&command.plan, output)?;
    let state = loaded.load_state()?;
    let record = state
        .as_ref()
        .and_then(|state| state.resources.get(address))
        .ok_or_else(|| not_in_state(address, &loaded.state_path()))?;
    print!("{}", describe(address, record));
    Ok(Outcome::Success)
}

/// `state rm`: with the run lock (`lock`) as every state write is made, or offline.
pub fn rm(command: &AddressCommand, lock: bool, output: Output) -> Result<Outcome, Error> {
    if !lock {
        return rm_offline(command, output);
    }
    with_target(
        &command.plan,
        None,
        output,
        async |loaded, state, connected| {
            rm_locked(&*connected.backend, loaded, state, &command.address).await
        },
    )
}

/// `state rm --lock=false`: the file edited offline, without the run lock.
fn rm_offline(command: &AddressCommand, output: Output) -> Result<Outcome, Error> {
    let address = command.address.clone();
    let loaded = load_plan(&command.plan, output)?;
    let path = loaded.state_path();
    let mut state: StateFile = loaded
        .load_state()?
        .ok_or_else(|| not_in_state(&address, &path))?;
    if state.resources.remove(&address).is_none() {
        return Err(not_in_state(&address, &path));
    }
    state.serial = state
        .next_serial()
        .ok_or_else(|| store::StateError::SerialAtLimit {
            path: path.clone(),
            serial: state.serial,
        })?;
    store::save(&path, &state)?;
    print_removed(&address);
    Ok(Outcome::Success)
}

/// `state rm`: the address forgotten as every state write is made — holding the run lock of
/// the plan's clusters (and of the address's own, for a cluster the plan no longer has), and
/// only if the file is still as it was read.
pub async fn rm_locked<B: Backend>(
    backend: &B,
    loaded: &LoadedPlan,
    state: StateRead,
    address: &Address,
) -> Result<Outcome, Error> {
    let path = loaded.state_path();
    let state = state
        .get()
        .await?
        .ok_or_else(|| not_in_state(address, &path))?;
    let Some(record) = state.resources.get(address) else {
        return Err(not_in_state(address, &path));
    };
    let clusters = clusters_of(&loaded.plan, [(address, Some(record))]);
    let writer =
        Arc::new(StateWriter::new(state.clone(), Some(path)).read_as(Some(Stamp::of(&state))));
    write_state_locked(backend, &clusters, &writer, &lock_holder(), |writer| {
        writer.record(address, None).map(drop)
    })
    .await?;
    print_removed(address);
    Ok(Outcome::Success)
}

fn print_removed(address: &Address) {
    println!("Removed {address}");
    println!(
        "Successfully removed 1 resource from the state; it still exists and is no longer managed."
    );
}

pub fn parse_address(text: &str) -> Result<Address, Error> {
    text.parse().map_err(|source| Error::Address { source })
}

fn not_in_state(address: &Address, path: &Path) -> Error {
    Error::NotInState {
        address: address.clone(),
        path: path.to_owned(),
    }
}

/// A record as `state show` prints it: the ID, then every property as `name = value`.
pub fn describe(address: &Address, record: &ResourceState) -> String {
    let mut text = format!(
        "# {address}\nid = {}\n",
        serde_json::Value::String(record.id.clone())
    );
    let mut section = |title: &str, values: &crate::state::model::Attributes| {
        if values.is_empty() {
            return;
        }
        text.push_str(&format!("\n{title}:\n"));
        let width = values.keys().map(String::len).max().unwrap_or(0);
        for (name, value) in values {
            let shown = match value {
                serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
                    serde_json::to_string_pretty(value)
                        .unwrap_or_default()
                        .replace('\n', "\n    ")
                }
                _ => value.to_string(),
            };
            text.push_str(&format!("  {name:<width$} = {shown}\n"));
        }
    };
    section("attributes", &record.attributes);
    section("derived", &record.derived);
    section("settings", &record.settings);
    if let Some(version) = &record.version {
        text.push_str(&format!(
            "\nversion = {}\n",
            serde_json::Value::String(version.clone())
        ));
    }
    if !record.dependencies.is_empty() {
        let list: Vec<String> = record
            .dependencies
            .iter()
            .map(ToString::to_string)
            .collect();
        text.push_str(&format!("\ndepends on: {}\n", list.join(", ")));
    }
    text
}
