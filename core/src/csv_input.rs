//! Reading a wide CSV (one row per entity, or per entity and period) into a
//! [`Table`]. Values are parsed exactly; a bad cell is recorded on the cell,
//! never fatal for the file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::pack::DataShape;
use crate::records::header_names;
use crate::table::{CellProblem, DataWarning, NumberColumn, Table, TextColumn};

/// Why a data file could not be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{source_name}: {error}")]
    Io {
        /// The file.
        source_name: String,
        /// The I/O error.
        #[source]
        error: std::io::Error,
    },
    /// The CSV could not be parsed.
    #[error("{source_name}:{line}: {message}")]
    Csv {
        /// The file.
        source_name: String,
        /// 1-based line.
        line: u64,
        /// What the CSV reader said.
        message: String,
    },
    /// A key column the pack needs is not in the header.
    #[error(
        "{source_name}:1: the header has no `{column}` column, which the pack's [data] section names as the {role}"
    )]
    MissingKeyColumn {
        /// The file.
        source_name: String,
        /// The missing header.
        column: String,
        /// `entity` or `period`.
        role: &'static str,
    },
}

impl DataError {
    /// A `csv` crate error reading `source_name`: an I/O error, or a CSV
    /// one with its line.
    #[must_use]
    pub fn from_csv(error: csv::Error, source_name: &str) -> Self {
        let line = error.position().map_or(0, csv::Position::line);
        let message = error.to_string();
        match error.into_kind() {
            csv::ErrorKind::Io(error) => Self::Io {
                source_name: source_name.to_owned(),
                error,
            },
            _ => Self::Csv {
                source_name: source_name.to_owned(),
                line,
                message,
            },
        }
    }
}

impl Table {
    /// Reads a CSV file with a header row.
    ///
    /// ```no_run
    /// use semaforo_core::{RulePack, Table};
    /// use std::path::Path;
    /// let pack = RulePack::load(Path::new("tests/fixtures/wide-fichas")).unwrap();
    /// let table = Table::read_csv(Path::new("tests/fixtures/wide-fichas/fichas.csv"), pack.data_shape()).unwrap();
    /// println!("{} rows", table.len());
    /// ```
    ///
    /// # Errors
    /// When the file cannot be read or lacks a key column. Bad cells are not errors.
    pub fn read_csv(path: &Path, shape: &DataShape) -> Result<Table, DataError> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|error| DataError::Io {
            source_name: name.clone(),
            error,
        })?;
        Self::from_csv_reader(file, &name, shape)
    }

    /// Reads CSV from any reader; `source_name` names it in messages.
    ///
    /// ```
    /// use semaforo_core::{DataShape, Table};
    /// let shape = DataShape::default();
    /// let table = Table::from_csv_reader("entity,a\nX,1.50\nY,\n".as_bytes(), "inline", &shape).unwrap();
    /// assert_eq!(table.column("a").unwrap().value(0).unwrap().to_string(), "1.50");
    /// assert_eq!(table.column("a").unwrap().value(1), None);
    /// ```
    ///
    /// # Errors
    /// When the input cannot be read or lacks a key column.
    pub fn from_csv_reader(
        reader: impl Read,
        source_name: &str,
        shape: &DataShape,
    ) -> Result<Table, DataError> {
        let mut csv = csv::ReaderBuilder::new()
            .flexible(true)
            .delimiter(shape.delimiter)
            .from_reader(reader);
        let csv_error = |e: csv::Error| DataError::from_csv(e, source_name);
        let header = header_names(csv.byte_headers().map_err(csv_error)?);
        let find = |column: &str, role| {
            header
                .iter()
                .position(|h| h == column)
                .ok_or_else(|| DataError::MissingKeyColumn {
                    source_name: source_name.to_owned(),
                    column: column.to_owned(),
                    role,
                })
        };
        let entity_at = find(&shape.entity, "entity")?;
        let period_at = shape
            .period
            .as_deref()
            .map(|p| find(p, "period"))
            .transpose()?;

        let mut table = Table {
            source: source_name.to_owned(),
            periods: period_at.map(|_| Vec::new()),
            ..Table::default()
        };
        let mut dimension_at = Vec::new();
        for (i, h) in header.iter().enumerate() {
            if i == entity_at || Some(i) == period_at {
                continue;
            }
            if shape.dimensions.contains(h) || shape.text_columns.contains(h) {
                dimension_at.push(i);
                table.dimensions.push(TextColumn {
                    name: h.clone(),
                    values: Vec::new(),
                });
            } else {
                table.columns.push(NumberColumn {
                    name: h.clone(),
                    position: i + 1,
                    values: Vec::new(),
                    problems: BTreeMap::new(),
                });
            }
        }
        for dimension in &shape.dimensions {
            if !header.contains(dimension) {
                table.warnings.push(DataWarning {
                    line: Some(1),
                    message: format!("the header has no `{dimension}` dimension column"),
                });
            }
        }
        let number_at: Vec<usize> = table.columns.iter().map(|c| c.position - 1).collect();

        let mut seen: BTreeMap<(String, String), u64> = BTreeMap::new();
        let mut record = csv::ByteRecord::new();
        while csv.read_byte_record(&mut record).map_err(csv_error)? {
            let row = table.entities.len();
            let line = record.position().map_or(0, csv::Position::line);
            let text = |i: usize| {
                record
                    .get(i)
                    .map(|b| String::from_utf8_lossy(b).trim().to_owned())
                    .unwrap_or_default()
            };
            let entity = text(entity_at);
            if entity.is_empty() {
                table.warnings.push(DataWarning {
                    line: Some(line),
                    message: format!("row has an empty `{}`", shape.entity),
                });
            }
            let period = period_at.map(text).unwrap_or_default();
            if let Some(first) = seen.insert((entity.clone(), period.clone()), line) {
                table.warnings.push(DataWarning {
                    line: Some(line),
                    message: format!("entity `{entity}` {period} appears again (first on line {first}); both rows are evaluated"),
                });
            }
            if record.len() > header.len() {
                table.warnings.push(DataWarning {
                    line: Some(line),
                    message: format!(
                        "row has {} fields but the header has {}; the extra fields are ignored",
                        record.len(),
                        header.len()
                    ),
                });
            }
            table.entities.push(entity);
            if let Some(periods) = &mut table.periods {
                periods.push(period);
            }
            table.lines.push(line);
            for (column, &at) in table.dimensions.iter_mut().zip(&dimension_at) {
                column.values.push(text(at));
            }
            for (column, &at) in table.columns.iter_mut().zip(&number_at) {
                let value = match record.get(at) {
                    None => {
                        column.problems.insert(
                            row,
                            CellProblem::ShortRow {
                                fields: record.len(),
                            },
                        );
                        None
                    }
                    Some(bytes) => {
                        let cell = String::from_utf8_lossy(bytes);
                        let value = shape.numbers.parse(&cell);
                        if value.is_none() && !cell.trim().is_empty() {
                            column
                                .problems
                                .insert(row, CellProblem::Unparsable(cell.trim().to_owned()));
                        }
                        value
                    }
                };
                column.values.push(value);
            }
        }
        Ok(table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(period: bool) -> DataShape {
        DataShape {
            period: period.then(|| "period".into()),
            dimensions: vec!["segment".into()],
            ..DataShape::default()
        }
    }

    #[test]
    fn bad_cells_are_recorded_not_fatal() {
        let csv =
            "entity,period,segment,a,b\nX,2008,big,1.5,2\nY,2008,small,12x,3\nZ,2008,small,4\n";
        let table = Table::from_csv_reader(csv.as_bytes(), "d.csv", &shape(true)).unwrap();
        assert_eq!(table.len(), 3);
        let (a, b) = (table.column("a").unwrap(), table.column("b").unwrap());
        assert_eq!(a.value(0).unwrap().to_string(), "1.5");
        assert_eq!(a.problem(1), Some(&CellProblem::Unparsable("12x".into())));
        assert_eq!(b.value(1).unwrap().to_string(), "3");
        assert_eq!(b.problem(2), Some(&CellProblem::ShortRow { fields: 4 }));
        assert_eq!((table.line(2), table.period(2)), (4, Some("2008")));
        assert_eq!(table.dimensions()[0].values, ["big", "small", "small"]);
    }

    #[test]
    fn missing_key_column_names_file_and_column() {
        let err =
            Table::from_csv_reader("id,a\nX,1\n".as_bytes(), "d.csv", &shape(false)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "d.csv:1: the header has no `entity` column, which the pack's [data] section names as the entity"
        );
    }

    #[test]
    fn repeated_keys_are_kept_and_warned() {
        let table =
            Table::from_csv_reader("entity,a\nX,1\nX,2\n".as_bytes(), "d.csv", &shape(false))
                .unwrap();
        assert_eq!(table.len(), 2);
        assert!(
            table
                .warnings()
                .iter()
                .any(|w| w.line == Some(3) && w.message.contains("appears again"))
        );
    }
}
