//! Reading the data a compiled pack evaluates: the pack's `[data] format`
//! picks the reader (core's `wide` CSV, or a plugin's), a spreadsheet is
//! read from its sheet.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::compile::set::CompiledRuleSet;
use crate::data::csv::read_wide;
use crate::data::encoding::TextEncoding;
use crate::data::error::DataError;
use crate::data::table::Table;

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
        Some(reader) => reader.read(path, rules.read_request()),
        None => {
            let name = path.display().to_string();
            let file = File::open(path).map_err(|error| DataError::Io {
                source_name: name.clone(),
                error,
            })?;
            let shape = rules.pack().data_shape();
            read_wide(BufReader::new(file), &name, shape, &|c| {
                rules.read_request().reads(c)
            })
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
        Some(reader) => reader.read_from(input, source_name, rules.read_request()),
        None => read_wide(input, source_name, rules.pack().data_shape(), &|c| {
            rules.read_request().reads(c)
        }),
    }
}
