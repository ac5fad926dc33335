//! How apply spreads a change set over time: the walk graph (creates and updates after their
//! dependencies, deletes before theirs) and the lane of each change (the API server it goes
//! to), which the walker bounds by `--parallelism` each. Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};

use crate::diff::action::Action;
use crate::diff::change::ResourceChange;
use crate::engine::backend::ClusterKey;
use crate::engine::observe::cluster_of;
use crate::engine::plan::Planned;
use crate::graph::{self, Dag};
use crate::plan::address::{Address, ResourceKind};
use crate::plan::model::Plan;
use crate::state::model::ResourceState;

/// The walk graph: creates and updates after their dependencies, deletes before theirs.
pub fn walk_graph(
    plan: &Plan,
    planned: &Planned,
    state: &BTreeMap<Address, ResourceState>,
) -> Dag<Address> {
    let plan_graph = graph::build(plan);
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

/// The API server a change goes to. `--parallelism` bounds the changes running at once on each
/// server: ARM, and the Kubernetes API of each cluster — independent servers, so a plan over
/// ten clusters applies their SecretProviderClasses ten at a time in each, as ten runs would.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lane {
    Arm,
    Kubernetes(ClusterKey),
}

pub fn lanes(
    plan: &Plan,
    base: &BTreeMap<Address, ResourceState>,
    dag: &Dag<Address>,
) -> BTreeMap<Address, Lane> {
    dag.nodes()
        .map(|address| {
            let lane = match address.kind {
                ResourceKind::Spc => cluster_of(plan, address, base.get(address))
                    .map_or(Lane::Arm, |cluster| Lane::Kubernetes(cluster.key)),
                _ => Lane::Arm,
            };
            (address.clone(), lane)
        })
        .collect()
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
    fn secret_provider_classes_go_to_their_cluster_and_everything_else_to_arm() {
        let plan = check(&PlanSource {
            name: "lanes.toml".into(),
            text: TWO_CLUSTERS.into(),
        })
        .plan
        .expect("a valid plan");
        let lanes = lanes(&plan, &BTreeMap::new(), &graph::build(&plan));
        let cluster = |name| Lane::Kubernetes(ClusterKey::new("rg-demo", name));
        let expected = BTreeMap::from([
            (Address::vault("kv"), Lane::Arm),
            (Address::addon("one"), Lane::Arm),
            (Address::addon("two"), Lane::Arm),
            (Address::grant("one-reads"), Lane::Arm),
            (Address::spc("a"), cluster("aks-one")),
            (Address::spc("b"), cluster("aks-two")),
        ]);
        assert_eq!(lanes, expected);
    }
}
