//! The state writer: what is on disk after a commit or a flush, how many saves many changes
//! take, and failures.

use super::*;

fn record(id: &str) -> ResourceState {
    ResourceState {
        id: id.to_owned(),
        attributes: BTreeMap::new(),
        derived: BTreeMap::new(),
        version: None,
        dependencies: Vec::new(),
        settings: BTreeMap::new(),
    }
}

fn writer(path: Option<PathBuf>) -> Arc<StateWriter> {
    Arc::new(StateWriter::new(StateFile::new(), path))
}

#[tokio::test]
async fn a_recorded_change_is_on_disk_after_a_flush() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state").join("x.state.json");
    let writer = writer(Some(path.clone()));
    writer
        .record(&Address::vault("payments"), Some(record("/v")))
        .unwrap();
    writer.flush().await.unwrap();
    let saved = store::load(&path).unwrap().unwrap();
    assert!(saved.resources.contains_key(&Address::vault("payments")));
    assert_eq!(saved.serial, 1);
}

#[tokio::test]
async fn a_committed_change_is_on_disk_when_the_commit_returns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.state.json");
    let writer = writer(Some(path.clone()));
    for n in 0..20 {
        let address = Address::spc(format!("s{n}"));
        writer.commit(&address, Some(record("/s"))).await.unwrap();
        let saved = store::load(&path).unwrap().unwrap();
        assert!(saved.resources.contains_key(&address), "s{n} not on disk");
    }
    writer.commit(&Address::spc("s3"), None).await.unwrap();
    let saved = store::load(&path).unwrap().unwrap();
    assert!(!saved.resources.contains_key(&Address::spc("s3")));
    assert_eq!(saved.serial, writer.saves());
}

#[tokio::test]
async fn commits_made_together_share_saves_and_each_returns_durable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.state.json");
    let writer = writer(Some(path.clone()));
    let tasks: Vec<_> = (0..200)
        .map(|n| {
            let writer = writer.clone();
            let path = path.clone();
            tokio::spawn(async move {
                let address = Address::spc(format!("s{n}"));
                writer.commit(&address, Some(record("/s"))).await.unwrap();
                store::load(&path)
                    .unwrap()
                    .unwrap()
                    .resources
                    .contains_key(&address)
            })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap(), "a commit returned before its save");
    }
    let saves = writer.saves();
    assert!(saves < 100, "{saves} saves for 200 commits made together");
}

#[tokio::test]
async fn the_file_after_many_changes_is_the_state_as_written_in_one_go() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.state.json");
    let writer = writer(Some(path.clone()));
    let (a, b) = (Address::vault("a"), Address::spc("b"));
    writer.record(&a, Some(record("/a"))).unwrap();
    writer.flush().await.unwrap();
    writer.record(&b, Some(record("/b"))).unwrap();
    writer.record(&a, Some(record("/a2"))).unwrap();
    writer.flush().await.unwrap();
    writer.record(&b, None).unwrap();
    writer.flush().await.unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(written, store::to_text(&writer.read(Clone::clone)));
    assert!(written.contains("/a2") && !written.contains("\"/b\""));
}

#[tokio::test]
async fn recording_what_is_already_there_saves_nothing() {
    let writer = writer(None);
    let address = Address::vault("payments");
    writer.record(&address, Some(record("/v"))).unwrap();
    writer.flush().await.unwrap();
    writer.record(&address, Some(record("/v"))).unwrap();
    writer.record(&Address::vault("gone"), None).unwrap();
    writer.flush().await.unwrap();
    assert_eq!(writer.saves(), 1);
    assert_eq!(writer.read(|state| state.serial), 1);
}

#[tokio::test]
async fn many_changes_at_once_share_a_few_saves() {
    let writer = writer(None);
    for n in 0..500 {
        writer
            .record(&Address::spc(format!("s{n}")), Some(record(&n.to_string())))
            .unwrap();
        if n % 50 == 0 {
            tokio::task::yield_now().await;
        }
    }
    writer.flush().await.unwrap();
    assert_eq!(writer.read(|state| state.resources.len()), 500);
    let saves = writer.saves();
    assert!(saves < 50, "{saves} saves for 500 changes");
}

#[tokio::test]
async fn a_failed_save_is_reported_by_the_flush_and_every_later_record() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the state directory should be: the save cannot create it.
    std::fs::write(dir.path().join("state"), "").unwrap();
    let path = dir.path().join("state").join("x.state.json");
    let writer = writer(Some(path));
    writer
        .record(&Address::vault("payments"), Some(record("/v")))
        .unwrap();
    let error = writer.flush().await.unwrap_err();
    assert!(matches!(error, StateError::Write { .. }), "{error}");
    let again = writer
        .record(&Address::vault("other"), Some(record("/o")))
        .unwrap_err();
    assert!(matches!(again, StateError::Write { .. }), "{again}");
}

#[tokio::test]
async fn a_merge_with_live_records_is_saved_like_any_change() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.state.json");
    let writer = writer(Some(path.clone()));
    let live = BTreeMap::from([(Address::vault("payments"), record("/v"))]);
    let selected = BTreeSet::from([Address::vault("payments")]);
    assert!(writer.merge_refreshed(&selected, &live));
    assert!(!writer.merge_refreshed(&selected, &live));
    writer.flush().await.unwrap();
    assert_eq!(store::load(&path).unwrap().unwrap().resources.len(), 1);
}

#[tokio::test]
async fn changes_waited_on_lazily_share_a_paced_save() {
    let writer = writer(None);
    let first = writer
        .record(&Address::spc("s0"), Some(record("/s")))
        .unwrap();
    writer.durable(first).await.unwrap();
    assert_eq!(writer.saves(), 1);
    // Ten resources nothing depends on finish one after another, right after that save.
    let waits: Vec<_> = (1..=10)
        .map(|n| {
            let ticket = writer
                .record(&Address::spc(format!("s{n}")), Some(record("/s")))
                .unwrap();
            let writer = writer.clone();
            tokio::spawn(async move { writer.durable_lazily(ticket).await })
        })
        .collect();
    for wait in waits {
        wait.await.unwrap().unwrap();
    }
    assert_eq!(writer.saves(), 2, "one paced save held all ten");
}

#[tokio::test]
async fn an_urgent_wait_does_not_wait_out_the_pace() {
    // A pace of an hour: the urgent wait below can only end if it skips it.
    let writer = Arc::new(StateWriter::with_pace(
        StateFile::new(),
        None,
        Duration::from_secs(3600),
    ));
    let first = writer
        .record(&Address::vault("v"), Some(record("/v")))
        .unwrap();
    writer.durable(first).await.unwrap();
    let lazy = writer
        .record(&Address::spc("s"), Some(record("/s")))
        .unwrap();
    let lazily = {
        let writer = writer.clone();
        tokio::spawn(async move { writer.durable_lazily(lazy).await })
    };
    // A resource others depend on: its dependents must not wait out the pace.
    let urgent = writer
        .record(&Address::grant("g"), Some(record("/g")))
        .unwrap();
    // Only a guard against hanging the test run; it ends at once when it works.
    tokio::time::timeout(Duration::from_secs(30), writer.durable(urgent))
        .await
        .expect("the urgent save waited for the pace")
        .unwrap();
    // The lazy change was recorded first, so the same save holds it.
    lazily.await.unwrap().unwrap();
    assert_eq!(writer.saves(), 2);
}
