//! What a `vaultwire` child process cost: CPU time and peak resident memory.
//!
//! CPU comes from `/proc/self/stat` (the `cutime` and `cstime` of waited-for children), so the
//! sandbox — threads of this benchmark process — is never counted. Peak memory needs the
//! child's `getrusage`, which `std` does not expose and `unsafe` may not reach here: GNU
//! `time` (`/usr/bin/time -f`) reports it exactly from `wait4`; without it, the child's
//! `VmHWM` (its high-water mark) is sampled from `/proc/PID/status` every millisecond, which
//! can miss growth in the last millisecond before it exits. Linux only.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Clock ticks per second in `/proc/*/stat` (USER_HZ, 100 on every mainstream Linux).
const TICKS_PER_SECOND: u64 = 100;

/// User + system CPU of this process's waited-for children so far.
pub fn children_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at `state`, field 3.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after
        .split_whitespace()
        .map(|field| field.parse().unwrap_or(0))
        .collect();
    // cutime and cstime are fields 16 and 17 of the whole line: 14 and 15 after `state`.
    let ticks = fields.get(13).copied().unwrap_or(0) + fields.get(14).copied().unwrap_or(0);
    Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND)
}

/// How peak memory is measured on this machine.
#[derive(Debug, Clone)]
pub enum PeakMemory {
    /// GNU `time` at this path.
    GnuTime(PathBuf),
    Sampled,
}

impl PeakMemory {
    pub fn detect() -> Self {
        let time = Path::new("/usr/bin/time");
        let gnu = Command::new(time)
            .arg("--version")
            .output()
            .map(|out| {
                String::from_utf8_lossy(&out.stdout).contains("GNU")
                    || String::from_utf8_lossy(&out.stderr).contains("GNU")
            })
            .unwrap_or(false);
        if gnu {
            PeakMemory::GnuTime(time.to_owned())
        } else {
            PeakMemory::Sampled
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            PeakMemory::GnuTime(_) => "GNU time (`wait4` rusage of the vaultwire process)",
            PeakMemory::Sampled => "VmHWM of the vaultwire process sampled every 1 ms",
        }
    }

    /// `command` wrapped so that its peak memory lands in `report` (GNU time), or unchanged.
    pub fn wrap(&self, command: Command, report: &Path) -> Command {
        match self {
            PeakMemory::GnuTime(time) => {
                let mut wrapped = Command::new(time);
                wrapped
                    .arg("-f")
                    .arg("%M")
                    .arg("-o")
                    .arg(report)
                    .arg("--")
                    .arg(command.get_program())
                    .args(command.get_args())
                    .env_clear();
                for (name, value) in command.get_envs() {
                    if let Some(value) = value {
                        wrapped.env(name, value);
                    }
                }
                if let Some(dir) = command.get_current_dir() {
                    wrapped.current_dir(dir);
                }
                wrapped
            }
            PeakMemory::Sampled => command,
        }
    }
}

/// Samples a child's `VmHWM` until told to stop.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    peak_kib: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    pub fn start(child: &Child) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak_kib = Arc::new(AtomicU64::new(0));
        let path = format!("/proc/{}/status", child.id());
        let thread = {
            let (stop, peak_kib) = (stop.clone(), peak_kib.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(kib) = vm_hwm_kib(&path) {
                        peak_kib.fetch_max(kib, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
        };
        Self {
            stop,
            peak_kib,
            thread: Some(thread),
        }
    }

    pub fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.peak_kib.load(Ordering::Relaxed)
    }
}

fn vm_hwm_kib(path: &str) -> Option<u64> {
    let status = std::fs::read_to_string(path).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The peak in a GNU time report (`%M`, KiB); its last line, as the child's own stderr goes
/// elsewhere.
pub fn read_gnu_report(report: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(report).ok()?;
    text.lines().last()?.trim().parse().ok()
}
