//! `--finish`: retiring the original Secrets. Pure judging here; the command compares the
//! values with Key Vault, records and deletes.
//!
//! A Secret is retired only when the plan has a class carrying every key of it, and no
//! workload reads it natively any more: each workload that still names it mounts the class
//! that recreates it (`--as sync`), or none names it at all (`--as files`). Anything else is
//! refused with the reason.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::compute::{ClusterInput, key_objects};
use super::model::{Request, SecretContent};
use crate::audit::scan::{Owners, SYNCED_LABEL, WorkloadKind, WorkloadRef, secret_uses};
use crate::plan::model::{Plan, Spc};
use crate::providers::kube::spec_mounts_class;
use crate::state::model::{MigratedKey, MigratedSecret};

/// What `--finish` does with a Secret that may be retired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retire {
    /// Delete the original.
    Delete,
    /// The CSI driver's synced copy stands in its place already: record it only.
    AlreadyReplaced,
}

/// A Secret that may be retired once its values are found in Key Vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retiring {
    pub cluster: String,
    pub record: MigratedSecret,
    pub retire: Retire,
}

impl Retiring {
    /// The state's key of its record: `ADDON/NAMESPACE/NAME`.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}",
            self.record.addon, self.record.namespace, self.record.name
        )
    }
}

/// A Secret `--finish` will not retire, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Kept {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    pub reason: String,
}

/// The classes of the plan on `addon` in the requested namespaces, by the Secret each
/// carries: the Secrets its `sync` recreates, or (without `sync`) the one it is named after.
fn carried<'p>(
    plan: &'p Plan,
    addon: &str,
    request: &Request,
) -> BTreeMap<(String, String), (&'p String, &'p Spc)> {
    let mut found = BTreeMap::new();
    for (key, spc) in &plan.spcs {
        if spc.addon.value != addon || !request.namespaces.contains(&spc.namespace.value) {
            continue;
        }
        let names: Vec<String> = if spc.sync.is_empty() {
            vec![spc.name.value.clone()]
        } else {
            spc.sync
                .iter()
                .map(|s| s.secret_name.value.clone())
                .collect()
        };
        for name in names {
            if request.secret.as_ref().is_none_or(|only| *only == name) {
                found
                    .entry((spc.namespace.value.clone(), name))
                    .or_insert((key, spc));
            }
        }
    }
    found
}

/// The Secrets `--finish` must read on `addon`, beyond those workloads read.
pub fn carried_secrets(plan: &Plan, addon: &str, request: &Request) -> BTreeSet<(String, String)> {
    carried(plan, addon, request).into_keys().collect()
}

/// Which carried Secrets may be retired and which are kept.
pub fn judge(
    plan: &Plan,
    request: &Request,
    inputs: &[ClusterInput<'_>],
) -> (Vec<Retiring>, Vec<Kept>) {
    let mut retiring = Vec::new();
    let mut kept = Vec::new();
    for input in inputs {
        let owners = Owners::index(input.objects);
        for ((namespace, name), (spc_key, spc)) in carried(plan, input.addon, request) {
            let keep = |reason: String| Kept {
                cluster: input.cluster.to_owned(),
                namespace: namespace.clone(),
                name: name.clone(),
                reason,
            };
            // Gone already (retired before, or never created): nothing to retire.
            let Some(content) = input.contents.get(&(namespace.clone(), name.clone())) else {
                continue;
            };
            let syncs = spc.sync.iter().any(|s| s.secret_name.value == name);
            let readers = native_readers(input, &owners, &namespace, &name, syncs.then_some(spc));
            if !readers.is_empty() {
                let how = if syncs {
                    format!("without mounting SecretProviderClass `{}`", spc.name.value)
                } else {
                    "and the class does not recreate it".to_owned()
                };
                kept.push(keep(format!(
                    "still read by {} {how}: apply its patch first",
                    readers.join(", ")
                )));
                continue;
            }
            match record(plan, &name, spc_key, spc, content) {
                Ok(record) => retiring.push(Retiring {
                    cluster: input.cluster.to_owned(),
                    retire: if content.labels.get(SYNCED_LABEL.0).map(String::as_str)
                        == Some(SYNCED_LABEL.1)
                    {
                        Retire::AlreadyReplaced
                    } else {
                        Retire::Delete
                    },
                    record,
                }),
                Err(reason) => kept.push(keep(reason)),
            }
        }
    }
    kept.sort();
    (retiring, kept)
}

/// The top-level workloads (`Kind/name`) that still read `name` natively: through a pod spec
/// that uses it without mounting `recreating`, the class that recreates it. Only specs that
/// can run count: a ReplicaSet scaled to zero (an old revision) or a finished Pod does not.
fn native_readers(
    input: &ClusterInput<'_>,
    owners: &Owners,
    namespace: &str,
    name: &str,
    recreating: Option<&Spc>,
) -> Vec<String> {
    let mut readers = BTreeSet::new();
    for (kind, object) in input.objects.iter() {
        let me = WorkloadRef::of(kind, object);
        if me.namespace != namespace || !can_run(kind, object) {
            continue;
        }
        let Some(spec) = kind.pod_spec(object) else {
            continue;
        };
        let reads = secret_uses(spec).iter().any(|use_| use_.secret == name);
        let exempt = recreating.is_some_and(|spc| spec_mounts_class(spec, &spc.name.value));
        if reads && !exempt {
            let root = owners.root(&me);
            readers.insert(format!("{}/{}", root.kind.as_str(), root.name));
        }
    }
    readers.into_iter().collect()
}

fn can_run(kind: WorkloadKind, object: &Value) -> bool {
    match kind {
        WorkloadKind::ReplicaSet => {
            object.pointer("/spec/replicas").and_then(Value::as_i64) != Some(0)
        }
        WorkloadKind::Pod => !matches!(
            object.pointer("/status/phase").and_then(Value::as_str),
            Some("Succeeded" | "Failed")
        ),
        _ => true,
    }
}

/// The state's record of `name`, with each key's Key Vault object in `spc`; `Err` names the
/// keys the class does not carry.
fn record(
    plan: &Plan,
    name: &str,
    spc_key: &str,
    spc: &Spc,
    content: &SecretContent,
) -> Result<MigratedSecret, String> {
    let mut labels = content.labels.clone();
    labels.remove(SYNCED_LABEL.0);
    carried_record(
        plan,
        spc_key,
        spc,
        name,
        &content.secret_type,
        labels,
        content.data.keys(),
    )
    .map_err(|missing| {
        format!(
            "`spc.{spc_key}` does not carry its key{} {}",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        )
    })
}

/// The record of the Secret `name` (of `secret_type`, with `labels` and `keys`) as the plan's
/// class `spc_key` carries it; `Err` names (in backticks) the keys it does not carry.
pub(crate) fn carried_record<'k>(
    plan: &Plan,
    spc_key: &str,
    spc: &Spc,
    name: &str,
    secret_type: &str,
    labels: BTreeMap<String, String>,
    keys: impl Iterator<Item = &'k String>,
) -> Result<MigratedSecret, Vec<String>> {
    let keys = key_objects(spc, name, keys)?
        .into_iter()
        .map(|(key, (object, encoding))| {
            let encoding = encoding.as_str().to_owned();
            (key, MigratedKey { object, encoding })
        })
        .collect();
    Ok(MigratedSecret {
        addon: spc.addon.value.clone(),
        namespace: spc.namespace.value.clone(),
        name: name.to_owned(),
        secret_type: secret_type.to_owned(),
        labels,
        vault: spc.vault.value.clone(),
        vault_name: plan
            .vaults
            .get(&spc.vault.value)
            .map(|vault| vault.name.value.clone())
            .unwrap_or_default(),
        spc: format!("spc.{spc_key}"),
        keys,
    })
}
