//! Progress for batches that take more than a moment: a bar over the bytes
//! of the data file while it is read, then a spinner while rows are
//! evaluated and written. Drawn on stderr only, and only when stderr is a
//! terminal and `--quiet` is off; results on stdout are never mixed with it.

use std::fs::File;
use std::io::{self, BufReader, IsTerminal};
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use semaforo::{CompiledRuleSet, DataError, Table};

/// Whether to draw progress at all.
#[must_use]
pub fn wanted(quiet: bool) -> bool {
    !quiet && io::stderr().is_terminal()
}

/// Reads the data file, with a bar over its bytes when `show` is set.
///
/// # Errors
/// As [`semaforo::read_data`].
pub fn read(rules: &CompiledRuleSet, path: &Path, show: bool) -> Result<Table, DataError> {
    if !show {
        return semaforo::read_data(rules, path);
    }
    let name = path.display().to_string();
    let file = File::open(path).map_err(|error| DataError::Io {
        source_name: name.clone(),
        error,
    })?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = ProgressBar::new(size).with_style(
        ProgressStyle::with_template("reading {bar:30} {bytes}/{total_bytes} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let table = semaforo::read_data_from(rules, &mut bar.wrap_read(BufReader::new(file)), &name);
    bar.finish_and_clear();
    table
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
