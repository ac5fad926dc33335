//! One scenario's world: a sandbox in this process (latency and LRO duration as the scenario
//! says, the world in memory) and a scratch repository (`plans/`, `state/`) where the real
//! `vaultwire` binary runs as a child, with the environment `vaultwire sandbox serve` writes
//! to its `env` file and nothing else.
//!
//! The child is the binary a user runs (built with this bench's profile); the sandbox's own
//! CPU stays in this process, so the child's CPU and memory are vaultwire's alone.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use vaultwire::sandbox::{Faults, Sandbox, SandboxHandle, SandboxOptions, ids};

use crate::usage::{self, PeakMemory, Sampler};

/// The binary measured: the `vaultwire` this bench was built with, or another build named by
/// `VAULTWIRE_BENCH_BIN` (say, an older commit's, to compare against the same sandbox).
pub fn measured_binary() -> OsString {
    std::env::var_os("VAULTWIRE_BENCH_BIN")
        .unwrap_or_else(|| OsString::from(env!("CARGO_BIN_EXE_vaultwire")))
}

/// Latency and long-running-operation time of a scenario.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub latency: Duration,
    pub lro: Duration,
}

pub struct Scene {
    pub sandbox: SandboxHandle,
    dir: tempfile::TempDir,
}

/// One `vaultwire` run.
#[derive(Debug, Clone)]
pub struct Run {
    pub wall: Duration,
    pub cpu: Duration,
    pub peak_kib: Option<u64>,
    pub exit_code: i32,
    /// Requests the sandbox answered during the run (Entra, ARM, Kubernetes).
    pub requests: u64,
    pub stdout: String,
}

impl Scene {
    pub fn start(timing: Timing, extra_clusters: Vec<String>) -> Self {
        let sandbox = Sandbox::start(SandboxOptions {
            faults: Faults {
                latency: timing.latency,
                ..Faults::none()
            },
            lro_duration: timing.lro,
            extra_clusters,
            ..SandboxOptions::default()
        })
        .expect("start the sandbox");
        let dir = tempfile::tempdir().expect("create a scratch directory");
        std::fs::write(dir.path().join("ca.pem"), sandbox.ca_pem()).expect("write the CA");
        std::fs::create_dir_all(dir.path().join("plans")).expect("create plans/");
        Self { sandbox, dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `plans/NAME.toml`; returns its path relative to the scratch directory.
    pub fn write_plan(&self, name: &str, text: &str) -> String {
        let relative = format!("plans/{name}.toml");
        std::fs::write(self.path().join(&relative), text).expect("write the plan");
        relative
    }

    fn command(&self, binary: &OsStr, args: &[&str]) -> Command {
        let mut command = Command::new(binary);
        command
            .args(args)
            .current_dir(self.path())
            .env_clear()
            .env("HOME", self.path())
            .env("NO_COLOR", "1")
            .env("USER", "bench")
            .env("KUBECACHEDIR", self.path().join(".kube-cache"))
            .env("VAULTWIRE_SANDBOX_ENDPOINT", self.sandbox.endpoint())
            .env("VAULTWIRE_SANDBOX_CA", self.path().join("ca.pem"))
            .env("AZURE_CLIENT_ID", ids::CLIENT_ID)
            .env("AZURE_CLIENT_SECRET", ids::CLIENT_SECRET)
            .env("AZURE_TENANT_ID", ids::TENANT_ID)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs `vaultwire ARGS` (the binary under measurement, see [`measured_binary`]) and
    /// measures it; `peak` also measures its peak memory.
    pub fn run(&self, args: &[&str], peak: Option<&PeakMemory>) -> Run {
        self.run_binary(&measured_binary(), args, peak)
    }

    /// Runs the `vaultwire` this bench was built with, to set a world up.
    pub fn run_setup(&self, args: &[&str], peak: Option<&PeakMemory>) -> Run {
        self.run_binary(OsStr::new(env!("CARGO_BIN_EXE_vaultwire")), args, peak)
    }

    fn run_binary(&self, binary: &OsStr, args: &[&str], peak: Option<&PeakMemory>) -> Run {
        self.sandbox.clear_journal();
        let report = self.path().join("time-report");
        let mut command = self.command(binary, args);
        let studying = std::env::var_os("VAULTWIRE_BENCH_JOURNALS");
        if studying.is_some() {
            // `VAULTWIRE_BENCH_LOG` widens the log, e.g. `vaultwire=debug` for every request.
            let filter = std::env::var("VAULTWIRE_BENCH_LOG")
                .unwrap_or_else(|_| "vaultwire::engine=debug".to_owned());
            command.env("VAULTWIRE_LOG", filter);
        }
        let mut command = match peak {
            Some(peak) => peak.wrap(command, &report),
            None => command,
        };
        let cpu_before = usage::children_cpu();
        let started_at = jiff::Timestamp::now();
        let started = Instant::now();
        let child = command.spawn().expect("start vaultwire");
        let sampler = matches!(peak, Some(PeakMemory::Sampled)).then(|| Sampler::start(&child));
        let output = child.wait_with_output().expect("wait for vaultwire");
        let wall = started.elapsed();
        let cpu = usage::children_cpu().saturating_sub(cpu_before);
        let peak_kib = match (peak, sampler) {
            (Some(PeakMemory::GnuTime(_)), _) => usage::read_gnu_report(&report),
            (_, Some(sampler)) => Some(sampler.finish()),
            _ => None,
        };
        let requests = self.sandbox.counters().values().sum();
        if let Some(dir) = studying {
            let stderr = String::from_utf8_lossy(&output.stderr);
            self.dump_journal(Path::new(&dir), args, started_at, wall, &stderr);
        }
        let exit_code = output.status.code().unwrap_or(-1);
        Run {
            wall,
            cpu,
            peak_kib,
            exit_code,
            requests,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        }
        .checked(args, &String::from_utf8_lossy(&output.stderr))
    }

    /// Writes the run's journal (what the sandbox answered, when) and the engine's debug log
    /// to `dir`, for studying where a run's time goes: `VAULTWIRE_BENCH_JOURNALS=DIR cargo
    /// bench` (the logging itself costs a little time).
    fn dump_journal(
        &self,
        dir: &Path,
        args: &[&str],
        started: jiff::Timestamp,
        wall: Duration,
        stderr: &str,
    ) {
        let name: String = args
            .iter()
            .take(1)
            .chain(args.iter().filter(|arg| arg.starts_with("--")))
            .map(|arg| arg.trim_start_matches('-'))
            .collect::<Vec<_>>()
            .join("-");
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_millis());
        let _ = std::fs::create_dir_all(dir);
        let _ = std::fs::write(
            dir.join(format!("{stamp}-{name}.json")),
            serde_json::to_string_pretty(&serde_json::json!({
                "started": started,
                "wallMs": wall.as_millis(),
                "log": stderr.lines().collect::<Vec<_>>(),
                "entries": self.sandbox.journal(),
            }))
            .unwrap_or_default(),
        );
    }

    /// The state file of plan `name`.
    pub fn state_path(&self, name: &str) -> PathBuf {
        self.path().join("state").join(format!("{name}.state.json"))
    }
}

impl Run {
    /// Stops the benchmark on a run that failed: its figures would mean nothing.
    fn checked(self, args: &[&str], stderr: &str) -> Self {
        let expected_no_changes = args.contains(&"--detailed-exitcode");
        let ok = self.exit_code == 0;
        if !ok {
            let tail: String = self
                .stdout
                .lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .join("\n");
            panic!(
                "`vaultwire {}` exited {}{}\nstderr:\n{stderr}\nstdout (last lines, reversed):\n{tail}",
                args.join(" "),
                self.exit_code,
                if expected_no_changes {
                    " (2 would mean the plan after apply was not a no-op)"
                } else {
                    ""
                }
            );
        }
        self
    }
}
