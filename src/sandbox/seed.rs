//! The seeded world: the tenant, the subscription, `rg-demo`, the `aks-demo` cluster (with the
//! azurepolicy add-on on and the Key Vault add-on off), its node resource group and
//! identities, the deploying application and its Owner role at subscription scope.
//!
//! Everything derives from the seed, so two sandboxes with the same seed agree on every ID.

use std::collections::BTreeMap;

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::sandbox::ids;
use crate::sandbox::kube::KubeCluster;
use crate::sandbox::model::{App, ManagedCluster, ManagedIdentity, ResourceGroup, RoleAssignment};
use crate::sandbox::world::{World, derived_uuid};

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
    let cluster_id = format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ContainerService/managedClusters/{}",
        ids::SUBSCRIPTION_ID,
        ids::RESOURCE_GROUP,
        ids::CLUSTER
    );
    add_resource_group(&mut world, ids::NODE_RESOURCE_GROUP, Some(cluster_id));
    let policy = create_identity(
        &mut world,
        ids::NODE_RESOURCE_GROUP,
        &format!("azurepolicy-{}", ids::CLUSTER),
    );
    let kubelet = create_identity(
        &mut world,
        ids::NODE_RESOURCE_GROUP,
        &format!("{}-agentpool", ids::CLUSTER),
    );
    let cluster = demo_cluster(&world, &policy, &kubelet);
    world.clusters.insert(ids::CLUSTER.to_owned(), cluster);
    let mut kube = KubeCluster::seeded(ids::CLUSTER);
    kube.set_csi_driver_installed(false);
    world.kube.insert(ids::CLUSTER.to_owned(), kube);
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

fn add_resource_group(world: &mut World, name: &str, managed_by: Option<String>) {
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

/// `aks-demo`, shaped like the ManagedClustersGet spec example.
fn demo_cluster(
    world: &World,
    policy: &ManagedIdentity,
    kubelet: &ManagedIdentity,
) -> ManagedCluster {
    let sub = &world.subscription_id;
    let nrg = ids::NODE_RESOURCE_GROUP;
    let seed = world.seed;
    let properties = json!({
        "provisioningState": "Succeeded",
        "powerState": {"code": "Running"},
        "kubernetesVersion": KUBERNETES_VERSION,
        "currentKubernetesVersion": KUBERNETES_VERSION,
        "dnsPrefix": "aks-demo-dns",
        "fqdn": "aks-demo-dns-3k9x2b7q.hcp.westeurope.azmk8s.io",
        "azurePortalFQDN": "aks-demo-dns-3k9x2b7q.portal.hcp.westeurope.azmk8s.io",
        "agentPoolProfiles": [{
            "name": "nodepool1",
            "type": "VirtualMachineScaleSets",
            "availabilityZones": ["1", "2", "3"],
            "count": 3,
            "vmSize": "Standard_D4ds_v5",
            "osDiskSizeGB": 128,
            "osDiskType": "Ephemeral",
            "kubeletDiskType": "OS",
            "maxPods": 110,
            "osType": "Linux",
            "osSKU": "Ubuntu",
            "mode": "System",
            "enableAutoScaling": false,
            "enableNodePublicIP": false,
            "provisioningState": "Succeeded",
            "powerState": {"code": "Running"},
            "orchestratorVersion": KUBERNETES_VERSION,
            "currentOrchestratorVersion": KUBERNETES_VERSION,
            "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202511.03.0",
            "eTag": derived_uuid(seed, "aks-demo:nodepool1:etag"),
            "upgradeSettings": {"maxSurge": "10%"}
        }],
        "linuxProfile": {
            "adminUsername": "azureuser",
            "ssh": {"publicKeys": [{"keyData": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC0sandboxkey vaultwire-sandbox"}]}
        },
        "servicePrincipalProfile": {"clientId": "msi"},
        "addonProfiles": {
            "azurepolicy": {
                "enabled": true,
                "config": null,
                "identity": identity_block(world, policy)
            }
        },
        "nodeResourceGroup": nrg,
        "enableRBAC": true,
        "supportPlan": "KubernetesOfficial",
        "networkProfile": {
            "networkPlugin": "azure",
            "networkPluginMode": "overlay",
            "networkPolicy": "none",
            "networkDataplane": "azure",
            "loadBalancerSku": "standard",
            "loadBalancerProfile": {
                "managedOutboundIPs": {"count": 1},
                "effectiveOutboundIPs": [{
                    "id": format!("/subscriptions/{sub}/resourceGroups/{nrg}/providers/Microsoft.Network/publicIPAddresses/{}", derived_uuid(seed, "aks-demo:outbound-ip"))
                }],
                "allocatedOutboundPorts": 0,
                "idleTimeoutInMinutes": 30,
                "backendPoolType": "nodeIPConfiguration"
            },
            "podCidr": "10.244.0.0/16",
            "serviceCidr": "10.0.0.0/16",
            "dnsServiceIP": "10.0.0.10",
            "outboundType": "loadBalancer",
            "podCidrs": ["10.244.0.0/16"],
            "serviceCidrs": ["10.0.0.0/16"],
            "ipFamilies": ["IPv4"]
        },
        "maxAgentPools": 100,
        "aadProfile": {
            "managed": true,
            "enableAzureRBAC": false,
            "adminGroupObjectIDs": [],
            "tenantID": world.tenant_id
        },
        "identityProfile": {
            "kubeletidentity": identity_block(world, kubelet)
        },
        "autoUpgradeProfile": {"upgradeChannel": "patch", "nodeOSUpgradeChannel": "NodeImage"},
        "disableLocalAccounts": false,
        "securityProfile": {"workloadIdentity": {"enabled": true}},
        "oidcIssuerProfile": {
            "enabled": true,
            "issuerURL": format!("https://westeurope.oic.prod-aks.azure.com/{}/{}/", world.tenant_id, derived_uuid(seed, "aks-demo:oidc"))
        },
        "storageProfile": {
            "diskCSIDriver": {"enabled": true},
            "fileCSIDriver": {"enabled": true},
            "snapshotController": {"enabled": true}
        },
        "workloadAutoScalerProfile": {},
        "upgradeSettings": {"overrideSettings": {"forceUpgrade": false, "until": "2026-01-01T00:00:00Z"}},
        "resourceUID": derived_uuid(seed, "aks-demo:resource-uid").replace('-', "").get(..24).unwrap_or_default(),
        "nodeProvisioningProfile": {"mode": "Manual"},
        "bootstrapProfile": {"artifactSource": "Direct"}
    });
    ManagedCluster {
        name: ids::CLUSTER.to_owned(),
        resource_group: ids::RESOURCE_GROUP.to_owned(),
        location: ids::LOCATION.to_owned(),
        tags: BTreeMap::from([("environment".to_owned(), "sandbox".to_owned())]),
        sku: Some(json!({"name": "Base", "tier": "Free"})),
        identity: Some(json!({
            "type": "SystemAssigned",
            "principalId": derived_uuid(seed, "aks-demo:system-identity"),
            "tenantId": world.tenant_id
        })),
        properties: properties.as_object().cloned().unwrap_or_default(),
        etag: derived_uuid(seed, "aks-demo:etag"),
        operation: None,
    }
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
