//! The reliability campaigns' runner: a repository holding `plans/example.toml`, wired to its
//! own `vaultwire sandbox serve` child (its own directory and port), every run of the real
//! binary recorded (output in files under `runs/`, exit status, panics), and the checks after
//! each trial (`reliability_checks.rs`: the state file and its backup, the world's orphans and
//! duplicate grants) added up in the scenario's [`Row`]. The scenarios are in `reliability.rs` and
//! `reliability_canary.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::reliability_checks::{StateWatch, duplicate_grants, orphans};
use crate::reliability_report::{Canary, Row, knob};
use crate::repo_support::{EXAMPLE, SECRETS_OFFICER_ASSIGNMENT, aim_at_sandbox};
use crate::sandbox_support::{Reply, reply};
use crate::served::Served;
use crate::support::Test;

pub const PLAN: &str = "plans/example.toml";
const STATE: &str = "state/example.state.json";
const BACKUP: &str = "state/example.state.json.backup";

/// A run going on this long is hung: it is killed and counted as a failure. A hang guard,
/// not a timing claim; nextest's own timeout is the outer one.
const HANG_GUARD: Duration = Duration::from_secs(150);

/// SIGKILL, as the exit status reports it.
const SIGKILL: i32 = 9;

/// One finished run of `vaultwire`.
pub struct Run {
    pub args: Vec<String>,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Ended by the campaign's own SIGKILL (on purpose, or by the hang guard).
    pub killed: bool,
    /// Panic text in stderr, or a signal that was not ours.
    pub panicked: bool,
}

impl Run {
    pub fn exited(&self, code: i32) -> bool {
        self.code == Some(code)
    }

    /// Failed the way a pipeline retries: exit 1 with an error, no panic, no signal.
    fn failed_cleanly(&self) -> bool {
        self.exited(1) && !self.panicked && self.stderr.contains("error:")
    }
}

/// A run in flight.
pub struct Started {
    child: Child,
    args: Vec<String>,
    stdout: PathBuf,
    stderr: PathBuf,
}

/// A scenario's repository, sandbox and running tally.
pub struct Campaign {
    pub test: Test,
    pub served: Served,
    ca: PathBuf,
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    pub row: Row,
    started: Instant,
    in_flight: usize,
    state_watch: StateWatch,
    /// Role assignments that are not vaultwire's: the seed's and the ones the test made.
    foreign_assignments: BTreeSet<String>,
    /// Set by the canary sweep: every problem line is redacted with it.
    pub canary: Option<Canary>,
    /// Keep the repository when the campaign is dropped.
    keep: bool,
}

impl Campaign {
    /// A repository with the example plan and `sandbox serve --seed SEED FLAGS…` for it.
    pub fn start(scenario: &str, title: &str, seed: u64, flags: &[&str]) -> Self {
        let test = Test::new();
        test.write(PLAN, EXAMPLE);
        let seed_flag = seed.to_string();
        let mut all_flags = vec!["--seed", seed_flag.as_str()];
        all_flags.extend_from_slice(flags);
        let served = Served::start_logged(&test, &all_flags);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the admin API");
        let http = served.http();
        let ca = served.dir.join("ca.pem");
        let mut foreign_assignments: BTreeSet<String> = served.world()["roleAssignments"]
            .as_object()
            .map(|assignments| assignments.keys().cloned().collect())
            .unwrap_or_default();
        foreign_assignments.insert(SECRETS_OFFICER_ASSIGNMENT.to_owned());
        println!(
            "reliability {scenario}: seed {seed}, sandbox {} in {}",
            served.endpoint,
            test.path().display()
        );
        Self {
            test,
            served,
            ca,
            runtime,
            http,
            row: Row {
                scenario: scenario.to_owned(),
                title: title.to_owned(),
                seed,
                ..Row::default()
            },
            started: Instant::now(),
            in_flight: 0,
            state_watch: StateWatch::default(),
            foreign_assignments,
            canary: None,
            keep: false,
        }
    }

    /// Records a problem line (redacted when a canary is planted).
    pub fn problem(&mut self, line: impl Into<String>) {
        let line = self.redacted(line.into());
        self.row.problems.push(line);
    }

    fn redacted(&self, line: String) -> String {
        match &self.canary {
            Some(canary) => canary.redact(&line),
            None => line,
        }
    }

    /// What `run` did, for a problem line: the command, its exit and its error (else the end
    /// of its stderr, which at `-vvv` is mostly trace lines).
    pub fn describe(&self, run: &Run) -> String {
        let lines: Vec<&str> = run.stderr.lines().collect();
        let from = lines
            .iter()
            .rposition(|line| line.starts_with("error:"))
            .unwrap_or(lines.len().saturating_sub(6));
        let tail = &lines[from..lines.len().min(from + 6)];
        format!(
            "`vaultwire {}` exited {:?}{}: {}",
            run.args.join(" "),
            run.code,
            if run.killed { " (killed)" } else { "" },
            tail.join(" | ")
        )
    }

    /// Starts `vaultwire ARGS…` in the repository against the served sandbox, output to files.
    pub fn start_run(&mut self, args: &[&str]) -> Started {
        self.row.runs += 1;
        let name: String = args
            .iter()
            .filter(|arg| !arg.starts_with('-'))
            .take(3)
            .flat_map(|arg| arg.chars().chain(['-']))
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let stem = format!("runs/{:04}-{}", self.row.runs, name.trim_end_matches('-'));
        std::fs::create_dir_all(self.test.path().join("runs")).expect("create runs/");
        let stdout = self.test.path().join(format!("{stem}.stdout"));
        let stderr = self.test.path().join(format!("{stem}.stderr"));
        let file = |path: &PathBuf| std::fs::File::create(path).expect("create an output file");
        let mut command = self.test.vaultwire_process(args);
        aim_at_sandbox(&mut command, &self.served.endpoint, &self.ca);
        let child = command
            .stdin(Stdio::null())
            .stdout(file(&stdout))
            .stderr(file(&stderr))
            .spawn()
            .expect("spawn vaultwire");
        self.in_flight += 1;
        Started {
            child,
            args: args.iter().map(|arg| (*arg).to_owned()).collect(),
            stdout,
            stderr,
        }
    }

    /// Waits for `started` (killing it if the hang guard runs out), records panics, and checks
    /// the state once no other run is in flight.
    pub fn wait(&mut self, mut started: Started) -> Run {
        let deadline = Instant::now() + HANG_GUARD;
        let mut hung = false;
        let status = loop {
            if let Some(status) = started.child.try_wait().expect("wait for vaultwire") {
                break status;
            }
            if Instant::now() > deadline && !hung {
                hung = true;
                let _ = started.child.kill();
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        self.in_flight -= 1;
        let read = |path: &PathBuf| {
            String::from_utf8_lossy(&std::fs::read(path).expect("read run output")).into_owned()
        };
        let mut run = Run {
            args: started.args,
            code: status.code(),
            stdout: read(&started.stdout),
            stderr: read(&started.stderr),
            killed: status.signal() == Some(SIGKILL),
            panicked: false,
        };
        run.panicked = panic_text(&run.stderr) || (status.signal().is_some() && !run.killed);
        if run.panicked {
            self.row.panics += 1;
            let line = format!("panic: {}", self.describe(&run));
            self.problem(line);
        }
        if hung {
            let line = format!("hung, killed after {HANG_GUARD:?}: {}", self.describe(&run));
            self.problem(line);
        }
        if self.in_flight == 0 {
            self.check_state();
        }
        run
    }

    pub fn run(&mut self, args: &[&str]) -> Run {
        let started = self.start_run(args);
        self.wait(started)
    }

    /// Runs `args` as a pipeline would: again after a clean failure, up to `attempts` runs.
    pub fn pipeline(&mut self, args: &[&str], attempts: u32) -> Run {
        let mut attempt = 1;
        loop {
            let run = self.run(args);
            if !run.failed_cleanly() || attempt >= attempts {
                return run;
            }
            attempt += 1;
            self.row.retries += 1;
            let cause = self.redacted(self.describe(&run));
            self.row.retried_after.push(cause);
        }
    }

    /// Starts `args` and SIGKILLs it once the sandbox has answered `requests` requests since
    /// the start (at once for 0); it may finish first.
    pub fn kill_after(&mut self, args: &[&str], requests: u64) -> Run {
        self.admin("DELETE", "journal", None);
        let mut started = self.start_run(args);
        loop {
            if started.child.try_wait().expect("poll vaultwire").is_some() {
                break;
            }
            if self.requests_answered() >= requests {
                // Already gone (between the poll and now) is fine: wait reports how it ended.
                let _ = started.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        self.wait(started)
    }

    /// Requests the sandbox answered since its journal was last cleared.
    pub fn requests_answered(&self) -> u64 {
        self.admin("GET", "counters", None).body["routes"]
            .as_object()
            .map(|routes| routes.values().filter_map(Value::as_u64).sum())
            .unwrap_or(0)
    }

    /// Sets the injected faults (`PUT /_sandbox/faults`): `rate` split evenly between 429s,
    /// 5xx errors and dropped connections.
    pub fn set_fault_rate(&self, rate: f64) {
        let each = rate / 3.0;
        self.admin(
            "PUT",
            "faults",
            Some(&json!({"throttleRate": each, "errorRate": each, "dropRate": each})),
        );
    }

    /// A call to the served sandbox; `path` under `/_sandbox/` for the admin API.
    pub fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        let reply = self.call(method, &format!("/_sandbox/{path}"), None, body);
        assert!(
            (200..300).contains(&reply.status),
            "{method} /_sandbox/{path}: {}",
            reply.status
        );
        reply
    }

    /// A request to the served sandbox, with a bearer token when given.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.served.endpoint));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        self.runtime
            .block_on(async { reply(request.send().await.expect("reach the sandbox")).await })
    }

    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The state file's resources; empty when there is none.
    pub fn state_resources(&self) -> BTreeMap<String, Value> {
        std::fs::read_to_string(self.test.path().join(STATE))
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .and_then(|state| state["resources"].as_object().cloned())
            .map(|resources| resources.into_iter().collect())
            .unwrap_or_default()
    }

    /// Checks the state file and its backup ([`StateWatch`]).
    fn check_state(&mut self) {
        let read = |file: &str| std::fs::read(self.test.path().join(file)).ok();
        let (state, backup) = (read(STATE), read(BACKUP));
        for why in self.state_watch.check(state.as_deref(), backup.as_deref()) {
            self.row.corrupt_states += 1;
            self.problem(format!("corrupt state: {why}"));
        }
    }

    /// Counts orphans and duplicate grants in the world now ([`orphans`]: after a destroy,
    /// whose state is empty, anything left). `when` names the moment in problem lines.
    pub fn check_world(&mut self, when: &str) {
        let world = self.served.world();
        let ids: Vec<String> = self
            .state_resources()
            .values()
            .filter_map(|resource| resource["id"].as_str().map(str::to_owned))
            .collect();
        let orphans = orphans(&world, &ids, &self.foreign_assignments);
        let duplicates = duplicate_grants(&world);
        self.row.orphans += orphans.len() as u64;
        self.row.duplicate_grants += duplicates;
        for orphan in orphans {
            self.problem(format!("orphan {when}: {orphan}"));
        }
        if duplicates > 0 {
            self.problem(format!("{duplicates} duplicate grants {when}"));
        }
    }

    /// Counts trial `trial` (converged or not) and prints how far the campaign is.
    pub fn end_trial(&mut self, trial: u64, converged: bool) {
        self.row.trials += 1;
        if converged {
            self.row.converged += 1;
        }
        println!(
            "reliability {}: trial {trial} {} ({} s)",
            self.row.scenario,
            if converged {
                "converged"
            } else {
                "did NOT converge"
            },
            self.started.elapsed().as_secs()
        );
    }

    /// `plan --detailed-exitcode` says nothing is left to do (run as a pipeline would, so a
    /// faulted read is tried again); a problem line otherwise.
    pub fn converged(&mut self, attempts: u32) -> bool {
        let run = self.pipeline(&["plan", PLAN, "--detailed-exitcode"], attempts);
        if !run.exited(0) {
            let line = format!("not converged: {}", self.describe(&run));
            self.problem(line);
        }
        run.exited(0)
    }

    /// The state records nothing (after a destroy); a problem line otherwise.
    pub fn state_is_empty(&mut self) -> bool {
        let left: Vec<String> = self.state_resources().into_keys().collect();
        if !left.is_empty() {
            self.problem(format!("the state still records {left:?} after destroy"));
        }
        left.is_empty()
    }

    /// Ends the campaign: checks the sandbox survived without a panic, and returns the row.
    /// The repository is kept for a look when the row is bad or `VAULTWIRE_RELIABILITY_KEEP`
    /// is `true`.
    pub fn into_row(mut self) -> Row {
        let sandbox_log =
            std::fs::read_to_string(self.test.path().join("serve.stderr")).unwrap_or_default();
        if panic_text(&sandbox_log) || !self.served.running() {
            self.row.panics += 1;
            self.problem("the sandbox panicked or stopped");
        }
        self.row.wall_seconds = self.started.elapsed().as_secs();
        self.keep = self.row.is_bad() || knob("KEEP", false);
        std::mem::take(&mut self.row)
    }
}

impl Drop for Campaign {
    /// A campaign given up on (a panic, such as a sandbox that stopped answering) keeps its
    /// repository too, with the sandbox's log and every run's output.
    fn drop(&mut self) {
        if self.keep || std::thread::panicking() {
            let test = std::mem::replace(&mut self.test, Test::new());
            println!(
                "reliability {}: kept {} (the sandbox {})",
                self.row.scenario,
                test.keep().display(),
                if self.served.running() {
                    "was running"
                } else {
                    "had stopped"
                }
            );
        }
    }
}

/// Panic text a Rust process writes to stderr.
fn panic_text(stderr: &str) -> bool {
    stderr.contains("panicked at") || stderr.contains("RUST_BACKTRACE")
}
