//! Test data for the audit: the seeded sandbox cluster's objects, read through the emulator's
//! own list endpoints, so tests judge exactly the world the sandbox serves.

use http::{HeaderMap, Method};
use jiff::Timestamp;
use serde_json::Value;

use crate::audit::scan::{ClusterObjects, WorkloadKind, list_items};
use crate::sandbox::kube::{KubeCluster, KubeRequest};

/// A fixed "now", a few weeks after the seed's objects were created.
pub fn now() -> Timestamp {
    "2026-11-26T12:00:00Z".parse().expect("valid timestamp")
}

/// `GET path` (across all namespaces) on `cluster`, as JSON.
pub fn list(cluster: &mut KubeCluster, path: &str) -> Value {
    let headers = HeaderMap::new();
    let request = KubeRequest {
        method: &Method::GET,
        path,
        query: "",
        headers: &headers,
        body: &[],
    };
    let response = cluster.handle(&request, now());
    assert!(
        response.status.is_success(),
        "GET {path}: {}",
        response.status
    );
    response.json_body().expect("a JSON list")
}

/// The path that lists `kind` across all namespaces.
pub fn all_namespaces_path(kind: WorkloadKind) -> String {
    match kind.api() {
        ("", version, plural) => format!("/api/{version}/{plural}"),
        (group, version, plural) => format!("/apis/{group}/{version}/{plural}"),
    }
}

/// Every workload list and the Secrets of `cluster`.
pub fn objects_of(cluster: &mut KubeCluster) -> ClusterObjects {
    let mut objects = ClusterObjects::default();
    for kind in WorkloadKind::ALL {
        let items = list_items(&list(cluster, &all_namespaces_path(kind)));
        objects = objects.with(kind, items);
    }
    objects.with_secrets(list_items(&list(cluster, "/api/v1/secrets")))
}

/// The objects of the seeded `aks-demo`.
pub fn seeded_objects() -> ClusterObjects {
    objects_of(&mut KubeCluster::seeded("aks-demo"))
}

// --- plans, and Azure and cluster state as the audit gathers it ---------------------------------

use std::collections::BTreeSet;

use serde_json::json;

use crate::audit::gather::{ClusterData, Egress, Gathered, KubeData, SecretListing, VaultData};
use crate::plan::model::Plan;
use crate::providers::azure::aks::{AddonIdentity, LiveAddon};
use crate::providers::azure::keyvault::LiveVault;
use crate::providers::azure::rbac::RoleAssignment;
use crate::providers::kube::LiveSpc;
use crate::resources::context::{Context, Derived};

pub const SUBSCRIPTION: &str = crate::sandbox::ids::SUBSCRIPTION_ID;
pub const TENANT: &str = crate::sandbox::ids::TENANT_ID;
/// The add-on identity the tests' "applied" cluster has.
pub const ADDON_CLIENT_ID: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
pub const ADDON_OBJECT_ID: &str = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9";
pub const SECRETS_USER: &str = "4633458b-17de-408a-b874-0445c86b69e6";

pub use crate::plan::testing::{EXAMPLE_PLAN, example_plan, plan_from};

pub fn vault_id(name: &str) -> String {
    format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-demo/providers/Microsoft.KeyVault/vaults/{name}"
    )
}

/// The add-on, enabled with the tests' identity and rotation as given.
pub fn enabled_addon(rotation: Option<bool>) -> LiveAddon {
    LiveAddon {
        enabled: true,
        secret_rotation: rotation,
        rotation_poll_interval: Some("2m".to_owned()),
        identity: Some(AddonIdentity {
            client_id: ADDON_CLIENT_ID.to_owned(),
            object_id: ADDON_OBJECT_ID.to_owned(),
            resource_id: format!(
                "/subscriptions/{SUBSCRIPTION}/resourcegroups/MC_rg-demo_aks-demo_westeurope/providers/Microsoft.ManagedIdentity/userAssignedIdentities/azurekeyvaultsecretsprovider-aks-demo"
            ),
        }),
        workload_identity: true,
        issuer: None,
    }
}

/// A vault as ARM returns it, with `properties` merged over an RBAC vault's.
pub fn live_vault(name: &str, properties: serde_json::Value) -> LiveVault {
    let mut document = json!({
        "id": vault_id(name),
        "name": name,
        "location": "westeurope",
        "properties": {
            "tenantId": TENANT,
            "sku": {"family": "A", "name": "standard"},
            "enableRbacAuthorization": true,
            "enableSoftDelete": true,
            "softDeleteRetentionInDays": 7,
            "publicNetworkAccess": "Enabled",
            "vaultUri": format!("https://{name}.vault.azure.net/"),
        }
    });
    if let (Some(base), Some(extra)) = (
        document["properties"].as_object_mut(),
        properties.as_object(),
    ) {
        for (key, value) in extra {
            base.insert(key.clone(), value.clone());
        }
    }
    LiveVault::from_document(document).expect("a readable vault")
}

/// A live SecretProviderClass holding exactly `manifest`.
pub fn live_spc(manifest: serde_json::Value) -> LiveSpc {
    let text = |pointer: &str| {
        manifest
            .pointer(pointer)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    LiveSpc {
        namespace: text("/metadata/namespace"),
        name: text("/metadata/name"),
        resource_version: Some("42".to_owned()),
        managed_by_vaultwire: true,
        manifest,
    }
}

/// The manifest the plan renders for `spc.KEY` with the tests' add-on identity.
pub fn desired_spc(plan: &Plan, key: &str) -> serde_json::Value {
    let spc = &plan.spcs[key];
    let vault = &plan.vaults[spc.vault.as_str()];
    let mut derived = Derived::default();
    derived.addon_identities.insert(
        spc.addon.value.clone(),
        crate::resources::AddonIdentity {
            client_id: ADDON_CLIENT_ID.to_owned(),
            object_id: ADDON_OBJECT_ID.to_owned(),
            resource_id: String::new(),
        },
    );
    crate::resources::spc::manifest(spc, &vault.name, &Context::of(plan), &derived)
}

pub fn role_assignment(scope: &str, role: &str, principal: &str) -> RoleAssignment {
    RoleAssignment {
        id: format!("{scope}/providers/Microsoft.Authorization/roleAssignments/ra-1"),
        name: "ra-1".to_owned(),
        scope: scope.to_owned(),
        role_definition_id: format!(
            "/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{role}"
        ),
        principal_id: principal.to_owned(),
        principal_type: Some("ServicePrincipal".to_owned()),
    }
}

/// The Kubernetes data of `aks-demo` (`[addon.demo]`) in a world built here, to edit.
pub fn demo_kubernetes(gathered: &mut Gathered) -> &mut KubeData {
    gathered
        .clusters
        .get_mut("demo")
        .and_then(|cluster| cluster.kubernetes.as_mut())
        .expect("the demo cluster's Kubernetes data")
}

/// The outbound IP of the seeded sandbox's `aks-demo` (docs/sandbox.md).
pub const SEEDED_OUTBOUND_IP: &str = "20.21.107.155";

/// The OIDC issuer of the seeded sandbox's `aks-demo`.
pub const SEEDED_OIDC_ISSUER: &str = "https://westeurope.oic.prod-aks.azure.com/7c1e5a3b-2d4f-4e6a-8b9c-0d1e2f3a4b5c/0cd46cb0-5feb-5433-bb88-ff70ce15eee0/";

/// The seeded sandbox as it starts: `aks-demo` with the add-on disabled (so no
/// SecretProviderClass API), the seeded workloads, and no vault yet.
pub fn seeded_world(plan: &Plan) -> Gathered {
    let mut gathered = Gathered::default();
    gathered.clusters.insert(
        "demo".to_owned(),
        ClusterData {
            addon: Some(LiveAddon::default()),
            kubernetes: Some(KubeData {
                spcs: None,
                objects: seeded_objects(),
                failed_mounts: Vec::new(),
            }),
            egress: Some(Egress {
                addresses: vec![SEEDED_OUTBOUND_IP.to_owned()],
                subnets: Vec::new(),
            }),
            oidc_issuer: Some(SEEDED_OIDC_ISSUER.to_owned()),
        },
    );
    for key in plan.vaults.keys() {
        gathered.vaults.insert(key.clone(), VaultData::default());
    }
    gathered
}

/// The seeded sandbox after `vaultwire apply plans/example.toml` with the vault's secrets
/// created: the add-on on with rotation, both SecretProviderClasses as planned, the vault with
/// its grant, and the objects in the vault. The workloads are unchanged.
pub fn applied_world(plan: &Plan) -> Gathered {
    let mut gathered = seeded_world(plan);
    let spcs = plan
        .spcs
        .keys()
        .map(|key| live_spc(desired_spc(plan, key)))
        .collect();
    if let Some(cluster) = gathered.clusters.get_mut("demo") {
        cluster.addon = Some(enabled_addon(Some(true)));
        if let Some(kubernetes) = cluster.kubernetes.as_mut() {
            kubernetes.spcs = Some(spcs);
        }
    }
    let id = vault_id("kv-vaultwire-demo");
    gathered.vaults.insert(
        "payments".to_owned(),
        VaultData {
            vault: Some(live_vault(
                "kv-vaultwire-demo",
                json!({"enablePurgeProtection": false}),
            )),
            role_assignments: vec![role_assignment(&id, SECRETS_USER, ADDON_OBJECT_ID)],
            secrets: SecretListing::Listed(
                ["api-key", "db-password", "db-username", "shop-tls"]
                    .into_iter()
                    .map(str::to_owned)
                    .collect::<BTreeSet<_>>(),
            ),
        },
    );
    gathered
}

// --- a recording fake of the read-only source ----------------------------------------------------

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::audit::error::AuditError;
use crate::audit::gather::{AuditSource, LiveClusterFacts};
use crate::plan::model::{Addon, Identity, Vault};
use crate::providers::azure::aks::ClusterEgress;
use crate::providers::azure::msi::{FederatedCredential, LiveIdentity};

/// Serves a [`Gathered`] world through [`AuditSource`], by cluster and vault name, and records
/// every read.
#[derive(Debug, Default)]
pub struct FakeSource {
    addons: BTreeMap<String, Option<LiveAddon>>,
    egress: BTreeMap<String, Egress>,
    oidc_issuers: BTreeMap<String, String>,
    identities: BTreeMap<String, Option<Vec<FederatedCredential>>>,
    /// By identity name.
    managed_identities: BTreeMap<String, LiveIdentity>,
    kubernetes: BTreeMap<String, KubeData>,
    vaults: BTreeMap<String, VaultData>,
    pub reads: Mutex<Vec<String>>,
}

impl FakeSource {
    /// Serves `gathered`, keyed by the plan's keys, under the names `plan` gives them.
    pub fn serving(plan: &Plan, gathered: &Gathered) -> Self {
        let mut fake = Self::default();
        for (key, addon) in &plan.addons {
            let data = gathered.clusters.get(key).cloned().unwrap_or_default();
            fake.addons.insert(addon.cluster.value.clone(), data.addon);
            if let Some(egress) = data.egress {
                fake.egress.insert(addon.cluster.value.clone(), egress);
            }
            if let Some(issuer) = data.oidc_issuer {
                fake.oidc_issuers
                    .insert(addon.cluster.value.clone(), issuer);
            }
            if let Some(kubernetes) = data.kubernetes {
                fake.kubernetes
                    .insert(addon.cluster.value.clone(), kubernetes);
            }
        }
        for (key, vault) in &plan.vaults {
            let data = gathered.vaults.get(key).cloned().unwrap_or_default();
            fake.vaults.insert(vault.name.value.clone(), data);
        }
        fake.identities = gathered.identities.clone();
        fake
    }

    fn record(&self, read: String) {
        self.reads.lock().expect("not poisoned").push(read);
    }

    pub fn reads(&self) -> Vec<String> {
        self.reads.lock().expect("not poisoned").clone()
    }
}

impl AuditSource for FakeSource {
    async fn cluster(&self, addon: &Addon) -> Result<Option<LiveClusterFacts>, AuditError> {
        self.record(format!("cluster {}", addon.cluster.value));
        let egress = self
            .egress
            .get(addon.cluster.as_str())
            .cloned()
            .unwrap_or_default();
        let oidc_issuer = self.oidc_issuers.get(addon.cluster.as_str()).cloned();
        Ok(self
            .addons
            .get(addon.cluster.as_str())
            .cloned()
            .flatten()
            .map(|addon| LiveClusterFacts {
                addon,
                // The fake's outbound IP resources are named by their addresses.
                egress: ClusterEgress {
                    outbound_ip_ids: egress.addresses,
                    subnets: egress.subnets,
                },
                oidc_issuer,
            }))
    }

    async fn federated_credentials(
        &self,
        client_id: &str,
    ) -> Result<Option<Vec<FederatedCredential>>, AuditError> {
        self.record(format!("federated credentials {client_id}"));
        Ok(self.identities.get(client_id).cloned().flatten())
    }

    async fn managed_identity(
        &self,
        identity: &Identity,
    ) -> Result<Option<LiveIdentity>, AuditError> {
        self.record(format!("managed identity {}", identity.name.value));
        Ok(self.managed_identities.get(identity.name.as_str()).cloned())
    }

    async fn public_ip_addresses(&self, ids: &[String]) -> Result<Vec<String>, AuditError> {
        self.record(format!("public ips {}", ids.join(",")));
        Ok(ids.to_vec())
    }

    async fn kubernetes(&self, addon: &Addon) -> Result<KubeData, AuditError> {
        self.record(format!("kubernetes {}", addon.cluster.value));
        Ok(self
            .kubernetes
            .get(addon.cluster.as_str())
            .cloned()
            .unwrap_or_default())
    }

    async fn vault(&self, vault: &Vault) -> Result<Option<LiveVault>, AuditError> {
        self.record(format!("vault {}", vault.name.value));
        Ok(self
            .vaults
            .get(vault.name.as_str())
            .and_then(|data| data.vault.clone()))
    }

    async fn role_assignments(&self, vault: &LiveVault) -> Result<Vec<RoleAssignment>, AuditError> {
        self.record(format!("role assignments {}", vault.name));
        Ok(self
            .vaults
            .get(&vault.name)
            .map(|data| data.role_assignments.clone())
            .unwrap_or_default())
    }

    async fn secret_names(&self, vault: &LiveVault) -> Result<SecretListing, AuditError> {
        self.record(format!("secret names {}", vault.name));
        Ok(self
            .vaults
            .get(&vault.name)
            .map(|data| data.secrets.clone())
            .unwrap_or_default())
    }
}
