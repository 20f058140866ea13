//! Reading data for a compiled pack: the pack's `[data] format` says how.
//! `wide` (the default) is the core's CSV reader; other formats come from
//! plugins (e.g. `balances`, long chart-of-accounts balances).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::compile::CompiledRuleSet;
use crate::data::csv::{DataError, pack_reads, read_wide};
use crate::data::encoding::TextEncoding;
use crate::data::records::RecordBatch;
use crate::data::table::{DataWarning, Table};

/// The core's own format: one row per entity (and period), one column per field.
pub const WIDE_FORMAT: &str = "wide";

/// A data format a plugin reads into a [`Table`] for a compiled pack.
pub trait DataReader: Sync {
    /// The name a pack uses in `[data] format`.
    fn format(&self) -> &'static str;

    /// Reads `input` into a table with the columns the pack's fields read,
    /// including the input-function columns (see [`crate::InputFunction`]);
    /// `source_name` names the input in messages.
    ///
    /// # Errors
    /// When the input cannot be read or lacks a key column; bad cells are not errors.
    fn read_from(
        &self,
        input: &mut dyn Read,
        source_name: &str,
        rules: &CompiledRuleSet,
    ) -> Result<Table, DataError>;

    /// Reads the file at `path` (see [`DataReader::read_from`]).
    ///
    /// # Errors
    /// When the file cannot be opened, and as [`DataReader::read_from`].
    fn read(&self, path: &Path, rules: &CompiledRuleSet) -> Result<Table, DataError> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|error| DataError::Io {
            source_name: name.clone(),
            error,
        })?;
        self.read_from(&mut BufReader::new(file), &name, rules)
    }

    /// How to read this format in batches of whole entities, for a file
    /// with `header` (see [`crate::evaluate_file`]); `None` when the format
    /// can only read a file whole.
    ///
    /// # Errors
    /// When the header lacks a column the format needs.
    fn batches<'a>(
        &'a self,
        header: &[String],
        source_name: &str,
        rules: &'a CompiledRuleSet,
    ) -> Option<Result<Box<dyn BatchReader + 'a>, DataError>> {
        let _ = (header, source_name, rules);
        None
    }
}

/// Reads batches of CSV records that hold every row of their entities into
/// tables, one batch at a time, possibly on several threads at once.
pub trait BatchReader: Sync {
    /// Warnings about the header, given once for the file.
    fn header_warnings(&self) -> Vec<DataWarning>;

    /// The table of one batch: its rows, columns and warnings, as
    /// [`DataReader::read_from`] would give them for these records alone.
    ///
    /// # Errors
    /// As [`DataReader::read_from`]; bad rows are warnings, not errors.
    fn read_batch(&self, batch: &RecordBatch) -> Result<Table, DataError>;
}

/// Reads `path` in the format the pack declares; a spreadsheet (`.xlsx`,
/// `.xls`, `.ods`…) is read from its sheet (see [`crate::is_workbook`]).
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
    if crate::data::workbook::is_workbook(path) {
        let (csv, source) = workbook_csv(path, rules)?;
        return read_data_from(rules, &mut csv.as_slice(), &source);
    }
    match rules.data_reader() {
        Some(reader) => reader.read(path, rules),
        None => {
            let name = path.display().to_string();
            let file = File::open(path).map_err(|error| DataError::Io {
                source_name: name.clone(),
                error,
            })?;
            let shape = rules.pack().data_shape();
            read_wide(BufReader::new(file), &name, shape, &pack_reads(rules))
        }
    }
}

/// A spreadsheet's sheet as CSV in the pack's encoding, so that the
/// readers decode it back to the sheet's own text. A sheet has no encoding
/// of its own: when the pack declares a single-byte one, the sheet's text
/// is written in it, and a character it cannot write refuses the sheet
/// rather than being changed.
///
/// # Errors
/// When the sheet cannot be read, or holds a character the declared
/// encoding cannot write.
pub(crate) fn workbook_csv(
    path: &Path,
    rules: &CompiledRuleSet,
) -> Result<(Vec<u8>, String), DataError> {
    let shape = rules.pack().data_shape();
    let (csv, source) = crate::data::workbook::to_csv(path, shape)?;
    let unwritable = |c: char| DataError::Csv {
        source_name: source.clone(),
        line: 1,
        message: format!(
            "the sheet holds `{c}`, which {} (the encoding declared for CSV files) cannot write: read the spreadsheet with `--encoding utf-8`, as a spreadsheet's text has no encoding of its own",
            shape.encoding.name()
        ),
    };
    let csv = match shape.encoding {
        TextEncoding::Utf8 => csv,
        encoding => encoding
            .encode(&String::from_utf8_lossy(&csv))
            .map_err(unwritable)?
            .into_owned(),
    };
    Ok((csv, source))
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
        None => read_wide(
            input,
            source_name,
            rules.pack().data_shape(),
            &pack_reads(rules),
        ),
    }
}
