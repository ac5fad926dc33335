//! A small generic directed acyclic graph: nodes, "depends on" edges, cycle detection with the
//! cycle's path, and deterministic topological orders.
//!
//! It knows nothing about resources; `graph::build` turns a plan into one. Determinism matters
//! because the orders are printed and tested: among nodes that are ready at the same time, the
//! smallest (by `Ord`) comes first.

use std::collections::{BTreeMap, BTreeSet};

/// A graph whose edge `a -> b` means "`a` depends on `b`" (so `b` is applied first).
#[derive(Debug, Clone)]
pub struct Dag<N: Ord + Clone> {
    /// Each node and the nodes it depends on.
    dependencies: BTreeMap<N, BTreeSet<N>>,
}

impl<N: Ord + Clone> Default for Dag<N> {
    fn default() -> Self {
        Self {
            dependencies: BTreeMap::new(),
        }
    }
}

/// The graph has a cycle; `path` starts and ends with the same node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle<N> {
    pub path: Vec<N>,
}

impl<N: Ord + Clone> Dag<N> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_node(&mut self, node: N) {
        self.dependencies.entry(node).or_default();
    }

    /// Records that `node` depends on `dependency`, adding either node if it is new.
    pub fn add_dependency(&mut self, node: N, dependency: N) {
        self.add_node(dependency.clone());
        self.dependencies
            .entry(node)
            .or_default()
            .insert(dependency);
    }

    pub fn contains(&self, node: &N) -> bool {
        self.dependencies.contains_key(node)
    }

    pub fn nodes(&self) -> impl Iterator<Item = &N> {
        self.dependencies.keys()
    }

    pub fn len(&self) -> usize {
        self.dependencies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dependencies.is_empty()
    }

    /// The nodes `node` depends on directly, in order.
    pub fn dependencies_of(&self, node: &N) -> impl Iterator<Item = &N> {
        self.dependencies.get(node).into_iter().flatten()
    }

    /// The nodes that depend on `node` directly, in order.
    pub fn dependents_of<'a>(&'a self, node: &'a N) -> impl Iterator<Item = &'a N> + 'a {
        self.dependencies
            .iter()
            .filter(move |(_, deps)| deps.contains(node))
            .map(|(dependent, _)| dependent)
    }

    /// Every edge as `(node, dependency)`, in order.
    pub fn edges(&self) -> impl Iterator<Item = (&N, &N)> {
        self.dependencies
            .iter()
            .flat_map(|(node, deps)| deps.iter().map(move |dep| (node, dep)))
    }

    /// `roots` and everything they depend on, transitively.
    pub fn closure(&self, roots: &[N]) -> BTreeSet<N> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<N> = roots.to_vec();
        while let Some(node) = stack.pop() {
            if seen.insert(node.clone()) {
                stack.extend(self.dependencies_of(&node).cloned());
            }
        }
        seen
    }

    /// The first cycle found, walking nodes in order, or `None` for an acyclic graph.
    pub fn find_cycle(&self) -> Option<Cycle<N>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            InProgress,
            Done,
        }
        let mut marks: BTreeMap<&N, Mark> = BTreeMap::new();
        for start in self.dependencies.keys() {
            if marks.contains_key(start) {
                continue;
            }
            // Iterative depth-first search; `path` is the current chain from `start`.
            let mut path: Vec<&N> = vec![start];
            let mut iterators = vec![self.dependencies_of(start)];
            marks.insert(start, Mark::InProgress);
            while let Some(iterator) = iterators.last_mut() {
                match iterator.next() {
                    Some(next) => match marks.get(next) {
                        Some(Mark::InProgress) => {
                            let from = path.iter().position(|node| *node == next).unwrap_or(0);
                            let mut cycle: Vec<N> =
                                path[from..].iter().map(|node| (*node).clone()).collect();
                            cycle.push(next.clone());
                            return Some(Cycle { path: cycle });
                        }
                        Some(Mark::Done) => {}
                        None => {
                            marks.insert(next, Mark::InProgress);
                            path.push(next);
                            iterators.push(self.dependencies_of(next));
                        }
                    },
                    None => {
                        iterators.pop();
                        if let Some(done) = path.pop() {
                            marks.insert(done, Mark::Done);
                        }
                    }
                }
            }
        }
        None
    }

    /// Dependencies before dependents: the apply order.
    pub fn topological_order(&self) -> Result<Vec<N>, Cycle<N>> {
        if let Some(cycle) = self.find_cycle() {
            return Err(cycle);
        }
        let mut remaining: BTreeMap<&N, usize> = self
            .dependencies
            .iter()
            .map(|(node, deps)| (node, deps.len()))
            .collect();
        let mut dependents: BTreeMap<&N, Vec<&N>> = BTreeMap::new();
        for (node, dep) in self.edges() {
            dependents.entry(dep).or_default().push(node);
        }
        let mut ready: BTreeSet<&N> = remaining
            .iter()
            .filter(|(_, count)| **count == 0)
            .map(|(node, _)| *node)
            .collect();
        let mut order = Vec::with_capacity(self.len());
        while let Some(node) = ready.pop_first() {
            order.push(node.clone());
            for dependent in dependents.get(node).into_iter().flatten() {
                if let Some(count) = remaining.get_mut(dependent) {
                    *count -= 1;
                    if *count == 0 {
                        ready.insert(dependent);
                    }
                }
            }
        }
        Ok(order)
    }

    /// Dependents before dependencies: the destroy order.
    pub fn reverse_topological_order(&self) -> Result<Vec<N>, Cycle<N>> {
        self.reversed().topological_order()
    }

    /// The same nodes with every edge turned around, so walking it destroys in order.
    pub fn reversed(&self) -> Dag<N> {
        let mut reversed: Dag<N> = Dag::new();
        for node in self.nodes() {
            reversed.add_node(node.clone());
        }
        for (node, dep) in self.edges() {
            reversed.add_dependency(dep.clone(), node.clone());
        }
        reversed
    }

    /// The subgraph of `keep`, with the edges between kept nodes.
    pub fn restricted_to(&self, keep: &BTreeSet<N>) -> Dag<N> {
        let mut subgraph: Dag<N> = Dag::new();
        for node in self.nodes().filter(|node| keep.contains(*node)) {
            subgraph.add_node(node.clone());
        }
        for (node, dep) in self.edges() {
            if keep.contains(node) && keep.contains(dep) {
                subgraph.add_dependency(node.clone(), dep.clone());
            }
        }
        subgraph
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dag(edges: &[(u8, u8)]) -> Dag<u8> {
        let mut dag = Dag::new();
        for (node, dep) in edges {
            dag.add_dependency(*node, *dep);
        }
        dag
    }

    #[test]
    fn orders_dependencies_first_and_breaks_ties_by_value() {
        let dag = dag(&[(3, 1), (3, 2), (4, 3), (5, 1)]);
        assert_eq!(dag.topological_order().unwrap(), [1, 2, 3, 4, 5]);
        assert_eq!(dag.reverse_topological_order().unwrap(), [4, 3, 2, 5, 1]);
    }

    #[test]
    fn reports_the_cycle_path() {
        let dag = dag(&[(1, 2), (2, 3), (3, 1), (0, 1)]);
        let cycle = dag.find_cycle().unwrap();
        assert_eq!(cycle.path, [1, 2, 3, 1]);
        assert_eq!(dag.topological_order().unwrap_err(), cycle);
    }

    #[test]
    fn reports_a_self_dependency() {
        let dag = dag(&[(7, 7)]);
        assert_eq!(dag.find_cycle().unwrap().path, [7, 7]);
    }

    #[test]
    fn closure_follows_dependencies_only() {
        let dag = dag(&[(3, 1), (3, 2), (4, 3), (5, 1)]);
        assert_eq!(dag.closure(&[3]), BTreeSet::from([1, 2, 3]));
    }

    proptest! {
        /// Edges only from larger to smaller numbers can never form a cycle; both orders must
        /// respect every edge and contain every node once.
        #[test]
        fn every_edge_is_respected_in_both_orders(
            edges in proptest::collection::vec((1u8..40, 0u8..40), 0..120)
        ) {
            let edges: Vec<(u8, u8)> = edges.into_iter().filter(|(a, b)| a > b).collect();
            let dag = dag(&edges);
            let apply = dag.topological_order().unwrap();
            let destroy = dag.reverse_topological_order().unwrap();
            prop_assert_eq!(apply.len(), dag.len());
            prop_assert_eq!(destroy.len(), dag.len());
            let position = |order: &[u8], node: u8| order.iter().position(|n| *n == node).unwrap();
            for (node, dep) in &edges {
                prop_assert!(position(&apply, *dep) < position(&apply, *node));
                prop_assert!(position(&destroy, *node) < position(&destroy, *dep));
            }
        }

        /// Any graph: either an order exists, or the reported path is a real cycle.
        #[test]
        fn a_reported_cycle_is_a_real_cycle(
            edges in proptest::collection::vec((0u8..12, 0u8..12), 0..40)
        ) {
            let dag = dag(&edges);
            match dag.topological_order() {
                Ok(order) => prop_assert_eq!(order.len(), dag.len()),
                Err(cycle) => {
                    prop_assert!(cycle.path.len() >= 2);
                    prop_assert_eq!(cycle.path.first(), cycle.path.last());
                    for pair in cycle.path.windows(2) {
                        prop_assert!(dag.dependencies_of(&pair[0]).any(|dep| *dep == pair[1]));
                    }
                }
            }
        }
    }
}
