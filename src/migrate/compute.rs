//! Computing a migration: pure, from the plan, the request and what each cluster holds.
//!
//! The consumers come from the audit's workload scan ([`consumers`]), so `migrate` moves
//! exactly the Secrets `audit` reports. Each Secret is either moved — its keys mapped to Key
//! Vault names ([`vault_names`]), a `[spc]` entry, the grant its identity lacks, and a patch
//! for every workload that reads it — or left alone with the reason.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::model::{
    Encoding, IdentityRef, KeyMove, LeftAlone, LeftAloneReason, MAX_VALUE_BYTES, Migration, Mode,
    NewGrant, NewObject, NewSpc, NewSync, Request, SecretContent, SecretMove, WorkloadPatch,
};
use super::names::{Origin, vault_names};
use crate::audit::scan::{
    CSI_DRIVER, ClusterObjects, Consumer, Owners, Reader, SYNCED_LABEL, SecretUse, UseKind,
    WorkloadKind, WorkloadRef, consumers, controller,
};
use crate::plan::model::{Authorization, ObjectEncoding, Plan, Principal, Spc, SpcIdentity};
use crate::providers::kube::spec_mounts_class;

/// Where the classes' files appear in containers: `MOUNT_ROOT/SECRET`.
pub const MOUNT_ROOT: &str = "/mnt/secrets-store";

/// What one cluster holds, as [`compute`] reads it.
#[derive(Debug, Clone, Copy)]
pub struct ClusterInput<'a> {
    /// The plan's `[addon.KEY]`.
    pub addon: &'a str,
    pub cluster: &'a str,
    pub objects: &'a ClusterObjects,
    /// The Secrets [`wanted_secrets`] named that exist, by `(namespace, name)`.
    pub contents: &'a BTreeMap<(String, String), SecretContent>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrateError {
    #[error("`--vault {key}` is not a vault of the plan (it has {})", known.join(", "))]
    UnknownVault { key: String, known: Vec<String> },
    #[error(
        "which vault should the Secrets of namespace `{namespace}` on `{cluster}` move into? \
         The plan has {}; name one with `--vault KEY`",
        candidates.join(", ")
    )]
    VaultAmbiguous {
        cluster: String,
        namespace: String,
        candidates: Vec<String>,
    },
    #[error("the plan has no `[vault]` to move Secrets into; add one first")]
    NoVault,
}

/// The Secrets of the requested namespaces that workloads read: what must be read (values
/// included, in memory) before [`compute`].
pub fn wanted_secrets(objects: &ClusterObjects, request: &Request) -> BTreeSet<(String, String)> {
    let owners = Owners::index(objects);
    consumers(objects, &owners)
        .iter()
        .filter(|(root, _)| request.namespaces.contains(&root.namespace))
        .flat_map(|(root, consumer)| {
            consumer
                .uses
                .values()
                .map(|use_| use_.secret.clone())
                .chain(consumer.image_pull_secrets.iter().cloned())
                .map(|secret| (root.namespace.clone(), secret))
        })
        .filter(|(_, secret)| request.secret.as_ref().is_none_or(|only| only == secret))
        .collect()
}

/// One Secret and everything that reads it, before it is judged.
struct Candidate<'a> {
    addon: &'a str,
    cluster: &'a str,
    namespace: String,
    secret: String,
    /// `(workload, use)`; image pull secrets are kept apart.
    uses: Vec<(WorkloadRef, SecretUse)>,
    pulled_by: BTreeSet<WorkloadRef>,
    content: Option<&'a SecretContent>,
}

impl Candidate<'_> {
    fn workloads(&self) -> Vec<String> {
        let all: BTreeSet<String> = self
            .uses
            .iter()
            .map(|(root, _)| root)
            .chain(&self.pulled_by)
            .map(workload_name)
            .collect();
        all.into_iter().collect()
    }
}

fn workload_name(root: &WorkloadRef) -> String {
    format!("{}/{}", root.kind.as_str(), root.name)
}

/// The migration of `request` over `clusters`.
pub fn compute(
    plan: &Plan,
    request: &Request,
    clusters: &[ClusterInput<'_>],
) -> Result<Migration, MigrateError> {
    if let Some(key) = &request.vault
        && !plan.vaults.contains_key(key)
    {
        return Err(MigrateError::UnknownVault {
            key: key.clone(),
            known: plan.vaults.keys().cloned().collect(),
        });
    }
    let several_clusters = plan.addons.len() > 1;
    let mut left_alone = Vec::new();
    let mut accepted: Vec<(Candidate<'_>, String, IdentityRef)> = Vec::new();
    for input in clusters {
        let owners = Owners::index(input.objects);
        let found = consumers(input.objects, &owners);
        for candidate in candidates(input, request, &found) {
            match judge(&candidate) {
                Some((reason, detail)) => left_alone.push(LeftAlone {
                    cluster: candidate.cluster.to_owned(),
                    namespace: candidate.namespace.clone(),
                    secret: candidate.secret.clone(),
                    reason,
                    detail,
                    workloads: candidate.workloads(),
                }),
                None => match planned_spc(plan, &candidate) {
                    // The plan carries it already: the move goes on with that class.
                    Some((key, spc)) => match planned_keys(spc, &candidate) {
                        Ok(_) => {
                            let identity = identity_of(spc);
                            accepted.push((candidate, spc.vault.value.clone(), identity));
                        }
                        Err(missing) => left_alone.push(LeftAlone {
                            cluster: candidate.cluster.to_owned(),
                            namespace: candidate.namespace.clone(),
                            secret: candidate.secret.clone(),
                            reason: LeftAloneReason::AlreadyPlanned,
                            detail: format!(
                                "`spc.{key}` of the plan syncs it, but not its key{} {}: add them to its `objects` and `sync` data",
                                if missing.len() == 1 { "" } else { "s" },
                                missing.join(", ")
                            ),
                            workloads: candidate.workloads(),
                        }),
                    },
                    None => {
                        let vault = choose_vault(plan, request, &candidate)?;
                        let identity = choose_identity(plan, &candidate);
                        accepted.push((candidate, vault, identity));
                    }
                },
            }
        }
    }

    let origins: Vec<Origin> = accepted
        .iter()
        .filter(|(candidate, _, _)| planned_spc(plan, candidate).is_none())
        .flat_map(|(candidate, _, _)| {
            let content = candidate.content.into_iter();
            content.flat_map(move |content| {
                content.data.keys().map(move |key| Origin {
                    addon: several_clusters.then(|| candidate.addon.to_owned()),
                    namespace: candidate.namespace.clone(),
                    secret: candidate.secret.clone(),
                    key: key.clone(),
                })
            })
        })
        .collect();
    let names = vault_names(&origins);

    let mut spc_keys: BTreeSet<String> = plan.spcs.keys().cloned().collect();
    let mut moves = Vec::new();
    for (candidate, vault, identity) in &accepted {
        let Some(content) = candidate.content else {
            continue;
        };
        let planned = planned_spc(plan, candidate);
        let planned_names = planned
            .and_then(|(_, spc)| planned_keys(spc, candidate).ok())
            .unwrap_or_default();
        let keys: Vec<KeyMove> = content
            .data
            .iter()
            .map(|(key, bytes)| {
                if let Some((name, encoding)) = planned_names.get(key) {
                    return KeyMove {
                        key: key.clone(),
                        vault_secret: name.clone(),
                        bytes: bytes.expose().len(),
                        stored_bytes: encoding.stored(bytes.expose()).len(),
                        encoding: *encoding,
                    };
                }
                let encoding = Encoding::of(bytes.expose());
                let origin = Origin {
                    addon: several_clusters.then(|| candidate.addon.to_owned()),
                    namespace: candidate.namespace.clone(),
                    secret: candidate.secret.clone(),
                    key: key.clone(),
                };
                KeyMove {
                    key: key.clone(),
                    vault_secret: names.get(&origin).cloned().unwrap_or_default(),
                    bytes: bytes.expose().len(),
                    stored_bytes: encoding.stored(bytes.expose()).len(),
                    encoding,
                }
            })
            .collect();
        let spc = match planned {
            Some((key, spc)) => NewSpc {
                key: key.clone(),
                name: spc.name.value.clone(),
                addon: spc.addon.value.clone(),
                namespace: spc.namespace.value.clone(),
                vault: spc.vault.value.clone(),
                identity: identity.clone(),
                objects: objects_of(&keys),
                sync: spc
                    .sync
                    .iter()
                    .find(|sync| sync.secret_name.value == candidate.secret)
                    .map(|sync| NewSync {
                        secret_name: sync.secret_name.value.clone(),
                        secret_type: sync.secret_type.value.clone(),
                        labels: sync.labels.clone(),
                        keys: keys.iter().map(|key| key.key.clone()).collect(),
                    }),
                mount_path: format!("{MOUNT_ROOT}/{}", candidate.secret),
                in_plan: true,
            },
            None => new_spc(
                plan,
                request.mode,
                candidate,
                content,
                vault,
                identity,
                &keys,
                &mut spc_keys,
                several_clusters,
            ),
        };
        moves.push(SecretMove {
            addon: candidate.addon.to_owned(),
            cluster: candidate.cluster.to_owned(),
            namespace: candidate.namespace.clone(),
            secret: candidate.secret.clone(),
            secret_type: content.secret_type.clone(),
            vault: vault.clone(),
            vault_name: plan
                .vaults
                .get(vault)
                .map(|v| v.name.value.clone())
                .unwrap_or_default(),
            keys,
            spc,
            workloads: candidate.workloads(),
        });
    }

    let grants = new_grants(plan, &moves);
    let workloads = patches(request.mode, &accepted, &moves, clusters);
    left_alone.sort();
    Ok(Migration {
        mode: request.mode,
        moves,
        grants,
        workloads,
        left_alone,
    })
}

/// The Secrets that the requested namespaces' workloads read, in order.
fn candidates<'a>(
    input: &ClusterInput<'a>,
    request: &Request,
    found: &BTreeMap<WorkloadRef, Consumer>,
) -> Vec<Candidate<'a>> {
    let mut by_secret: BTreeMap<(String, String), Candidate<'a>> = BTreeMap::new();
    for (root, consumer) in found {
        if !request.namespaces.contains(&root.namespace) {
            continue;
        }
        let wanted = |secret: &String| request.secret.as_ref().is_none_or(|only| only == secret);
        for use_ in consumer.uses.values().filter(|u| wanted(&u.secret)) {
            candidate_for(&mut by_secret, input, &root.namespace, &use_.secret)
                .uses
                .push((root.clone(), use_.clone()));
        }
        for secret in consumer.image_pull_secrets.iter().filter(|s| wanted(s)) {
            candidate_for(&mut by_secret, input, &root.namespace, secret)
                .pulled_by
                .insert(root.clone());
        }
    }
    by_secret.into_values().collect()
}

fn candidate_for<'a, 'm>(
    by_secret: &'m mut BTreeMap<(String, String), Candidate<'a>>,
    input: &ClusterInput<'a>,
    namespace: &str,
    secret: &str,
) -> &'m mut Candidate<'a> {
    let key = (namespace.to_owned(), secret.to_owned());
    let content = input.contents.get(&key);
    by_secret.entry(key).or_insert_with(|| Candidate {
        addon: input.addon,
        cluster: input.cluster,
        namespace: namespace.to_owned(),
        secret: secret.to_owned(),
        uses: Vec::new(),
        pulled_by: BTreeSet::new(),
        content,
    })
}

/// Why `candidate` stays as it is, or `None` to move it.
fn judge(candidate: &Candidate<'_>) -> Option<(LeftAloneReason, String)> {
    let Some(content) = candidate.content else {
        return Some((
            LeftAloneReason::NotFound,
            "the Secret does not exist: there is nothing to copy".to_owned(),
        ));
    };
    match content.secret_type.as_str() {
        "kubernetes.io/service-account-token" => {
            return Some((
                LeftAloneReason::ServiceAccountToken,
                "a service-account token belongs to Kubernetes and is never migrated".to_owned(),
            ));
        }
        "helm.sh/release.v1" => {
            return Some((
                LeftAloneReason::HelmRelease,
                "Helm's release storage is never migrated".to_owned(),
            ));
        }
        _ => {}
    }
    if content.labels.get(SYNCED_LABEL.0).map(String::as_str) == Some(SYNCED_LABEL.1) {
        return Some((
            LeftAloneReason::AlreadySynced,
            "already synced from Key Vault by the CSI driver".to_owned(),
        ));
    }
    if !candidate.pulled_by.is_empty() {
        return Some((
            LeftAloneReason::ImagePullSecret,
            "used in imagePullSecrets: the kubelet needs it to pull the image before the pod \
             starts, and a CSI volume is mounted only once it does"
                .to_owned(),
        ));
    }
    if candidate
        .uses
        .iter()
        .any(|(_, use_)| use_.kind == UseKind::CsiNodePublish)
    {
        return Some((
            LeftAloneReason::CsiCredentials,
            "the CSI driver's own service-principal credentials (nodePublishSecretRef): move \
             its class to a workload identity instead (docs/workload-identity.md)"
                .to_owned(),
        ));
    }
    if content.data.is_empty() {
        return Some((LeftAloneReason::Empty, "the Secret has no keys".to_owned()));
    }
    let too_large: Vec<String> = content
        .data
        .iter()
        .filter_map(|(key, bytes)| {
            let stored = Encoding::of(bytes.expose()).stored(bytes.expose()).len();
            (stored > MAX_VALUE_BYTES).then(|| format!("`{key}` ({})", size(stored)))
        })
        .collect();
    if !too_large.is_empty() {
        return Some((
            LeftAloneReason::TooLarge,
            format!(
                "Key Vault holds values of at most 25 KB; {} {} larger as stored",
                too_large.join(", "),
                if too_large.len() == 1 { "is" } else { "are" }
            ),
        ));
    }
    None
}

/// The plan's class that already carries `candidate`: one on its cluster and namespace that
/// syncs a Secret of its name, or is named like it (`--as files`).
fn planned_spc<'p>(plan: &'p Plan, candidate: &Candidate<'_>) -> Option<(&'p String, &'p Spc)> {
    let here = |spc: &&Spc| {
        spc.addon.value == candidate.addon && spc.namespace.value == candidate.namespace
    };
    let by_sync = plan.spcs.iter().find(|(_, spc)| {
        here(spc)
            && spc
                .sync
                .iter()
                .any(|sync| sync.secret_name.value == candidate.secret)
    });
    by_sync.or_else(|| {
        plan.spcs.iter().find(|(_, spc)| {
            here(spc)
                && spc.sync.is_empty()
                && (spc.name.value == candidate.secret
                    || spc.name.value == format!("{}-kv", candidate.secret))
        })
    })
}

/// Each of `keys` of the Secret `secret` as the plan's class `spc` carries it: the Key Vault
/// object and its encoding, through the class's `sync` data for that Secret or else by file
/// name. `Err` names (in backticks) the keys it does not carry.
pub(crate) fn key_objects<'k>(
    spc: &Spc,
    secret: &str,
    keys: impl Iterator<Item = &'k String>,
) -> Result<BTreeMap<String, (String, Encoding)>, Vec<String>> {
    let sync = spc
        .sync
        .iter()
        .find(|sync| sync.secret_name.value == secret);
    let mut found = BTreeMap::new();
    let mut missing = Vec::new();
    for key in keys {
        let file = match sync {
            Some(sync) => sync
                .data
                .iter()
                .find(|data| &data.key.value == key)
                .map(|data| data.object.value.as_str()),
            None => Some(key.as_str()),
        };
        match file.and_then(|file| spc.objects.iter().find(|o| o.file_name() == file)) {
            Some(object) => {
                let encoding = match object.encoding {
                    Some(ObjectEncoding::Base64) => Encoding::Base64,
                    _ => Encoding::Utf8,
                };
                found.insert(key.clone(), (object.name.value.clone(), encoding));
            }
            None => missing.push(format!("`{key}`")),
        }
    }
    if missing.is_empty() {
        Ok(found)
    } else {
        Err(missing)
    }
}

fn planned_keys(
    spc: &Spc,
    candidate: &Candidate<'_>,
) -> Result<BTreeMap<String, (String, Encoding)>, Vec<String>> {
    key_objects(
        spc,
        &candidate.secret,
        candidate.content.into_iter().flat_map(|c| c.data.keys()),
    )
}

fn identity_of(spc: &Spc) -> IdentityRef {
    match &spc.identity.value {
        SpcIdentity::Addon(key) => IdentityRef::Addon(key.value.clone()),
        SpcIdentity::Identity(key) => IdentityRef::Identity(key.value.clone()),
        SpcIdentity::WorkloadIdentity { client_id } => IdentityRef::ClientId(client_id.clone()),
    }
}

/// A size for people: bytes below 1 KiB, else KB with one decimal.
pub fn size(bytes: usize) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    }
}

fn choose_vault(
    plan: &Plan,
    request: &Request,
    candidate: &Candidate<'_>,
) -> Result<String, MigrateError> {
    if let Some(vault) = &request.vault {
        return Ok(vault.clone());
    }
    let used_here: BTreeSet<&str> = plan
        .spcs
        .values()
        .filter(|spc| {
            spc.addon.value == candidate.addon && spc.namespace.value == candidate.namespace
        })
        .map(|spc| spc.vault.value.as_str())
        .collect();
    if used_here.len() == 1 {
        return Ok(used_here.into_iter().next().unwrap_or_default().to_owned());
    }
    match plan.vaults.len() {
        0 => Err(MigrateError::NoVault),
        1 => Ok(plan.vaults.keys().next().cloned().unwrap_or_default()),
        _ => Err(MigrateError::VaultAmbiguous {
            cluster: candidate.cluster.to_owned(),
            namespace: candidate.namespace.clone(),
            candidates: plan.vaults.keys().map(|k| format!("`{k}`")).collect(),
        }),
    }
}

/// The identity the namespace's classes already read as, when they agree; else the add-on's.
fn choose_identity(plan: &Plan, candidate: &Candidate<'_>) -> IdentityRef {
    let used_here: BTreeSet<IdentityRef> = plan
        .spcs
        .values()
        .filter(|spc| {
            spc.addon.value == candidate.addon && spc.namespace.value == candidate.namespace
        })
        .map(identity_of)
        .collect();
    if used_here.len() == 1 {
        return used_here
            .into_iter()
            .next()
            .unwrap_or(IdentityRef::Addon(String::new()));
    }
    IdentityRef::Addon(candidate.addon.to_owned())
}

/// `base`, or `base-2`, `base-3`… when `taken` has it; the key returned is taken from then on.
fn unique_key(base: &str, taken: &mut BTreeSet<String>) -> String {
    let mut key = base.to_owned();
    let mut n = 2;
    while taken.contains(&key) {
        key = format!("{base}-{n}");
        n += 1;
    }
    taken.insert(key.clone());
    key
}

/// The class's `objects`: each key's Key Vault secret, mounted as the file named like the key.
fn objects_of(keys: &[KeyMove]) -> Vec<NewObject> {
    keys.iter()
        .map(|key| NewObject {
            name: key.vault_secret.clone(),
            alias: key.key.clone(),
            encoding: key.encoding,
        })
        .collect()
}

/// `text` as a plan key: letters, digits, `-` and `_`.
fn as_key(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn new_spc(
    plan: &Plan,
    mode: Mode,
    candidate: &Candidate<'_>,
    content: &SecretContent,
    vault: &str,
    identity: &IdentityRef,
    keys: &[KeyMove],
    taken: &mut BTreeSet<String>,
    several_clusters: bool,
) -> NewSpc {
    let base = if several_clusters {
        as_key(&format!(
            "{}-{}-{}",
            candidate.addon, candidate.namespace, candidate.secret
        ))
    } else {
        as_key(&format!("{}-{}", candidate.namespace, candidate.secret))
    };
    let key = unique_key(&base, taken);
    // The class takes the Secret's name unless the plan already has a class of that name there.
    let name_taken = plan.spcs.values().any(|spc| {
        spc.addon.value == candidate.addon
            && spc.namespace.value == candidate.namespace
            && spc.name.value == candidate.secret
    });
    let name = if name_taken {
        format!("{}-kv", candidate.secret)
    } else {
        candidate.secret.clone()
    };
    let mut labels = content.labels.clone();
    labels.remove(SYNCED_LABEL.0);
    NewSpc {
        key,
        name,
        addon: candidate.addon.to_owned(),
        namespace: candidate.namespace.clone(),
        vault: vault.to_owned(),
        identity: identity.clone(),
        objects: objects_of(keys),
        sync: (mode == Mode::Sync).then(|| NewSync {
            secret_name: candidate.secret.clone(),
            secret_type: content.secret_type.clone(),
            labels,
            keys: keys.iter().map(|key| key.key.clone()).collect(),
        }),
        mount_path: format!("{MOUNT_ROOT}/{}", candidate.secret),
        in_plan: false,
    }
}

/// The grants the new classes' identities lack on their vaults.
fn new_grants(plan: &Plan, moves: &[SecretMove]) -> Vec<NewGrant> {
    let mut wanted: BTreeSet<(String, IdentityRef)> = BTreeSet::new();
    for moved in moves {
        wanted.insert((moved.vault.clone(), moved.spc.identity.clone()));
    }
    let mut grants = Vec::new();
    let mut taken: BTreeSet<String> = plan.grants.keys().cloned().collect();
    for (vault, identity) in wanted {
        let granted = plan.grants.values().any(|grant| {
            grant.vault.value == vault
                && match (&grant.principal.value, &identity) {
                    (Principal::Addon(key), IdentityRef::Addon(want)) => &key.value == want,
                    (Principal::Identity(key), IdentityRef::Identity(want)) => &key.value == want,
                    (
                        Principal::WorkloadIdentity { client_id, .. },
                        IdentityRef::ClientId(want),
                    ) => client_id.eq_ignore_ascii_case(want),
                    _ => false,
                }
        });
        // A bare client ID has no object ID to grant to; the plan's own grants cover it.
        if granted || matches!(identity, IdentityRef::ClientId(_)) {
            continue;
        }
        let who = match &identity {
            IdentityRef::Addon(key) | IdentityRef::Identity(key) | IdentityRef::ClientId(key) => {
                key
            }
        };
        let key = unique_key(&as_key(&format!("{who}-reads-{vault}")), &mut taken);
        let rbac = plan
            .vaults
            .get(&vault)
            .is_none_or(|v| v.authorization.value == Authorization::Rbac);
        grants.push(NewGrant {
            key,
            vault,
            principal: identity,
            role: rbac.then(|| "Key Vault Secrets User".to_owned()),
        });
    }
    grants
}

/// A volume name (a DNS-1123 label) for the class `spc`.
fn volume_name(spc: &str) -> String {
    let name = format!("secrets-store-{spc}").replace('.', "-");
    if name.len() <= 63 {
        return name;
    }
    let digest = crate::migrate::names::short_digest(spc);
    format!("{}-{digest}", &name[..54].trim_end_matches('-'))
}

/// A moved Secret and the uses of it by one workload.
type Reads<'a> = (&'a SecretMove, Vec<&'a SecretUse>);

/// One patch per workload that reads a moved Secret.
fn patches(
    mode: Mode,
    accepted: &[(Candidate<'_>, String, IdentityRef)],
    moves: &[SecretMove],
    clusters: &[ClusterInput<'_>],
) -> Vec<WorkloadPatch> {
    // (addon, workload) → the moves it reads and its uses of each.
    let mut by_workload: BTreeMap<(&str, &WorkloadRef), Vec<Reads<'_>>> = BTreeMap::new();
    for ((candidate, _, _), moved) in accepted.iter().zip(moves) {
        let mut uses: BTreeMap<&WorkloadRef, Vec<&SecretUse>> = BTreeMap::new();
        for (root, use_) in &candidate.uses {
            uses.entry(root).or_default().push(use_);
        }
        for (root, uses) in uses {
            by_workload
                .entry((candidate.addon, root))
                .or_default()
                .push((moved, uses));
        }
    }
    let mut result = Vec::new();
    for ((addon, root), reads) in by_workload {
        let Some(input) = clusters.iter().find(|c| c.addon == addon) else {
            continue;
        };
        let Some(object) = input
            .objects
            .iter()
            .find(|(kind, object)| WorkloadRef::of(*kind, object) == *root)
            .map(|(_, object)| object)
        else {
            continue;
        };
        // A controller's pod whose controller the scan did not list (created between two
        // LISTs, or an operator's): its owner's patch is what counts, not one for the pod.
        if root.kind == WorkloadKind::Pod && controller(object).is_some() {
            continue;
        }
        let spec = root.kind.pod_spec(object).cloned().unwrap_or(Value::Null);
        result.extend(patch_for(mode, input.cluster, root, &spec, &reads));
    }
    result
}

fn patch_for(
    mode: Mode,
    cluster: &str,
    root: &WorkloadRef,
    spec: &Value,
    reads: &[(&SecretMove, Vec<&SecretUse>)],
) -> Option<WorkloadPatch> {
    let mut volumes: Vec<Value> = Vec::new();
    // (list, container) → mounts
    let mut mounts: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    let mut changes = Vec::new();
    let mut owner_changes = Vec::new();
    let reads: Vec<&(&SecretMove, Vec<&SecretUse>)> = reads
        .iter()
        .filter(|(moved, _)| !spec_mounts_class(spec, &moved.spc.name))
        .collect();
    if reads.is_empty() {
        return None;
    }
    for (moved, uses) in &reads {
        let class = &moved.spc.name;
        let csi = json!({
            "driver": CSI_DRIVER,
            "readOnly": true,
            "volumeAttributes": {"secretProviderClass": class},
        });
        // Secret volumes become CSI volumes of the same name first (`--as files`), so that a
        // container mounting one already is pointed at it rather than given a second mount.
        let replaced: BTreeSet<String> = uses
            .iter()
            .filter_map(|use_| match &use_.reader {
                Reader::Volume { name }
                    if mode == Mode::Files
                        && use_.kind == UseKind::Volume
                        && !has_items(spec, name) =>
                {
                    Some(name.clone())
                }
                _ => None,
            })
            .collect();
        let mut readers: BTreeSet<(String, String)> = BTreeSet::new();
        for use_ in uses {
            match &use_.reader {
                Reader::Container {
                    list,
                    name,
                    variable,
                    key,
                } => {
                    let mounted = replaced
                        .iter()
                        .find_map(|volume| mount_path_of(spec, list, name, volume));
                    if mounted.is_none() {
                        readers.insert((list.clone(), name.clone()));
                    }
                    if mode == Mode::Files {
                        let path = mounted.unwrap_or_else(|| moved.spc.mount_path.clone());
                        owner_changes.push(match (variable, key) {
                            (Some(variable), Some(key)) => format!(
                                "container `{name}`: read `{path}/{key}` instead of env var `{variable}`"
                            ),
                            _ => format!(
                                "container `{name}`: read the files under `{path}` instead of the environment from Secret `{}` (envFrom)",
                                moved.secret
                            ),
                        });
                    }
                }
                Reader::Volume { name } if !replaced.contains(name) => {
                    for (list, container) in containers_mounting(spec, name) {
                        readers.insert((list, container));
                    }
                }
                Reader::Volume { .. } => {}
            }
        }
        for volume in &replaced {
            let mut entry = json!({"name": volume, "secret": null});
            entry["csi"] = csi.clone();
            volumes.push(entry);
            changes.push(format!(
                "volume `{volume}`: read SecretProviderClass `{class}` instead of Secret `{}` (same files)",
                moved.secret
            ));
        }
        if !readers.is_empty() || replaced.is_empty() {
            let volume = volume_name(class);
            volumes.push(json!({"name": volume, "csi": csi}));
            let path = &moved.spc.mount_path;
            if readers.is_empty() {
                readers.extend(first_container(spec));
            }
            for (list, container) in &readers {
                mounts
                    .entry((list.clone(), container.clone()))
                    .or_default()
                    .push(json!({"name": volume, "mountPath": path, "readOnly": true}));
                changes.push(format!(
                    "container `{container}`: mount SecretProviderClass `{class}` at `{path}`"
                ));
            }
        }
    }
    let mut pod_spec = serde_json::Map::new();
    for ((list, container), container_mounts) in mounts {
        let entry = json!({"name": container, "volumeMounts": container_mounts});
        if let Some(containers) = pod_spec
            .entry(list)
            .or_insert_with(|| Value::Array(Vec::new()))
            .as_array_mut()
        {
            containers.push(entry);
        }
    }
    pod_spec.insert("volumes".to_owned(), Value::Array(volumes));
    let (group, version, _) = root.kind.api();
    let api_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    let mut patch = json!({
        "apiVersion": api_version,
        "kind": root.kind.as_str(),
        "metadata": {"name": root.name, "namespace": root.namespace},
    });
    let mut at = &mut patch;
    for segment in root.kind.pod_spec_path().split('.') {
        at = &mut at[segment];
    }
    *at = Value::Object(pod_spec);
    let caveat = match root.kind {
        WorkloadKind::Pod => Some(
            "a bare Pod's volumes cannot change: put this into its manifest and recreate it"
                .to_owned(),
        ),
        WorkloadKind::Job => Some(
            "a Job's pod template cannot change: put this into its manifest and run it again"
                .to_owned(),
        ),
        _ => None,
    };
    Some(WorkloadPatch {
        cluster: cluster.to_owned(),
        namespace: root.namespace.clone(),
        kind: root.kind.as_str().to_owned(),
        name: root.name.clone(),
        secrets: reads
            .iter()
            .map(|(moved, _)| moved.secret.clone())
            .collect(),
        changes,
        owner_changes,
        caveat,
        file: format!(
            "{cluster}/{}/{}-{}.yaml",
            root.namespace,
            root.kind.as_str().to_ascii_lowercase(),
            root.name
        ),
        patch,
    })
}

fn has_items(spec: &Value, volume: &str) -> bool {
    spec.get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|v| v.get("name").and_then(Value::as_str) == Some(volume))
        .and_then(|v| v.pointer("/secret/items"))
        .is_some_and(|items| items.as_array().is_some_and(|items| !items.is_empty()))
}

/// Where container `name` of `list` mounts `volume`, if it does.
fn mount_path_of(spec: &Value, list: &str, name: &str, volume: &str) -> Option<String> {
    spec.get(list)
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("name").and_then(Value::as_str) == Some(name))?
        .get("volumeMounts")
        .and_then(Value::as_array)?
        .iter()
        .find(|m| m.get("name").and_then(Value::as_str) == Some(volume))
        .and_then(|m| m.get("mountPath").and_then(Value::as_str))
        .map(|path| path.trim_end_matches('/').to_owned())
}

/// `(list, container)` of every container that mounts `volume`.
fn containers_mounting(spec: &Value, volume: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for list in ["initContainers", "containers"] {
        for container in spec
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mounts = container.get("volumeMounts").and_then(Value::as_array);
            if mounts
                .into_iter()
                .flatten()
                .any(|m| m.get("name").and_then(Value::as_str) == Some(volume))
                && let Some(name) = container.get("name").and_then(Value::as_str)
            {
                found.push((list.to_owned(), name.to_owned()));
            }
        }
    }
    found
}

fn first_container(spec: &Value) -> Option<(String, String)> {
    spec.pointer("/containers/0/name")
        .and_then(Value::as_str)
        .map(|name| ("containers".to_owned(), name.to_owned()))
}
