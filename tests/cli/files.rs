//! No output replaces an input, and inputs are bounded: `plan --out`, `audit --output` and the
//! state file against the plan file, the state, its backup and other people's files; plan files
//! that are devices, FIFOs, too large or not what they seem.

use crate::repo_support::{EXAMPLE, Repo};

/// The files of the repository, byte for byte, to show nothing changed.
fn snapshot(repo: &Repo) -> Vec<(String, Option<String>)> {
    [
        "plans/example.toml",
        "state/example.state.json",
        "state/example.state.json.backup",
    ]
    .iter()
    .map(|path| {
        let text = std::fs::read_to_string(repo.test.path().join(path)).ok();
        ((*path).to_owned(), text)
    })
    .collect()
}

#[track_caller]
fn refused(repo: &Repo, args: &[&str], message: &str) {
    let before = snapshot(repo);
    repo.expect_error(1, args, message);
    assert_eq!(snapshot(repo), before, "{args:?} changed nothing");
}

/// `plan --out state/example.state.json` replaced the state with the change set and the next
/// command failed on an unknown field (regression); the plan file and the backup likewise.
#[test]
fn plan_out_never_replaces_the_plan_the_state_or_its_backup() {
    let repo = Repo::new();
    repo.apply();
    // A second apply leaves a backup.
    repo.test.write(
        "plans/example.toml",
        &EXAMPLE.replacen("\"2m\"", "\"5m\"", 1),
    );
    repo.apply();
    for (out, what) in [
        ("state/example.state.json", "it is the state file"),
        ("state/example.state.json.backup", "it is the state backup"),
        ("plans/example.toml", "it is the plan file"),
        (
            "./plans/../state/example.state.json",
            "it is the state file",
        ),
    ] {
        refused(&repo, &["plan", "plans/example.toml", "--out", out], what);
    }
    repo.assert_converged();
}

#[test]
fn plan_out_replaces_only_an_earlier_change_set_and_never_makes_a_directory() {
    let repo = Repo::new();
    repo.test.write("notes.md", "# release notes\n");
    refused(
        &repo,
        &["plan", "plans/example.toml", "--out", "notes.md"],
        "refusing to replace `notes.md`: it is not an earlier saved change set",
    );
    assert_eq!(repo.test.read("notes.md"), "# release notes\n");
    refused(
        &repo,
        &["plan", "plans/example.toml", "--out", "out/changes.json"],
        "the directory `out` does not exist",
    );
    assert!(!repo.test.path().join("out").exists());
    // An empty file (mktemp) and an earlier change set are fine to replace.
    repo.test.write("empty.json", "");
    repo.expect(0, &["plan", "plans/example.toml", "--out", "empty.json"]);
    repo.expect(0, &["plan", "plans/example.toml", "--out", "empty.json"]);
    repo.expect(0, &["apply", "empty.json"]);
}

/// `audit --output plans/example.toml` replaced the plan file (regression).
#[test]
fn audit_output_never_replaces_the_plan_or_the_state() {
    let repo = Repo::new();
    repo.apply();
    for (out, what) in [
        ("plans/example.toml", "it is the plan file"),
        ("state/example.state.json", "it is the state file"),
    ] {
        refused(
            &repo,
            &["audit", "plans/example.toml", "--output", out],
            what,
        );
    }
    let output = repo.run(&["audit", "plans/example.toml", "--output", "audit.json"]);
    assert_eq!(output.status.code(), Some(4));
    let output = repo.run(&["audit", "plans/example.toml", "--output", "audit.json"]);
    assert_eq!(
        output.status.code(),
        Some(4),
        "an earlier report is replaced"
    );
}

/// `[target] state` naming the plan file would have the first apply write the state over it.
#[test]
fn a_state_path_that_is_the_plan_file_is_refused() {
    let repo = Repo::new();
    repo.test.write(
        "plans/example.toml",
        &EXAMPLE.replacen(
            "auth = \"auto\"",
            "auth = \"auto\"\nstate = \"example.toml\"",
            1,
        ),
    );
    refused(
        &repo,
        &["apply", "plans/example.toml", "--auto-approve"],
        "is the plan file itself",
    );
}

#[cfg(unix)]
#[test]
fn a_plan_file_must_be_a_regular_file_within_the_limit() {
    let repo = Repo::new();
    let fifo = repo.test.path().join("plans/fifo.toml");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    repo.test.write(
        "plans/huge.toml",
        &format!("{EXAMPLE}\n{}", "#".repeat(5 << 20)),
    );
    for command in ["validate", "plan", "apply", "audit"] {
        for (plan, message) in [
            ("/dev/zero", "it is a character device, not a regular file"),
            (
                "plans/fifo.toml",
                "it is a FIFO (named pipe), not a regular file",
            ),
            ("plans", "it is a directory, not a regular file"),
            ("plans/huge.toml", "it is larger than 4 MiB"),
        ] {
            let stderr = repo.expect_error(1, &[command, plan], message);
            assert!(
                stderr.contains(&format!("cannot read `{plan}`")),
                "{stderr}"
            );
        }
    }
}

/// A plan file that happens to start with `{` is a plan file with a TOML error, not a saved
/// change set "with format_version 0" (regression).
#[test]
fn a_plan_file_starting_with_a_brace_is_reported_as_toml() {
    let repo = Repo::new();
    repo.test.write("plans/brace.toml", "{ version = 1 }\n");
    for command in ["plan", "apply"] {
        let stderr = repo.expect_error(1, &[command, "plans/brace.toml"], "plans/brace.toml:1:1");
        assert!(!stderr.contains("format_version"), "{stderr}");
    }
}
