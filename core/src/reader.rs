//! Reading data for a compiled pack: the pack's `[data] format` says how.
//! `wide` (the default) is the core's CSV reader; other formats come from
//! plugins (e.g. `balances`, long chart-of-accounts balances).

use std::io::Read;
use std::path::Path;

use crate::compile::CompiledRuleSet;
use crate::csv_input::DataError;
use crate::table::Table;

/// The core's own format: one row per entity (and period), one column per field.
pub const WIDE_FORMAT: &str = "wide";

/// A data format a plugin reads into a [`Table`] for a compiled pack.
pub trait DataReader: Sync {
    /// The name a pack uses in `[data] format`.
    fn format(&self) -> &'static str;
    /// Reads `path` into a table with the columns the pack's fields read,
    /// including the input-function columns (see [`crate::InputFunction`]).
    ///
    /// # Errors
    /// When the file cannot be read or lacks a key column; bad cells are not errors.
    fn read(&self, path: &Path, rules: &CompiledRuleSet) -> Result<Table, DataError>;
    /// Reads data already in memory (a pack test's inline `csv`); `source_name`
    /// names it in messages. Formats that cannot say so.
    ///
    /// # Errors
    /// As [`DataReader::read`].
    fn read_from(
        &self,
        input: &mut dyn Read,
        source_name: &str,
        rules: &CompiledRuleSet,
    ) -> Result<Table, DataError> {
        let _ = (input, rules);
        Err(DataError::Csv {
            source_name: source_name.to_owned(),
            line: 0,
            message: format!(
                "the `{}` format cannot be read from inline text; give a data file",
                self.format()
            ),
        })
    }
}

/// Reads `path` in the format the pack declares.
///
/// ```no_run
/// use semaforo_core::{load_and_compile, read_data};
/// use std::path::Path;
/// let rules = load_and_compile(Path::new("rules/sagrario"), &[]).unwrap();
/// let table = read_data(&rules, Path::new("examples/sagrario/balances.csv")).unwrap();
/// ```
///
/// # Errors
/// When the file cannot be read or lacks a key column.
pub fn read_data(rules: &CompiledRuleSet, path: &Path) -> Result<Table, DataError> {
    match rules.data_reader() {
        Some(reader) => reader.read(path, rules),
        None => Table::read_csv(path, rules.pack().data_shape()),
    }
}

/// Reads data held in memory in the format the pack declares.
///
/// # Errors
/// When the input cannot be read or lacks a key column.
pub fn read_data_from(
    rules: &CompiledRuleSet,
    input: &mut dyn Read,
    source_name: &str,
) -> Result<Table, DataError> {
    match rules.data_reader() {
        Some(reader) => reader.read_from(input, source_name, rules),
        None => Table::from_csv_reader(input, source_name, rules.pack().data_shape()),
    }
}
