//! The seeded world: the tenant, the subscription, `rg-demo`, the `aks-demo` cluster (with the
//! azurepolicy add-on on and the Key Vault add-on off), its node resource group and
//! identities (the cluster itself is `seed_cluster.rs`), the deploying application and its
//! Owner role at subscription scope.
//!
//! Everything derives from the seed, so two sandboxes with the same seed agree on every ID.

use std::collections::BTreeMap;

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::ids;
use crate::model::{App, ManagedIdentity, ResourceGroup, RoleAssignment};
use crate::seed_cluster::add_cluster;
use crate::world::{World, derived_uuid};

/// When the seeded resources say they were created.
const SEED_TIME: jiff::Timestamp = jiff::Timestamp::constant(1_767_225_600, 0); // 2026-01-01

/// The Kubernetes version the seeded cluster runs (minor 32, like the emulated API server).
pub const KUBERNETES_VERSION: &str = "1.32.7";

/// The seeded world for `seed`.
pub fn seeded_world(seed: u64) -> World {
    let mut world = World::empty(seed);
    world.apps.insert(
        ids::CLIENT_ID.to_owned(),
        App {
            client_id: ids::CLIENT_ID.to_owned(),
            object_id: ids::CLIENT_OBJECT_ID.to_owned(),
            display_name: "vaultwire-deployer".to_owned(),
            secret_sha256: Some(secret_digest(ids::CLIENT_SECRET)),
            federated_subjects: vec![ids::FEDERATED_SUBJECT.to_owned()],
        },
    );
    add_resource_group(&mut world, ids::RESOURCE_GROUP, None);
    add_cluster(&mut world, ids::CLUSTER);
    world.role_assignments.insert(
        derived_uuid(seed, "role-assignment:deployer-owner"),
        RoleAssignment {
            name: derived_uuid(seed, "role-assignment:deployer-owner"),
            scope: format!("/subscriptions/{}", ids::SUBSCRIPTION_ID),
            role_definition: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635".to_owned(),
            principal_id: ids::CLIENT_OBJECT_ID.to_owned(),
            principal_type: "ServicePrincipal".to_owned(),
            description: Some(
                "vaultwire sandbox: the deploying application owns the subscription".to_owned(),
            ),
            condition: None,
            condition_version: None,
            created_on: SEED_TIME,
            updated_on: SEED_TIME,
            created_by: None,
        },
    );
    world
}

/// SHA-256 (hex) of a client secret, as [`App::secret_sha256`] stores it.
pub fn secret_digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

pub fn add_resource_group(world: &mut World, name: &str, managed_by: Option<String>) {
    world.resource_groups.insert(
        name.to_ascii_lowercase(),
        ResourceGroup {
            name: name.to_owned(),
            location: ids::LOCATION.to_owned(),
            tags: BTreeMap::new(),
            managed_by,
        },
    );
}

/// Creates (or re-creates) the user-assigned identity `name` in `resource_group`. Its IDs
/// derive from the seed, the resource ID and how many times it was created before.
pub fn create_identity(world: &mut World, resource_group: &str, name: &str) -> ManagedIdentity {
    let probe = ManagedIdentity {
        name: name.to_owned(),
        resource_group: resource_group.to_owned(),
        location: ids::LOCATION.to_owned(),
        client_id: String::new(),
        principal_id: String::new(),
        tags: Default::default(),
        created: None,
        credentials_busy_until: None,
        federated_credentials: Default::default(),
    };
    let key = probe
        .resource_id(&world.subscription_id)
        .to_ascii_lowercase();
    let generation = world.identity_generations.entry(key.clone()).or_insert(0);
    *generation += 1;
    let generation = *generation;
    let identity = ManagedIdentity {
        client_id: derived_uuid(world.seed, &format!("{key}#{generation}:clientId")),
        principal_id: derived_uuid(world.seed, &format!("{key}#{generation}:principalId")),
        ..probe
    };
    world.identities.insert(key, identity.clone());
    identity
}

/// The add-on identity block (`{resourceId, clientId, objectId}`) of an identity.
pub fn identity_block(world: &World, identity: &ManagedIdentity) -> serde_json::Value {
    json!({
        "resourceId": identity.resource_id(&world.subscription_id),
        "clientId": identity.client_id,
        "objectId": identity.principal_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_world_has_the_documented_fixed_identifiers() {
        let world = seeded_world(1);
        assert_eq!(world.tenant_id, ids::TENANT_ID);
        assert!(world.resource_groups.contains_key("rg-demo"));
        let cluster = world.cluster("RG-DEMO", "aks-demo").unwrap();
        assert!(cluster.addon_enabled("azurepolicy"));
        assert!(!cluster.addon_enabled("azureKeyvaultSecretsProvider"));
        assert_eq!(cluster.node_resource_group(), ids::NODE_RESOURCE_GROUP);
    }

    #[test]
    fn the_same_seed_gives_the_same_world_and_another_seed_other_ids() {
        let a = serde_json::to_string(&seeded_world(7)).unwrap();
        assert_eq!(a, serde_json::to_string(&seeded_world(7)).unwrap());
        assert_ne!(a, serde_json::to_string(&seeded_world(8)).unwrap());
    }
}
