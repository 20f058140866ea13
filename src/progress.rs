//! Progress for batches that take more than a moment: a bar over the bytes
//! of the data file while it is read (and, when streamed, evaluated), then
//! a spinner while the results are written. Drawn on stderr only, and only when stderr is a
//! terminal and `--quiet` is off; results on stdout are never mixed with it.

use std::io::{self, IsTerminal};
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use semaforo::{CompiledRuleSet, DataError, FileEvaluation, FileReading, ResultParts};

/// Whether to draw progress at all.
#[must_use]
pub fn wanted(quiet: bool) -> bool {
    !quiet && io::stderr().is_terminal()
}

/// Reads and evaluates the data file (see [`semaforo::evaluate_file`]),
/// with a bar over its bytes when `show` is set.
///
/// # Errors
/// As [`semaforo::evaluate_file`].
pub fn evaluate(
    rules: &CompiledRuleSet,
    path: &Path,
    show: bool,
) -> Result<FileEvaluation, DataError> {
    if !show {
        return semaforo::evaluate_file(rules, path, &|_| {});
    }
    let bar = bytes_bar("reading and evaluating", path);
    let done = semaforo::evaluate_file(rules, path, &|read| bar.set_position(read));
    bar.finish_and_clear();
    done
}

/// [`evaluate`] handing the results to `parts` part by part (see
/// [`semaforo::evaluate_file_with`]).
///
/// # Errors
/// As [`semaforo::evaluate_file`].
pub fn evaluate_with(
    rules: &CompiledRuleSet,
    path: &Path,
    show: bool,
    parts: &mut dyn ResultParts,
) -> Result<FileReading, DataError> {
    if !show {
        return semaforo::evaluate_file_with(rules, path, &|_| {}, parts);
    }
    let bar = bytes_bar("reading and evaluating", path);
    let done = semaforo::evaluate_file_with(rules, path, &|read| bar.set_position(read), parts);
    bar.finish_and_clear();
    done
}

/// A bar over the bytes of the file at `path`.
fn bytes_bar(message: &'static str, path: &Path) -> ProgressBar {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    ProgressBar::new(size).with_message(message).with_style(
        ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    )
}

/// A spinner naming the step under way; `None` when progress is off.
#[must_use]
pub fn step(message: &'static str, show: bool) -> Option<ProgressBar> {
    show.then(|| {
        let spinner = ProgressBar::new_spinner().with_message(message);
        spinner.enable_steady_tick(Duration::from_millis(120));
        spinner
    })
}
