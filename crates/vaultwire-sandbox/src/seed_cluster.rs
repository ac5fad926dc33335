//! A seeded AKS cluster: `aks-demo`, and every extra cluster a sandbox is started with
//! (`SandboxOptions::extra_clusters`), each the same cluster under its own name — in `rg-demo`,
//! with its own node resource group, azurepolicy and kubelet identities, and a seeded
//! Kubernetes API with the Key Vault add-on (the CSI driver) off.
//!
//! Everything derives from the seed and the name, so two sandboxes agree on every ID. Owns the
//! cluster's shape only; the rest of the seed world is `seed.rs`.

use std::collections::BTreeMap;

use serde_json::json;

use crate::ids;
use crate::kube::KubeCluster;
use crate::model::{ManagedCluster, ManagedIdentity};
use crate::seed::{KUBERNETES_VERSION, add_resource_group, create_identity, identity_block};
use crate::world::{World, derived_uuid};

/// Whether `name` is a name AKS accepts: 1-63 letters, digits, `-` or `_`, starting and
/// ending with a letter or digit.
pub fn valid_cluster_name(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// `MC_rg-demo_<name>_westeurope`, as AKS names a cluster's node resource group.
pub fn node_resource_group(name: &str) -> String {
    format!("MC_{}_{name}_{}", ids::RESOURCE_GROUP, ids::LOCATION)
}

/// Adds the seeded cluster `name` to `world`; `false` (and no change) when a cluster of that
/// name exists already.
pub fn add_cluster(world: &mut World, name: &str) -> bool {
    let key = name.to_ascii_lowercase();
    if world.clusters.contains_key(&key) {
        return false;
    }
    let nrg = node_resource_group(name);
    let cluster_id = format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ContainerService/managedClusters/{name}",
        world.subscription_id,
        ids::RESOURCE_GROUP,
    );
    add_resource_group(world, &nrg, Some(cluster_id));
    let policy = create_identity(world, &nrg, &format!("azurepolicy-{name}"));
    let kubelet = create_identity(world, &nrg, &format!("{name}-agentpool"));
    let cluster = cluster_document(world, name, &nrg, &policy, &kubelet);
    world.clusters.insert(key.clone(), cluster);
    let mut kube = KubeCluster::seeded(name);
    kube.set_csi_driver_installed(false);
    world.kube.insert(key, kube);
    true
}

/// The cluster `name` in `rg-demo`, shaped like the ManagedClustersGet spec example.
fn cluster_document(
    world: &World,
    name: &str,
    nrg: &str,
    policy: &ManagedIdentity,
    kubelet: &ManagedIdentity,
) -> ManagedCluster {
    let sub = &world.subscription_id;
    let seed = world.seed;
    let lower = name.to_ascii_lowercase();
    let dns_prefix = format!("{lower}-dns");
    let fqdn_suffix: String = derived_uuid(seed, &format!("{lower}:fqdn"))
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect();
    let properties = json!({
        "provisioningState": "Succeeded",
        "powerState": {"code": "Running"},
        "kubernetesVersion": KUBERNETES_VERSION,
        "currentKubernetesVersion": KUBERNETES_VERSION,
        "dnsPrefix": dns_prefix,
        "fqdn": format!("{dns_prefix}-{fqdn_suffix}.hcp.{}.azmk8s.io", ids::LOCATION),
        "azurePortalFQDN": format!("{dns_prefix}-{fqdn_suffix}.portal.hcp.{}.azmk8s.io", ids::LOCATION),
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
            "eTag": derived_uuid(seed, &format!("{lower}:nodepool1:etag")),
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
                    "id": format!("/subscriptions/{sub}/resourceGroups/{nrg}/providers/Microsoft.Network/publicIPAddresses/{}", derived_uuid(seed, &format!("{lower}:outbound-ip")))
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
            "issuerURL": format!("https://westeurope.oic.prod-aks.azure.com/{}/{}/", world.tenant_id, derived_uuid(seed, &format!("{lower}:oidc")))
        },
        "storageProfile": {
            "diskCSIDriver": {"enabled": true},
            "fileCSIDriver": {"enabled": true},
            "snapshotController": {"enabled": true}
        },
        "workloadAutoScalerProfile": {},
        "upgradeSettings": {"overrideSettings": {"forceUpgrade": false, "until": "2026-01-01T00:00:00Z"}},
        "resourceUID": derived_uuid(seed, &format!("{lower}:resource-uid")).replace('-', "").get(..24).unwrap_or_default(),
        "nodeProvisioningProfile": {"mode": "Manual"},
        "bootstrapProfile": {"artifactSource": "Direct"}
    });
    ManagedCluster {
        name: name.to_owned(),
        resource_group: ids::RESOURCE_GROUP.to_owned(),
        location: ids::LOCATION.to_owned(),
        tags: BTreeMap::from([("environment".to_owned(), "sandbox".to_owned())]),
        sku: Some(json!({"name": "Base", "tier": "Free"})),
        identity: Some(json!({
            "type": "SystemAssigned",
            "principalId": derived_uuid(seed, &format!("{lower}:system-identity")),
            "tenantId": world.tenant_id
        })),
        properties: properties.as_object().cloned().unwrap_or_default(),
        etag: derived_uuid(seed, &format!("{lower}:etag")),
        operation: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::seeded_world;

    #[test]
    fn an_extra_cluster_is_aks_demo_under_another_name() {
        let mut world = seeded_world(1);
        assert!(add_cluster(&mut world, "aks-two"));
        let demo = world.cluster("rg-demo", "aks-demo").unwrap().clone();
        let two = world.cluster("rg-demo", "aks-two").unwrap();
        assert_eq!(two.node_resource_group(), "MC_rg-demo_aks-two_westeurope");
        assert!(two.addon_enabled("azurepolicy"));
        assert!(!two.addon_enabled("azureKeyvaultSecretsProvider"));
        assert_ne!(two.etag, demo.etag);
        assert!(
            world
                .resource_groups
                .contains_key("mc_rg-demo_aks-two_westeurope")
        );
        assert_eq!(
            world.kube.get("aks-two").map(KubeCluster::name),
            Some("aks-two")
        );
        assert_eq!(
            world
                .kube
                .get("aks-two")
                .map(KubeCluster::secret_provider_classes),
            Some(Vec::new())
        );
    }

    #[test]
    fn adding_a_cluster_that_exists_changes_nothing() {
        let mut world = seeded_world(1);
        let before = serde_json::to_string(&world).unwrap();
        assert!(!add_cluster(&mut world, "aks-demo"));
        assert_eq!(serde_json::to_string(&world).unwrap(), before);
    }

    #[test]
    fn cluster_names_follow_the_aks_rules() {
        for good in ["a", "aks-two", "aks_2", "A1"] {
            assert!(valid_cluster_name(good), "{good}");
        }
        for bad in ["", "-aks", "aks-", "aks.two", "aks two", &"a".repeat(64)] {
            assert!(!valid_cluster_name(bad), "{bad}");
        }
    }
}
