//! The reader of a data format and what it is asked to read. `wide` (the
//! default) is the core's CSV reader; other formats come from plugins
//! (e.g. `balances`, long chart-of-accounts balances), through
//! [`DataReader`] and, to stream, [`BatchReader`].

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::data::error::DataError;
use crate::data::records::RecordBatch;
use crate::data::shape::{DataShape, Field};
use crate::data::table::{DataWarning, Table};

/// What a reader is asked to read: the data's layout and formats, and the
/// columns the formulas read (the pack's fields, then one per distinct
/// input-function call such as `saldo("14")`, which a plugin's reader
/// fills).
#[derive(Debug, Clone, Copy)]
pub struct ReadRequest<'a> {
    /// The pack's `[data]`: format, key columns, delimiter, number format, encoding.
    pub shape: &'a DataShape,
    /// Every column the formulas read.
    pub fields: &'a [Field],
}

impl ReadRequest<'_> {
    /// Whether `column` is one the request reads: a key, a dimension, a text
    /// column or a field's column.
    #[must_use]
    pub fn reads(&self, column: &str) -> bool {
        let shape = self.shape;
        column == shape.entity
            || shape.period.as_deref() == Some(column)
            || shape.dimensions.iter().any(|d| d == column)
            || shape.text_columns.iter().any(|t| t == column)
            || self.fields.iter().any(|f| f.column == column)
    }
}

/// A data format a plugin reads into a [`Table`], as a [`ReadRequest`] asks.
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
        request: ReadRequest<'_>,
    ) -> Result<Table, DataError>;

    /// Reads the file at `path` (see [`DataReader::read_from`]).
    ///
    /// # Errors
    /// When the file cannot be opened, and as [`DataReader::read_from`].
    fn read(&self, path: &Path, request: ReadRequest<'_>) -> Result<Table, DataError> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|error| DataError::Io {
            source_name: name.clone(),
            error,
        })?;
        self.read_from(&mut BufReader::new(file), &name, request)
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
        request: ReadRequest<'a>,
    ) -> Option<Result<Box<dyn BatchReader + 'a>, DataError>> {
        let _ = (header, source_name, request);
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
