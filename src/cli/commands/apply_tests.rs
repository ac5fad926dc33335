//! `apply` as the command runs it, over a fake backend.

use super::*;
use crate::engine::apply::ApplyError;
use crate::engine::testing::fake::FakeBackend;
use crate::plan::testing::example_plan;
use crate::state::store::to_text;

/// The example plan as if read from `plans/example.toml` under `dir`.
fn loaded_in(dir: &tempfile::TempDir) -> LoadedPlan {
    let (plan, source) = example_plan();
    LoadedPlan {
        path: dir.path().join("plans/example.toml"),
        source,
        plan,
    }
}

/// `apply --auto-approve` of the plan file.
fn auto_approved() -> ApplyCommand {
    ApplyCommand {
        input: "plans/example.toml".into(),
        mode: Mode::Normal,
        auto_approve: true,
        parallelism: 4,
        saved: None,
        update_dependents: false,
        force: false,
    }
}

#[tokio::test]
async fn an_apply_whose_state_another_run_rewrote_before_its_lock_exits_3_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = loaded_in(&dir);
    // This run finds no state file; another run saves one just before this one gets the lock.
    let state_path = loaded.state_path();
    let theirs = to_text(&StateFile::new());
    let backend = Arc::new(FakeBackend::with_cluster());
    backend.before_lock.set({
        let (state_path, theirs) = (state_path.clone(), theirs.clone());
        move || {
            std::fs::create_dir_all(state_path.parent().unwrap()).unwrap();
            std::fs::write(&state_path, theirs).unwrap();
        }
    });
    let error = run(
        backend.clone(),
        &loaded,
        None,
        None,
        &auto_approved(),
        Output::plain(),
        None,
    )
    .await
    .unwrap_err();

    assert!(
        matches!(&error, Error::Apply(ApplyError::StateChanged { .. })),
        "{error:?}"
    );
    assert_eq!(error.exit_code(), 3);
    let journal = backend.journal();
    assert!(
        !journal.iter().any(|entry| entry.starts_with("write")),
        "{journal:?}"
    );
    assert_eq!(journal.last().map(String::as_str), Some("unlock"));
    assert_eq!(std::fs::read_to_string(&state_path).unwrap(), theirs);
}

/// An apply whose write of a SecretProviderClass was undone right after it answered: never
/// "Apply complete!", exit 1 naming it.
#[tokio::test]
async fn an_apply_whose_write_did_not_stick_is_not_complete() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = loaded_in(&dir);
    let backend = Arc::new(FakeBackend::with_cluster());
    backend
        .world
        .lock()
        .unwrap()
        .undone
        .insert(crate::plan::address::Address::spc("shop-api"));
    let error = run(
        backend,
        &loaded,
        None,
        None,
        &auto_approved(),
        Output::plain(),
        None,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Unverified {
                what: "apply",
                count: 1
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.exit_code(), 1);
    assert_eq!(
        error.to_string(),
        "apply finished, but 1 of the resources it wrote do not read back as written"
    );
}
