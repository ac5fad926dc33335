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

/// A state whose serial could not grow made the saver panic while everyone waited on it: a
/// debug build hung holding the run lock until killed, a release build wrapped the serial to 0.
#[tokio::test]
async fn a_serial_at_its_limit_fails_every_commit_and_flush_and_writes_nothing() {
    // A hang guard, not a timing assertion: the hang was the bug.
    tokio::time::timeout(Duration::from_secs(30), serial_at_its_limit())
        .await
        .expect("no commit or flush hangs");
}

async fn serial_at_its_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.state.json");
    let mut state = StateFile::new();
    state.serial = crate::state::model::MAX_SERIAL;
    let writer = Arc::new(StateWriter::new(state, Some(path.clone())));
    let error = writer
        .commit(&Address::vault("payments"), Some(record("/v")))
        .await
        .unwrap_err();
    assert!(matches!(error, StateError::SerialAtLimit { .. }), "{error}");
    assert!(matches!(
        writer.flush().await,
        Err(StateError::SerialAtLimit { .. })
    ));
    assert!(matches!(
        writer.record(&Address::vault("other"), Some(record("/o"))),
        Err(StateError::SerialAtLimit { .. })
    ));
    assert!(!path.exists());
}

mod any_state_file {
    //! No state content makes vaultwire panic or hang: every mutation of a state file either
    //! loads or is an error, and one that loads is written on by the run's writer.

    use proptest::prelude::*;

    use super::*;

    /// A state as vaultwire writes it, with every kind of field filled.
    fn sample() -> String {
        let mut state = StateFile::new();
        state.serial = 7;
        for (address, id) in [
            (Address::vault("payments"), "/subscriptions/s/vaults/kv"),
            (
                Address::addon("demo"),
                "/subscriptions/s/managedClusters/aks",
            ),
            (Address::spc("db"), "/subscriptions/s/namespaces/p/spc/db"),
        ] {
            let mut record = record(id);
            record
                .attributes
                .insert("name".into(), serde_json::json!("kv-demo"));
            record
                .derived
                .insert("identity".into(), serde_json::json!({"client_id": "c"}));
            record.version = Some("\"0x8D\"".into());
            record.dependencies = vec![Address::vault("payments")];
            record
                .settings
                .insert("on_destroy".into(), serde_json::json!("delete"));
            state.resources.insert(address, record);
        }
        crate::state::text::to_text(&state)
    }

    /// Text that breaks JSON, or a state, in interesting ways.
    const SNIPPETS: &[&str] = &[
        "\"",
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "null",
        "-1",
        "0",
        "1e400",
        "-0",
        "true",
        "18446744073709551615",
        "18446744073709551616",
        "\"\\u0000\"",
        "\"\\ud800\"",
        "\"format_version\": 2,",
        "\"serial\": 18446744073709551615,",
        "\"extra\": 1,",
        "\"lineage\": \"not-a-uuid\",",
        "\"vault.\": {},",
        "\"spc.x\": {\"id\": 1},",
        "<<<<<<< HEAD\n",
    ];

    #[derive(Debug, Clone)]
    enum Mutation {
        /// Replaces the byte at this fraction of the text.
        Byte(f64, u8),
        Truncate(f64),
        Insert(f64, usize),
        /// Nests an array this deep at that place.
        Nest(f64, usize),
        /// Replaces the serial's value with this text.
        Serial(String),
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        prop_oneof![
            (0.0..1.0, any::<u8>()).prop_map(|(at, byte)| Mutation::Byte(at, byte)),
            (0.0..1.0).prop_map(Mutation::Truncate),
            (0.0..1.0, 0..SNIPPETS.len()).prop_map(|(at, i)| Mutation::Insert(at, i)),
            (0.0..1.0, 1usize..300).prop_map(|(at, depth)| Mutation::Nest(at, depth)),
            prop_oneof![
                Just(u64::MAX),
                Just(u64::MAX - 1),
                Just(crate::state::model::MAX_SERIAL - 1),
                Just(crate::state::model::MAX_SERIAL),
                Just(crate::state::model::MAX_SERIAL + 1),
                Just(0),
                any::<u64>()
            ]
            .prop_map(|serial| Mutation::Serial(serial.to_string())),
            "-?[0-9]{1,22}(\\.[0-9])?".prop_map(Mutation::Serial),
        ]
    }

    fn apply(text: &mut Vec<u8>, mutation: &Mutation) {
        let at = |fraction: f64| ((text.len() as f64) * fraction) as usize;
        match *mutation {
            Mutation::Byte(fraction, byte) => {
                let index = at(fraction).min(text.len().saturating_sub(1));
                if let Some(slot) = text.get_mut(index) {
                    *slot = byte;
                }
            }
            Mutation::Truncate(fraction) => text.truncate(at(fraction)),
            Mutation::Insert(fraction, snippet) => {
                let index = at(fraction);
                text.splice(index..index, SNIPPETS[snippet].bytes());
            }
            Mutation::Nest(fraction, depth) => {
                let index = at(fraction);
                let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
                text.splice(index..index, nested.into_bytes());
            }
            Mutation::Serial(ref serial) => {
                let key = b"\"serial\": ";
                if let Some(start) = text.windows(key.len()).position(|w| w == key) {
                    let start = start + key.len();
                    let end = text[start..]
                        .iter()
                        .position(|byte| !byte.is_ascii_digit())
                        .map_or(text.len(), |end| start + end);
                    text.splice(start..end, serial.bytes());
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn every_mutation_loads_or_is_an_error_and_never_panics_or_hangs(
            mutations in proptest::collection::vec(mutation(), 1..4)
        ) {
            let mut text = sample().into_bytes();
            for mutation in &mutations {
                apply(&mut text, mutation);
            }
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("p.state.json");
            std::fs::write(&path, &text).unwrap();
            let Ok(Some(state)) = store::load(&path) else {
                return Ok(());
            };
            // What loads is a state vaultwire can write on: the serial can grow.
            prop_assert!(state.serial < crate::state::model::MAX_SERIAL);
            prop_assert!(uuid::Uuid::try_parse(&state.lineage).is_ok());
            let serial = state.serial;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let written = runtime.block_on(async {
                let writer = Arc::new(StateWriter::new(state, Some(path.clone())));
                let address = Address::vault("new");
                let commit = writer.commit(&address, Some(record("/n")));
                // A hang guard, not a timing assertion.
                tokio::time::timeout(Duration::from_secs(30), commit).await
            });
            prop_assert!(matches!(written, Ok(Ok(()))), "{written:?}");
            match store::load(&path) {
                Ok(Some(reread)) => prop_assert_eq!(reread.serial, serial + 1),
                // Written up to the limit, and refused from then on.
                Err(StateError::SerialAtLimit { .. }) => {
                    prop_assert_eq!(serial + 1, crate::state::model::MAX_SERIAL);
                }
                other => prop_assert!(false, "{other:?}"),
            }
        }
    }
}
