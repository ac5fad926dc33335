//! The test harness: a hermetic `vaultwire` command in its own temporary directory.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A scratch directory and a way to run `vaultwire` in it with no ambient credentials.
pub struct Test {
    dir: tempfile::TempDir,
}

impl Test {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("create a temporary directory"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Keeps the directory after the test, to look into a failure; returns where it is.
    pub fn keep(self) -> PathBuf {
        self.dir.keep()
    }

    /// Writes `text` to `relative` under the test directory, creating parents.
    #[track_caller]
    pub fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent directories");
        }
        std::fs::write(&path, text).expect("write test file");
        path
    }

    #[track_caller]
    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(relative)).expect("read test file")
    }

    /// `vaultwire ARGS…` run in the test directory. Real credentials and kubeconfigs are
    /// removed from the environment so no test can ever reach a real cloud.
    pub fn vaultwire(&self, args: &[&str]) -> Command {
        Command::from_std(self.vaultwire_process(args))
    }

    /// `vaultwire ARGS…` as a `std` command, for processes that run in the background (such
    /// as `sandbox serve`), with the same hermetic environment.
    pub fn vaultwire_process(&self, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_vaultwire"));
        command.current_dir(self.dir.path()).args(args);
        self.hermetic(&mut command);
        command
    }

    fn hermetic<C: Hermetic>(&self, command: &mut C) {
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("AZURE_")
                || name.starts_with("ARM_")
                || name.starts_with("AZURESUBSCRIPTION_")
                || name.starts_with("IDENTITY_")
                || name.starts_with("MSI_")
                || name == "KUBECONFIG"
                || name == "VAULTWIRE_LOG"
                // Extra CA bundles (providers::ca_bundle) come from the test, not the machine.
                || name == "VAULTWIRE_CA_BUNDLE"
                || name == "REQUESTS_CA_BUNDLE"
                || name == "SSL_CERT_FILE"
                || name == "CURL_CA_BUNDLE"
                // Proxies come from the test too (the sandbox's, for the Azure-hosts tests).
                || name.eq_ignore_ascii_case("HTTPS_PROXY")
                || name.eq_ignore_ascii_case("HTTP_PROXY")
                || name.eq_ignore_ascii_case("ALL_PROXY")
                || name.eq_ignore_ascii_case("NO_PROXY")
                // clap wraps `--help` to it; snapshots need the default width.
                || name == "COLUMNS"
            {
                command.remove(name.as_ref());
            }
        }
        command.set("HOME", self.dir.path().as_os_str());
        command.set("NO_COLOR", "1".as_ref());
        command.set(
            "KUBECACHEDIR",
            self.dir.path().join(".kube-cache").as_os_str(),
        );
    }
}

/// Asserts that `vaultwire ARGS` exited `code` (showing its output when not); returns stdout.
#[track_caller]
pub fn expect_exit(output: &std::process::Output, code: i32, args: &[&str]) -> String {
    assert_eq!(
        output.status.code(),
        Some(code),
        "`vaultwire {}`\n--- stdout\n{}\n--- stderr\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What `hermetic` needs from `assert_cmd` and `std` commands alike.
trait Hermetic {
    fn remove(&mut self, name: &str);
    fn set(&mut self, name: &str, value: &std::ffi::OsStr);
}

impl Hermetic for Command {
    fn remove(&mut self, name: &str) {
        self.env_remove(name);
    }

    fn set(&mut self, name: &str, value: &std::ffi::OsStr) {
        self.env(name, value);
    }
}

impl Hermetic for std::process::Command {
    fn remove(&mut self, name: &str) {
        self.env_remove(name);
    }

    fn set(&mut self, name: &str, value: &std::ffi::OsStr) {
        self.env(name, value);
    }
}

/// Snapshots `text` (insta) with what changes from run to run redacted: durations, ports,
/// timestamps, process IDs, the state's random lineage and the lock holder's user and host.
/// The sandbox's own IDs are deterministic and stay.
#[macro_export]
macro_rules! assert_output_snapshot {
    ($name:expr, $text:expr) => {{
        let mut settings = insta::Settings::clone_current();
        for (pattern, replacement) in $crate::support::OUTPUT_FILTERS {
            settings.add_filter(pattern, *replacement);
        }
        settings.bind(|| insta::assert_snapshot!($name, $text));
    }};
}

/// What [`assert_output_snapshot!`] redacts, in order.
pub const OUTPUT_FILTERS: &[(&str, &str)] = &[
    (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
    (
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
        "[time]",
    ),
    (r"\b\d+(\.\d+)?(ms|s)\b", "[duration]"),
    (r"\bpid \d+", "pid [pid]"),
    (r"[\w.-]+@[\w.-]+ pid", "[user]@[host] pid"),
    (r#""lineage": "[0-9a-f-]+""#, r#""lineage": "[lineage]""#),
    // A Kubernetes object's resourceVersion depends on which concurrent write came first.
    (
        r#"(?m)^version = "\d+"$"#,
        r#"version = "[resourceVersion]""#,
    ),
];

/// `text` (apply or destroy output) with its progress lines sorted: changes run concurrently,
/// so their lines interleave differently from run to run. The plan above them and the summary
/// below keep their order.
pub fn progress_sorted(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|line| line.starts_with("Acquiring the run lock"))
        .map_or(lines.len(), |at| at + 1);
    let end = lines[start..]
        .iter()
        .position(|line| line.is_empty())
        .map_or(lines.len(), |at| start + at);
    let mut progress = lines[start..end].to_vec();
    progress.sort_unstable();
    let mut sorted: Vec<&str> = lines[..start].to_vec();
    sorted.extend(progress);
    sorted.extend(&lines[end..]);
    sorted.join("\n") + if text.ends_with('\n') { "\n" } else { "" }
}
