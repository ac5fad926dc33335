//! Walking a DAG: run every node once its dependencies succeeded, up to `parallelism` at a
//! time in each lane; when one fails, skip what depends on it (reported once each, naming the
//! failure) and let work already in flight finish; when asked to stop, schedule nothing new.
//!
//! Lanes and weights are the caller's: apply gives each API server a lane (ARM, and each
//! cluster's Kubernetes API), so ten clusters take ten changes each at once while no server
//! gets more than `parallelism`; and weighs add-on changes (long-running operations) heavily,
//! so the ready node heading the heaviest chain — the critical path — starts first.
//!
//! A node holds its place in its lane ([`LaneSlot`]) while it works against its server, and may
//! give it back before it finishes — while it waits for the state file, say — so waiting on the
//! local disk never holds back the next request to a server.
//!
//! Generic on purpose and small: a node id, the graph and an async callback. What a node does,
//! and what it prints, is the caller's business.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::oneshot;
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

/// A running node's place in its lane. The lane takes the next node once the slot is
/// [released](Self::release) or dropped (when the node ends, at the latest).
#[derive(Debug)]
pub struct LaneSlot(Option<oneshot::Sender<()>>);

impl LaneSlot {
    /// Gives the place back: the node goes on, but no longer counts against its lane.
    pub fn release(&mut self) {
        if let Some(freed) = self.0.take() {
            // The walker stops listening only once every node has ended.
            let _ = freed.send(());
        }
    }
}

/// How a walk spreads its nodes over time.
pub struct Schedule<LaneOf, WeightOf, SerialOf> {
    /// At most this many nodes run at once in each lane.
    pub parallelism: usize,
    /// The lane of a node.
    pub lane_of: LaneOf,
    /// Whether a lane runs one node at a time, whatever the parallelism (writes a service
    /// refuses to take concurrently).
    pub serial: SerialOf,
    /// How long a node takes, roughly, relative to others. Among the ready nodes of a lane, the
    /// one heading the heaviest chain of nodes still to run starts first (the critical path),
    /// then the smallest.
    pub weight_of: WeightOf,
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
    let schedule = Schedule {
        parallelism,
        lane_of: |_: &N| (),
        weight_of: |_: &N| 0,
        serial: |_: &()| false,
    };
    walk_scheduled(dag, &schedule, stop, |node, slot| {
        let future = run(node);
        async move {
            // Held until the node ends.
            let _slot = slot;
            future.await
        }
    })
    .await
}

/// [`walk`] with lanes, critical-path priorities, and nodes that may give their place in the
/// lane back before they end.
pub async fn walk_scheduled<N, L, E, F, Fut>(
    dag: &Dag<N>,
    schedule: &Schedule<impl Fn(&N) -> L, impl Fn(&N) -> u64, impl Fn(&L) -> bool>,
    stop: &StopFlag,
    run: F,
) -> BTreeMap<N, NodeOutcome<N, E>>
where
    N: Ord + Clone + Send + 'static,
    L: Ord + Clone,
    E: Send + 'static,
    F: Fn(N, LaneSlot) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
{
    let parallelism = schedule.parallelism.max(1);
    let dependents = dependents(dag);
    let priority = priorities(dag, &dependents, &schedule.weight_of);
    let lanes: BTreeMap<N, L> = dag
        .nodes()
        .map(|node| (node.clone(), (schedule.lane_of)(node)))
        .collect();
    let mut outcomes: BTreeMap<N, NodeOutcome<N, E>> = BTreeMap::new();
    // Nodes waiting for dependencies, with how many are still to succeed.
    let mut pending: BTreeMap<N, usize> = BTreeMap::new();
    // Nodes whose dependencies all succeeded, per lane, most urgent first.
    let mut ready: BTreeMap<L, BTreeSet<(Reverse<u64>, N)>> = BTreeMap::new();
    let mut busy: BTreeMap<L, usize> = BTreeMap::new();
    let make_ready = |node: N, ready: &mut BTreeMap<L, BTreeSet<(Reverse<u64>, N)>>| {
        if let Some(lane) = lanes.get(&node) {
            let urgency = Reverse(priority.get(&node).copied().unwrap_or(0));
            ready
                .entry(lane.clone())
                .or_default()
                .insert((urgency, node));
        }
    };
    for node in dag.nodes() {
        match dag.dependencies_of(node).count() {
            0 => make_ready(node.clone(), &mut ready),
            count => {
                pending.insert(node.clone(), count);
            }
        }
    }
    let mut running: JoinSet<(N, Result<(), E>)> = JoinSet::new();
    // The lane of each slot given back (or dropped with its node).
    let mut freed = FuturesUnordered::new();
    loop {
        if !stop.is_stopped() {
            for (lane, queue) in &mut ready {
                let in_lane = busy.entry(lane.clone()).or_insert(0);
                let limit = if (schedule.serial)(lane) {
                    1
                } else {
                    parallelism
                };
                while *in_lane < limit {
                    let Some((_, node)) = queue.pop_first() else {
                        break;
                    };
                    *in_lane += 1;
                    let (slot, slot_freed) = oneshot::channel();
                    let lane = lane.clone();
                    freed.push(async move {
                        // Sent or dropped: either way the place is free.
                        let _ = slot_freed.await;
                        lane
                    });
                    let future = run(node.clone(), LaneSlot(Some(slot)));
                    running.spawn(async move { (node, future.await) });
                }
            }
        }
        let joined = tokio::select! {
            // Slots first: a node's slot is free before its task ends, so when the last
            // node has ended, the places it freed are counted (and the nodes waiting for
            // them started) before the walk can see nothing running and stop.
            biased;
            Some(lane) = freed.next() => {
                if let Some(in_lane) = busy.get_mut(&lane) {
                    *in_lane = in_lane.saturating_sub(1);
                }
                continue;
            }
            joined = running.join_next() => joined,
        };
        let Some(joined) = joined else {
            break;
        };
        let (node, result) = match joined {
            Ok(done) => done,
            // A panicking node cannot be attributed; its slot went with it. Stop scheduling
            // and report the rest.
            Err(_) => {
                stop.stop();
                continue;
            }
        };
        match result {
            Ok(()) => {
                for dependent in dependents.get(&node).into_iter().flatten() {
                    if let Some(count) = pending.get_mut(dependent) {
                        *count = count.saturating_sub(1);
                        if *count == 0 {
                            pending.remove(dependent);
                            make_ready(dependent.clone(), &mut ready);
                        }
                    }
                }
                outcomes.insert(node, NodeOutcome::Succeeded);
            }
            Err(error) => {
                skip_dependents(&dependents, &node, &mut pending, &mut outcomes);
                outcomes.insert(node, NodeOutcome::Failed(error));
            }
        }
    }
    let never_started = pending
        .into_keys()
        .chain(ready.into_values().flatten().map(|(_, node)| node));
    for node in never_started {
        outcomes.insert(node, NodeOutcome::NotStarted);
    }
    outcomes
}

/// Each node's direct dependents (the DAG stores dependencies; looking dependents up there
/// scans every node).
fn dependents<N: Ord + Clone>(dag: &Dag<N>) -> BTreeMap<N, Vec<N>> {
    let mut dependents: BTreeMap<N, Vec<N>> = BTreeMap::new();
    for (node, dependency) in dag.edges() {
        dependents
            .entry(dependency.clone())
            .or_default()
            .push(node.clone());
    }
    dependents
}

/// Each node's weight plus the heaviest chain of dependents after it.
fn priorities<N: Ord + Clone>(
    dag: &Dag<N>,
    dependents: &BTreeMap<N, Vec<N>>,
    weight_of: impl Fn(&N) -> u64,
) -> BTreeMap<N, u64> {
    let mut priority: BTreeMap<N, u64> = BTreeMap::new();
    // Backwards through the apply order, so a node's dependents come before it; a cycle
    // (refused before any walk) leaves the nodes at about their own weight.
    let order = dag
        .topological_order()
        .unwrap_or_else(|_| dag.nodes().cloned().collect());
    for node in order.iter().rev() {
        let after = dependents
            .get(node)
            .into_iter()
            .flatten()
            .filter_map(|dependent| priority.get(dependent))
            .max()
            .copied()
            .unwrap_or(0);
        priority.insert(node.clone(), weight_of(node).saturating_add(after));
    }
    priority
}

/// Marks everything that depends on `failed`, transitively, as skipped because of it.
fn skip_dependents<N: Ord + Clone, E>(
    dependents: &BTreeMap<N, Vec<N>>,
    failed: &N,
    pending: &mut BTreeMap<N, usize>,
    outcomes: &mut BTreeMap<N, NodeOutcome<N, E>>,
) {
    let mut stack = vec![failed.clone()];
    while let Some(node) = stack.pop() {
        for dependent in dependents.get(&node).into_iter().flatten() {
            if pending.remove(dependent).is_some() {
                outcomes.insert(
                    dependent.clone(),
                    NodeOutcome::Skipped {
                        failed_dependency: failed.clone(),
                    },
                );
                stack.push(dependent.clone());
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
        let schedule = Schedule {
            parallelism: 2,
            lane_of: |node: &u32| node % 3,
            weight_of: |_: &u32| 1,
            serial: |_: &u32| false,
        };
        let outcomes = walk_scheduled(&dag, &schedule, &stop, |node, slot| {
            let current = current.clone();
            async move {
                let _slot = slot;
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
        })
        .await;
        assert!(outcomes.values().all(|o| *o == NodeOutcome::Succeeded));
        let (_, lane_peak, _, total_peak) = *current.lock().unwrap();
        assert!(lane_peak <= 2, "{lane_peak} at once in one lane");
        assert!(
            total_peak > 2,
            "lanes did not run side by side ({total_peak} at once)"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_serial_lane_runs_one_node_at_a_time_beside_the_others() {
        let dag = dag(&[], &(0..12).collect::<Vec<_>>());
        // (running per lane, peak per lane)
        let current = Arc::new(Mutex::new((
            BTreeMap::<u32, usize>::new(),
            BTreeMap::<u32, usize>::new(),
        )));
        let stop = StopFlag::new();
        let schedule = Schedule {
            parallelism: 3,
            lane_of: |node: &u32| node % 3,
            weight_of: |_: &u32| 1,
            serial: |lane: &u32| *lane == 0,
        };
        walk_scheduled(&dag, &schedule, &stop, |node, slot| {
            let current = current.clone();
            async move {
                let _slot = slot;
                {
                    let mut c = current.lock().unwrap();
                    let in_lane = c.0.entry(node % 3).or_insert(0);
                    *in_lane += 1;
                    let in_lane = *in_lane;
                    let peak = c.1.entry(node % 3).or_insert(0);
                    *peak = (*peak).max(in_lane);
                }
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
                *current.lock().unwrap().0.entry(node % 3).or_insert(0) -= 1;
                Ok::<(), ()>(())
            }
        })
        .await;
        let peaks = current.lock().unwrap().1.clone();
        assert_eq!(peaks, BTreeMap::from([(0, 1), (1, 3), (2, 3)]));
    }

    /// One lane, one node at a time, every node of the same weight.
    fn one_lane_of_one() -> Schedule<impl Fn(&u32), impl Fn(&u32) -> u64, impl Fn(&()) -> bool> {
        Schedule {
            parallelism: 1,
            lane_of: |_: &u32| (),
            weight_of: |_: &u32| 1,
            serial: |_: &()| false,
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_node_that_gives_its_slot_back_lets_the_next_node_of_its_lane_start() {
        // One lane of one. Node 0 gives its slot back, then waits until node 1 has started:
        // had the slot stayed taken, node 1 could not start and the walk would never end.
        let dag = dag(&[], &[0, 1]);
        let schedule = one_lane_of_one();
        let started = Arc::new(tokio::sync::Notify::new());
        let stop = StopFlag::new();
        let walk = walk_scheduled(&dag, &schedule, &stop, |node, mut slot| {
            let started = started.clone();
            async move {
                if node == 0 {
                    slot.release();
                    started.notified().await;
                } else {
                    started.notify_one();
                }
                Ok::<(), ()>(())
            }
        });
        // Only a guard against hanging the test run: the walk ends at once when it works.
        let outcomes = tokio::time::timeout(std::time::Duration::from_secs(30), walk)
            .await
            .expect("node 1 never started: the released slot was not given to it");
        assert!(outcomes.values().all(|o| *o == NodeOutcome::Succeeded));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_node_holds_its_slot_until_it_ends_unless_it_gives_it_back() {
        // One lane of one: node 1 starts only after node 0 has ended.
        let dag = dag(&[], &[0, 1]);
        let schedule = one_lane_of_one();
        let log = Arc::new(Mutex::new(Vec::new()));
        walk_scheduled(&dag, &schedule, &StopFlag::new(), |node, slot| {
            let log = log.clone();
            async move {
                let _slot = slot;
                log.lock().unwrap().push(format!("{node} started"));
                tokio::task::yield_now().await;
                log.lock().unwrap().push(format!("{node} ended"));
                Ok::<(), ()>(())
            }
        })
        .await;
        assert_eq!(
            *log.lock().unwrap(),
            ["0 started", "0 ended", "1 started", "1 ended"]
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_ready_node_heading_the_heaviest_chain_starts_first() {
        // 1 <- 2 and 3 <- 4 in one lane of one. 1 is smaller, but 3 heads the heavier chain.
        let dag = dag(&[(2, 1), (4, 3)], &[]);
        let order = Arc::new(Mutex::new(Vec::new()));
        let schedule = Schedule {
            parallelism: 1,
            lane_of: |_: &u32| (),
            weight_of: |node: &u32| if *node == 3 { 10 } else { 1 },
            serial: |_: &()| false,
        };
        walk_scheduled(&dag, &schedule, &StopFlag::new(), |node, slot| {
            let order = order.clone();
            async move {
                let _slot = slot;
                order.lock().unwrap().push(node);
                Ok::<(), ()>(())
            }
        })
        .await;
        let order = order.lock().unwrap().clone();
        assert_eq!(order.first(), Some(&3), "{order:?}");
        assert_eq!(order.len(), 4);
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
