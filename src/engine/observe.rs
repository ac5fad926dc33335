//! From what a refresh read to what each address is live: pure matching of the batched
//! observations (vaults, add-ons, identities, role-assignment, credential and
//! SecretProviderClass lists) to
//! addresses, by the identifying attributes of the desired or recorded resource.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::engine::backend::{
    ClusterKey, ClusterRef, IdentityKey, Live, LiveWorld, ReadPlan, VaultKey, VaultObservation,
};
use crate::plan::address::{Address, ResourceKind};
use crate::resources::Context;
use crate::state::model::{AttributeText, Attributes, attribute_map};

/// What refresh found for one address.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observed {
    pub live: Option<Live>,
    /// A vault that is not live but soft-deleted under its name.
    pub soft_deleted: bool,
}

/// The vault a vault address or an access-policy grant refers to.
fn vault_key(address: &Address, attributes: &Attributes) -> Option<VaultKey> {
    match address.kind {
        ResourceKind::Vault => Some(VaultKey::new(
            attributes.text("resource_group"),
            attributes.text("name"),
        )),
        ResourceKind::Grant if attributes.text("mode") == "access-policy" => {
            VaultKey::from_id(attributes.text("vault_id"))
        }
        _ => None,
    }
}

/// The cluster an `addon` or `spc` address lives in: where the plan file puts it, else where
/// `recorded` (its state) says it is.
pub fn cluster_of(
    plan: &crate::plan::model::Plan,
    address: &Address,
    recorded: Option<&crate::state::model::ResourceState>,
) -> Option<ClusterRef> {
    match crate::resources::addon_of(plan, address) {
        Some(addon) => Some(ClusterRef {
            key: ClusterKey::new(&addon.resource_group.value, &addon.cluster.value),
            kube_context: addon
                .kube_context
                .as_ref()
                .map(|context| context.value.clone()),
        }),
        None => recorded.map(|record| ClusterRef::of(&record.attributes, &record.settings)),
    }
}

/// Adds what refreshing `address` needs to `plan`. `attributes` are the desired ones when the
/// address is in the plan file, else the state's.
pub fn add_reads(
    plan: &mut ReadPlan,
    address: &Address,
    attributes: &Attributes,
    settings: &Attributes,
) {
    match address.kind {
        ResourceKind::Vault => {
            if let Some(key) = vault_key(address, attributes) {
                let location = attributes
                    .get("location")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                plan.vaults.insert(key, location);
            }
        }
        ResourceKind::Addon => {
            plan.clusters
                .insert(ClusterRef::of(attributes, settings).key);
        }
        ResourceKind::Grant => match attributes.text("mode") {
            "access-policy" => {
                if let Some(key) = vault_key(address, attributes) {
                    plan.vaults.entry(key).or_insert(None);
                }
            }
            _ => {
                plan.role_assignment_scopes
                    .insert(attributes.text("scope").to_ascii_lowercase());
            }
        },
        ResourceKind::Spc => {
            plan.spc_clusters
                .insert(ClusterRef::of(attributes, settings));
        }
        ResourceKind::Identity => {
            plan.identities.insert(IdentityKey::new(
                attributes.text("resource_group"),
                attributes.text("name"),
            ));
        }
        ResourceKind::Federation => {
            plan.credential_lists
                .insert(credential_identity(attributes));
        }
    }
}

/// The identity a federated credential's attributes put it under.
fn credential_identity(attributes: &Attributes) -> IdentityKey {
    IdentityKey::new(
        attributes.text("resource_group"),
        attributes.text("identity"),
    )
}

/// Finds `address` in `world`. A SecretProviderClass's manifest is moved out of `world`, not
/// copied (copying hundreds of them was most of a refresh's matching): the one other address
/// that can find the same object — the old key of a SecretProviderClass renamed in the plan
/// file, still in the state — finds it [`taken`], and the caller copies it from the first.
pub fn observe(
    address: &Address,
    attributes: &Attributes,
    settings: &Attributes,
    world: &mut LiveWorld,
    context: &Context,
) -> Observed {
    match address.kind {
        ResourceKind::Vault => observe_vault(address, attributes, world),
        ResourceKind::Addon => observe_addon(attributes, settings, world),
        ResourceKind::Grant => match attributes.text("mode") {
            "access-policy" => observe_access_policy(address, attributes, world),
            _ => observe_role_assignment(attributes, world),
        },
        ResourceKind::Spc => observe_spc(attributes, settings, world, context),
        ResourceKind::Identity => observe_identity(attributes, world),
        ResourceKind::Federation => observe_credential(attributes, world),
    }
}

fn observe_identity(attributes: &Attributes, world: &LiveWorld) -> Observed {
    let key = IdentityKey::new(attributes.text("resource_group"), attributes.text("name"));
    let live = world.identities.get(&key).map(|identity| Live {
        id: identity.id.clone(),
        attributes: identity.attributes.clone(),
        derived: attribute_map([
            ("client_id", json!(identity.ids.client_id)),
            ("principal_id", json!(identity.ids.principal_id)),
        ]),
        version: None,
    });
    Observed {
        live,
        soft_deleted: false,
    }
}

fn observe_credential(attributes: &Attributes, world: &LiveWorld) -> Observed {
    let name = attributes.text("name");
    let live = world
        .credentials
        .get(&credential_identity(attributes))
        .and_then(|credentials| {
            credentials
                .iter()
                .find(|credential| credential.name.eq_ignore_ascii_case(name))
        })
        .map(|credential| Live {
            id: credential.id.clone(),
            attributes: attribute_map([
                ("resource_group", json!(attributes.text("resource_group"))),
                ("identity", json!(attributes.text("identity"))),
                ("name", json!(credential.name)),
                ("issuer", json!(credential.issuer)),
                ("subject", json!(credential.subject)),
                ("audiences", json!(credential.audiences)),
            ]),
            derived: BTreeMap::new(),
            version: None,
        });
    Observed {
        live,
        soft_deleted: false,
    }
}

fn observe_vault(address: &Address, attributes: &Attributes, world: &LiveWorld) -> Observed {
    let Some(key) = vault_key(address, attributes) else {
        return Observed::default();
    };
    match world.vaults.get(&key) {
        Some(VaultObservation::Found {
            id,
            attributes,
            uri,
            version,
            ..
        }) => Observed {
            live: Some(Live {
                id: id.clone(),
                attributes: attributes.clone(),
                derived: uri
                    .iter()
                    .map(|uri| ("uri".to_owned(), json!(uri)))
                    .collect(),
                version: version.clone(),
            }),
            soft_deleted: false,
        },
        Some(VaultObservation::Missing { soft_deleted }) => Observed {
            live: None,
            soft_deleted: *soft_deleted,
        },
        None => Observed::default(),
    }
}

fn observe_addon(attributes: &Attributes, settings: &Attributes, world: &LiveWorld) -> Observed {
    let key = ClusterRef::of(attributes, settings).key;
    let Some(addon) = world.addons.get(&key) else {
        return Observed::default();
    };
    let mut derived = BTreeMap::new();
    if let Some(identity) = &addon.identity
        && let Ok(value) = serde_json::to_value(identity)
    {
        derived.insert("identity".to_owned(), value);
    }
    if let Some(issuer) = &addon.issuer {
        derived.insert("issuer".to_owned(), json!(issuer));
    }
    let mut live_attributes = addon.attributes.clone();
    // The cluster's workload identity is the add-on's property only where the plan manages
    // it (it stays on when the add-on goes).
    if !attributes.contains_key("workload_identity") {
        live_attributes.remove("workload_identity");
    }
    Observed {
        live: Some(Live {
            id: addon.cluster_id.clone(),
            attributes: live_attributes,
            derived,
            version: addon.version.clone(),
        }),
        soft_deleted: false,
    }
}

/// The trailing GUID of a role definition ID, lowercase.
fn role_guid(id: &str) -> String {
    id.rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

fn observe_role_assignment(attributes: &Attributes, world: &LiveWorld) -> Observed {
    let scope = attributes.text("scope").to_ascii_lowercase();
    let principal = attributes.text("principal_id");
    let role = role_guid(attributes.text("role_definition_id"));
    let found = world.role_assignments.get(&scope).and_then(|assignments| {
        assignments.iter().find(|assignment| {
            assignment.scope.eq_ignore_ascii_case(&scope)
                && assignment.principal_id.eq_ignore_ascii_case(principal)
                && role_guid(&assignment.role_definition_id) == role
        })
    });
    let live = found.map(|assignment| Live {
        id: assignment.id.clone(),
        attributes: attribute_map([
            ("mode", json!("role-assignment")),
            ("scope", json!(attributes.text("scope"))),
            // Keep the desired spelling when the GUIDs agree, so case never shows as a diff.
            (
                "role_definition_id",
                json!(attributes.text("role_definition_id")),
            ),
            (
                "principal_id",
                json!(assignment.principal_id.to_ascii_lowercase()),
            ),
            ("principal_type", json!(assignment.principal_type)),
        ]),
        derived: BTreeMap::new(),
        version: None,
    });
    Observed {
        live,
        soft_deleted: false,
    }
}

fn observe_access_policy(
    address: &Address,
    attributes: &Attributes,
    world: &LiveWorld,
) -> Observed {
    let Some(key) = vault_key(address, attributes) else {
        return Observed::default();
    };
    let object_id = attributes.text("object_id");
    let live = match world.vaults.get(&key) {
        Some(VaultObservation::Found {
            id,
            access_policies,
            ..
        }) => access_policies
            .iter()
            .find(|entry| entry.object_id.eq_ignore_ascii_case(object_id))
            .map(|entry| Live {
                id: format!(
                    "{id}/accessPolicies/{}",
                    entry.object_id.to_ascii_lowercase()
                ),
                attributes: attribute_map([
                    ("mode", json!("access-policy")),
                    ("vault_id", json!(attributes.text("vault_id"))),
                    ("tenant_id", json!(entry.tenant_id.to_ascii_lowercase())),
                    ("object_id", json!(entry.object_id.to_ascii_lowercase())),
                    ("permissions", entry.permissions.clone()),
                ]),
                derived: BTreeMap::new(),
                version: None,
            }),
        _ => None,
    };
    Observed {
        live,
        soft_deleted: false,
    }
}

/// What a manifest moved out of a [`LiveWorld`] leaves behind; never a manifest itself (one is
/// always an object).
pub fn taken(manifest: &Value) -> bool {
    manifest.is_null()
}

fn observe_spc(
    attributes: &Attributes,
    settings: &Attributes,
    world: &mut LiveWorld,
    context: &Context,
) -> Observed {
    let cluster = ClusterRef::of(attributes, settings);
    let namespace = attributes.text("namespace");
    let name = attributes.text("name");
    let live = world.spcs.get_mut(&cluster.key).and_then(|spcs| {
        // Sorted by namespace and name (`LiveWorld::spcs`): thousands of lookups in a list of
        // thousands stay cheap.
        spcs.binary_search_by(|spc| {
            (spc.namespace.as_str(), spc.name.as_str()).cmp(&(namespace, name))
        })
        .ok()
        .and_then(|index| spcs.get_mut(index))
        .map(|spc| {
            let cluster_id = context.cluster_id(
                attributes.text("resource_group"),
                attributes.text("cluster"),
            );
            Live {
                id: format!("{cluster_id}/namespaces/{namespace}/secretproviderclasses/{name}"),
                attributes: attribute_map([
                    ("cluster", json!(attributes.text("cluster"))),
                    ("resource_group", json!(attributes.text("resource_group"))),
                    ("namespace", json!(namespace)),
                    ("name", json!(name)),
                    ("manifest", std::mem::take(&mut spc.manifest)),
                ]),
                derived: BTreeMap::new(),
                version: spc.resource_version.clone(),
            }
        })
    });
    Observed {
        live,
        soft_deleted: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::backend::SpcObservation;

    #[test]
    fn parses_vault_ids_case_insensitively() {
        assert_eq!(
            VaultKey::from_id(
                "/subscriptions/s/resourcegroups/RG-Demo/providers/Microsoft.KeyVault/vaults/KV"
            ),
            Some(VaultKey::new("rg-demo", "kv"))
        );
        assert_eq!(VaultKey::from_id("/subscriptions/s"), None);
    }

    #[test]
    fn a_secret_provider_class_is_found_by_namespace_and_name_among_many() {
        let spc = |namespace: &str, name: &str| SpcObservation {
            namespace: namespace.into(),
            name: name.into(),
            manifest: json!({"metadata": {"name": name, "namespace": namespace}}),
            resource_version: Some(format!("{namespace}/{name}")),
        };
        let key = ClusterKey::new("rg", "aks");
        let mut world = LiveWorld::default();
        world.spcs.insert(
            key,
            vec![spc("a", "x"), spc("b", "w"), spc("b", "y"), spc("c", "a")],
        );
        let find = |namespace: &str, name: &str| {
            let attributes: Attributes = attribute_map([
                ("cluster", json!("aks")),
                ("resource_group", json!("rg")),
                ("namespace", json!(namespace)),
                ("name", json!(name)),
            ]);
            observe(
                &Address::spc("s"),
                &attributes,
                &Attributes::new(),
                &mut world.clone(),
                &Context {
                    cloud: crate::plan::model::Cloud::Sandbox,
                    subscription_id: "s".into(),
                    tenant_id: "t".into(),
                },
            )
            .live
            .and_then(|live| live.version)
        };
        assert_eq!(find("b", "y").as_deref(), Some("b/y"));
        assert_eq!(find("c", "a").as_deref(), Some("c/a"));
        assert_eq!(find("b", "x"), None);
    }
}
