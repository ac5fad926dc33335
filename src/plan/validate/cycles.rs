//! Dependency cycles. The edges vaultwire infers (a grant after its vault and add-on, an SPC
//! after its add-on, vault and grants) never form one, so every cycle runs through a
//! `depends_on` entry; the caret goes on that entry and the message shows the whole path.

use std::collections::BTreeMap;

use crate::graph::Dag;
use crate::plan::address::Address;
use crate::plan::dependencies;
use crate::plan::diagnostic::Diagnostic;
use crate::plan::model::{Plan, Span};

pub(super) fn cycles(plan: &Plan, out: &mut Vec<Diagnostic>) {
    let mut explicit: BTreeMap<(Address, Address), Span> = BTreeMap::new();
    for (from, depends_on) in super::all::depends_on_lists(plan) {
        for dependency in depends_on {
            explicit
                .entry((from.clone(), dependency.value.clone()))
                .or_insert_with(|| dependency.span.clone());
        }
    }
    let mut dag = dependencies::build(plan);
    // Each round reports one cycle and drops the entry that closed it, so independent cycles
    // are all reported; there can be no more rounds than `depends_on` entries.
    for _ in 0..=explicit.len() {
        let Some(cycle) = dag.find_cycle() else {
            return;
        };
        let nodes = cycle.path.split_last().map_or(&[][..], |(_, nodes)| nodes);
        let closing = (0..nodes.len()).rev().find_map(|index| {
            let from = nodes.get(index)?;
            let to = nodes.get((index + 1) % nodes.len())?;
            let span = explicit.get(&(from.clone(), to.clone()))?;
            Some((index, from.clone(), to.clone(), span.clone()))
        });
        let Some((index, from, to, span)) = closing else {
            return;
        };
        // Start the path at the resource whose `depends_on` closes the cycle.
        let mut path: Vec<String> = nodes
            .iter()
            .cycle()
            .skip(index)
            .take(nodes.len())
            .map(ToString::to_string)
            .collect();
        path.push(from.to_string());
        let help = if from == to {
            "a resource cannot depend on itself: remove this `depends_on` entry"
        } else {
            "remove this `depends_on` entry: vaultwire already applies a grant after its vault \
             and add-on, and a SecretProviderClass after its add-on, vault and grants"
        };
        out.push(
            Diagnostic::error(
                "cycle",
                format!("dependency cycle: {}", path.join(" -> ")),
                span,
            )
            .with_label("this dependency closes the cycle")
            .with_help(help),
        );
        dag = without_edge(&dag, &from, &to);
    }
}

fn without_edge(dag: &Dag<Address>, from: &Address, to: &Address) -> Dag<Address> {
    let mut pruned = Dag::new();
    for node in dag.nodes() {
        pruned.add_node(node.clone());
    }
    for (node, dependency) in dag.edges() {
        if !(node == from && dependency == to) {
            pruned.add_dependency(node.clone(), dependency.clone());
        }
    }
    pruned
}
