//! Apply and destroy progress as Terraform users know it: a line when each resource starts
//! and when it finishes (with its duration), "Still waiting… [Ns elapsed]" while a
//! long-running operation runs, and — only on a terminal — a spinner line showing what is in
//! flight.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::diff::action::Action;
use crate::engine::events::{Event, Reporter};
use crate::plan::address::Address;

/// Prints events to stdout; draws a spinner on stderr when it is a terminal.
pub struct ProgressReporter {
    inner: Arc<Inner>,
    spinner: Option<std::thread::JoinHandle<()>>,
}

struct Inner {
    state: Mutex<State>,
    stopped: AtomicBool,
}

#[derive(Default)]
struct State {
    in_flight: BTreeMap<Address, Instant>,
    spinner_shown: bool,
}

impl ProgressReporter {
    /// `spinner`: draw the in-flight line (only when stderr is a terminal and colour is on).
    pub fn new(spinner: bool) -> Self {
        let inner = Arc::new(Inner {
            state: Mutex::new(State::default()),
            stopped: AtomicBool::new(false),
        });
        let spinner = spinner.then(|| {
            let inner = inner.clone();
            std::thread::spawn(move || spin(&inner))
        });
        Self { inner, spinner }
    }
}

impl Drop for ProgressReporter {
    fn drop(&mut self) {
        self.inner.stopped.store(true, Ordering::SeqCst);
        if let Some(spinner) = self.spinner.take() {
            let _ = spinner.join();
        }
        if let Ok(mut state) = self.inner.state.lock() {
            clear_spinner(&mut state);
        }
    }
}

fn spin(inner: &Inner) {
    const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    let mut frame = 0;
    while !inner.stopped.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(120));
        let Ok(mut state) = inner.state.lock() else {
            return;
        };
        if state.in_flight.is_empty() {
            clear_spinner(&mut state);
            continue;
        }
        let items: Vec<String> = state
            .in_flight
            .iter()
            .take(3)
            .map(|(address, started)| format!("{address} ({}s)", started.elapsed().as_secs()))
            .collect();
        let more = state.in_flight.len().saturating_sub(3);
        let mut line = format!("{} {}", FRAMES[frame % FRAMES.len()], items.join(", "));
        if more > 0 {
            line.push_str(&format!(" and {more} more"));
        }
        let mut stderr = std::io::stderr();
        let _ = write!(stderr, "\r\u{1b}[2K{line}");
        let _ = stderr.flush();
        state.spinner_shown = true;
        frame += 1;
    }
}

fn clear_spinner(state: &mut State) {
    if state.spinner_shown {
        let mut stderr = std::io::stderr();
        let _ = write!(stderr, "\r\u{1b}[2K");
        let _ = stderr.flush();
        state.spinner_shown = false;
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
        clear_spinner(&mut state);
        println!("{}", line(&event));
    }
}

/// The progress line of one event.
pub fn line(event: &Event) -> String {
    match event {
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
