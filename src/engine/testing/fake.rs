//! An in-memory [`Backend`] for engine tests: a world of attribute maps, a journal of every
//! call, injectable failures and a lock table. It keeps the attribute conventions of the real
//! backend, so the engine cannot tell them apart.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::engine::backend::{
    AccessPolicyObservation, AddonObservation, Backend, BackendError, ClusterKey, ClusterRef,
    CredentialObservation, Delete, Found, IdentityKey, IdentityObservation, Live, Locks, ReadPlan,
    RoleAssignmentObservation, SpcObservation, VaultKey, VaultObservation, Write,
};
use crate::plan::address::{Address, ResourceKind};
use crate::resources::{AddonIdentity, IdentityIds};
use crate::state::model::{AttributeText, Attributes};

#[derive(Debug, Default)]
pub struct FakeWorld {
    pub vaults: BTreeMap<VaultKey, (String, Attributes)>,
    pub soft_deleted: BTreeSet<VaultKey>,
    pub access_policies: BTreeMap<VaultKey, Vec<AccessPolicyObservation>>,
    pub addons: BTreeMap<ClusterKey, (Attributes, Option<AddonIdentity>)>,
    pub role_assignments: Vec<RoleAssignmentObservation>,
    pub spcs: BTreeMap<ClusterKey, BTreeMap<(String, String), Value>>,
    pub identities: BTreeMap<IdentityKey, (Attributes, IdentityIds)>,
    /// Each identity's federated credentials by name (deleted with the identity).
    pub credentials: BTreeMap<IdentityKey, BTreeMap<String, Attributes>>,
    pub locks: BTreeMap<ClusterKey, String>,
    /// Every call, as `read`, `write vault.x`, `delete spc.y`, `lock`, `unlock`.
    pub journal: Vec<String>,
    /// Writes and deletes of these addresses fail.
    pub failing: BTreeSet<Address>,
    /// Writes of these addresses report success and change nothing (something undoes them).
    pub undone: BTreeSet<Address>,
    /// Identities handed out so far, to make new ones distinct.
    pub identity_counter: u32,
    /// What `mount_failures` reports, whatever the cluster and classes.
    pub mount_failures: Vec<crate::engine::backend::MountFailure>,
    /// Reads are handed over in this order: every SecretProviderClass list first, or last
    /// (the default, as over a network the lists come in after the Azure reads).
    pub lists_first: bool,
}

#[derive(Debug, Default)]
pub struct FakeBackend {
    pub world: Mutex<FakeWorld>,
    /// Runs once, when the next lock is taken: what another run does just before this one
    /// gets the lock.
    pub before_lock: LockHook,
}

#[derive(Default)]
pub struct LockHook(Mutex<Option<Box<dyn FnOnce() + Send>>>);

impl LockHook {
    pub fn set(&self, hook: impl FnOnce() + Send + 'static) {
        *self.0.lock().unwrap() = Some(Box::new(hook));
    }

    fn run(&self) {
        let hook = self.0.lock().unwrap().take();
        if let Some(hook) = hook {
            hook();
        }
    }
}

impl std::fmt::Debug for LockHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LockHook")
    }
}

impl FakeBackend {
    /// A world with the cluster `aks-demo` in `rg-demo`, its add-on disabled.
    pub fn with_cluster() -> Self {
        let backend = Self::default();
        backend.add_cluster("rg-demo", "aks-demo");
        backend
    }

    pub fn add_cluster(&self, resource_group: &str, name: &str) {
        let attributes: Attributes = [
            ("cluster", json!(name)),
            ("resource_group", json!(resource_group)),
            ("enabled", json!(false)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        self.world
            .lock()
            .unwrap()
            .addons
            .insert(ClusterKey::new(resource_group, name), (attributes, None));
    }

    pub fn journal(&self) -> Vec<String> {
        self.world.lock().unwrap().journal.clone()
    }

    /// What every read of `plan` finds in the world, Azure's first unless `lists_first`.
    fn observations(&self, plan: &ReadPlan) -> Vec<Found> {
        let mut world = self.world.lock().unwrap();
        world.journal.push("read".to_owned());
        let mut azure = Vec::new();
        let mut lists = Vec::new();
        for key in plan.vaults.keys() {
            let observation = match world.vaults.get(key) {
                Some((id, attributes)) => VaultObservation::Found {
                    id: id.clone(),
                    attributes: attributes.clone(),
                    access_policies: world.access_policies.get(key).cloned().unwrap_or_default(),
                    uri: Some(format!("https://{}.vault.azure.net/", key.name)),
                    version: None,
                },
                None => VaultObservation::Missing {
                    soft_deleted: world.soft_deleted.contains(key),
                },
            };
            azure.push(Found::Vault(key.clone(), observation));
        }
        for key in &plan.clusters {
            let addon = world
                .addons
                .get(key)
                .map(|(attributes, identity)| AddonObservation {
                    cluster_id: Self::cluster_id(key),
                    attributes: attributes.clone(),
                    identity: identity.clone(),
                    issuer: Self::issuer(key, attributes),
                    version: None,
                });
            azure.push(Found::Addon(key.clone(), addon));
        }
        for scope in &plan.role_assignment_scopes {
            let assignments = world
                .role_assignments
                .iter()
                .filter(|a| a.scope.eq_ignore_ascii_case(scope))
                .cloned()
                .collect();
            azure.push(Found::RoleAssignments(scope.clone(), assignments));
        }
        for key in &plan.identities {
            let identity = world
                .identities
                .get(key)
                .map(|(attributes, ids)| IdentityObservation {
                    id: Self::identity_id(key),
                    attributes: attributes.clone(),
                    ids: ids.clone(),
                });
            azure.push(Found::Identity(key.clone(), identity));
        }
        for key in &plan.credential_lists {
            let credentials = world
                .credentials
                .get(key)
                .into_iter()
                .flatten()
                .map(|(name, attributes)| CredentialObservation {
                    id: format!(
                        "{}/federatedIdentityCredentials/{name}",
                        Self::identity_id(key)
                    ),
                    name: name.clone(),
                    issuer: attributes.text("issuer").to_owned(),
                    subject: attributes.text("subject").to_owned(),
                    audiences: attributes
                        .get("audiences")
                        .and_then(|a| serde_json::from_value(a.clone()).ok())
                        .unwrap_or_default(),
                })
                .collect();
            azure.push(Found::Credentials(key.clone(), credentials));
        }
        for cluster in &plan.spc_clusters {
            let spcs = world
                .spcs
                .get(&cluster.key)
                .map(|spcs| {
                    spcs.iter()
                        .map(|((namespace, name), manifest)| SpcObservation {
                            namespace: namespace.clone(),
                            name: name.clone(),
                            manifest: manifest.clone(),
                            resource_version: None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            lists.push(Found::Spcs(cluster.key.clone(), spcs));
        }
        if world.lists_first {
            lists.into_iter().chain(azure).collect::<Vec<_>>()
        } else {
            azure.into_iter().chain(lists).collect()
        }
    }

    /// A cluster's issuer while its add-on says workload identity is on.
    fn issuer(key: &ClusterKey, attributes: &Attributes) -> Option<String> {
        (attributes.get("workload_identity") == Some(&json!(true)))
            .then(|| format!("https://oidc.example/{}/", key.name))
    }

    fn identity_id(key: &IdentityKey) -> String {
        format!(
            "/subscriptions/s/resourceGroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}",
            key.resource_group, key.name
        )
    }

    fn cluster_id(key: &ClusterKey) -> String {
        format!(
            "/subscriptions/s/resourceGroups/{}/providers/Microsoft.ContainerService/managedClusters/{}",
            key.resource_group, key.name
        )
    }
}

impl FakeBackend {
    /// Makes `write` in `world`.
    fn write_to(world: &mut FakeWorld, write: Write) -> Result<Live, BackendError> {
        let desired = write.desired;
        let mut derived = BTreeMap::new();
        let id = match write.address.kind {
            ResourceKind::Vault => {
                let key = VaultKey::new(desired.text("resource_group"), desired.text("name"));
                let id = format!(
                    "/subscriptions/s/resourceGroups/{}/providers/Microsoft.KeyVault/vaults/{}",
                    desired.text("resource_group"),
                    desired.text("name")
                );
                world.soft_deleted.remove(&key);
                world.vaults.insert(key, (id.clone(), desired.clone()));
                id
            }
            ResourceKind::Addon => {
                let key = ClusterKey::new(desired.text("resource_group"), desired.text("cluster"));
                world.identity_counter += 1;
                let counter = world.identity_counter;
                let Some((attributes, identity)) = world.addons.get_mut(&key) else {
                    return Err(BackendError::new("cluster not found"));
                };
                *attributes = desired.clone();
                if identity.is_none() {
                    *identity = Some(AddonIdentity {
                        client_id: format!("client-{counter}"),
                        object_id: format!("object-{counter}"),
                        resource_id: format!("identity-{counter}"),
                    });
                }
                if let Some(identity) = identity {
                    derived.insert("identity".to_owned(), json!(identity));
                }
                if let Some(issuer) = Self::issuer(&key, &desired) {
                    derived.insert("issuer".to_owned(), json!(issuer));
                }
                Self::cluster_id(&key)
            }
            ResourceKind::Identity => {
                let key = IdentityKey::new(desired.text("resource_group"), desired.text("name"));
                world.identity_counter += 1;
                let counter = world.identity_counter;
                let entry = world.identities.entry(key.clone()).or_insert_with(|| {
                    let ids = IdentityIds {
                        client_id: format!("mi-client-{counter}"),
                        principal_id: format!("mi-principal-{counter}"),
                    };
                    (Attributes::new(), ids)
                });
                entry.0 = desired.clone();
                derived.insert("client_id".to_owned(), json!(entry.1.client_id));
                derived.insert("principal_id".to_owned(), json!(entry.1.principal_id));
                Self::identity_id(&key)
            }
            ResourceKind::Federation => {
                let key =
                    IdentityKey::new(desired.text("resource_group"), desired.text("identity"));
                if !world.identities.contains_key(&key) {
                    return Err(BackendError::new("the identity does not exist"));
                }
                let name = desired.text("name").to_owned();
                let id = format!(
                    "{}/federatedIdentityCredentials/{name}",
                    Self::identity_id(&key)
                );
                world
                    .credentials
                    .entry(key)
                    .or_default()
                    .insert(name, desired.clone());
                id
            }
            ResourceKind::Grant if desired.text("mode") == "access-policy" => {
                let Some(vault) = VaultKey::from_id(desired.text("vault_id")) else {
                    return Err(BackendError::new("bad vault id"));
                };
                let object_id = desired.text("object_id").to_owned();
                let entries = world.access_policies.entry(vault).or_default();
                entries.retain(|entry| entry.object_id != object_id);
                entries.push(AccessPolicyObservation {
                    object_id: object_id.clone(),
                    tenant_id: desired.text("tenant_id").to_owned(),
                    permissions: desired.get("permissions").cloned().unwrap_or(Value::Null),
                });
                format!("{}/accessPolicies/{object_id}", desired.text("vault_id"))
            }
            ResourceKind::Grant => {
                let id = format!(
                    "{}/providers/Microsoft.Authorization/roleAssignments/{}",
                    desired.text("scope"),
                    write.address.key
                );
                world.role_assignments.push(RoleAssignmentObservation {
                    id: id.clone(),
                    scope: desired.text("scope").to_owned(),
                    role_definition_id: desired.text("role_definition_id").to_owned(),
                    principal_id: desired.text("principal_id").to_owned(),
                    principal_type: desired.text("principal_type").to_owned(),
                });
                id
            }
            ResourceKind::Spc => {
                let key = ClusterKey::new(desired.text("resource_group"), desired.text("cluster"));
                let enabled = world
                    .addons
                    .get(&key)
                    .and_then(|(a, _)| a.get("enabled"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                if !enabled {
                    return Err(BackendError::new(
                        "the SecretProviderClass CRD is not installed",
                    ));
                }
                let namespace = desired.text("namespace").to_owned();
                let name = desired.text("name").to_owned();
                world.spcs.entry(key.clone()).or_default().insert(
                    (namespace.clone(), name.clone()),
                    desired.get("manifest").cloned().unwrap_or(Value::Null),
                );
                format!(
                    "{}/namespaces/{namespace}/secretproviderclasses/{name}",
                    Self::cluster_id(&key)
                )
            }
        };
        Ok(Live {
            id,
            attributes: desired,
            derived,
            version: None,
        })
    }
}

impl Backend for FakeBackend {
    async fn read(
        &self,
        plan: &ReadPlan,
        _parallelism: usize,
        found: &mut (dyn FnMut(Found) + Send),
    ) -> Result<(), BackendError> {
        let order = self.observations(plan);
        // One at a time, as a real refresh's reads come in: the diff sees each before the next.
        for observation in order {
            found(observation);
            tokio::task::yield_now().await;
        }
        Ok(())
    }

    async fn write(&self, write: Write) -> Result<Live, BackendError> {
        let mut world = self.world.lock().unwrap();
        world.journal.push(format!("write {}", write.address));
        if world.failing.contains(&write.address) {
            return Err(BackendError::new(format!(
                "injected failure of `{}`",
                write.address
            )));
        }
        // Undone writes: what they change is put back once they have answered.
        let undo = world.undone.contains(&write.address).then(|| {
            (
                world.vaults.clone(),
                world.role_assignments.clone(),
                world.spcs.clone(),
            )
        });
        let live = Self::write_to(&mut world, write);
        if let Some((vaults, role_assignments, spcs)) = undo {
            world.vaults = vaults;
            world.role_assignments = role_assignments;
            world.spcs = spcs;
        }
        live
    }

    async fn delete(&self, delete: Delete) -> Result<(), BackendError> {
        let mut world = self.world.lock().unwrap();
        world.journal.push(format!("delete {}", delete.address));
        if world.failing.contains(&delete.address) {
            return Err(BackendError::new(format!(
                "injected failure of `{}`",
                delete.address
            )));
        }
        let attributes = &delete.state.attributes;
        match delete.address.kind {
            ResourceKind::Vault => {
                let key = VaultKey::new(attributes.text("resource_group"), attributes.text("name"));
                if delete.settings.on_destroy != crate::plan::model::OnDestroy::Retain {
                    world.vaults.remove(&key);
                    if delete.settings.on_destroy == crate::plan::model::OnDestroy::Delete {
                        world.soft_deleted.insert(key);
                    }
                }
            }
            ResourceKind::Addon => {
                let key = ClusterKey::new(
                    attributes.text("resource_group"),
                    attributes.text("cluster"),
                );
                if world.spcs.get(&key).is_some_and(|spcs| !spcs.is_empty()) {
                    return Err(BackendError::new("SecretProviderClasses still exist"));
                }
                if let Some((attributes, identity)) = world.addons.get_mut(&key) {
                    attributes.insert("enabled".to_owned(), json!(false));
                    *identity = None;
                }
            }
            ResourceKind::Grant => {
                let id = delete.state.id.clone();
                world.role_assignments.retain(|a| a.id != id);
                for entries in world.access_policies.values_mut() {
                    entries.retain(|e| !id.ends_with(&format!("/accessPolicies/{}", e.object_id)));
                }
            }
            ResourceKind::Identity => {
                if delete.settings.on_destroy != crate::plan::model::OnDestroy::Retain {
                    let key = IdentityKey::new(
                        attributes.text("resource_group"),
                        attributes.text("name"),
                    );
                    world.identities.remove(&key);
                    world.credentials.remove(&key);
                }
            }
            ResourceKind::Federation => {
                let key = IdentityKey::new(
                    attributes.text("resource_group"),
                    attributes.text("identity"),
                );
                if let Some(credentials) = world.credentials.get_mut(&key) {
                    credentials.remove(attributes.text("name"));
                }
            }
            ResourceKind::Spc => {
                let key = ClusterKey::new(
                    attributes.text("resource_group"),
                    attributes.text("cluster"),
                );
                if let Some(spcs) = world.spcs.get_mut(&key) {
                    spcs.remove(&(
                        attributes.text("namespace").to_owned(),
                        attributes.text("name").to_owned(),
                    ));
                }
            }
        }
        Ok(())
    }

    async fn lock(&self, clusters: &[ClusterRef], holder: &str) -> Result<Locks, BackendError> {
        self.before_lock.run();
        let mut world = self.world.lock().unwrap();
        world.journal.push("lock".to_owned());
        for cluster in clusters {
            if let Some(other) = world.locks.get(&cluster.key)
                && other != holder
            {
                return Err(BackendError::Locked {
                    cluster: cluster.key.name.clone(),
                    holder: other.clone(),
                    until: "2026-01-01T00:01:00Z".to_owned(),
                });
            }
        }
        for cluster in clusters {
            world.locks.insert(cluster.key.clone(), holder.to_owned());
        }
        Ok(Locks {
            clusters: clusters.to_vec(),
            holder: holder.to_owned(),
        })
    }

    async fn mount_failures(
        &self,
        _cluster: &ClusterRef,
        classes: &[(String, String)],
    ) -> Result<Vec<crate::engine::backend::MountFailure>, BackendError> {
        let world = self.world.lock().unwrap();
        Ok(world
            .mount_failures
            .iter()
            .filter(|failure| {
                classes.iter().any(|(namespace, class)| {
                    *namespace == failure.namespace && *class == failure.class
                })
            })
            .cloned()
            .collect())
    }

    async fn renew(&self, _locks: &Locks) -> Result<(), BackendError> {
        Ok(())
    }

    async fn unlock(&self, locks: &Locks) -> Result<(), BackendError> {
        let mut world = self.world.lock().unwrap();
        world.journal.push("unlock".to_owned());
        for cluster in &locks.clusters {
            world.locks.remove(&cluster.key);
        }
        Ok(())
    }
}
