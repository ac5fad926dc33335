//! How apply spreads a change set over time: the walk graph (creates and updates after their
//! dependencies, deletes before theirs) and the lane of each change (the API server it goes
//! to), which the walker bounds by `--parallelism` each. Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};

use crate::diff::action::Action;
use crate::diff::change::ResourceChange;
use crate::engine::backend::{ClusterKey, IdentityKey};
use crate::engine::observe::cluster_of;
use crate::engine::plan::Planned;
use crate::graph::Dag;
use crate::plan::address::{Address, ResourceKind};
use crate::plan::dependencies;
use crate::plan::model::{Authorization, Plan};
use crate::state::model::ResourceState;

/// The walk graph: creates and updates after their dependencies, deletes before theirs.
pub fn walk_graph(
    plan: &Plan,
    planned: &Planned,
    state: &BTreeMap<Address, ResourceState>,
) -> Dag<Address> {
    let plan_graph = dependencies::build(plan);
    let mut dag = Dag::new();
    let deleting: BTreeSet<&Address> = planned
        .change_set
        .changes
        .iter()
        .filter(|change| change.action == Action::Delete)
        .map(|change| &change.address)
        .collect();
    for change in &planned.change_set.changes {
        dag.add_node(change.address.clone());
    }
    for change in &planned.change_set.changes {
        let address = &change.address;
        if deleting.contains(address) {
            // Whatever depended on this must be deleted first.
            for (dependent, record) in state {
                if record.dependencies.contains(address) && deleting.contains(dependent) {
                    dag.add_dependency(address.clone(), dependent.clone());
                }
            }
        } else {
            for dependency in plan_graph.dependencies_of(address) {
                if dag.contains(dependency) && !deleting.contains(dependency) {
                    dag.add_dependency(address.clone(), dependency.clone());
                }
            }
        }
    }
    dag
}

/// The service a change goes to. `--parallelism` bounds the changes running at once on each:
/// the Key Vault, AKS and authorization resource providers behind ARM (each with its own
/// limits in Azure, none loaded by another's long-running operations), and the Kubernetes API
/// of each cluster — independent servers, so a plan over ten clusters applies their
/// SecretProviderClasses ten at a time in each, as ten runs would.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lane {
    /// Vaults and access-policy grants (`Microsoft.KeyVault`).
    KeyVault,
    /// Add-ons (`Microsoft.ContainerService`).
    ContainerService,
    /// Role-assignment grants (`Microsoft.Authorization`).
    Authorization,
    /// Managed identities (`Microsoft.ManagedIdentity`).
    ManagedIdentity,
    /// The federated credentials of one identity: Azure refuses concurrent writes under one
    /// identity (`ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity`), so
    /// this lane is serial; other identities' credentials go in parallel.
    Credentials(IdentityKey),
    Kubernetes(ClusterKey),
}

impl Lane {
    /// Whether the lane's changes run one at a time.
    pub fn serial(&self) -> bool {
        matches!(self, Lane::Credentials(_))
    }
}

pub fn lanes(
    plan: &Plan,
    base: &BTreeMap<Address, ResourceState>,
    dag: &Dag<Address>,
) -> BTreeMap<Address, Lane> {
    dag.nodes()
        .map(|address| {
            let recorded = base.get(address);
            let lane = match address.kind {
                ResourceKind::Vault => Lane::KeyVault,
                ResourceKind::Addon => Lane::ContainerService,
                ResourceKind::Grant if is_access_policy(plan, address, recorded) => Lane::KeyVault,
                ResourceKind::Grant => Lane::Authorization,
                ResourceKind::Identity => Lane::ManagedIdentity,
                ResourceKind::Federation => {
                    Lane::Credentials(credential_identity(plan, address, recorded))
                }
                ResourceKind::Spc => cluster_of(plan, address, recorded)
                    .map_or(Lane::ContainerService, |cluster| {
                        Lane::Kubernetes(cluster.key)
                    }),
            };
            (address.clone(), lane)
        })
        .collect()
}

/// The identity a federated credential is under: as the plan file says, else as the state
/// recorded it.
fn credential_identity(
    plan: &Plan,
    address: &Address,
    recorded: Option<&ResourceState>,
) -> IdentityKey {
    let from_plan = plan
        .federations
        .get(&address.key)
        .and_then(|federation| plan.identities.get(federation.identity.as_str()))
        .map(|identity| IdentityKey::new(&identity.resource_group, &identity.name));
    from_plan.unwrap_or_else(|| {
        let text = |key: &str| {
            recorded
                .and_then(|record| record.attributes.get(key))
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
        };
        IdentityKey::new(text("resource_group"), text("identity"))
    })
}

/// Whether a grant is an access-policy entry (on an access-policy vault) rather than a role
/// assignment: as the plan file says, else as the state recorded it.
fn is_access_policy(plan: &Plan, address: &Address, recorded: Option<&ResourceState>) -> bool {
    let from_plan = plan
        .grants
        .get(&address.key)
        .and_then(|grant| plan.vaults.get(grant.vault.as_str()))
        .map(|vault| vault.authorization.value == Authorization::AccessPolicies);
    from_plan.unwrap_or_else(|| {
        recorded
            .and_then(|record| record.attributes.get("mode"))
            .and_then(serde_json::Value::as_str)
            == Some("access-policy")
    })
}

/// How long a change takes, roughly, for the walker's critical-path priority: an add-on
/// change is a long-running AKS operation (minutes in Azure), everything else one or a few
/// requests. So ready add-ons start before vaults in the same lane, and the SecretProviderClasses
/// waiting on them are not held up by work that could have waited.
pub fn weight(address: &Address, change: Option<&ResourceChange>) -> u64 {
    let changes = change.is_some_and(|change| change.action.is_change());
    match address.kind {
        ResourceKind::Addon if changes => 20,
        _ if changes => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{PlanSource, check};

    const TWO_CLUSTERS: &str = r#"
version = 1
[target]
cloud = "sandbox"
subscription_id = "3f2a1b4c-5d6e-4f70-8192-a3b4c5d6e7f8"
tenant_id = "7c1e5a3b-2d4f-4e6a-8b9c-0d1e2f3a4b5c"

[vault.kv]
name = "kv-lanes"
resource_group = "rg-demo"
location = "westeurope"

[addon.one]
cluster = "aks-one"
resource_group = "rg-demo"

[addon.two]
cluster = "aks-two"
resource_group = "rg-demo"

[grant.one-reads]
vault = "kv"
principal = { addon = "one" }
role = "Key Vault Secrets User"

[vault.ap]
name = "kv-lanes-ap"
resource_group = "rg-demo"
location = "westeurope"
authorization = "access-policies"

[grant.two-reads-ap]
vault = "ap"
principal = { addon = "two" }
secret_permissions = ["get"]

[spc.a]
addon = "one"
namespace = "payments"
vault = "kv"
identity = { addon = "one" }
objects = [ { name = "x", type = "secret" } ]

[spc.b]
addon = "two"
namespace = "payments"
vault = "kv"
identity = { addon = "two" }
objects = [ { name = "x", type = "secret" } ]
"#;

    #[test]
    fn each_change_goes_to_its_service_and_secret_provider_classes_to_their_cluster() {
        let plan = check(&PlanSource {
            name: "lanes.toml".into(),
            text: TWO_CLUSTERS.into(),
        })
        .plan
        .expect("a valid plan");
        let lanes = lanes(&plan, &BTreeMap::new(), &dependencies::build(&plan));
        let cluster = |name| Lane::Kubernetes(ClusterKey::new("rg-demo", name));
        let expected = BTreeMap::from([
            (Address::vault("kv"), Lane::KeyVault),
            (Address::addon("one"), Lane::ContainerService),
            (Address::addon("two"), Lane::ContainerService),
            (Address::vault("ap"), Lane::KeyVault),
            (Address::grant("one-reads"), Lane::Authorization),
            (Address::grant("two-reads-ap"), Lane::KeyVault),
            (Address::spc("a"), cluster("aks-one")),
            (Address::spc("b"), cluster("aks-two")),
        ]);
        assert_eq!(lanes, expected);
    }
}
