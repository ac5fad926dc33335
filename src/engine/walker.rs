//! Walking a DAG: run every node once its dependencies succeeded, up to `parallelism` at a
//! time in each lane; when one fails, skip what depends on it (reported once each, naming the
//! failure) and let work already in flight finish; when asked to stop, schedule nothing new.
//!
//! Lanes are the caller's: apply gives each API server one (ARM, and each cluster's Kubernetes
//! API), so ten clusters take ten changes each at once while no server gets more than
//! `parallelism`.
//!
//! Generic on purpose and small: a node id, the graph and an async callback. What a node does,
//! and what it prints, is the caller's business.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::task::JoinSet;

use crate::graph::Dag;

/// How one node ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeOutcome<N, E> {
    Succeeded,
    Failed(E),
    /// Not run because this dependency (directly or through others) failed.
    Skipped {
        failed_dependency: N,
    },
    /// Not run because the walk was stopped (Ctrl-C).
    NotStarted,
}

/// A flag the walker checks before starting each node.
#[derive(Debug, Clone, Default)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Runs `run` for every node of `dag` in dependency order, up to `parallelism` at a time,
/// and returns each node's outcome.
///
/// Among nodes ready at the same time the smallest starts first, so runs are reproducible.
pub async fn walk<N, E, F, Fut>(
    dag: &Dag<N>,
    parallelism: usize,
    stop: &StopFlag,
    run: F,
) -> BTreeMap<N, NodeOutcome<N, E>>
where
    N: Ord + Clone + Send + 'static,
    E: Send + 'static,
    F: Fn(N) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
{
    walk_in_lanes(dag, parallelism, |_| (), stop, run).await
}

/// [`walk`] with up to `parallelism` nodes at a time in each lane (`lane_of` a node).
pub async fn walk_in_lanes<N, L, E, F, Fut>(
    dag: &Dag<N>,
    parallelism: usize,
    lane_of: impl Fn(&N) -> L,
    stop: &StopFlag,
    run: F,
) -> BTreeMap<N, NodeOutcome<N, E>>
where
    N: Ord + Clone + Send + 'static,
    L: Ord + Clone,
    E: Send + 'static,
    F: Fn(N) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
{
    let parallelism = parallelism.max(1);
    let mut outcomes: BTreeMap<N, NodeOutcome<N, E>> = BTreeMap::new();
    let mut waiting: BTreeMap<N, BTreeSet<N>> = dag
        .nodes()
        .map(|node| (node.clone(), dag.dependencies_of(node).cloned().collect()))
        .collect();
    let lanes: BTreeMap<N, L> = dag
        .nodes()
        .map(|node| (node.clone(), lane_of(node)))
        .collect();
    let mut busy: BTreeMap<L, usize> = BTreeMap::new();
    let mut running: JoinSet<(N, Result<(), E>)> = JoinSet::new();
    loop {
        if !stop.is_stopped() {
            let mut ready = Vec::new();
            for (node, deps) in &waiting {
                let Some(lane) = lanes.get(node) else {
                    continue;
                };
                let in_lane = busy.entry(lane.clone()).or_insert(0);
                if deps.is_empty() && *in_lane < parallelism {
                    *in_lane += 1;
                    ready.push(node.clone());
                }
            }
            for node in ready {
                waiting.remove(&node);
                let future = run(node.clone());
                running.spawn(async move { (node, future.await) });
            }
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (node, result) = match joined {
            Ok(done) => done,
            // A panicking node cannot be attributed (nor its lane freed); stop scheduling and
            // report the rest.
            Err(_) => {
                stop.stop();
                continue;
            }
        };
        if let Some(in_lane) = lanes.get(&node).and_then(|lane| busy.get_mut(lane)) {
            *in_lane = in_lane.saturating_sub(1);
        }
        match result {
            Ok(()) => {
                for deps in waiting.values_mut() {
                    deps.remove(&node);
                }
                outcomes.insert(node, NodeOutcome::Succeeded);
            }
            Err(error) => {
                skip_dependents(dag, &node, &mut waiting, &mut outcomes);
                outcomes.insert(node, NodeOutcome::Failed(error));
            }
        }
    }
    for (node, _) in waiting {
        outcomes.insert(node, NodeOutcome::NotStarted);
    }
    outcomes
}

/// Marks everything that depends on `failed`, transitively, as skipped because of it.
fn skip_dependents<N: Ord + Clone, E>(
    dag: &Dag<N>,
    failed: &N,
    waiting: &mut BTreeMap<N, BTreeSet<N>>,
    outcomes: &mut BTreeMap<N, NodeOutcome<N, E>>,
) {
    let mut stack = vec![failed.clone()];
    while let Some(node) = stack.pop() {
        let dependents: Vec<N> = dag.dependents_of(&node).cloned().collect();
        for dependent in dependents {
            if waiting.remove(&dependent).is_some() {
                outcomes.insert(
                    dependent.clone(),
                    NodeOutcome::Skipped {
                        failed_dependency: failed.clone(),
                    },
                );
                stack.push(dependent);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn dag(edges: &[(u32, u32)], nodes: &[u32]) -> Dag<u32> {
        let mut dag = Dag::new();
        for node in nodes {
            dag.add_node(*node);
        }
        for (node, dep) in edges {
            dag.add_dependency(*node, *dep);
        }
        dag
    }

    #[tokio::test]
    async fn runs_dependencies_first_and_everything_once() {
        let dag = dag(&[(2, 1), (3, 1), (4, 2), (4, 3)], &[5]);
        let log = Arc::new(Mutex::new(Vec::new()));
        let outcomes = walk(&dag, 2, &StopFlag::new(), |node| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push(node);
                Ok::<(), String>(())
            }
        })
        .await;
        assert!(outcomes.values().all(|o| *o == NodeOutcome::Succeeded));
        let log = log.lock().unwrap().clone();
        assert_eq!(log.len(), 5);
        let position = |n| log.iter().position(|x| *x == n).unwrap();
        assert!(position(1) < position(2) && position(1) < position(3));
        assert!(position(2) < position(4) && position(3) < position(4));
    }

    #[tokio::test]
    async fn a_failure_skips_its_dependents_once_and_lets_others_finish() {
        // 1 <- 2 <- 3, and an independent 4.
        let dag = dag(&[(2, 1), (3, 2)], &[4]);
        let outcomes = walk(&dag, 4, &StopFlag::new(), |node| async move {
            if node == 1 { Err("boom") } else { Ok(()) }
        })
        .await;
        assert_eq!(outcomes[&1], NodeOutcome::Failed("boom"));
        assert_eq!(
            outcomes[&2],
            NodeOutcome::Skipped {
                failed_dependency: 1
            }
        );
        assert_eq!(
            outcomes[&3],
            NodeOutcome::Skipped {
                failed_dependency: 1
            }
        );
        assert_eq!(outcomes[&4], NodeOutcome::Succeeded);
    }

    #[tokio::test]
    async fn never_runs_more_than_the_parallelism() {
        let dag = dag(&[], &(0..20).collect::<Vec<_>>());
        let current = Arc::new(Mutex::new((0usize, 0usize)));
        walk(&dag, 3, &StopFlag::new(), |_| {
            let current = current.clone();
            async move {
                {
                    let mut c = current.lock().unwrap();
                    c.0 += 1;
                    c.1 = c.1.max(c.0);
                }
                tokio::task::yield_now().await;
                current.lock().unwrap().0 -= 1;
                Ok::<(), ()>(())
            }
        })
        .await;
        let peak = current.lock().unwrap().1;
        assert!((1..=3).contains(&peak), "peak {peak}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn each_lane_runs_up_to_the_parallelism_and_lanes_run_side_by_side() {
        // Twelve nodes in lane `n % 3`: three lanes of four.
        let dag = dag(&[], &(0..12).collect::<Vec<_>>());
        // (running per lane, peak in any lane, running in all, peak in all)
        let current = Arc::new(Mutex::new((BTreeMap::<u32, usize>::new(), 0, 0, 0)));
        let stop = StopFlag::new();
        let outcomes = walk_in_lanes(
            &dag,
            2,
            |node| node % 3,
            &stop,
            |node| {
                let current = current.clone();
                async move {
                    {
                        let mut c = current.lock().unwrap();
                        let in_lane = c.0.entry(node % 3).or_insert(0);
                        *in_lane += 1;
                        let in_lane = *in_lane;
                        c.1 = c.1.max(in_lane);
                        c.2 += 1;
                        c.3 = c.3.max(c.2);
                    }
                    for _ in 0..3 {
                        tokio::task::yield_now().await;
                    }
                    let mut c = current.lock().unwrap();
                    *c.0.entry(node % 3).or_insert(0) -= 1;
                    c.2 -= 1;
                    Ok::<(), ()>(())
                }
            },
        )
        .await;
        assert!(outcomes.values().all(|o| *o == NodeOutcome::Succeeded));
        let (_, lane_peak, _, total_peak) = *current.lock().unwrap();
        assert!(lane_peak <= 2, "{lane_peak} at once in one lane");
        assert!(
            total_peak > 2,
            "lanes did not run side by side ({total_peak} at once)"
        );
    }

    #[tokio::test]
    async fn stopping_starts_nothing_new_but_finishes_what_runs() {
        let dag = dag(&[(2, 1), (3, 2)], &[]);
        let stop = StopFlag::new();
        let outcomes = walk(&dag, 1, &stop, |node| {
            let stop = stop.clone();
            async move {
                if node == 1 {
                    stop.stop();
                }
                Ok::<(), ()>(())
            }
        })
        .await;
        assert_eq!(outcomes[&1], NodeOutcome::Succeeded);
        assert_eq!(outcomes[&2], NodeOutcome::NotStarted);
        assert_eq!(outcomes[&3], NodeOutcome::NotStarted);
    }
}
