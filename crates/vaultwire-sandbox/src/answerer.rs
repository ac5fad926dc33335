//! When and where the sandbox answers: every answer is worked out on one thread, halfway
//! through the request's latency, in the order the answers fall due; the thread also says when
//! the whole latency has passed and the answer may go (see `server.rs`).
//!
//! One thread because the answers share one world (see `persist.rs`): a blocking thread per
//! request, all waking after the same latency, spent their time handing the world's
//! lock to one another — a refresh's burst of forty ARM reads took twice the work it held.
//! Due-order because a client sends what it needs first first (a cluster's credentials before
//! the reads beside them), and a real service's answers are not held up by later requests.
//! The thread waits on a condition variable, precise to a fraction of a millisecond: tokio's
//! timer rounds a sleep up to the next millisecond and its wake-up, under load, later still,
//! which added one to three milliseconds to every answer of a latency meant to be 20.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use crate::instance::lock;

/// Work to run once its answer is due; it sends the answer itself.
type Job = Box<dyn FnOnce() + Send>;

/// The answering thread. Dropping it stops the thread after the job it is running; jobs still
/// queued are dropped, which their waiters see as a cancelled answer.
pub struct Answerer {
    queue: Arc<Queue>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Default)]
struct Queue {
    jobs: Mutex<Jobs>,
    changed: Condvar,
}

#[derive(Default)]
struct Jobs {
    due: BinaryHeap<Reverse<Due>>,
    /// Breaks ties between jobs due at the same instant: first come, first answered.
    next: u64,
    stopping: bool,
}

struct Due {
    at: Instant,
    order: u64,
    job: Job,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}

impl Eq for Due {}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Due {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.order).cmp(&(other.at, other.order))
    }
}

impl Answerer {
    pub fn start() -> std::io::Result<Self> {
        let queue = Arc::new(Queue::default());
        let worker = queue.clone();
        let thread = std::thread::Builder::new()
            .name("vaultwire-sandbox-answers".to_owned())
            .spawn(move || worker.run())?;
        Ok(Self {
            queue,
            thread: Some(thread),
        })
    }

    /// Runs `job` on the answering thread at `at` (at once if that has passed), after every
    /// job due earlier.
    fn at(&self, at: Instant, job: impl FnOnce() + Send + 'static) {
        let mut jobs = lock(&self.queue.jobs);
        let order = jobs.next;
        jobs.next += 1;
        jobs.due.push(Reverse(Due {
            at,
            order,
            job: Box::new(job),
        }));
        drop(jobs);
        self.queue.changed.notify_one();
    }

    /// Runs `job` on the answering thread at `at` (queued now, waited for by the future) and
    /// returns what it returns; `None` when the answerer stopped first or the job panicked.
    pub fn answer_at<R: Send + 'static>(
        &self,
        at: Instant,
        job: impl FnOnce() -> R + Send + 'static,
    ) -> impl Future<Output = Option<R>> + Send + 'static {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        self.at(at, move || {
            // The waiter is gone only when its connection closed: nothing to send to.
            let _ = sender.send(job());
        });
        async move { receiver.await.ok() }
    }

    /// Resolves at `at` (at once if it has passed), after every job due earlier: when an
    /// answer worked out before its time may go. Precise where tokio's timer is not.
    pub fn until(&self, at: Instant) -> impl Future<Output = ()> + Send + 'static {
        let due = self.answer_at(at, || ());
        async move {
            due.await;
        }
    }
}

impl Queue {
    fn run(&self) {
        let mut jobs = lock(&self.jobs);
        loop {
            if jobs.stopping {
                return;
            }
            let now = Instant::now();
            let Some(Reverse(next)) = jobs.due.peek() else {
                jobs = self
                    .changed
                    .wait(jobs)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                continue;
            };
            if next.at > now {
                let wait = next.at - now;
                jobs = self
                    .changed
                    .wait_timeout(jobs, wait)
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .0;
                continue;
            }
            let Some(Reverse(due)) = jobs.due.pop() else {
                continue;
            };
            drop(jobs);
            // A handler's bug costs its own request an answer (its waiter sees none), not
            // every later one: the thread carries on.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(due.job));
            jobs = lock(&self.jobs);
        }
    }
}

impl std::fmt::Debug for Answerer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answerer").finish_non_exhaustive()
    }
}

impl Drop for Answerer {
    fn drop(&mut self) {
        lock(&self.queue.jobs).stopping = true;
        self.queue.changed.notify_one();
        // A job holds the sandbox (and so this answerer) while it runs: the last one to let go
        // drops it on the answering thread itself, which must not wait for itself.
        if let Some(thread) = self.thread.take()
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn jobs_run_in_the_order_they_fall_due_not_the_order_they_came() {
        let answerer = Answerer::start().unwrap();
        let start = Instant::now();
        let order = Arc::new(Mutex::new(Vec::new()));
        let record = |name: &'static str| {
            let order = order.clone();
            move || lock(&order).push(name)
        };
        let later = answerer.answer_at(start + Duration::from_millis(40), record("later"));
        let sooner = answerer.answer_at(start + Duration::from_millis(20), record("sooner"));
        let (later, sooner) = tokio::join!(later, sooner);
        assert_eq!((later, sooner), (Some(()), Some(())));
        assert_eq!(*lock(&order), ["sooner", "later"]);
        assert!(start.elapsed() >= Duration::from_millis(40));
    }

    #[tokio::test]
    async fn jobs_due_together_run_first_come_first_answered() {
        let answerer = Answerer::start().unwrap();
        let at = Instant::now() + Duration::from_millis(10);
        let order = Arc::new(Mutex::new(Vec::new()));
        let waits: Vec<_> = (0..5)
            .map(|i| {
                let order = order.clone();
                answerer.answer_at(at, move || lock(&order).push(i))
            })
            .collect();
        futures::future::join_all(waits).await;
        assert_eq!(*lock(&order), [0, 1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn the_last_holder_of_the_answerer_may_be_one_of_its_jobs() {
        let answerer = Arc::new(Answerer::start().unwrap());
        let held = answerer.clone();
        let done = answerer.answer_at(Instant::now(), move || drop(held));
        drop(answerer);
        assert_eq!(done.await, Some(()));
    }

    #[tokio::test]
    async fn a_job_that_panics_loses_its_answer_and_the_next_job_still_runs() {
        let answerer = Answerer::start().unwrap();
        let now = Instant::now();
        let failed = answerer.answer_at(now, || -> () { panic!("a handler's bug") });
        let next = answerer.answer_at(now, || "answered");
        assert_eq!(failed.await, None);
        assert_eq!(next.await, Some("answered"));
    }

    #[tokio::test]
    async fn a_job_not_yet_due_when_the_answerer_stops_is_cancelled() {
        let answerer = Answerer::start().unwrap();
        let waiting = answerer.answer_at(Instant::now() + Duration::from_secs(60), || ());
        drop(answerer);
        assert_eq!(waiting.await, None);
    }
}
