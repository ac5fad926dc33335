//! What a user reads from apply, destroy, import, state and a failing command, as snapshots
//! (see `assert_output_snapshot!` for what is redacted): a change to any of them shows in
//! the review as a diff of the text itself.

use crate::assert_output_snapshot;
use crate::repo_support::Repo;
use crate::support::progress_sorted;

fn stderr_of(repo: &Repo, code: i32, args: &[&str]) -> String {
    let output = repo.run(args);
    assert_eq!(output.status.code(), Some(code), "{output:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn apply_then_a_second_apply_then_destroy() {
    let repo = Repo::new();
    assert_output_snapshot!("apply", progress_sorted(&repo.apply()));
    assert_output_snapshot!("apply_again", progress_sorted(&repo.apply()));
    assert_output_snapshot!(
        "destroy",
        progress_sorted(&repo.expect(0, &["destroy", "plans/example.toml", "--auto-approve"]))
    );
}

#[test]
fn state_and_import() {
    let repo = Repo::new();
    repo.apply();
    assert_output_snapshot!(
        "state_list",
        repo.expect(0, &["state", "list", "plans/example.toml"])
    );
    assert_output_snapshot!(
        "state_show",
        repo.expect(
            0,
            &["state", "show", "plans/example.toml", "spc.payments-db"]
        )
    );
    assert_output_snapshot!(
        "state_rm",
        repo.expect(0, &["state", "rm", "plans/example.toml", "spc.payments-db"])
    );
    assert_output_snapshot!(
        "import",
        repo.expect(
            0,
            &[
                "import",
                "plans/example.toml",
                "spc.payments-db",
                "payments/payments-db"
            ]
        )
    );
}

#[test]
fn errors() {
    let repo = Repo::new();
    assert_output_snapshot!(
        "error_not_in_state",
        stderr_of(
            &repo,
            1,
            &["state", "show", "plans/example.toml", "vault.payments"]
        )
    );
    assert_output_snapshot!(
        "error_not_an_address",
        stderr_of(
            &repo,
            1,
            &["state", "show", "plans/example.toml", "nonsense"]
        )
    );
    assert_output_snapshot!(
        "error_import_not_in_plan",
        stderr_of(
            &repo,
            1,
            &[
                "import",
                "plans/example.toml",
                "spc.other",
                "payments/other"
            ]
        )
    );
    assert_output_snapshot!(
        "error_missing_plan_file",
        stderr_of(&repo, 1, &["plan", "plans/missing.toml"])
    );
    assert_output_snapshot!(
        "error_usage",
        stderr_of(
            &repo,
            1,
            &["plan", "plans/example.toml", "--paralelism", "4"]
        )
    );
    assert_output_snapshot!(
        "error_apply_without_approval",
        stderr_of(&repo, 1, &["apply", "plans/example.toml"])
    );
}
