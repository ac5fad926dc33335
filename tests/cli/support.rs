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
