//! Live rules: reloads publish only complete, valid versions; evaluations
//! running meanwhile always see one whole version; a broken save is refused
//! with its location and the last good version keeps serving.
#![expect(
    clippy::unwrap_used,
    reason = "a broken fixture should fail the test loudly"
)]

mod support;

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use semaforo_core::{
    DiagnosticCode, LiveOptions, LiveRules, MemorySource, PackSource, ReloadEvent, ResultSet,
    evaluate,
};
use support::{from_manifest, table};

/// A valid version of the pack: the standard differs per version.
fn version(standard: usize) -> String {
    format!(
        "[pack]\nid = \"live\"\nversion = \"{standard}\"\n[fields]\nnpl = \"npl\"\nloans = \"loans\"\n\
         [bands.met]\nlevels = [{{ label = \"MET\", threshold = 100 }}, {{ label = \"GAP\" }}]\n\
         [[indicator]]\nid = \"delinquency\"\nunit = \"percent\"\ndirection = \"lower\"\nbands = \"met\"\nstandard = {standard}\n\
         formula = \"npl / loans * 100\"\n\
         [[indicator]]\nid = \"double\"\nformula = \"delinquency * 2\"\n"
    )
}

/// An invalid version: a syntax error in a formula, or TOML cut short.
fn broken(n: usize) -> String {
    if n.is_multiple_of(2) {
        version(n).replace("npl / loans * 100", "npl / / loans")
    } else {
        version(n)[..60].to_owned()
    }
}

fn hash_of(text: &str) -> String {
    from_manifest(text).unwrap().identity().content_hash.clone()
}

const DATA: &str = "entity,npl,loans\nA,45,1000\nB,1,3\n";

/// [`DATA`] evaluated with the version live now.
fn evaluate_live(live: &LiveRules) -> ResultSet {
    let snapshot = live.snapshot();
    evaluate(&snapshot.rules, &table(&snapshot.rules, DATA))
}

#[test]
fn a_broken_save_is_refused_with_its_location_and_the_last_good_version_serves() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pack.toml");
    fs::write(&file, version(5)).unwrap();
    let live = LiveRules::load(dir.path(), &[], LiveOptions::default()).unwrap();
    assert_eq!(live.snapshot().generation, 1);

    fs::write(&file, broken(4)).unwrap();
    let failure = live.reload().unwrap_err();
    assert_eq!(failure.serving, 1);
    let message = failure.diagnostics.iter().next().unwrap().to_string();
    assert!(
        message.starts_with(&format!(
            "{}:15:18: error[SEM003]: syntax error in the formula of `delinquency`",
            file.display()
        )),
        "{message}"
    );
    assert!(message.contains("error[SEM003]"), "{message}");
    assert_eq!(
        live.snapshot().generation,
        1,
        "the good version keeps serving"
    );
    assert!(live.last_error().is_some());

    fs::write(&file, version(4)).unwrap();
    let next = live.reload().unwrap();
    assert_eq!(
        (
            next.generation,
            next.rules.pack().identity().version.as_str()
        ),
        (2, "4")
    );
    assert!(live.last_error().is_none());
    // Saving the same content again publishes nothing new.
    fs::write(&file, version(4)).unwrap();
    assert_eq!(live.reload().unwrap().generation, 2);
}

#[test]
fn reloads_can_require_the_pack_tests_to_pass() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("pack.toml"), version(5)).unwrap();
    fs::create_dir(dir.path().join("tests")).unwrap();
    fs::write(
        dir.path().join("tests/met.toml"),
        format!("csv = \"\"\"\n{DATA}\"\"\"\n[[expect]]\nentity = \"A\"\nindicator = \"delinquency\"\nband = \"MET\"\n"),
    )
    .unwrap();
    let options = LiveOptions {
        require_tests: true,
        ..LiveOptions::default()
    };
    let live = LiveRules::load(dir.path(), &[], options).unwrap();
    // 4.5 % against a 4 % standard is a gap: the test fails, the version is refused.
    fs::write(dir.path().join("pack.toml"), version(4)).unwrap();
    let failure = live.reload().unwrap_err();
    let message = failure.diagnostics.iter().next().unwrap().to_string();
    assert!(
        message.contains("error[SEM014]: `delinquency` for A: band expected `MET`, got `GAP`"),
        "{message}"
    );
    assert_eq!(live.snapshot().rules.pack().identity().version, "5");
}

/// `threads` threads evaluating [`DATA`] with the live version until `done`,
/// each result set passed to `check` with the hash of its version; each
/// thread ends with how many it evaluated and the hashes it saw.
fn evaluators(
    live: &Arc<LiveRules>,
    threads: usize,
    done: &Arc<AtomicBool>,
    check: impl Fn(&ResultSet, &String) + Clone + Send + 'static,
) -> Vec<JoinHandle<(usize, BTreeSet<String>)>> {
    (0..threads)
        .map(|_| {
            let (live, done, check) = (live.clone(), done.clone(), check.clone());
            std::thread::spawn(move || {
                let mut seen = BTreeSet::new();
                let mut evaluations = 0;
                while !done.load(Ordering::Relaxed) {
                    let results = evaluate_live(&live);
                    let hash = results.identity().content_hash.clone();
                    check(&results, &hash);
                    seen.insert(hash);
                    evaluations += 1;
                }
                (evaluations, seen)
            })
        })
        .collect()
}

#[test]
fn a_live_pack_in_memory_reads_and_tests_through_it_and_cannot_be_watched() {
    let mut memory = MemorySource::labelled("mem");
    memory.insert("live/pack.toml", version(5));
    memory.insert(
        "live/tests/met.toml",
        format!("csv = \"\"\"\n{DATA}\"\"\"\n[[expect]]\nentity = \"A\"\nindicator = \"delinquency\"\nband = \"MET\"\n"),
    );
    let options = LiveOptions {
        require_tests: true,
        ..LiveOptions::default()
    };
    let source: Arc<dyn PackSource> = Arc::new(memory.clone());
    let live = LiveRules::load_from(source, Path::new("live"), &[], options).unwrap();
    assert_eq!(
        live.snapshot().rules.pack().files()[0].path(),
        Path::new("mem:live/pack.toml")
    );
    // Memory does not change: a reload keeps the generation.
    assert_eq!(live.reload().unwrap().generation, 1);
    let err = live.watch(|_| {}).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot watch mem:live: only a pack in a directory can be watched; reload this one with `reload`"
    );

    // The pack's tests are read from memory too: 4.5 % is a gap against 4 %.
    memory.insert("live/pack.toml", version(4));
    let err = LiveRules::load_from(Arc::new(memory), Path::new("live"), &[], options).unwrap_err();
    let message = err.iter().next().unwrap().to_string();
    assert!(
        message.starts_with(
            "mem:live/tests/met.toml:6:1: error[SEM014]: `delinquency` for A: band expected `MET`, got `GAP`"
        ),
        "{message}"
    );
}

/// A source whose `pack.toml` is different at every read: always mid-save.
#[derive(Debug)]
struct AlwaysSaving {
    files: MemorySource,
    reads: AtomicUsize,
}

impl PackSource for AlwaysSaving {
    fn list(&self, dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
        self.files.list(dir)
    }

    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        let mut bytes = self.files.read(path)?;
        if path.ends_with("pack.toml") {
            let n = self.reads.fetch_add(1, Ordering::Relaxed);
            bytes.extend(format!("# read {n}\n").bytes());
        }
        Ok(bytes)
    }

    fn join(&self, dir: &Path, relative: &str) -> Result<std::path::PathBuf, String> {
        self.files.join(dir, relative)
    }

    fn shown(&self, path: &Path) -> std::path::PathBuf {
        self.files.shown(path)
    }

    fn inside(&self, shown: &Path) -> Option<std::path::PathBuf> {
        self.files.inside(shown)
    }
}

#[test]
fn files_that_change_while_they_are_read_are_a_save_in_progress_whatever_the_source() {
    let mut files = MemorySource::new();
    files.insert("live/pack.toml", version(5));
    let source = Arc::new(AlwaysSaving {
        files,
        reads: AtomicUsize::new(0),
    });
    let err = LiveRules::load_from(
        source.clone(),
        Path::new("live"),
        &[],
        LiveOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.0.len(), 1);
    assert_eq!(err.0[0].code, DiagnosticCode::SaveInProgress);
    assert_eq!(
        err.0[0].message,
        "live/pack.toml kept changing while the pack in live was read: a save is still in progress"
    );
    // Five loads, each read once more to check it.
    assert_eq!(source.reads.load(Ordering::Relaxed), 10);
}

/// Saves `text` the way an editor might.
fn save(path: &Path, text: &str, style: usize) {
    match style % 4 {
        // Write in place.
        0 => fs::write(path, text).unwrap(),
        // Truncate, then write in two parts.
        1 => {
            let mut file = fs::File::create(path).unwrap();
            let (a, b) = text.split_at(text.len() / 2);
            file.write_all(a.as_bytes()).unwrap();
            file.flush().unwrap();
            std::thread::sleep(Duration::from_millis(1));
            file.write_all(b.as_bytes()).unwrap();
        }
        // Write a temporary file and rename it over.
        2 => {
            let temporary = path.with_extension("toml.tmp");
            fs::write(&temporary, text).unwrap();
            fs::rename(&temporary, path).unwrap();
        }
        // Delete and recreate.
        _ => {
            fs::remove_file(path).unwrap();
            fs::write(path, text).unwrap();
        }
    }
}

#[test]
fn evaluations_during_hundreds_of_saves_always_see_one_whole_valid_version() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pack.toml");
    fs::write(&file, version(1)).unwrap();
    let valid: BTreeSet<String> = (1..=20).map(|n| hash_of(&version(n))).collect();
    let options = LiveOptions {
        debounce: Duration::from_millis(10),
        ..LiveOptions::default()
    };
    let live = LiveRules::load(dir.path(), &[], options).unwrap();
    let published = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let (p, r) = (published.clone(), refused.clone());
    let _watch = live
        .watch(move |event| match event {
            ReloadEvent::Published(_) => {
                p.fetch_add(1, Ordering::Relaxed);
            }
            ReloadEvent::Refused(_) => {
                r.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        })
        .unwrap();

    let done = Arc::new(AtomicBool::new(false));
    let evaluators = evaluators(&live, 3, &done, move |results, hash| {
        assert!(
            valid.contains(hash),
            "a result set from a version that was never valid: {hash}"
        );
        assert_eq!(
            results.error_count(),
            0,
            "an evaluation failed during a reload"
        );
        // Both cells come from one version: double = 2 × delinquency.
        assert_eq!(
            results.cell(0, 1).value,
            results
                .cell(0, 0)
                .value
                .map(|v| v * rust_decimal::Decimal::TWO)
        );
    });

    for n in 0..300 {
        let text = if n % 5 == 4 {
            broken(n)
        } else {
            version(n % 20 + 1)
        };
        save(&file, &text, n);
        // Mostly faster than the debounce; now and then a pause, so reloads land mid-run.
        std::thread::sleep(Duration::from_millis(if n % 25 == 24 { 40 } else { 2 }));
    }
    save(&file, &version(7), 0);
    wait_for(&live, &hash_of(&version(7)), "the last save");
    // Let the evaluators run on the last version too.
    std::thread::sleep(Duration::from_millis(50));
    done.store(true, Ordering::Relaxed);
    let mut total = 0;
    let mut versions = BTreeSet::new();
    for evaluator in evaluators {
        let (evaluations, seen) = evaluator.join().unwrap();
        total += evaluations;
        versions.extend(seen);
    }
    assert!(total > 100, "evaluations ran all along ({total})");
    assert!(
        versions.len() > 1,
        "evaluations saw the rules change ({versions:?})"
    );
    assert!(published.load(Ordering::Relaxed) > 0 && live.snapshot().generation > 1);
}

#[test]
fn a_watched_save_goes_live() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pack.toml");
    fs::write(&file, version(5)).unwrap();
    let live = LiveRules::load(dir.path(), &[], LiveOptions::default()).unwrap();
    let (sender, events) = mpsc::channel();
    let _watch = live
        .watch(move |event| sender.send(event).unwrap())
        .unwrap();
    save(&file, &version(6), 2);
    match events.recv_timeout(Duration::from_secs(5)).unwrap() {
        ReloadEvent::Published(snapshot) => assert_eq!(
            (
                snapshot.generation,
                snapshot.rules.pack().identity().version.as_str()
            ),
            (2, "6")
        ),
        other => panic!("{other:?}"),
    }
    save(&file, &broken(2), 0);
    match events.recv_timeout(Duration::from_secs(5)).unwrap() {
        ReloadEvent::Refused(failure) => assert_eq!(failure.serving, 2),
        other => panic!("{other:?}"),
    }
    assert_eq!(live.snapshot().generation, 2);
}

/// A version whose last line is a bare number: many of its prefixes compile
/// to a different rule set (`standard = 10` of `standard = 10.17`, or the
/// whole file but its final newline), which only the writer's close tells
/// apart from the complete save.
fn ends_on_a_number(standard: &str) -> String {
    format!(
        "[pack]\nid = \"live\"\nversion = \"1\"\n[fields]\nnpl = \"npl\"\nloans = \"loans\"\n\
         [bands.met]\nlevels = [{{ label = \"MET\", threshold = 100 }}, {{ label = \"GAP\" }}]\n\
         [[indicator]]\nid = \"double\"\nformula = \"delinquency * 2\"\n\
         [[indicator]]\nid = \"delinquency\"\nformula = \"npl / loans * 100\"\nunit = \"percent\"\n\
         direction = \"lower\"\nbands = \"met\"\nstandard = {standard}\n"
    )
}

/// Waits until the live version's hash is `hash`.
fn wait_for(live: &LiveRules, hash: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while live.snapshot().rules.pack().identity().content_hash != hash {
        assert!(Instant::now() < deadline, "{what} never went live");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_save_that_pauses_mid_file_is_published_only_once_complete() {
    use proptest::test_runner::TestCaseError;

    let versions = [ends_on_a_number("10.17"), ends_on_a_number("12.5")];
    let hashes = versions.each_ref().map(|v| hash_of(v));
    let complete: BTreeSet<String> = hashes.iter().cloned().collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pack.toml");
    fs::write(&file, &versions[0]).unwrap();
    let options = LiveOptions {
        debounce: Duration::from_millis(20),
        ..LiveOptions::default()
    };
    let live = LiveRules::load(dir.path(), &[], options).unwrap();
    let published = Arc::new(std::sync::Mutex::new(Vec::new()));
    let events = published.clone();
    let _watch = live
        .watch(move |event| {
            if let ReloadEvent::Published(snapshot) = event {
                let hash = snapshot.rules.pack().identity().content_hash.clone();
                events.lock().unwrap().push(hash);
            }
        })
        .unwrap();

    // Evaluators take snapshots all along; each must be one complete version.
    let done = Arc::new(AtomicBool::new(false));
    let evaluators = {
        let complete = complete.clone();
        evaluators(&live, 2, &done, move |_, hash| {
            assert!(complete.contains(hash), "evaluated a prefix: {hash}");
        })
    };

    let mut runner = support::runner(8);
    let saves = std::cell::Cell::new(0);
    let live_version = std::cell::Cell::new(0);
    runner
        .run(&(0..usize::MAX), |point| {
            let current = live_version.get();
            // Save the other version, cut at a generated point, with a pause
            // far longer than the debounce between the two parts.
            let next = 1 - current;
            let text = versions[next].as_bytes();
            let cut = 1 + point % (text.len() - 1);
            let mut writer = fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&file)
                .unwrap();
            writer.write_all(&text[..cut]).unwrap();
            writer.flush().unwrap();
            writer.sync_data().unwrap();
            std::thread::sleep(Duration::from_millis(150));
            let half = live.snapshot().rules.pack().identity().content_hash.clone();
            if half != hashes[current] {
                return Err(TestCaseError::fail(format!(
                    "cut at byte {cut}: {half} went live while the writer still had the file open"
                )));
            }
            writer.write_all(&text[cut..]).unwrap();
            drop(writer);
            wait_for(&live, &hashes[next], "the completed save");
            live_version.set(next);
            saves.set(saves.get() + 1);
            Ok(())
        })
        .unwrap();
    done.store(true, Ordering::Relaxed);
    let mut seen = BTreeSet::new();
    for evaluator in evaluators {
        seen.extend(evaluator.join().unwrap().1);
    }
    let published = published.lock().unwrap().clone();
    assert!(
        published.iter().all(|hash| complete.contains(hash)),
        "a prefix was published: {published:?} (complete: {complete:?})"
    );
    assert_eq!(published.len(), saves.get(), "one publication per save");
    assert_eq!(seen, complete, "the evaluators saw both versions");
}

#[test]
fn a_file_cut_mid_value_is_refused_and_one_without_a_final_newline_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pack.toml");
    fs::write(&file, ends_on_a_number("10.17")).unwrap();
    let live = LiveRules::load(dir.path(), &[], LiveOptions::default()).unwrap();

    // `standard = 10` of `standard = 10.17`: valid TOML, another standard.
    let full = ends_on_a_number("10.17");
    fs::write(&file, &full[..full.len() - 4]).unwrap();
    let failure = live.reload().unwrap_err();
    let message = failure.diagnostics.iter().next().unwrap().to_string();
    assert_eq!(
        message,
        format!(
            "{}:18:1: error[SEM025]: the file ends in the middle of a line, on `standard = 10`, \
             and its writer was not seen closing it: it may be cut short",
            file.display()
        )
    );
    assert_eq!(live.snapshot().generation, 1);

    // A last line ending on a closing quote or bracket cannot be cut to
    // something that still parses: no final newline is fine there.
    let quoted = full.replace("standard = 10.17\n", "standard = 11\nname = \"Morosidad\"");
    fs::write(&file, &quoted).unwrap();
    let next = live.reload().unwrap();
    assert_eq!(next.generation, 2);
    assert_eq!(next.rules.pack().identity().content_hash, hash_of(&quoted));
}

#[test]
fn a_writer_that_never_closes_is_waited_for_a_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pack.toml");
    fs::write(&file, ends_on_a_number("10.17")).unwrap();
    let options = LiveOptions {
        debounce: Duration::from_millis(10),
        close_wait: Duration::from_millis(300),
        ..LiveOptions::default()
    };
    let live = LiveRules::load(dir.path(), &[], options).unwrap();
    let _watch = live.watch(|_| {}).unwrap();
    let text = ends_on_a_number("12.5");
    let mut writer = fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&file)
        .unwrap();
    writer.write_all(text.as_bytes()).unwrap();
    writer.flush().unwrap();
    // Still open: published after the close wait all the same.
    wait_for(
        &live,
        &hash_of(&text),
        "a complete file whose writer keeps it open",
    );
    drop(writer);
}
