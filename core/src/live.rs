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
//! A live pack reads its files through a [`PackSource`]: a directory
//! ([`LiveRules::load`]) or any other source ([`LiveRules::load_from`]).
//! Memory and archives are snapshots, so reloading one gives the same
//! version; only a directory can be watched.
//!
//! [`LiveRules::watch`] reloads on file events (`notify`): it watches each
//! pack directory recursively and the directory above it, so in-place
//! writes, truncate-and-write, write-to-temporary-and-rename,
//! delete-and-recreate and a renamed directory all trigger a reload. Events
//! are gathered until the files have been quiet for the debounce interval,
//! and mere accesses (a reload reading the files) are ignored, so a reload
//! never triggers the next.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use arc_swap::{ArcSwap, ArcSwapOption};
use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};

use crate::acceptance::PackTest;
use crate::compile::load_and_compile_from;
use crate::compile::plugin::Plugin;
use crate::compile::set::CompiledRuleSet;
use crate::diagnostic::{Diagnostic, DiagnosticCode, Diagnostics};
use crate::pack::files::{DirectorySource, PackSource};
use crate::source::{Location, SourceFile};

/// Whether this platform's watcher reports a writer closing a file
/// (inotify's `IN_CLOSE_WRITE`); elsewhere every save waits out
/// [`LiveOptions::close_wait`].
const CLOSE_EVENTS: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// How a live pack reloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveOptions {
    /// Publish a new version only if the pack's own tests pass.
    pub require_tests: bool,
    /// How long file events are gathered before a reload (an editor's save
    /// is often several events).
    pub debounce: Duration,
    /// How long the files must be quiet before a reload when a written pack
    /// file was not seen closed by its writer: on Linux only a writer that
    /// never closes (default 10 s); on platforms whose watcher reports no
    /// closes, every save (default 1 s). The longest pause inside a save
    /// that cannot publish it half-written, where closes are not seen.
    pub close_wait: Duration,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self {
            require_tests: false,
            debounce: Duration::from_millis(50),
            close_wait: Duration::from_secs(if CLOSE_EVENTS { 10 } else { 1 }),
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
    source: Arc<dyn PackSource>,
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
            .field("source", &self.source)
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
        Self::load_from(Arc::new(DirectorySource), dir, plugins, options)
    }

    /// Loads the pack in `dir` of `source` (generation 1); every reload
    /// reads through `source`. Only a [`DirectorySource`] can be watched.
    ///
    /// # Errors
    /// Every problem of the pack (and of its tests, with `require_tests`).
    pub fn load_from(
        source: Arc<dyn PackSource>,
        dir: &Path,
        plugins: &[&'static dyn Plugin],
        options: LiveOptions,
    ) -> Result<Arc<Self>, Diagnostics> {
        let rules = load_stable(source.as_ref(), dir, plugins, options, false)?;
        Ok(Arc::new(Self {
            source,
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
    /// valid; an unchanged pack keeps its generation. The files are not known
    /// to be closed by their writers, so a file that ends mid-line on a bare
    /// value is refused (`SEM025`).
    ///
    /// # Errors
    /// The refused reload; the previous version keeps serving.
    pub fn reload(&self) -> Result<Arc<Snapshot>, Arc<ReloadFailure>> {
        self.reload_unless(false, || false)
            .unwrap_or_else(|| Ok(self.snapshot()))
    }

    /// [`LiveRules::reload`], unless `superseded` says, once the files are
    /// read and compiled, that they changed meanwhile: then nothing is
    /// published or refused (`None`), and the next reload reads the newer
    /// save. `closed`: every written file was seen closed by its writer.
    fn reload_unless(
        &self,
        closed: bool,
        superseded: impl FnOnce() -> bool,
    ) -> Option<Result<Arc<Snapshot>, Arc<ReloadFailure>>> {
        let _one_at_a_time = self
            .reloading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = self.current.load_full();
        let loaded = load_stable(
            self.source.as_ref(),
            &self.dir,
            &self.plugins,
            self.options,
            !closed,
        );
        if superseded() {
            return None;
        }
        Some(match loaded {
            Ok(rules) => {
                self.failure.store(None);
                if rules.pack().identity() == current.rules.pack().identity() {
                    return Some(Ok(current));
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
        })
    }

    /// Reloads whenever a file of the pack (or of a pack it extends)
    /// changes, once the files have been quiet for [`LiveOptions::debounce`]
    /// and every written pack file has been closed by its writer (else once
    /// they have been quiet for [`LiveOptions::close_wait`]); `on_event`
    /// hears of each published or refused version. Watching stops when the
    /// [`Watch`] is dropped. Only a pack in a directory can be watched.
    ///
    /// # Errors
    /// When the pack is not in a directory, or the file-system watcher
    /// cannot start.
    pub fn watch(
        self: &Arc<Self>,
        on_event: impl Fn(ReloadEvent) + Send + 'static,
    ) -> Result<Watch, WatchError> {
        if self.source.on_disk(&self.dir).is_none() {
            return Err(WatchError {
                path: self.source.shown(&self.dir),
                source: notify::Error::generic(
                    "only a pack in a directory can be watched; reload this one with `reload`",
                ),
            });
        }
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
        let options = self.options;
        let thread = std::thread::spawn(move || {
            let mut reported = live.snapshot().generation;
            let mut last_refusal: Option<Diagnostics> = None;
            let mut saves = Saves::default();
            while !stopping.load(Ordering::Relaxed) {
                let wait = saves
                    .due_in(options)
                    .unwrap_or(Duration::from_millis(100))
                    .min(Duration::from_millis(100));
                match received.recv_timeout(wait) {
                    Ok(Ok(event)) => {
                        saves.note(&event);
                    }
                    Ok(Err(_)) | Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => break,
                }
                if saves.due_in(options) != Some(Duration::ZERO) {
                    continue;
                }
                let closed = saves.open.is_empty();
                saves = Saves::default();
                let superseded = || {
                    let mut changed = false;
                    while let Ok(event) = received.try_recv() {
                        if let Ok(event) = event {
                            changed |= saves.note(&event);
                        }
                    }
                    changed
                };
                match live.reload_unless(closed, superseded) {
                    // A newer save came in while this one was read: it is reloaded next.
                    None => {}
                    // A save that changed nothing (a touch, an editor's swap file) is no news.
                    Some(Ok(snapshot)) if snapshot.generation == reported => last_refusal = None,
                    Some(Ok(snapshot)) => {
                        reported = snapshot.generation;
                        last_refusal = None;
                        on_event(ReloadEvent::Published(snapshot));
                    }
                    // The same refusal again (one save, several events) is no news either.
                    Some(Err(failure)) if last_refusal.as_ref() == Some(&failure.diagnostics) => {}
                    Some(Err(failure)) => {
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

/// What the watcher has seen since the last reload.
#[derive(Debug, Default)]
struct Saves {
    /// Pack files written and not yet closed by their writer: still being
    /// saved. On platforms without close events they stay until the reload.
    open: BTreeSet<PathBuf>,
    /// When the last change came; `None`: nothing to reload.
    last_change: Option<Instant>,
}

impl Saves {
    /// Takes in one event; `true` when it can change what a reload reads
    /// (mere accesses — a reload reading the files — cannot).
    fn note(&mut self, event: &Event) -> bool {
        match &event.kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => {
                for path in &event.paths {
                    self.open.remove(path);
                }
            }
            EventKind::Access(_) => return false,
            EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Any)
            | EventKind::Create(CreateKind::File | CreateKind::Any) => {
                let written = event.paths.iter().filter(|p| is_pack_source(p));
                self.open.extend(written.cloned());
            }
            // A file still being written, renamed: its writer now writes the new name.
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => {
                if let [from, to] = event.paths.as_slice()
                    && self.open.remove(from)
                    && is_pack_source(to)
                {
                    self.open.insert(to.clone());
                }
            }
            // Gone or replaced: whatever wrote the old file no longer writes this path.
            EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_)) => {
                for path in &event.paths {
                    self.open.retain(|open| !open.starts_with(path));
                }
            }
            _ => {}
        }
        // Events were lost: which files are open is unknown, so wait them out.
        if event.need_rescan() {
            self.open.insert(PathBuf::new());
        }
        self.last_change = Some(Instant::now());
        true
    }

    /// How long until a reload is due: `None` when there is nothing to
    /// reload; zero when the files have been quiet for the debounce and
    /// every written file is closed, or quiet for the close wait.
    fn due_in(&self, options: LiveOptions) -> Option<Duration> {
        let quiet_for = if self.open.is_empty() {
            options.debounce
        } else {
            options.close_wait.max(options.debounce)
        };
        let due = self.last_change? + quiet_for;
        Some(due.saturating_duration_since(Instant::now()))
    }
}

/// Whether a written file is one a pack reads (`*.toml`, `*.rhai`, not
/// hidden): an editor's swap or lock file, kept open while editing, is not
/// a save in progress.
fn is_pack_source(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_none_or(|n| n.starts_with('.'));
    let source = path.extension().is_some_and(|e| e == "toml" || e == "rhai");
    source && !hidden
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

/// Loads and compiles the pack in `dir` of `source` until no file changed
/// while it was read (each read again through `source`), and runs its tests
/// when they are required. `check_ends`: refuse a file that may be cut
/// short ([`cut_short`]), for files not seen closed by a writer.
fn load_stable(
    source: &dyn PackSource,
    dir: &Path,
    plugins: &[&'static dyn Plugin],
    options: LiveOptions,
    check_ends: bool,
) -> Result<CompiledRuleSet, Diagnostics> {
    const ATTEMPTS: usize = 5;
    for attempt in 1..=ATTEMPTS {
        let rules = load_and_compile_from(source, dir, plugins)?;
        let changed = rules.pack().files().iter().find(|f| {
            source
                .inside(f.path())
                .and_then(|path| source.read(&path).ok())
                .is_none_or(|now| now != f.text().as_bytes())
        });
        if let Some(file) = changed {
            if attempt < ATTEMPTS {
                continue;
            }
            return Err(Diagnostics(vec![
                Diagnostic::error(
                    DiagnosticCode::SaveInProgress,
                    format!(
                        "{} kept changing while the pack in {} was read: a save is still in progress",
                        file.path().display(),
                        source.shown(dir).display()
                    ),
                    None,
                )
                .with_help("the reload is retried on the next save; the last good version keeps serving"),
            ]));
        }
        if check_ends {
            let cut: Vec<Diagnostic> = rules.pack().files().iter().filter_map(cut_short).collect();
            if !cut.is_empty() {
                return Err(Diagnostics(cut));
            }
        }
        if options.require_tests {
            run_tests(source, dir, &rules)?;
        }
        return Ok(rules);
    }
    unreachable!("the last attempt returns")
}

/// A file that may be cut short: it ends mid-line, and that last line ends
/// on a bare value — a number, date, boolean or name, which a cut can leave
/// valid but different (`standard = 10` of `standard = 10.17`). A line
/// ending on a closing quote, bracket, brace or semicolon, or a comment
/// line, cannot be cut to something else that still parses.
fn cut_short(file: &Arc<SourceFile>) -> Option<Diagnostic> {
    let text = file.text();
    if text.is_empty() || text.ends_with('\n') {
        return None;
    }
    let start = text.rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].trim_end();
    let comment = line.trim_start().starts_with('#') || line.trim_start().starts_with("//");
    let bare = line
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric() || "._+-:".contains(c));
    if comment || !bare {
        return None;
    }
    let excerpt: String = line.trim_start().chars().take(60).collect();
    Some(
        Diagnostic::error(
            DiagnosticCode::CutShort,
            format!(
                "the file ends in the middle of a line, on `{excerpt}`, and its writer was not seen closing it: it may be cut short"
            ),
            Some(Location {
                file: Arc::clone(file),
                span: start..text.len(),
            }),
        )
        .with_help("the reload waits for the rest of the save; if the file is complete, end it with a newline"),
    )
}

fn run_tests(
    source: &dyn PackSource,
    dir: &Path,
    rules: &CompiledRuleSet,
) -> Result<(), Diagnostics> {
    let failures: Vec<Diagnostic> = PackTest::load_all_from(source, dir)?
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
