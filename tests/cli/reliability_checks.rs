//! What a reliability trial is judged by, as pure functions over the sandbox's `world.json`
//! and the state file's bytes: orphans, duplicate grants, and corrupt or rewound states. Pure so
//! that they are tested here on hand-made worlds and states — a check that never fires proves
//! nothing.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

/// Every vault, role assignment, SecretProviderClass, enabled Key Vault add-on and run lock in
/// `world` that vaultwire could have made and no ID in `state_ids` records, one line each.
/// `foreign` names role assignments that are not vaultwire's (the seed's, the test's own).
pub fn orphans(world: &Value, state_ids: &[String], foreign: &BTreeSet<String>) -> Vec<String> {
    let ids: Vec<String> = state_ids.iter().map(|id| id.to_ascii_lowercase()).collect();
    let recorded = |suffix: &str| {
        let suffix = suffix.to_ascii_lowercase();
        ids.iter().any(|id| id.ends_with(&suffix))
    };
    let mut orphans = Vec::new();
    for vault in values(&world["vaults"]) {
        let (group, name) = (text(&vault["resourceGroup"]), text(&vault["name"]));
        let id = format!(
            "/subscriptions/{}/resourceGroups/{group}/providers/Microsoft.KeyVault/vaults/{name}",
            text(&world["subscriptionId"])
        );
        if !ids.contains(&id.to_ascii_lowercase()) {
            orphans.push(format!("vault `{name}`"));
        }
    }
    for name in keys(&world["roleAssignments"]) {
        if !foreign.contains(&name) && !recorded(&format!("/roleAssignments/{name}")) {
            orphans.push(format!("role assignment `{name}`"));
        }
    }
    for (cluster, api) in entries(&world["kube"]) {
        let objects = &api["store"]["objects"];
        for key in keys(&objects["secretproviderclasses.secrets-store.csi.x-k8s.io"]) {
            let (namespace, name) = key.split_once('/').unwrap_or(("", &key));
            let id = format!(
                "/managedClusters/{cluster}/namespaces/{namespace}/secretproviderclasses/{name}"
            );
            if !recorded(&id) {
                orphans.push(format!("SecretProviderClass `{key}` in `{cluster}`"));
            }
        }
        if keys(&objects["leases.coordination.k8s.io"])
            .contains(&"kube-system/vaultwire-lock".into())
        {
            orphans.push(format!("the run lock of `{cluster}`, still held"));
        }
    }
    for (cluster, managed) in entries(&world["clusters"]) {
        let addon = &managed["properties"]["addonProfiles"]["azureKeyvaultSecretsProvider"];
        if addon["enabled"] == json!(true) && !recorded(&format!("/managedClusters/{cluster}")) {
            orphans.push(format!("the Key Vault add-on of `{cluster}`, enabled"));
        }
    }
    orphans
}

/// Role assignments in `world` beyond the first with the same scope, principal and role.
pub fn duplicate_grants(world: &Value) -> u64 {
    let mut grants: BTreeMap<[String; 3], u64> = BTreeMap::new();
    for assignment in values(&world["roleAssignments"]) {
        let key = ["scope", "principalId", "roleDefinition"]
            .map(|field| text(&assignment[field]).to_ascii_lowercase());
        *grants.entry(key).or_default() += 1;
    }
    grants.values().map(|count| count - 1).sum()
}

/// Follows one state file and its backup through a campaign.
#[derive(Default)]
pub struct StateWatch {
    /// The state's lineage and serial as last seen.
    last: Option<(String, u64)>,
}

impl StateWatch {
    /// What is wrong with the state file and backup as they are now (`None`: no such file),
    /// one line each: either does not parse as a state, the serial went backwards or the
    /// lineage changed since last time, or the backup is ahead of the state. A backup equal to
    /// the state is a run stopped between keeping the backup and writing the next serial:
    /// nothing is lost.
    pub fn check(&mut self, state: Option<&[u8]>, backup: Option<&[u8]>) -> Vec<String> {
        let mut wrong = Vec::new();
        let mut parse = |name: &str, bytes: Option<&[u8]>| {
            stamp(bytes?)
                .map_err(|why| wrong.push(format!("the {name} is {why}")))
                .ok()
        };
        let state = parse("state", state);
        let backup = parse("backup", backup);
        if let (Some((lineage, serial)), Some((last_lineage, last_serial))) = (&state, &self.last) {
            if lineage != last_lineage {
                wrong.push(format!(
                    "the lineage changed from {last_lineage} to {lineage}"
                ));
            } else if serial < last_serial {
                wrong.push(format!(
                    "the serial went back from {last_serial} to {serial}"
                ));
            }
        }
        if let (Some(state), Some(backup)) = (&state, &backup)
            && (backup.0 != state.0 || backup.1 > state.1)
        {
            wrong.push(format!(
                "the backup ({} serial {}) is ahead of the state ({} serial {})",
                backup.0, backup.1, state.0, state.1
            ));
        }
        if state.is_some() {
            self.last = state;
        }
        wrong
    }
}

/// `(lineage, serial)` of a state file's bytes, or why they are not a state.
fn stamp(bytes: &[u8]) -> Result<(String, u64), String> {
    let state: Value =
        serde_json::from_slice(bytes).map_err(|error| format!("not JSON ({error})"))?;
    if state["format_version"].as_u64().is_none() || !state["resources"].is_object() {
        return Err("missing format_version or resources".to_owned());
    }
    match (state["lineage"].as_str(), state["serial"].as_u64()) {
        (Some(lineage), Some(serial)) if !lineage.is_empty() => Ok((lineage.to_owned(), serial)),
        _ => Err("missing lineage or serial".to_owned()),
    }
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

fn entries(map: &Value) -> impl Iterator<Item = (&String, &Value)> {
    map.as_object().into_iter().flatten()
}

fn values(map: &Value) -> impl Iterator<Item = &Value> {
    entries(map).map(|(_, value)| value)
}

fn keys(map: &Value) -> Vec<String> {
    entries(map).map(|(key, _)| key.clone()).collect()
}

const SUB: &str = "/subscriptions/s";
const CLUSTER: &str =
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks";

/// A world holding one of each kind vaultwire makes, and a seed role assignment.
fn sample_world() -> Value {
    let grant = |scope: &str| json!({"scope": scope, "principalId": "p", "roleDefinition": "r"});
    json!({
        "subscriptionId": "s",
        "vaults": {"kv": {"name": "kv", "resourceGroup": "rg"}},
        "roleAssignments": {"g1": grant("/v"), "seed": grant("/")},
        "clusters": {"aks": {"properties": {"addonProfiles": {
            "azureKeyvaultSecretsProvider": {"enabled": true},
        }}}},
        "kube": {"aks": {"store": {"objects": {
            "secretproviderclasses.secrets-store.csi.x-k8s.io": {"ns/spc": {}},
            "leases.coordination.k8s.io": {"kube-node-lease/node": {}},
        }}}},
    })
}

fn recorded_ids() -> Vec<String> {
    vec![
        format!("{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"),
        format!(
            "{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/providers/Microsoft.Authorization/roleAssignments/g1"
        ),
        CLUSTER.to_owned(),
        format!("{CLUSTER}/namespaces/ns/secretproviderclasses/spc"),
    ]
}

fn seed_assignments() -> BTreeSet<String> {
    BTreeSet::from(["seed".to_owned()])
}

#[test]
fn a_world_the_state_records_has_no_orphans_and_an_empty_state_leaves_all_of_it() {
    assert_eq!(
        orphans(&sample_world(), &recorded_ids(), &seed_assignments()),
        Vec::<String>::new()
    );
    assert_eq!(
        orphans(&sample_world(), &[], &seed_assignments()),
        [
            "vault `kv`",
            "role assignment `g1`",
            "SecretProviderClass `ns/spc` in `aks`",
            "the Key Vault add-on of `aks`, enabled",
        ]
    );
}

#[test]
fn a_lock_left_held_and_a_second_identical_grant_are_counted() {
    let mut world = sample_world();
    world["kube"]["aks"]["store"]["objects"]["leases.coordination.k8s.io"]["kube-system/vaultwire-lock"] =
        json!({});
    assert_eq!(
        orphans(&world, &recorded_ids(), &seed_assignments()),
        ["the run lock of `aks`, still held"]
    );
    assert_eq!(duplicate_grants(&world), 0);
    world["roleAssignments"]["g2"] =
        json!({"scope": "/V", "principalId": "P", "roleDefinition": "r"});
    assert_eq!(duplicate_grants(&world), 1);
}

fn state_bytes(lineage: &str, serial: u64) -> Vec<u8> {
    json!({"format_version": 1, "lineage": lineage, "serial": serial, "resources": {}})
        .to_string()
        .into_bytes()
}

#[test]
fn states_that_do_not_parse_rewind_or_trail_their_backup_are_corrupt() {
    let mut watch = StateWatch::default();
    assert!(watch.check(None, None).is_empty());
    assert!(
        watch
            .check(Some(&state_bytes("a", 2)), Some(&state_bytes("a", 1)))
            .is_empty()
    );
    // Stopped between keeping the backup and writing the next serial.
    assert!(
        watch
            .check(Some(&state_bytes("a", 2)), Some(&state_bytes("a", 2)))
            .is_empty()
    );
    assert_eq!(
        watch.check(Some(&state_bytes("a", 1)), Some(&state_bytes("a", 2))),
        [
            "the serial went back from 2 to 1",
            "the backup (a serial 2) is ahead of the state (a serial 1)"
        ]
    );
    assert_eq!(
        watch.check(Some(&state_bytes("b", 3)), None),
        ["the lineage changed from a to b"]
    );
    let wrong = watch.check(Some(b"{\"format_version\": 1"), Some(b"{}"));
    assert!(wrong[0].starts_with("the state is not JSON"), "{wrong:?}");
    assert_eq!(
        wrong[1],
        "the backup is missing format_version or resources"
    );
}
