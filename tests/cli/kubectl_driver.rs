//! Drives the real `kubectl` against any Kubernetes API: a copy of a kubeconfig (the one
//! `vaultwire sandbox serve` writes: HTTPS, the sandbox CA, a bearer token), a per-instance
//! discovery cache, and nothing from the user's environment.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// `kubectl` found on PATH. Its absence fails the test: compatibility with the real client is
/// a requirement, not an optional extra.
pub fn kubectl_binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("kubectl"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "kubectl is not on PATH: the Kubernetes compatibility tests need the real kubectl \
                 (install it, e.g. `apt-get install kubectl`); they are not skipped on purpose"
            )
        })
}

/// A kubectl configured for one server.
pub struct Kubectl {
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl Kubectl {
    /// A kubectl using (a copy of) `kubeconfig`.
    pub fn with_kubeconfig(kubeconfig: &Path) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let copy = dir.path().join("kubeconfig");
        std::fs::copy(kubeconfig, &copy).expect("copy the kubeconfig");
        Self {
            dir,
            kubeconfig: copy,
        }
    }

    /// Writes `text` to `name` in this kubectl's directory (manifests for `-f`).
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write a manifest");
        path
    }

    /// `kubectl ARGS…` with only this configuration in its environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(kubectl_binary());
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("KUBECONFIG", &self.kubeconfig)
            .env("KUBECACHEDIR", self.dir.path().join("cache"))
            .arg("--request-timeout=30s")
            .args(args);
        command
    }

    /// Runs `kubectl ARGS…`, expects success and returns stdout.
    #[track_caller]
    pub fn run(&self, args: &[&str]) -> String {
        let output = self.command(args).output().expect("run kubectl");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "kubectl {args:?} failed:\nstdout: {stdout}\nstderr: {stderr}"
        );
        stdout
    }

    /// Runs `kubectl ARGS…`, expects exit status 1 and returns stderr.
    #[track_caller]
    pub fn fail(&self, args: &[&str]) -> String {
        let output = self.command(args).output().expect("run kubectl");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(
            output.status.code(),
            Some(1),
            "kubectl {args:?} should fail:\nstdout: {}\nstderr: {stderr}",
            String::from_utf8_lossy(&output.stdout)
        );
        stderr
    }
}

/// The rows of kubectl's table output, each split on runs of spaces.
pub fn rows(output: &str) -> Vec<Vec<String>> {
    output
        .lines()
        .map(|line| {
            line.split("  ")
                .map(str::trim)
                .filter(|cell| !cell.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// Waits (the kubelet retries on its backoff, the sandbox's controllers settle) until `ready`
/// holds of `read()`, at most 30 s; returns what it saw last.
#[track_caller]
pub fn wait_for(what: &str, read: impl Fn() -> String, ready: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let seen = read();
        if ready(&seen) {
            return seen;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}; last seen:\n{seen}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
