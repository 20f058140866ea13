//! Live rules: a pack that reloads itself when its files change, and never
//! serves a broken or half-written rule set.
//!
//! A reload loads the pack and every pack it extends, compiles the whole
//! set, optionally runs the pack's tests, checks that no file changed while
//! it read them, and only then publishes the new set with one atomic swap
//! ([`arc_swap`]). A caller keeps the [`Snapshot`] it took for as long as it
//! needs it — a batch in flight finishes on the rule set it started with. A
//! failed reload leaves the published set in place and is kept, with every
//! diagnostic, in [`LiveRules::last_error`].
//!
//! [`LiveRules::watch`] reloads on file events (`notify`): it watches each
//! pack directory recursively and the directory above it, so in-place
//! writes, truncate-and-write, write-to-temporary-and-rename,
//! delete-and-recreate and a renamed directory all trigger a reload. Events
//! are gathered until the files have been quiet for the debounce interval,
//! and mere accesses (a reload reading the files) are ignored, so a reload
//! never triggers the next.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use arc_swap::{ArcSwap, ArcSwapOption};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};

use crate::compile::{CompiledRuleSet, load_and_compile};
use crate::diagnostic::{Diagnostic, DiagnosticCode, Diagnostics};
use crate::pack_tests::PackTest;
use crate::plugin::Plugin;

/// How a live pack reloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveOptions {
    /// Publish a new version only if the pack's own tests pass.
    pub require_tests: bool,
    /// How long file events are gathered before a reload (an editor's save
    /// is often several events).
    pub debounce: Duration,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self {
            require_tests: false,
            debounce: Duration::from_millis(50),
        }
    }
}

/// One published, complete and valid version of the rules.
#[derive(Debug)]
pub struct Snapshot {
    /// The compiled rules.
    pub rules: CompiledRuleSet,
    /// 1 for the first version, one more for each one published after it.
    pub generation: u64,
}

/// A reload that was refused: the previous version keeps serving.
#[derive(Debug, Clone)]
pub struct ReloadFailure {
    /// Every problem found.
    pub diagnostics: Diagnostics,
    /// The generation still being served.
    pub serving: u64,
}

/// What a watched reload did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ReloadEvent {
    /// A new version is live.
    Published(Arc<Snapshot>),
    /// The files changed but the new version was refused.
    Refused(Arc<ReloadFailure>),
}

/// Why watching could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot watch {path}: {source}")]
pub struct WatchError {
    /// The directory.
    pub path: PathBuf,
    /// What the file-system watcher said.
    #[source]
    pub source: notify::Error,
}

/// A pack that can be reloaded while it is used from several threads.
pub struct LiveRules {
    dir: PathBuf,
    plugins: Vec<&'static dyn Plugin>,
    options: LiveOptions,
    current: ArcSwap<Snapshot>,
    failure: ArcSwapOption<ReloadFailure>,
    /// One reload at a time.
    reloading: Mutex<()>,
}

impl std::fmt::Debug for LiveRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveRules")
            .field("dir", &self.dir)
            .field("generation", &self.current.load().generation)
            .finish_non_exhaustive()
    }
}

impl LiveRules {
    /// Loads the pack in `dir` (generation 1).
    ///
    /// ```no_run
    /// use semaforo_core::{LiveOptions, LiveRules};
    /// let live = LiveRules::load(std::path::Path::new("rules/sagrario"), &[], LiveOptions::default()).unwrap();
    /// let snapshot = live.snapshot(); // use this one set for the whole batch
    /// println!("{} generation {}", snapshot.rules.pack().identity(), snapshot.generation);
    /// ```
    ///
    /// # Errors
    /// Every problem of the pack (and of its tests, with `require_tests`).
    pub fn load(
        dir: &Path,
        plugins: &[&'static dyn Plugin],
        options: LiveOptions,
    ) -> Result<Arc<Self>, Diagnostics> {
        let rules = load_stable(dir, plugins, options)?;
        Ok(Arc::new(Self {
            dir: dir.to_path_buf(),
            plugins: plugins.to_vec(),
            options,
            current: ArcSwap::from_pointee(Snapshot {
                rules,
                generation: 1,
            }),
            failure: ArcSwapOption::empty(),
            reloading: Mutex::new(()),
        }))
    }

    /// The version being served now. Keep the `Arc` for as long as one
    /// consistent rule set is needed.
    #[must_use]
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// The last refused reload, until a reload succeeds.
    #[must_use]
    pub fn last_error(&self) -> Option<Arc<ReloadFailure>> {
        self.failure.load_full()
    }

    /// Loads, compiles and checks the pack again and publishes it if it is
    /// valid; an unchanged pack keeps its generation.
    ///
    /// # Errors
    /// The refused reload; the previous version keeps serving.
    pub fn reload(&self) -> Result<Arc<Snapshot>, Arc<ReloadFailure>> {
        let _one_at_a_time = self
            .reloading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = self.current.load_full();
        match load_stable(&self.dir, &self.plugins, self.options) {
            Ok(rules) => {
                self.failure.store(None);
                if rules.pack().identity() == current.rules.pack().identity() {
                    return Ok(current);
                }
                let next = Arc::new(Snapshot {
                    rules,
                    generation: current.generation + 1,
                });
                self.current.store(next.clone());
                Ok(next)
            }
            Err(diagnostics) => {
                let failure = Arc::new(ReloadFailure {
                    diagnostics,
                    serving: current.generation,
                });
                self.failure.store(Some(failure.clone()));
                Err(failure)
            }
        }
    }

    /// Reloads whenever a file of the pack (or of a pack it extends)
    /// changes, after [`LiveOptions::debounce`]; `on_event` hears of each
    /// published or refused version. Watching stops when the [`Watch`] is
    /// dropped.
    ///
    /// # Errors
    /// When the file-system watcher cannot start.
    pub fn watch(
        self: &Arc<Self>,
        on_event: impl Fn(ReloadEvent) + Send + 'static,
    ) -> Result<Watch, WatchError> {
        let (events, received) = mpsc::channel::<notify::Result<Event>>();
        let mut watcher: RecommendedWatcher =
            notify::recommended_watcher(events).map_err(|source| WatchError {
                path: self.dir.clone(),
                source,
            })?;
        let mut watched = self.watch_paths();
        for (path, mode) in &watched {
            watcher.watch(path, *mode).map_err(|source| WatchError {
                path: path.clone(),
                source,
            })?;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let live = Arc::clone(self);
        let stopping = Arc::clone(&stop);
        let debounce = self.options.debounce;
        let thread = std::thread::spawn(move || {
            let mut reported = live.snapshot().generation;
            let mut last_refusal: Option<Diagnostics> = None;
            while !stopping.load(Ordering::Relaxed) {
                match received.recv_timeout(Duration::from_millis(100)) {
                    Ok(Ok(event)) if is_change(&event) => {
                        if !quiet_for(&received, debounce) {
                            break;
                        }
                        match live.reload() {
                            // A save that changed nothing (a touch, an editor's swap file) is no news.
                            Ok(snapshot) if snapshot.generation == reported => last_refusal = None,
                            Ok(snapshot) => {
                                reported = snapshot.generation;
                                last_refusal = None;
                                on_event(ReloadEvent::Published(snapshot));
                            }
                            // The same refusal again (one save, several events) is no news either.
                            Err(failure) if last_refusal.as_ref() == Some(&failure.diagnostics) => {
                            }
                            Err(failure) => {
                                last_refusal = Some(failure.diagnostics.clone());
                                on_event(ReloadEvent::Refused(failure));
                            }
                        }
                        // Directories may have been replaced or added (a new parent pack).
                        let now = live.watch_paths();
                        if now != watched {
                            for (path, _) in &watched {
                                let _ = watcher.unwatch(path);
                            }
                            for (path, mode) in &now {
                                let _ = watcher.watch(path, *mode);
                            }
                            watched = now;
                        }
                    }
                    Ok(_) | Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        });
        Ok(Watch {
            stop,
            thread: Some(thread),
        })
    }

    /// Each pack directory (recursively: its scripts and tests) and the
    /// directory holding it (to see the pack directory replaced).
    fn watch_paths(&self) -> BTreeSet<(PathBuf, RecursiveMode)> {
        let snapshot = self.snapshot();
        let mut dirs: BTreeSet<PathBuf> = snapshot
            .rules
            .pack()
            .files()
            .iter()
            .filter_map(|f| f.path().parent().map(Path::to_path_buf))
            .collect();
        dirs.insert(self.dir.clone());
        let mut paths = BTreeSet::new();
        for dir in dirs {
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                paths.insert((parent.to_path_buf(), RecursiveMode::NonRecursive));
            }
            if dir.is_dir() {
                paths.insert((dir, RecursiveMode::Recursive));
            }
        }
        paths
    }
}

/// Whether an event can change what a reload reads (not a mere access).
fn is_change(event: &Event) -> bool {
    !matches!(event.kind, EventKind::Access(_))
}

/// Waits until no change has come for `debounce`, so a burst of events (one
/// save is often several) makes one reload. `false` when the watcher stopped.
fn quiet_for(received: &mpsc::Receiver<notify::Result<Event>>, debounce: Duration) -> bool {
    let mut deadline = std::time::Instant::now() + debounce;
    loop {
        let remaining = deadline.saturating_duration_since(std::time::Instant::now());
        match received.recv_timeout(remaining) {
            // Only a change restarts the wait; accesses (readers) do not.
            Ok(Ok(event)) if is_change(&event) => deadline = std::time::Instant::now() + debounce,
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout) => return true,
            Err(RecvTimeoutError::Disconnected) => return false,
        }
    }
}

/// Keeps a [`LiveRules::watch`] running; dropping it stops watching.
#[derive(Debug)]
pub struct Watch {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Loads and compiles the pack until no file changed while it was read, and
/// runs its tests when they are required.
fn load_stable(
    dir: &Path,
    plugins: &[&'static dyn Plugin],
    options: LiveOptions,
) -> Result<CompiledRuleSet, Diagnostics> {
    const ATTEMPTS: usize = 5;
    for attempt in 1..=ATTEMPTS {
        let rules = load_and_compile(dir, plugins)?;
        let unchanged = rules
            .pack()
            .files()
            .iter()
            .all(|f| fs::read_to_string(f.path()).is_ok_and(|now| now == f.text()));
        if !unchanged && attempt < ATTEMPTS {
            continue;
        }
        if !unchanged {
            return Err(Diagnostics(vec![
                Diagnostic::error(
                    DiagnosticCode::Io,
                    format!(
                        "the files of {} kept changing while they were read",
                        dir.display()
                    ),
                    None,
                )
                .with_help("the reload is retried on the next save"),
            ]));
        }
        if options.require_tests {
            run_tests(dir, &rules)?;
        }
        return Ok(rules);
    }
    unreachable!("the last attempt returns")
}

fn run_tests(dir: &Path, rules: &CompiledRuleSet) -> Result<(), Diagnostics> {
    let failures: Vec<Diagnostic> = PackTest::load_all(dir)?
        .iter()
        .flat_map(|test| test.run(rules).failures)
        .map(|f| {
            Diagnostic::error(
                DiagnosticCode::TestFailed,
                format!(
                    "{}: {} expected {}, got {}",
                    f.subject, f.what, f.expected, f.actual
                ),
                Some(f.location),
            )
        })
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Diagnostics(failures))
    }
}
