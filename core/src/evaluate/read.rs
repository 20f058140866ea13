//! Reading the data a compiled pack evaluates: the pack's `[data] format`
//! picks the reader (core's `wide` CSV, or a plugin's); a spreadsheet's
//! sheet and a JSON body become typed records ([`RecordBatch`]) that the
//! format reads through its [`BatchReader`], as it reads a CSV file's.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::compile::set::CompiledRuleSet;
use crate::data::csv::{WideBatches, read_wide};
use crate::data::encoding::TextEncoding;
use crate::data::error::DataError;
use crate::data::reader::{BatchReader, ReadRequest};
use crate::data::records::RecordBatch;
use crate::data::shape::DataShape;
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
        let sheet = crate::data::workbook::read_sheet(path, rules.pack().data_shape())?;
        return read_records(rules, &sheet.header, &sheet.records, &sheet.source);
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

/// The pack's data shape for typed records: their text is UTF-8 (a
/// sheet's or a JSON body's text has no encoding of its own), whatever the
/// pack declares for its CSV files; everything else as declared.
pub(crate) fn typed_shape(rules: &CompiledRuleSet) -> DataShape {
    DataShape {
        encoding: TextEncoding::Utf8,
        ..rules.pack().data_shape().clone()
    }
}

/// The pack's format's reader of record batches for a source with
/// `header`: the wide reader, or the plugin's; `None` when the plugin's
/// format only reads whole files.
///
/// # Errors
/// When the header lacks a column the format needs.
pub(crate) fn batch_reader<'a>(
    rules: &'a CompiledRuleSet,
    header: &[String],
    source: &str,
    request: ReadRequest<'a>,
) -> Result<Option<Box<dyn BatchReader + 'a>>, DataError> {
    Ok(match rules.data_reader() {
        None => Some(Box::new(WideBatches::new(header, source, request)?)),
        Some(reader) => match reader.batches(header, source, request) {
            None => None,
            Some(batches) => Some(batches?),
        },
    })
}

/// Reads typed records — a spreadsheet's rows, a JSON body's — with
/// `header` in the format the pack declares, as its reader reads the same
/// rows from a CSV file: text read with the declared number format, typed
/// numbers as they are, text as UTF-8. `source` names them in messages
/// (each record keeps its own line).
///
/// ```
/// use semaforo_core::{FieldValue, RecordBatch, RulePack, SourceFile, compile, read_records};
/// let pack = RulePack::from_sources(SourceFile::new("pack.toml", r#"
/// [pack]
/// id = "demo"
/// version = "1"
/// [data]
/// decimal = ","
/// [fields]
/// a = "a"
/// [[indicator]]
/// id = "doble"
/// formula = "a * 2"
/// "#), vec![]).unwrap();
/// let rules = compile(pack, &[]).unwrap();
/// let mut rows = RecordBatch::default();
/// let exact = "1084203.65".parse().unwrap();
/// rows.push_fields(2, [FieldValue::Text(b"X"), FieldValue::Number(exact)]);
/// rows.push_fields(3, [FieldValue::Text(b"Y"), FieldValue::Text(b"1,5")]);
/// let header = ["entity".to_owned(), "a".to_owned()];
/// let table = read_records(&rules, &header, &rows, "rows").unwrap();
/// assert_eq!(table.column("a").unwrap().value(0), Some(exact));
/// assert_eq!(table.column("a").unwrap().value(1).unwrap().to_string(), "1.5");
/// ```
///
/// # Errors
/// When the header lacks a key column, names a column the pack reads
/// twice, or the pack's format reads only whole CSV files.
pub fn read_records(
    rules: &CompiledRuleSet,
    header: &[String],
    records: &RecordBatch,
    source: &str,
) -> Result<Table, DataError> {
    let shape = typed_shape(rules);
    let request = ReadRequest {
        shape: &shape,
        fields: rules.read_request().fields,
    };
    let Some(reader) = batch_reader(rules, header, source, request)? else {
        return Err(DataError::Csv {
            source_name: source.to_owned(),
            line: 1,
            message: format!(
                "the pack's `{}` data format reads only CSV files: save the data as CSV",
                shape.format
            ),
        });
    };
    let mut table = reader.read_batch(records)?;
    let mut warnings = reader.header_warnings();
    warnings.append(&mut table.warnings);
    table.warnings = warnings;
    Ok(table)
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
