//! The sandbox's world: everything ARM, Entra, Key Vault and the clusters' APIs store, as one
//! serializable value.
//!
//! Owns the shape, lookups and deterministic ID generation. It does no I/O (`persist.rs`
//! stores it) and no HTTP (handlers change it).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::kube::KubeCluster;
use crate::model::{
    App, DeletedVault, ManagedCluster, ManagedIdentity, Operation, PodMount, ResourceGroup,
    RoleAssignment, Vault,
};

/// Bumped when the stored shape changes incompatibly; `sandbox reset` rewrites it.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct World {
    pub format_version: u32,
    /// The seed the world was created from; IDs of new resources derive from it.
    pub seed: u64,
    pub tenant_id: String,
    pub subscription_id: String,
    /// Applications by lower-cased client ID.
    pub apps: BTreeMap<String, App>,
    /// Resource groups by lower-cased name.
    pub resource_groups: BTreeMap<String, ResourceGroup>,
    /// Vaults by lower-cased name (names are global, like their DNS names).
    pub vaults: BTreeMap<String, Vault>,
    pub deleted_vaults: BTreeMap<String, DeletedVault>,
    /// Managed clusters by lower-cased name. The sandbox keeps cluster names unique across
    /// resource groups because its Kubernetes URLs carry only the name.
    pub clusters: BTreeMap<String, ManagedCluster>,
    /// Each cluster's Kubernetes API, by lower-cased cluster name.
    pub kube: BTreeMap<String, KubeCluster>,
    /// User-assigned identities by lower-cased resource ID.
    pub identities: BTreeMap<String, ManagedIdentity>,
    /// How many times each identity (by lower-cased resource ID) was created; its IDs derive
    /// from this so a re-created identity gets new IDs, reproducibly.
    pub identity_generations: BTreeMap<String, u32>,
    /// Role assignments by lower-cased name (a GUID).
    pub role_assignments: BTreeMap<String, RoleAssignment>,
    pub operations: BTreeMap<String, Operation>,
    /// The kubelet's Secrets Store CSI mounts, by `cluster/namespace/pod/uid` (`kubelet.rs`).
    /// Absent from worlds written before mounts were emulated.
    #[serde(default)]
    pub mounts: BTreeMap<String, PodMount>,
    /// Counter behind [`World::next_uuid`].
    pub counter: u64,
    /// Set by whatever changes the world while answering a read (the kubelet), so the store
    /// saves it all the same. Never stored.
    #[serde(skip)]
    pub touched: bool,
    /// Each cluster's API revision when the kubelet last looked at all its pods; it looks again
    /// only when the cluster changed or a retry is due. Never stored: a world read from disk is
    /// looked at afresh.
    #[serde(skip)]
    pub kubelet_seen: BTreeMap<String, u64>,
}

impl World {
    /// An empty world for `seed`; `seed.rs` fills it.
    pub fn empty(seed: u64) -> Self {
        Self {
            format_version: FORMAT_VERSION,
            seed,
            tenant_id: crate::ids::TENANT_ID.to_owned(),
            subscription_id: crate::ids::SUBSCRIPTION_ID.to_owned(),
            apps: BTreeMap::new(),
            resource_groups: BTreeMap::new(),
            vaults: BTreeMap::new(),
            deleted_vaults: BTreeMap::new(),
            clusters: BTreeMap::new(),
            kube: BTreeMap::new(),
            identities: BTreeMap::new(),
            identity_generations: BTreeMap::new(),
            role_assignments: BTreeMap::new(),
            operations: BTreeMap::new(),
            mounts: BTreeMap::new(),
            counter: 0,
            touched: false,
            kubelet_seen: BTreeMap::new(),
        }
    }

    /// A fresh UUID, reproducible from the seed and the number of IDs handed out so far.
    pub fn next_uuid(&mut self, purpose: &str) -> String {
        self.counter += 1;
        derived_uuid(self.seed, &format!("{purpose}#{}", self.counter))
    }

    /// The object ID behind a client ID or object ID of an app or managed identity.
    pub fn principal_type(&self, object_id: &str) -> Option<&'static str> {
        let object_id = object_id.to_ascii_lowercase();
        if self
            .apps
            .values()
            .any(|app| app.object_id.eq_ignore_ascii_case(&object_id))
            || self
                .identities
                .values()
                .any(|identity| identity.principal_id.eq_ignore_ascii_case(&object_id))
        {
            Some("ServicePrincipal")
        } else {
            None
        }
    }

    /// The cluster named `name` in resource group `resource_group`.
    pub fn cluster(&self, resource_group: &str, name: &str) -> Option<&ManagedCluster> {
        self.clusters
            .get(&name.to_ascii_lowercase())
            .filter(|cluster| cluster.resource_group.eq_ignore_ascii_case(resource_group))
    }

    pub fn vault(&self, resource_group: &str, name: &str) -> Option<&Vault> {
        self.vaults
            .get(&name.to_ascii_lowercase())
            .filter(|vault| vault.resource_group.eq_ignore_ascii_case(resource_group))
    }

    pub fn vault_id(&self, vault: &Vault) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.KeyVault/vaults/{}",
            self.subscription_id, vault.resource_group, vault.name
        )
    }

    /// Whether `scope` names something that exists: the tenant root, the subscription, a
    /// resource group, or a vault or cluster in one. Other resource types are taken on trust.
    pub fn scope_exists(&self, scope: &str) -> bool {
        let segments = crate::exchange::segments(scope);
        let lower: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
        let words: Vec<&str> = lower.iter().map(String::as_str).collect();
        match words.as_slice() {
            [] => true,
            ["subscriptions", sub, rest @ ..] => {
                if !sub.eq_ignore_ascii_case(&self.subscription_id) {
                    return false;
                }
                match rest {
                    [] => true,
                    ["resourcegroups", rg, more @ ..] => {
                        if !self.resource_groups.contains_key(*rg) {
                            return false;
                        }
                        match more {
                            [] => true,
                            ["providers", "microsoft.keyvault", "vaults", name] => {
                                self.vault(rg, name).is_some()
                            }
                            [
                                "providers",
                                "microsoft.containerservice",
                                "managedclusters",
                                name,
                            ] => self.cluster(rg, name).is_some(),
                            _ => true,
                        }
                    }
                    _ => true,
                }
            }
            _ => false,
        }
    }
}

/// A UUID (v5) derived from `seed` and `text`: the same inputs always give the same ID.
pub fn derived_uuid(seed: u64, text: &str) -> String {
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6c1f_2b7e_5a3d_4e8f_9b0a_1c2d_3e4f_5a6b);
    uuid::Uuid::new_v5(&NAMESPACE, format!("{seed}:{text}").as_bytes()).to_string()
}

/// Whether scope `outer` is `inner` or one of its ancestors (case-insensitive, on segment
/// boundaries). The tenant root `/` is above everything.
pub fn scope_contains(outer: &str, inner: &str) -> bool {
    let outer = outer.trim_end_matches('/').to_ascii_lowercase();
    let inner = inner.trim_end_matches('/').to_ascii_lowercase();
    outer.is_empty()
        || inner == outer
        || inner
            .strip_prefix(&outer)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_depend_only_on_seed_and_text() {
        assert_eq!(derived_uuid(1, "a"), derived_uuid(1, "a"));
        assert_ne!(derived_uuid(1, "a"), derived_uuid(2, "a"));
        assert_ne!(derived_uuid(1, "a"), derived_uuid(1, "b"));
    }

    #[test]
    fn scopes_contain_their_descendants_on_segment_boundaries() {
        assert!(scope_contains(
            "/subscriptions/S",
            "/subscriptions/s/resourceGroups/rg"
        ));
        assert!(scope_contains("/", "/subscriptions/s"));
        assert!(scope_contains("/subscriptions/s/", "/subscriptions/s"));
        assert!(!scope_contains(
            "/subscriptions/s/resourceGroups/rg",
            "/subscriptions/s/resourceGroups/rg2"
        ));
        assert!(!scope_contains(
            "/subscriptions/s/resourceGroups/rg",
            "/subscriptions/s"
        ));
    }
}
