//! Apply and destroy progress as Terraform users know it: a line when each resource starts
//! and when it finishes (with its duration), "Still waiting… [Ns elapsed]" while a
//! long-running operation runs, and — only on a terminal — a spinner line showing what is in
//! flight (indicatif's, cut to the terminal's width; a pipe never sees it).
//!
//! An approved run's plan is written by the reporter too ([`ProgressReporter::print_first`]),
//! on a thread of its own: the changes start as soon as the run lock is held, while a slow
//! reader (a CI log, a pipe) is still taking the plan in, and their lines are held back until
//! the plan is out — the output reads exactly as if the plan had been written first.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::diff::action::Action;
use crate::engine::events::{Event, Reporter};
use crate::plan::address::Address;

/// Prints events to stdout; draws a spinner on stderr when it is a terminal.
pub struct ProgressReporter {
    inner: Arc<Inner>,
    spinner: Option<std::thread::JoinHandle<()>>,
    /// The thread writing the plan, if one is.
    printing: Mutex<Option<std::thread::JoinHandle<()>>>,
}

struct Inner {
    state: Mutex<State>,
    stopped: AtomicBool,
    /// Where lines go (stdout). Taken after `state` when both are needed.
    out: Mutex<Box<dyn Write + Send>>,
}

#[derive(Default)]
struct State {
    in_flight: BTreeMap<Address, Instant>,
    /// The spinner while it is on screen.
    spinner: Option<ProgressBar>,
    /// Lines held back while the plan is being written.
    held: Option<Vec<String>>,
}

impl ProgressReporter {
    /// `spinner`: draw the in-flight line (only when stderr is a terminal and colour is on).
    pub fn new(spinner: bool) -> Self {
        Self::writing_to(Box::new(std::io::stdout()), spinner)
    }

    fn writing_to(out: Box<dyn Write + Send>, spinner: bool) -> Self {
        let inner = Arc::new(Inner {
            state: Mutex::new(State::default()),
            stopped: AtomicBool::new(false),
            out: Mutex::new(out),
        });
        let spinner = spinner.then(|| {
            let inner = inner.clone();
            std::thread::spawn(move || spin(&inner))
        });
        Self {
            inner,
            spinner,
            printing: Mutex::new(None),
        }
    }

    /// Writes `text` (the plan) on a thread of its own and returns at once; events reported
    /// meanwhile are written after it, in order.
    pub fn print_first(&self, text: String) {
        if let Ok(mut state) = self.inner.state.lock() {
            state.held.get_or_insert_with(Vec::new);
            hide_spinner(&mut state);
        }
        let inner = self.inner.clone();
        let thread = std::thread::spawn(move || {
            if let Ok(mut out) = inner.out.lock() {
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
            let Ok(mut state) = inner.state.lock() else {
                return;
            };
            let held = state.held.take().unwrap_or_default();
            if let Ok(mut out) = inner.out.lock() {
                for line in held {
                    let _ = writeln!(out, "{line}");
                }
                let _ = out.flush();
            }
        });
        if let Ok(mut printing) = self.printing.lock()
            && let Some(earlier) = printing.replace(thread)
        {
            let _ = earlier.join();
        }
    }

    /// Returns once the plan [`ProgressReporter::print_first`] started is written.
    pub fn printed(&self) {
        let thread = self
            .printing
            .lock()
            .ok()
            .and_then(|mut printing| printing.take());
        if let Some(thread) = thread
            && let Err(panic) = thread.join()
        {
            std::panic::resume_unwind(panic);
        }
    }
}

impl Drop for ProgressReporter {
    fn drop(&mut self) {
        // Never exit with half a plan written.
        if let Some(thread) = self.printing.get_mut().ok().and_then(Option::take) {
            let _ = thread.join();
        }
        self.inner.stopped.store(true, Ordering::SeqCst);
        if let Some(spinner) = self.spinner.take() {
            let _ = spinner.join();
        }
        if let Ok(mut state) = self.inner.state.lock() {
            hide_spinner(&mut state);
        }
    }
}

fn spin(inner: &Inner) {
    while !inner.stopped.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(120));
        let Ok(mut state) = inner.state.lock() else {
            return;
        };
        // Nothing drawn across a plan still being written to the same terminal.
        if state.in_flight.is_empty() || state.held.is_some() {
            hide_spinner(&mut state);
            continue;
        }
        let text = in_flight(&state.in_flight, Instant::now());
        let spinner = state.spinner.get_or_insert_with(new_spinner);
        // Each call draws the line once; only `tick` turns the spinner.
        if spinner.message() == text {
            spinner.tick();
        } else {
            spinner.set_message(text);
        }
    }
}

/// What is in flight: the first three by address, with their seconds so far.
fn in_flight(in_flight: &BTreeMap<Address, Instant>, now: Instant) -> String {
    let mut text = in_flight
        .iter()
        .take(3)
        .map(|(address, started)| {
            let seconds = now.saturating_duration_since(*started).as_secs();
            format!("{address} ({seconds}s)")
        })
        .collect::<Vec<_>>()
        .join(", ");
    let more = in_flight.len().saturating_sub(3);
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}

/// A spinner line on stderr, its text cut to the terminal's width so it never wraps.
fn new_spinner() -> ProgressBar {
    let style = ProgressStyle::with_template("{spinner} {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ");
    ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(style)
}

fn hide_spinner(state: &mut State) {
    if let Some(spinner) = state.spinner.take() {
        spinner.finish_and_clear();
    }
}

impl Reporter for ProgressReporter {
    fn event(&self, event: Event) {
        let Ok(mut state) = self.inner.state.lock() else {
            return;
        };
        match &event {
            Event::Started { address, .. } => {
                state.in_flight.insert(address.clone(), Instant::now());
            }
            Event::Finished { address, .. } | Event::Failed { address, .. } => {
                state.in_flight.remove(address);
            }
            _ => {}
        }
        let text = line(&event);
        if let Some(held) = state.held.as_mut() {
            held.push(text);
            return;
        }
        if state.in_flight.is_empty() {
            hide_spinner(&mut state);
        }
        let write = || {
            if let Ok(mut out) = self.inner.out.lock() {
                let _ = writeln!(out, "{text}");
                let _ = out.flush();
            }
        };
        // The spinner steps aside for the line and is drawn again below it.
        match &state.spinner {
            Some(spinner) => spinner.suspend(write),
            None => write(),
        }
    }
}

/// The progress line of one event.
pub fn line(event: &Event) -> String {
    match event {
        Event::Waiting { address, reason } => format!("{address}: {reason}"),
        Event::Locking { clusters } => format!(
            "Acquiring the run lock in {}...",
            clusters
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Event::Started {
            address,
            action,
            id,
        } => {
            let verb = match action {
                Action::Create => "Creating...",
                Action::Update => "Modifying...",
                Action::Replace => "Replacing...",
                Action::Delete => "Destroying...",
                Action::NoOp => "Reading...",
            };
            match id {
                Some(id) if *action != Action::Create => format!("{address}: {verb} [id={id}]"),
                _ => format!("{address}: {verb}"),
            }
        }
        Event::StillWaiting {
            address, elapsed, ..
        } => format!("{address}: Still waiting… [{}s elapsed]", elapsed.as_secs()),
        Event::Finished {
            address,
            action,
            elapsed,
            id,
        } => {
            let done = match action {
                Action::Create => "Creation complete",
                Action::Update => "Modifications complete",
                Action::Replace => "Replacement complete",
                Action::Delete => "Destruction complete",
                Action::NoOp => "Read complete",
            };
            let mut text = format!("{address}: {done} after {}", duration(*elapsed));
            if let Some(id) = id
                && *action != Action::Delete
            {
                text.push_str(&format!(" [id={id}]"));
            }
            text
        }
        Event::Failed {
            address, message, ..
        } => format!("{address}: Failed: {message}"),
        Event::Skipped {
            address,
            failed_dependency,
        } => format!("{address}: Skipped because `{failed_dependency}` failed"),
    }
}

/// `850ms`, `12s`, `1m5s`.
fn duration(elapsed: Duration) -> String {
    let seconds = elapsed.as_secs();
    if seconds == 0 {
        format!("{}ms", elapsed.as_millis())
    } else if seconds < 60 {
        format!("{seconds}s")
    } else {
        format!("{}m{}s", seconds / 60, seconds % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// Output shared with the test; the first write (the plan) waits for the test's go-ahead.
    #[derive(Clone)]
    struct SlowReader {
        written: Arc<Mutex<Vec<u8>>>,
        go_ahead: Arc<Mutex<mpsc::Receiver<()>>>,
        /// Whether the first write went ahead because it was told to (not after waiting in vain).
        told: Arc<Mutex<Option<bool>>>,
    }

    impl Write for SlowReader {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let mut told = self.told.lock().unwrap();
            if told.is_none() {
                let heard = self
                    .go_ahead
                    .lock()
                    .unwrap()
                    .recv_timeout(Duration::from_secs(5));
                *told = Some(heard.is_ok());
            }
            self.written.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn events_while_the_plan_is_written_neither_wait_for_it_nor_come_before_it() {
        let (go, go_ahead) = mpsc::channel();
        let reader = SlowReader {
            written: Arc::default(),
            go_ahead: Arc::new(Mutex::new(go_ahead)),
            told: Arc::default(),
        };
        let reporter = ProgressReporter::writing_to(Box::new(reader.clone()), false);
        reporter.print_first("Plan: 1 to add, 0 to change, 0 to destroy.\n".to_owned());
        // The reader is still taking the plan in: the event must not wait for it.
        reporter.event(Event::Started {
            address: Address::addon("demo"),
            action: Action::Create,
            id: None,
        });
        go.send(()).unwrap();
        reporter.printed();
        assert_eq!(
            *reader.told.lock().unwrap(),
            Some(true),
            "the event waited for the plan"
        );
        reporter.event(Event::Finished {
            address: Address::addon("demo"),
            action: Action::Create,
            elapsed: Duration::from_millis(850),
            id: None,
        });
        drop(reporter);
        assert_eq!(
            String::from_utf8(reader.written.lock().unwrap().clone()).unwrap(),
            "Plan: 1 to add, 0 to change, 0 to destroy.\n\
             addon.demo: Creating...\n\
             addon.demo: Creation complete after 850ms\n"
        );
    }

    #[test]
    fn the_spinner_names_three_in_flight_and_counts_the_rest() {
        let now = Instant::now();
        let started = |seconds| now.checked_sub(Duration::from_secs(seconds)).unwrap();
        let in_flight_now = BTreeMap::from([
            (Address::addon("a"), started(12)),
            (Address::addon("b"), started(3)),
            (Address::addon("c"), started(0)),
            (Address::addon("d"), started(1)),
            (Address::addon("e"), started(1)),
        ]);
        assert_eq!(
            in_flight(&in_flight_now, now),
            "addon.a (12s), addon.b (3s), addon.c (0s) and 2 more"
        );
        assert_eq!(in_flight(&BTreeMap::new(), now), "");
    }

    #[test]
    fn lines_read_like_terraform() {
        let address = Address::addon("demo");
        assert_eq!(
            line(&Event::Started {
                address: address.clone(),
                action: Action::Update,
                id: Some("/subscriptions/x".into())
            }),
            "addon.demo: Modifying... [id=/subscriptions/x]"
        );
        assert_eq!(
            line(&Event::StillWaiting {
                address: address.clone(),
                action: Action::Update,
                elapsed: Duration::from_secs(10)
            }),
            "addon.demo: Still waiting… [10s elapsed]"
        );
        assert_eq!(
            line(&Event::Finished {
                address,
                action: Action::Update,
                elapsed: Duration::from_secs(65),
                id: None
            }),
            "addon.demo: Modifications complete after 1m5s"
        );
    }
}
