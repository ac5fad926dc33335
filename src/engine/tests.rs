//! The engine against the in-memory fake backend: order of operations, derived identities,
//! drift, failures and locks — without any network.

use std::sync::Arc;
use std::time::Duration;

use crate::diff::action::Action;
use crate::diff::change::UNKNOWN;
use crate::engine::apply::{
    ApplyError, ApplyOptions, ApplyReport, apply, clusters, write_state_locked,
};
use crate::engine::events::Silent;
use crate::engine::node::ChangeError;
use crate::engine::plan::Mode;
use crate::engine::plan::{PlanOptions, Planned, plan};
use crate::engine::state_writer::StateWriter;
use crate::engine::testing::fake::FakeBackend;
use crate::graph::walker::StopFlag;
use crate::plan::address::Address;
use crate::plan::model::Plan;
use crate::plan::{PlanSource, check};
use crate::state::model::StateFile;

const EXAMPLE: &str = include_str!("../../plans/example.toml");

#[track_caller]
fn parse(text: &str) -> Plan {
    let checked = check(&PlanSource {
        name: "test.toml".into(),
        text: text.into(),
    });
    match checked.plan {
        Some(plan) => plan,
        None => panic!("invalid test plan: {:#?}", checked.diagnostics),
    }
}

fn options(mode: Mode) -> PlanOptions {
    PlanOptions {
        mode,
        targets: vec![],
        parallelism: 4,
        keep_refreshed: true,
        preflight: true,
    }
}

/// One scenario: a fake world and the state carried between runs.
struct Run {
    backend: Arc<FakeBackend>,
    state: Option<StateFile>,
    /// `ApplyOptions::update_dependents` of its applies.
    update_dependents: bool,
}

impl Run {
    fn new() -> Self {
        Self {
            backend: Arc::new(FakeBackend::with_cluster()),
            state: None,
            update_dependents: false,
        }
    }

    async fn plan(&self, text: &str, mode: Mode) -> Planned {
        self.plan_with(text, &options(mode)).await
    }

    async fn plan_with(&self, text: &str, options: &PlanOptions) -> Planned {
        plan(&*self.backend, &parse(text), self.state.as_ref(), options)
            .await
            .unwrap()
    }

    /// The example applied.
    async fn applied() -> Self {
        let mut run = Self::new();
        run.apply(EXAMPLE, Mode::Normal).await.unwrap();
        run
    }

    /// The example applied, then its role assignment deleted outside vaultwire.
    async fn with_grant_deleted_outside() -> Self {
        let run = Self::applied().await;
        run.world().role_assignments.clear();
        run
    }

    /// The live world, to change as someone outside vaultwire would.
    fn world(&self) -> std::sync::MutexGuard<'_, crate::engine::testing::fake::FakeWorld> {
        self.backend.world.lock().unwrap()
    }

    async fn apply(&mut self, text: &str, mode: Mode) -> Result<ApplyReport, ApplyError> {
        let planned = self.plan(text, mode).await;
        let writer = Arc::new(StateWriter::new(
            self.state.clone().unwrap_or_default(),
            None,
        ));
        let report = self
            .apply_planned(text, &planned, writer.clone(), Arc::new(Silent))
            .await;
        self.state = Some(writer.read(Clone::clone));
        report
    }

    /// Applies `planned` (from the plan file `text`) through `writer`, reporting to `reporter`.
    async fn apply_planned(
        &self,
        text: &str,
        planned: &Planned,
        writer: Arc<StateWriter>,
        reporter: Arc<dyn crate::engine::events::Reporter>,
    ) -> Result<ApplyReport, ApplyError> {
        apply(
            self.backend.clone(),
            Arc::new(parse(text)),
            planned,
            writer,
            &ApplyOptions {
                parallelism: 4,
                holder: "test".into(),
                progress_interval: Duration::from_secs(60),
                update_dependents: self.update_dependents,
            },
            reporter,
            &StopFlag::new(),
        )
        .await
    }

    /// The state saved to a file of its own, as a run reads it: the directory (to keep), the
    /// file and the state.
    fn state_in_a_file(&self) -> (tempfile::TempDir, std::path::PathBuf, StateFile) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("example.state.json");
        let state = self.state.clone().unwrap();
        std::fs::write(&path, crate::state::store::to_text(&state)).unwrap();
        (dir, path, state)
    }

    fn journal_position(&self, entry: &str) -> usize {
        let journal = self.backend.journal();
        journal
            .iter()
            .position(|e| e == entry)
            .unwrap_or_else(|| panic!("`{entry}` not in {journal:?}"))
    }
}

/// The writer of a run that read `state` from the file at `path`.
fn writer_as_read(path: &std::path::Path, state: &StateFile) -> Arc<StateWriter> {
    Arc::new(
        StateWriter::new(state.clone(), Some(path.to_owned()))
            .read_as(Some(crate::state::store::Stamp::of(state))),
    )
}

/// A run that found no state file, and the file another run saved after: the directory (to
/// keep), the file, this run's writer and the other run's text.
fn written_by_another_run() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    Arc<StateWriter>,
    String,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("example.state.json");
    let writer = Arc::new(StateWriter::new(StateFile::new(), Some(path.clone())).read_as(None));
    let theirs = crate::state::store::to_text(&StateFile::new());
    std::fs::write(&path, &theirs).unwrap();
    (dir, path, writer, theirs)
}

/// The addresses that drifted, in the change set's order.
fn drifted(planned: &Planned) -> Vec<String> {
    planned
        .change_set
        .drift
        .iter()
        .map(|drift| drift.address.to_string())
        .collect()
}

fn actions(planned: &Planned) -> Vec<(String, Action)> {
    planned
        .change_set
        .changes
        .iter()
        .map(|change| (change.address.to_string(), change.action))
        .collect()
}

#[tokio::test]
async fn first_plan_creates_everything_with_the_identity_unknown() {
    let run = Run::new();
    let planned = run.plan(EXAMPLE, Mode::Normal).await;
    assert_eq!(
        actions(&planned),
        [
            ("vault.payments".to_owned(), Action::Create),
            ("addon.demo".to_owned(), Action::Update),
            ("grant.demo-reads-payments".to_owned(), Action::Create),
            ("spc.payments-db".to_owned(), Action::Create),
            ("spc.shop-api".to_owned(), Action::Create),
        ]
    );
    let grant = planned
        .change_set
        .get(&Address::grant("demo-reads-payments"))
        .unwrap();
    assert_eq!(grant.after.as_ref().unwrap()["principal_id"], UNKNOWN);
}

#[tokio::test]
async fn apply_from_scratch_runs_in_dependency_order_then_plans_no_changes() {
    let mut run = Run::new();
    let report = run.apply(EXAMPLE, Mode::Normal).await.unwrap();
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(
        report.counts(),
        "Resources: 4 added, 1 changed, 0 destroyed."
    );
    let grant = run.journal_position("write grant.demo-reads-payments");
    assert!(run.journal_position("write vault.payments") < grant);
    assert!(run.journal_position("write addon.demo") < grant);
    assert!(grant < run.journal_position("write spc.payments-db"));
    assert!(grant < run.journal_position("write spc.shop-api"));
    assert!(run.journal_position("lock") < run.journal_position("write vault.payments"));
    let state = run.state.as_ref().unwrap();
    assert_eq!(state.resources.len(), 5);
    assert_eq!(
        state.resources[&Address::grant("demo-reads-payments")].attributes["principal_id"],
        "object-1"
    );
    let again = run.plan(EXAMPLE, Mode::Normal).await;
    assert!(!again.change_set.has_changes(), "{:#?}", again.change_set);
    assert!(again.change_set.drift.is_empty());
}

#[tokio::test]
async fn a_changed_property_updates_in_place_and_a_removed_spc_is_deleted() {
    let mut run = Run::applied().await;
    let edited = EXAMPLE
        .replace(
            "rotation_poll_interval = \"2m\"",
            "rotation_poll_interval = \"5m\"",
        )
        .replace("[spc.shop-api]", "[spc.shop-api-gone]\n[spc.unused]")
        .split("[spc.shop-api-gone]")
        .next()
        .unwrap()
        .to_owned();
    let planned = run.plan(&edited, Mode::Normal).await;
    let action_of = |address: Address| planned.change_set.get(&address).unwrap().action;
    assert_eq!(action_of(Address::addon("demo")), Action::Update);
    assert_eq!(action_of(Address::spc("shop-api")), Action::Delete);
    assert_eq!(action_of(Address::spc("payments-db")), Action::NoOp);
    let report = run.apply(&edited, Mode::Normal).await.unwrap();
    assert_eq!(
        report.counts(),
        "Resources: 0 added, 1 changed, 1 destroyed."
    );
    assert!(
        !run.state
            .as_ref()
            .unwrap()
            .resources
            .contains_key(&Address::spc("shop-api"))
    );
}

#[tokio::test]
async fn drift_is_reported_and_repaired() {
    let mut run = Run::applied().await;
    {
        let mut world = run.world();
        world.role_assignments.clear();
        for (attributes, _) in world.addons.values_mut() {
            attributes.insert("secret_rotation".into(), serde_json::json!(false));
        }
    }
    let planned = run.plan(EXAMPLE, Mode::Normal).await;
    assert_eq!(
        drifted(&planned),
        ["addon.demo", "grant.demo-reads-payments"]
    );
    let grant = planned
        .change_set
        .get(&Address::grant("demo-reads-payments"))
        .unwrap();
    assert_eq!(grant.action, Action::Create);
    assert_eq!(
        grant.reason,
        Some(crate::diff::change::Reason::DeletedOutside)
    );
    run.apply(EXAMPLE, Mode::Normal).await.unwrap();
    let after = run.plan(EXAMPLE, Mode::Normal).await;
    assert!(!after.change_set.has_changes());
}

/// The plan as applied, edited live: one comparison of live against the state record decides
/// both the drift and the change of an address whose desired properties are the record's.
#[tokio::test]
async fn drift_from_a_record_the_plan_still_wants_is_a_change_of_the_same_properties() {
    let run = Run::applied().await;
    {
        let mut world = run.world();
        for (_, attributes) in world.vaults.values_mut() {
            attributes.insert("soft_delete_retention_days".into(), serde_json::json!(30));
        }
        for spcs in world.spcs.values_mut() {
            for manifest in spcs.values_mut() {
                manifest["spec"]["parameters"]["usePodIdentity"] = serde_json::json!("true");
            }
        }
    }
    let planned = run.plan(EXAMPLE, Mode::Normal).await;
    assert_eq!(
        drifted(&planned),
        ["vault.payments", "spc.payments-db", "spc.shop-api"]
    );
    let vault = planned.change_set.get(&Address::vault("payments")).unwrap();
    assert_eq!(vault.action, Action::Replace);
    assert_eq!(vault.replace_paths, ["soft_delete_retention_days"]);
    let spc = planned.change_set.get(&Address::spc("shop-api")).unwrap();
    assert_eq!(spc.action, Action::Update);
}

/// The state records what was applied; the plan file now wants something else of a
/// SecretProviderClass that live still has as recorded: no drift, and still a change.
#[tokio::test]
async fn a_changed_spc_that_live_has_as_recorded_is_updated_without_drift() {
    let run = Run::applied().await;
    let edited = EXAMPLE.replace(
        "{ name = \"api-key\", type = \"secret\" },",
        "{ name = \"api-key-v2\", type = \"secret\" },",
    );
    assert_ne!(edited, EXAMPLE);
    let planned = run.plan(&edited, Mode::Normal).await;
    assert!(planned.change_set.drift.is_empty());
    let action_of = |address: Address| planned.change_set.get(&address).unwrap().action;
    assert_eq!(action_of(Address::spc("shop-api")), Action::Update);
    assert_eq!(action_of(Address::spc("payments-db")), Action::NoOp);
}

#[tokio::test]
async fn refresh_only_changes_nothing_but_the_state() {
    let run = Run::with_grant_deleted_outside().await;
    let planned = run.plan(EXAMPLE, Mode::RefreshOnly).await;
    assert!(!planned.change_set.has_changes());
    assert_eq!(planned.change_set.drift.len(), 1);
    assert!(
        !planned
            .refreshed
            .contains_key(&Address::grant("demo-reads-payments"))
    );
}

#[tokio::test]
async fn a_plan_only_shown_has_the_same_changes_and_drift_without_the_live_records() {
    let run = Run::with_grant_deleted_outside().await;
    let kept = run.plan(EXAMPLE, Mode::Normal).await;
    let shown = run
        .plan_with(
            EXAMPLE,
            &PlanOptions {
                keep_refreshed: false,
                preflight: false,
                ..options(Mode::Normal)
            },
        )
        .await;
    assert!(kept.change_set.has_changes());
    assert_eq!(shown.change_set, kept.change_set);
    assert_eq!(shown.derived, kept.derived);
    assert_eq!(kept.refreshed.len(), 4, "all but the deleted grant");
    assert!(shown.refreshed.is_empty());
}

#[tokio::test]
async fn a_new_addon_identity_replaces_grants_and_updates_spcs() {
    let mut run = Run::applied().await;
    {
        let mut world = run.world();
        for (_, identity) in world.addons.values_mut() {
            if let Some(identity) = identity {
                identity.client_id = "client-new".into();
                identity.object_id = "object-new".into();
            }
        }
    }
    let planned = run.plan(EXAMPLE, Mode::Normal).await;
    let action_of = |address: Address| planned.change_set.get(&address).unwrap().action;
    assert_eq!(
        action_of(Address::grant("demo-reads-payments")),
        Action::Replace
    );
    assert_eq!(action_of(Address::spc("payments-db")), Action::Update);
    assert_eq!(action_of(Address::spc("shop-api")), Action::Update);
    run.apply(EXAMPLE, Mode::Normal).await.unwrap();
    assert!(
        !run.plan(EXAMPLE, Mode::Normal)
            .await
            .change_set
            .has_changes()
    );
}

#[tokio::test]
async fn a_failure_skips_dependents_and_keeps_what_succeeded() {
    let mut run = Run::new();
    run.backend
        .world
        .lock()
        .unwrap()
        .failing
        .insert(Address::grant("demo-reads-payments"));
    let report = run.apply(EXAMPLE, Mode::Normal).await.unwrap();
    assert_eq!(report.failed.len(), 1);
    assert_eq!(
        report
            .skipped
            .keys()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["spc.payments-db", "spc.shop-api"]
    );
    let state = run.state.as_ref().unwrap();
    assert!(state.resources.contains_key(&Address::vault("payments")));
    assert!(state.resources.contains_key(&Address::addon("demo")));
    assert!(!state.resources.contains_key(&Address::spc("payments-db")));
}

#[tokio::test]
async fn destroy_deletes_spcs_before_disabling_the_addon_and_honours_on_destroy() {
    let mut run = Run::applied().await;
    let report = run.apply(EXAMPLE, Mode::Destroy).await.unwrap();
    assert!(report.is_complete(), "{report:?}");
    let addon = run.journal_position("delete addon.demo");
    assert!(run.journal_position("delete spc.payments-db") < addon);
    assert!(run.journal_position("delete spc.shop-api") < addon);
    assert!(run.journal_position("delete grant.demo-reads-payments") < addon);
    assert!(run.state.as_ref().unwrap().resources.is_empty());
    // on_destroy = "delete": soft-deleted, so the next apply recovers it.
    let world = run.backend.world.lock().unwrap();
    assert!(world.vaults.is_empty());
    assert_eq!(world.soft_deleted.len(), 1);
}

#[tokio::test]
async fn a_held_lock_stops_the_run_before_any_change() {
    let mut run = Run::new();
    run.backend.world.lock().unwrap().locks.insert(
        crate::engine::backend::ClusterKey::new("rg-demo", "aks-demo"),
        "someone else".into(),
    );
    let error = run.apply(EXAMPLE, Mode::Normal).await.unwrap_err();
    assert!(matches!(error, ApplyError::Locked { ref holder, .. } if holder == "someone else"));
    assert!(!run.backend.journal().iter().any(|e| e.starts_with("write")));
}

#[tokio::test]
async fn a_run_targeting_only_a_vault_still_takes_the_plans_cluster_locks() {
    // The locks guard the state file, which a targeted run writes whole as well.
    let run = Run::new();
    run.world().locks.insert(
        crate::engine::backend::ClusterKey::new("rg-demo", "aks-demo"),
        "someone else".into(),
    );
    let targeted = PlanOptions {
        targets: vec![Address::vault("payments")],
        ..options(Mode::Normal)
    };
    let planned = run.plan_with(EXAMPLE, &targeted).await;
    assert_eq!(
        actions(&planned),
        [("vault.payments".to_owned(), Action::Create)]
    );
    let writer = Arc::new(StateWriter::new(StateFile::new(), None));
    let error = run
        .apply_planned(EXAMPLE, &planned, writer, Arc::new(Silent))
        .await
        .unwrap_err();
    assert!(matches!(error, ApplyError::Locked { ref holder, .. } if holder == "someone else"));
    assert!(!run.backend.journal().iter().any(|e| e.starts_with("write")));
}

#[tokio::test]
async fn a_run_that_finds_the_lock_taken_leaves_the_state_file_alone() {
    let run = Run::applied().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("example.state.json");
    crate::state::store::save(&path, run.state.as_ref().unwrap()).unwrap();
    let before = std::fs::read(&path).unwrap();
    {
        // Drift the refresh will find (the other run is repairing it), and the other run's lock.
        let mut world = run.backend.world.lock().unwrap();
        world.role_assignments.clear();
        world.locks.insert(
            crate::engine::backend::ClusterKey::new("rg-demo", "aks-demo"),
            "someone else".into(),
        );
    }
    let planned = run.plan(EXAMPLE, Mode::Normal).await;
    let writer = Arc::new(StateWriter::new(
        run.state.clone().unwrap(),
        Some(path.clone()),
    ));
    let error = run
        .apply_planned(EXAMPLE, &planned, writer.clone(), Arc::new(Silent))
        .await
        .unwrap_err();
    assert!(matches!(error, ApplyError::Locked { .. }), "{error}");
    writer.flush().await.unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the state file changed without the lock"
    );
}

#[tokio::test]
async fn a_missing_cluster_is_a_plan_error() {
    let run = Run {
        backend: Arc::new(FakeBackend::default()),
        state: None,
        update_dependents: false,
    };
    let error = plan(&*run.backend, &parse(EXAMPLE), None, &options(Mode::Normal))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("cluster `aks-demo`"), "{error}");
}

#[tokio::test]
async fn targets_limit_the_plan_to_what_they_depend_on() {
    let run = Run::new();
    let planned = plan(
        &*run.backend,
        &parse(EXAMPLE),
        None,
        &PlanOptions {
            mode: Mode::Normal,
            targets: vec![Address::grant("demo-reads-payments")],
            parallelism: 4,
            keep_refreshed: true,
            preflight: false,
        },
    )
    .await
    .unwrap();
    let addresses: Vec<String> = planned
        .change_set
        .changes
        .iter()
        .map(|c| c.address.to_string())
        .collect();
    assert_eq!(
        addresses,
        ["vault.payments", "addon.demo", "grant.demo-reads-payments"]
    );
    assert_eq!(planned.change_set.warnings.len(), 1);
}

/// Records, when each change starts and finishes, which addresses the state file on disk holds.
struct DiskWatcher {
    path: std::path::PathBuf,
    seen: std::sync::Mutex<Vec<(String, Address, Vec<Address>)>>,
}

impl crate::engine::events::Reporter for DiskWatcher {
    fn event(&self, event: crate::engine::events::Event) {
        use crate::engine::events::Event;
        let (moment, address) = match event {
            Event::Started { address, .. } => ("started", address),
            Event::Finished { address, .. } => ("finished", address),
            _ => return,
        };
        let on_disk = crate::state::store::load(&self.path)
            .unwrap()
            .map(|state| state.resources.into_keys().collect())
            .unwrap_or_default();
        self.seen
            .lock()
            .unwrap()
            .push((moment.to_owned(), address, on_disk));
    }
}

#[tokio::test]
async fn a_change_counts_as_done_only_once_the_state_file_holds_it() {
    let run = Run::new();
    let planned = run.plan(EXAMPLE, Mode::Normal).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("example.state.json");
    let watcher = Arc::new(DiskWatcher {
        path: path.clone(),
        seen: std::sync::Mutex::new(Vec::new()),
    });
    let writer = Arc::new(StateWriter::new(StateFile::new(), Some(path)));
    let report = run
        .apply_planned(EXAMPLE, &planned, writer, watcher.clone())
        .await
        .unwrap();
    assert!(report.is_complete(), "{report:?}");
    let seen = watcher.seen.lock().unwrap();
    let on_disk_when = |moment: &str, address: &Address| {
        seen.iter()
            .find(|(m, a, _)| m == moment && a == address)
            .map(|(_, _, on_disk)| on_disk.clone())
            .unwrap_or_else(|| panic!("no `{moment}` event for {address}: {seen:?}"))
    };
    // What a resource's "finished" line reports is already in the file…
    for change in &planned.change_set.changes {
        let on_disk = on_disk_when("finished", &change.address);
        assert!(
            on_disk.contains(&change.address),
            "{} finished before it was saved: {on_disk:?}",
            change.address
        );
    }
    // …so a dependent starts only once everything it depends on is saved.
    let grant = on_disk_when("started", &Address::grant("demo-reads-payments"));
    assert!(grant.contains(&Address::vault("payments")), "{grant:?}");
    assert!(grant.contains(&Address::addon("demo")), "{grant:?}");
    let spc = on_disk_when("started", &Address::spc("payments-db"));
    assert!(
        spc.contains(&Address::grant("demo-reads-payments")),
        "{spc:?}"
    );
}

#[tokio::test]
async fn a_secret_provider_class_renamed_in_the_plan_file_is_found_live_by_both_keys() {
    // The old key, in the state, and the new one, in the plan file, name the same object; the
    // refresh moves its manifest to the first and copies it to the second.
    let run = Run::applied().await;
    let renamed = EXAMPLE.replace(
        "[spc.shop-api]\n",
        "[spc.storefront]\nname = \"shop-api\"\n",
    );
    let planned = run.plan(&renamed, Mode::Normal).await;
    let change = |address: &str| {
        planned
            .change_set
            .changes
            .iter()
            .find(|change| change.address.to_string() == address)
            .unwrap_or_else(|| panic!("no change for {address}"))
    };
    let old = change("spc.shop-api");
    let new = change("spc.storefront");
    assert_eq!(old.action, Action::Delete);
    assert_eq!(new.action, Action::NoOp, "{new:#?}");
    let live_manifest = |change: &crate::diff::change::ResourceChange| {
        change
            .before
            .as_ref()
            .map(|before| before["manifest"].clone())
    };
    assert!(live_manifest(old).is_some_and(|manifest| manifest["kind"] == "SecretProviderClass"));
    assert_eq!(live_manifest(old), live_manifest(new));
}

#[tokio::test]
async fn the_identities_the_state_records_are_those_a_plan_run_again_finds() {
    // The diff's groundwork is rendered with the state's identities while the refresh reads
    // live ones; a plan run again must find them equal, or the groundwork is never used.
    let run = Run::applied().await;
    let recorded = crate::engine::plan::recorded_identities(run.state.as_ref());
    assert!(!recorded.addon_identities.is_empty());
    let planned = run.plan(EXAMPLE, Mode::Normal).await;
    assert_eq!(recorded.addon_identities, planned.derived.addon_identities);
}

#[tokio::test]
async fn a_state_file_another_run_wrote_after_this_one_read_it_stops_the_run_before_any_change() {
    let run = Run::new();
    let planned = run.plan(EXAMPLE, Mode::Normal).await;
    let (_dir, path, writer, theirs) = written_by_another_run();

    let error = run
        .apply_planned(EXAMPLE, &planned, writer, Arc::new(Silent))
        .await
        .unwrap_err();

    assert!(
        matches!(&error, ApplyError::StateChanged { path: named } if *named == path),
        "{error:?}"
    );
    // Nothing was changed, the lock was given back, and the other run's file is as it left it.
    assert_eq!(
        run.backend.journal().last().map(String::as_str),
        Some("unlock")
    );
    assert!(
        !run.backend
            .journal()
            .iter()
            .any(|entry| entry.starts_with("write")),
        "{:?}",
        run.backend.journal()
    );
    assert!(run.backend.world.lock().unwrap().locks.is_empty());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), theirs);
}

#[tokio::test]
async fn a_state_write_without_changes_live_holds_the_lock_and_checks_the_file_first() {
    // `plan --refresh-only` and `import`: the lock, then the file as read, then the write.
    let run = Run::applied().await;
    let (_dir, path, ours) = run.state_in_a_file();
    run.world().role_assignments.clear();
    let planned = run.plan(EXAMPLE, Mode::RefreshOnly).await;
    // What `plan --refresh-only` writes, by a run that read the file as `ours`.
    let write_as_read = || async {
        let writer = writer_as_read(&path, &ours);
        write_state_locked(
            &*run.backend,
            &clusters(&planned, &parse(EXAMPLE)),
            &writer,
            "test",
            |writer| Ok(writer.merge_refreshed(&planned.selected, &planned.refreshed)),
        )
        .await
    };

    // Another run saved a newer serial after this one read the file.
    let mut theirs = ours.clone();
    theirs.serial += 1;
    let theirs = crate::state::store::to_text(&theirs);
    std::fs::write(&path, &theirs).unwrap();
    let error = write_as_read().await.unwrap_err();
    assert!(
        matches!(error, ApplyError::StateChanged { .. }),
        "{error:?}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), theirs);
    assert_eq!(
        run.backend.journal().last().map(String::as_str),
        Some("unlock")
    );

    // The file as read: written, between the lock and its release.
    std::fs::write(&path, crate::state::store::to_text(&ours)).unwrap();
    let journal_before = run.backend.journal().len();
    let updated = write_as_read().await.unwrap();
    assert!(updated, "the deleted grant is forgotten");
    let saved = crate::state::store::load(&path).unwrap().unwrap();
    assert!(
        !saved
            .resources
            .contains_key(&Address::grant("demo-reads-payments"))
    );
    assert_eq!(run.backend.journal()[journal_before..], ["lock", "unlock"]);
    assert!(run.world().locks.is_empty());
}

#[tokio::test]
async fn a_plan_without_clusters_still_checks_the_state_file_before_any_change() {
    // No add-on, so no cluster to hold a lock in: the check of the file is all there is.
    let vault_only = EXAMPLE.split("\n[addon.demo]").next().unwrap();
    let run = Run::new();
    let planned = run.plan(vault_only, Mode::Normal).await;
    assert_eq!(
        actions(&planned),
        [("vault.payments".to_owned(), Action::Create)]
    );
    let (_dir, path, writer, theirs) = written_by_another_run();
    let planned_with = run.backend.journal();

    let error = run
        .apply_planned(vault_only, &planned, writer, Arc::new(Silent))
        .await
        .unwrap_err();

    assert!(
        matches!(error, ApplyError::StateChanged { .. }),
        "{error:?}"
    );
    assert_eq!(
        run.backend.journal(),
        planned_with,
        "nothing after the plan's reads"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), theirs);
}

#[tokio::test]
async fn a_state_file_as_this_run_read_it_lets_the_run_go_on() {
    let run = Run::applied().await;
    let (_dir, path, ours) = run.state_in_a_file();
    // Changed live since, so the run has work to do.
    run.world().role_assignments.clear();
    let planned = run.plan(EXAMPLE, Mode::Normal).await;
    let writer = writer_as_read(&path, &ours);

    let report = run
        .apply_planned(EXAMPLE, &planned, writer, Arc::new(Silent))
        .await
        .unwrap();

    assert!(report.is_complete(), "{report:?}");
    assert!(
        run.backend
            .journal()
            .iter()
            .any(|entry| entry.starts_with("write grant.")),
        "{:?}",
        run.backend.journal()
    );
}

#[tokio::test]
async fn a_plan_is_the_same_whichever_order_its_reads_come_in() {
    // Over the network the clusters' lists come in after the Azure reads and are diffed as
    // they come; here they come first, and wait for the add-ons.
    async fn both_orders(run: &Run, text: &str) {
        let mut planned = Vec::new();
        for lists_first in [false, true] {
            run.backend.world.lock().unwrap().lists_first = lists_first;
            planned.push(run.plan(text, Mode::Normal).await);
        }
        assert_eq!(planned[0], planned[1]);
    }
    let mut run = Run::new();
    // From scratch, applied, and run again.
    both_orders(&run, EXAMPLE).await;
    run.apply(EXAMPLE, Mode::Normal).await.unwrap();
    both_orders(&run, EXAMPLE).await;
    // A SecretProviderClass found by two keys (renamed in the plan file).
    let renamed = EXAMPLE.replace(
        "[spc.shop-api]\n",
        "[spc.storefront]\nname = \"shop-api\"\n",
    );
    both_orders(&run, &renamed).await;
    // Drift, and an add-on identity that changed: the groundwork no longer holds.
    {
        let mut world = run.backend.world.lock().unwrap();
        world.role_assignments.clear();
        for (_, identity) in world.addons.values_mut() {
            if let Some(identity) = identity {
                identity.client_id = "client-new".into();
            }
        }
    }
    both_orders(&run, EXAMPLE).await;
}

/// A saved change set of a rotation change, applied after the add-on was turned off outside
/// vaultwire: turning it on again gives it a new identity, and the grant and the
/// SecretProviderClasses planned for the old one would be left broken.
async fn applied_after_the_addon_was_turned_off(update_dependents: bool) -> (Run, ApplyReport) {
    let mut run = Run::applied().await;
    run.update_dependents = update_dependents;
    let rotated = EXAMPLE.replacen("\"2m\"", "\"5m\"", 1);
    let planned = run.plan(&rotated, Mode::Normal).await;
    assert_eq!(
        actions(&planned)
            .into_iter()
            .filter(|(_, action)| *action != Action::NoOp)
            .collect::<Vec<_>>(),
        [("addon.demo".to_owned(), Action::Update)]
    );
    for (attributes, identity) in run.world().addons.values_mut() {
        attributes.insert("enabled".into(), serde_json::json!(false));
        *identity = None;
    }
    let writer = Arc::new(StateWriter::new(run.state.clone().unwrap(), None));
    let report = run
        .apply_planned(&rotated, &planned, writer.clone(), Arc::new(Silent))
        .await
        .unwrap();
    run.state = Some(writer.read(Clone::clone));
    (run, report)
}

/// "Apply complete!" with the grant and both SecretProviderClasses still on the deleted
/// identity (regression): the grant fails, named, and what depends on it is skipped.
#[tokio::test]
async fn dependents_planned_for_an_identity_the_apply_changed_fail_named() {
    let (run, report) = applied_after_the_addon_was_turned_off(false).await;
    assert!(!report.is_complete());
    assert_eq!(
        report
            .succeeded
            .keys()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["addon.demo"]
    );
    let grant = &report.failed[&Address::grant("demo-reads-payments")];
    assert!(
        matches!(grant, ChangeError::PlannedForOldIdentity { moved, .. } if moved == &[Address::addon("demo")]),
        "{grant:?}"
    );
    let grant = grant.to_string();
    assert!(
        grant.starts_with(
            "planned for the identity `addon.demo` had, which came out of this apply with a new one"
        ),
        "{grant}"
    );
    assert!(grant.contains("`--update-dependents`"), "{grant}");
    assert_eq!(
        report
            .skipped
            .keys()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["spc.payments-db", "spc.shop-api"]
    );
    // Nothing was written for them: the next plan shows what is left to do.
    let journal = run.backend.journal();
    let addon_written = journal
        .iter()
        .rposition(|entry| entry == "write addon.demo");
    assert!(
        !journal[addon_written.unwrap()..]
            .iter()
            .any(|entry| entry.contains("grant.") || entry.contains("spc.")),
        "{journal:?}"
    );
    let next = run
        .plan(&EXAMPLE.replacen("\"2m\"", "\"5m\"", 1), Mode::Normal)
        .await;
    assert_eq!(
        next.change_set
            .get(&Address::grant("demo-reads-payments"))
            .unwrap()
            .action,
        Action::Replace
    );
}

#[tokio::test]
async fn dependents_follow_a_changed_identity_when_asked_to() {
    let (run, report) = applied_after_the_addon_was_turned_off(true).await;
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(
        report.counts(),
        "Resources: 1 added, 3 changed, 1 destroyed.",
        "the grant replaced, the add-on and both SecretProviderClasses updated"
    );
    let next = run
        .plan(&EXAMPLE.replacen("\"2m\"", "\"5m\"", 1), Mode::Normal)
        .await;
    assert!(!next.change_set.has_changes(), "{:?}", actions(&next));
}

/// Reads the resources `report` wrote back, as the end of an apply does.
async fn read_back(run: &Run, report: &ApplyReport) -> Vec<crate::engine::verify::Mismatch> {
    let touched = report
        .succeeded
        .iter()
        .filter(|(_, action)| **action != Action::Delete)
        .map(|(address, _)| address.clone())
        .collect();
    crate::engine::verify::verify(
        &*run.backend,
        &parse(EXAMPLE),
        run.state.as_ref().unwrap(),
        &touched,
        4,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn an_apply_reads_back_what_it_wrote_and_finds_nothing_amiss() {
    let mut run = Run::new();
    let report = run.apply(EXAMPLE, Mode::Normal).await.unwrap();
    assert_eq!(report.succeeded.len(), 5);
    let reads = run
        .backend
        .journal()
        .iter()
        .filter(|e| *e == "read")
        .count();
    assert_eq!(read_back(&run, &report).await, []);
    let after = run
        .backend
        .journal()
        .iter()
        .filter(|e| *e == "read")
        .count();
    assert_eq!(after, reads + 1, "one batched read");
}

/// A write the server accepted and something then undid is caught at the end of the apply
/// that made it, not by the next plan.
#[tokio::test]
async fn a_write_that_did_not_stick_is_named_by_the_read_back() {
    let mut run = Run::applied().await;
    run.world()
        .undone
        .extend([Address::spc("shop-api"), Address::vault("payments")]);
    let changed = EXAMPLE
        .replacen("purge_protection = false", "purge_protection = true", 1)
        .replacen("alias = \"tls.pem\"", "alias = \"tls.crt\"", 1);
    let report = run.apply(&changed, Mode::Normal).await.unwrap();
    assert!(report.is_complete(), "{report:?}");
    let touched: std::collections::BTreeSet<Address> = report.succeeded.keys().cloned().collect();
    let mismatches = crate::engine::verify::verify(
        &*run.backend,
        &parse(&changed),
        run.state.as_ref().unwrap(),
        &touched,
        4,
    )
    .await
    .unwrap();
    let named: Vec<String> = mismatches.iter().map(ToString::to_string).collect();
    assert_eq!(
        named,
        [
            "vault.payments reads back with `purge_protection` other than apply wrote",
            "spc.shop-api reads back with `manifest` other than apply wrote",
        ]
    );
}

/// "cannot save the state" printed no cause (regression): the error carries the failed write,
/// and the command line prints it.
#[tokio::test]
async fn a_state_that_cannot_be_saved_says_why() {
    let run = Run::new();
    let dir = tempfile::tempdir().unwrap();
    // The state's directory is a file: no write can succeed.
    let blocker = dir.path().join("state");
    std::fs::write(&blocker, "").unwrap();
    let writer = Arc::new(StateWriter::new(
        StateFile::new(),
        Some(blocker.join("example.state.json")),
    ));
    let planned = run.plan(EXAMPLE, Mode::Normal).await;
    let error = run
        .apply_planned(EXAMPLE, &planned, writer, Arc::new(Silent))
        .await
        .unwrap_err();
    assert!(matches!(error, ApplyError::State(_)), "{error:?}");
    let cause = std::error::Error::source(&error).expect("the failed write");
    assert_eq!(
        cause.to_string(),
        format!(
            "cannot write state file `{}`",
            blocker.join("example.state.json").display()
        )
    );
    assert!(cause.source().is_some(), "and why it failed");
}

/// The example with a managed identity federated with `payments/payments-api`, granted the
/// vault and read as by a SecretProviderClass.
fn with_identity() -> String {
    format!(
        "{}\n{}",
        EXAMPLE.replace(
            "rotation_poll_interval = \"2m\"",
            "rotation_poll_interval = \"2m\"\nworkload_identity = true"
        ),
        r#"
[identity.payments]
name = "id-payments"
resource_group = "rg-demo"
location = "westeurope"

[federation.payments-api]
identity = "payments"
addon = "demo"
namespace = "payments"
service_account = "payments-api"

[grant.payments-api-reads]
vault = "payments"
principal = { identity = "payments" }
role = "Key Vault Secrets User"

[spc.payments-api]
addon = "demo"
namespace = "payments"
vault = "payments"
identity = { identity = "payments" }
objects = [{ name = "db-password", type = "secret" }]
"#
    )
}

fn action_of(planned: &Planned, address: &Address) -> Action {
    planned
        .change_set
        .changes
        .iter()
        .find(|change| &change.address == address)
        .map(|change| change.action)
        .unwrap_or_else(|| panic!("no change for {address}"))
}

#[tokio::test]
async fn an_identitys_ids_and_its_clusters_issuer_are_known_after_apply_and_flow_on() {
    let plan = with_identity();
    let mut run = Run::new();
    let planned = run.plan(&plan, Mode::Normal).await;
    let after = |address: &Address, property: &str| {
        planned
            .change_set
            .changes
            .iter()
            .find(|change| &change.address == address)
            .and_then(|change| change.after.as_ref())
            .and_then(|after| after.get(property))
            .cloned()
    };
    let unknown = Some(serde_json::json!(UNKNOWN));
    assert_eq!(
        after(&Address::grant("payments-api-reads"), "principal_id"),
        unknown
    );
    assert_eq!(
        after(&Address::federation("payments-api"), "issuer"),
        unknown
    );
    let report = run.apply(&plan, Mode::Normal).await.unwrap();
    assert!(report.is_complete(), "{report:?}");
    let state = run.state.clone().unwrap();
    let attribute =
        |address: Address, property: &str| state.resources[&address].attributes[property].clone();
    assert_eq!(
        attribute(Address::grant("payments-api-reads"), "principal_id"),
        state.resources[&Address::identity("payments")].derived["principal_id"]
    );
    assert_eq!(
        attribute(Address::federation("payments-api"), "issuer"),
        "https://oidc.example/aks-demo/"
    );
    let converged = run.plan(&plan, Mode::Normal).await;
    assert!(!converged.change_set.has_changes(), "{converged:#?}");
}

#[tokio::test]
async fn a_credential_edited_outside_is_drift_and_an_identity_recreated_replaces_its_grant() {
    let plan = with_identity();
    let mut run = Run::new();
    run.apply(&plan, Mode::Normal).await.unwrap();
    // Someone points the credential at another service account.
    for credentials in run.world().credentials.values_mut() {
        for credential in credentials.values_mut() {
            credential.insert(
                "subject".to_owned(),
                serde_json::json!("system:serviceaccount:payments:default"),
            );
        }
    }
    let planned = run.plan(&plan, Mode::Normal).await;
    let federation = Address::federation("payments-api");
    assert_eq!(action_of(&planned, &federation), Action::Update);
    assert!(
        planned
            .change_set
            .drift
            .iter()
            .any(|drift| drift.address == federation),
        "{:?}",
        planned.change_set.drift
    );
    run.apply(&plan, Mode::Normal).await.unwrap();

    // Someone deletes the identity (its credentials go with it); recreated, it is a new
    // principal, and the grant to the old one is replaced.
    {
        let mut world = run.world();
        world.identities.clear();
        world.credentials.clear();
    }
    let planned = run.plan(&plan, Mode::Normal).await;
    assert_eq!(
        action_of(&planned, &Address::identity("payments")),
        Action::Create
    );
    assert_eq!(action_of(&planned, &federation), Action::Create);
    assert_eq!(
        action_of(&planned, &Address::grant("payments-api-reads")),
        Action::Replace
    );
    assert_eq!(
        action_of(&planned, &Address::spc("payments-api")),
        Action::Update
    );
    let report = run.apply(&plan, Mode::Normal).await.unwrap();
    assert!(report.is_complete(), "{report:?}");
    assert!(!run.plan(&plan, Mode::Normal).await.change_set.has_changes());
}

#[tokio::test]
async fn destroy_deletes_classes_and_grants_before_credentials_and_identities() {
    let plan = with_identity();
    let mut run = Run::new();
    run.apply(&plan, Mode::Normal).await.unwrap();
    run.world().journal.clear();
    run.apply(&plan, Mode::Destroy).await.unwrap();
    let journal = run.backend.journal();
    let position = |entry: &str| {
        journal
            .iter()
            .position(|line| line == entry)
            .unwrap_or_else(|| panic!("no `{entry}` in {journal:?}"))
    };
    let identity = position("delete identity.payments");
    for before in [
        "delete spc.payments-api",
        "delete grant.payments-api-reads",
        "delete federation.payments-api",
    ] {
        assert!(position(before) < identity, "{journal:?}");
    }
    assert!(position("delete spc.payments-api") < position("delete federation.payments-api"));
    assert!(run.world().identities.is_empty());
}
