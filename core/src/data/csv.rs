//! Reading a wide CSV (one row per entity, or per entity and period) into a
//! [`Table`], whole or in batches of records ([`BatchReader`]). Values are
//! parsed exactly; a bad cell is recorded on the cell, never fatal for the
//! file. Text is decoded in the declared encoding, never replaced: a row
//! whose key cannot be read is kept, each of its values an error saying where.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::data::encoding::{ENCODING_HELP, escape_bytes};
use crate::data::error::DataError;
use crate::data::reader::{BatchReader, ReadRequest};
use crate::data::records::{Record, RecordBatch, check_duplicate_headers, each_record, open_csv};
use crate::data::shape::DataShape;
use crate::data::table::{CellProblem, DataWarning, NumberColumn, Table, TextColumn};

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
    /// When the file cannot be read, lacks a key column, names a column
    /// twice or ends inside a quoted field. Bad cells are not errors.
    pub fn read_csv(path: &Path, shape: &DataShape) -> Result<Table, DataError> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|error| DataError::Io {
            source_name: name.clone(),
            error,
        })?;
        Self::from_csv_reader(file, &name, shape)
    }

    /// Reads CSV from any reader; `source_name` names it in messages.
    /// Every column may be read, so a header name given twice is an error.
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
    /// When the input cannot be read, lacks a key column, names a column
    /// twice or ends inside a quoted field.
    pub fn from_csv_reader(
        reader: impl Read,
        source_name: &str,
        shape: &DataShape,
    ) -> Result<Table, DataError> {
        read_wide(reader, source_name, shape, &|_| true)
    }
}

/// Reads a whole wide CSV; `reads` says which columns the pack reads (a
/// repeated name among them is an error, otherwise a warning).
pub(crate) fn read_wide(
    reader: impl Read,
    source_name: &str,
    shape: &DataShape,
    reads: &dyn Fn(&str) -> bool,
) -> Result<Table, DataError> {
    let (mut csv, header) = open_csv(reader, source_name, shape)?;
    let wide = Wide::find(&header, source_name, shape, reads)?;
    let mut table = wide.table();
    table.warnings = wide.header_warnings.clone();
    let mut seen = Seen::default();
    each_record::<_, ()>(&mut csv, source_name, |record| {
        wide.push(&mut table, &mut seen, record);
        Ok(None)
    })?;
    Ok(table)
}

/// A record as the wide reader reads it: a `csv` record, or one of a
/// [`RecordBatch`] (whose numbers may be typed).
pub(crate) trait RawRecord {
    /// The bytes of field `i`, `None` past the record's end.
    fn get(&self, i: usize) -> Option<&[u8]>;
    /// The typed number of field `i`: read as it is, with no number format.
    fn number(&self, i: usize) -> Option<rust_decimal::Decimal> {
        let _ = i;
        None
    }
    /// How many fields the record has.
    fn len(&self) -> usize;
    /// The record's 1-based line.
    fn line(&self) -> u64;
}

impl RawRecord for csv::ByteRecord {
    fn get(&self, i: usize) -> Option<&[u8]> {
        csv::ByteRecord::get(self, i)
    }
    fn len(&self) -> usize {
        csv::ByteRecord::len(self)
    }
    fn line(&self) -> u64 {
        self.position().map_or(0, csv::Position::line)
    }
}

impl RawRecord for Record<'_> {
    fn get(&self, i: usize) -> Option<&[u8]> {
        (i < Record::len(self)).then(|| self.field(i))
    }
    fn number(&self, i: usize) -> Option<rust_decimal::Decimal> {
        Record::number(self, i)
    }
    fn len(&self) -> usize {
        Record::len(self)
    }
    fn line(&self) -> u64 {
        Record::line(self)
    }
}

/// Where a wide file's columns are, found once from its header.
pub(crate) struct Wide<'s> {
    source: String,
    shape: &'s DataShape,
    header_len: usize,
    entity_at: usize,
    period_at: Option<usize>,
    /// Dimension and text columns: position and name.
    dimensions: Vec<(usize, String)>,
    /// Value columns: position and name.
    numbers: Vec<(usize, String)>,
    header_warnings: Vec<DataWarning>,
}

/// Rows seen: entity and period → the first row's line.
type Seen = HashMap<(String, String), u64, foldhash::fast::RandomState>;

impl<'s> Wide<'s> {
    /// The layout of a file with `header`.
    pub(crate) fn find(
        header: &[String],
        source: &str,
        shape: &'s DataShape,
        reads: &dyn Fn(&str) -> bool,
    ) -> Result<Self, DataError> {
        let mut header_warnings = check_duplicate_headers(header, source, reads)?;
        let find = |column: &str, role| {
            header
                .iter()
                .position(|h| h == column)
                .ok_or_else(|| DataError::MissingKeyColumn {
                    source_name: source.to_owned(),
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
        let mut dimensions = Vec::new();
        let mut numbers = Vec::new();
        for (i, h) in header.iter().enumerate() {
            if i == entity_at || Some(i) == period_at {
                continue;
            }
            if shape.dimensions.contains(h) || shape.text_columns.contains(h) {
                dimensions.push((i, h.clone()));
            } else {
                numbers.push((i, h.clone()));
            }
        }
        for dimension in &shape.dimensions {
            if !header.contains(dimension) {
                header_warnings.push(DataWarning {
                    line: Some(1),
                    kind: "missing_column",
                    message: format!("the header has no `{dimension}` dimension column"),
                });
            }
        }
        Ok(Self {
            source: source.to_owned(),
            shape,
            header_len: header.len(),
            entity_at,
            period_at,
            dimensions,
            numbers,
            header_warnings,
        })
    }

    /// An empty table with this layout's columns.
    pub(crate) fn table(&self) -> Table {
        Table {
            source: self.source.clone(),
            periods: self.period_at.map(|_| Vec::new()),
            dimensions: self
                .dimensions
                .iter()
                .map(|(_, name)| TextColumn {
                    name: name.clone(),
                    values: Vec::new(),
                })
                .collect(),
            columns: self
                .numbers
                .iter()
                .map(|(i, name)| NumberColumn {
                    name: name.clone(),
                    position: i + 1,
                    values: Vec::new(),
                    problems: BTreeMap::new(),
                })
                .collect(),
            ..Table::default()
        }
    }

    /// The text of a key or text field, trimmed; when it cannot be a key
    /// (not decodable, or a line break in a key), also why, located.
    fn text(
        &self,
        record: &impl RawRecord,
        at: usize,
        role: &str,
        key: bool,
    ) -> (String, Option<String>) {
        let bytes = record.get(at).unwrap_or_default();
        let here = || format!("{}:{}:{}", self.source, record.line(), at + 1);
        match self.shape.encoding.decode(bytes) {
            Err(_) => {
                // Trimmed as bytes, as the balances reader keys such names.
                let shown = escape_bytes(bytes.trim_ascii());
                let reason = format!(
                    "{}: the {role} `{shown}` is not valid UTF-8, so the row's values are not read; {ENCODING_HELP}",
                    here(),
                );
                (shown, Some(reason))
            }
            Ok(text) => {
                let problem = (key && text.contains(['\n', '\r'])).then(|| {
                    format!(
                        "{}: the {role} `{}` holds a line break, so the row's values are not read: a key is one line (is a quote left open before it?)",
                        here(),
                        text.escape_debug()
                    )
                });
                (text.trim().to_owned(), problem)
            }
        }
    }

    /// Appends one record as a row of `table`.
    pub(crate) fn push(&self, table: &mut Table, seen: &mut Seen, record: &impl RawRecord) {
        let shape = self.shape;
        let row = table.entities.len();
        let line = record.line();
        let (entity, mut row_problem) = self.text(record, self.entity_at, "entity", true);
        if entity.is_empty() && row_problem.is_none() {
            table.warnings.push(DataWarning {
                line: Some(line),
                kind: "empty_key",
                message: format!("row has an empty `{}`", shape.entity),
            });
        }
        let period = match self.period_at {
            Some(at) => {
                let (period, problem) = self.text(record, at, "period", true);
                row_problem = row_problem.or(problem);
                period
            }
            None => String::new(),
        };
        let mut dimension_values = Vec::with_capacity(self.dimensions.len());
        for (at, name) in &self.dimensions {
            let (value, problem) = self.text(record, *at, &format!("`{name}` value"), false);
            row_problem = row_problem.or(problem);
            dimension_values.push(value);
        }
        if let Some(problem) = &row_problem {
            table.warnings.push(DataWarning {
                line: Some(line),
                kind: "unreadable_key",
                message: problem.clone(),
            });
        }
        match seen.entry((entity.clone(), period.clone())) {
            Entry::Occupied(first) => table.warnings.push(DataWarning {
                line: Some(line),
                kind: "repeated_row",
                message: format!("entity `{entity}` {period} appears again (first on line {}); both rows are evaluated", first.get()),
            }),
            Entry::Vacant(slot) => {
                slot.insert(line);
            }
        }
        if record.len() > self.header_len {
            table.warnings.push(DataWarning {
                line: Some(line),
                kind: "extra_fields",
                message: format!(
                    "row has {} fields but the header has {}; the extra fields are ignored",
                    record.len(),
                    self.header_len
                ),
            });
        }
        table.entities.push(entity);
        if let Some(periods) = &mut table.periods {
            periods.push(period);
        }
        table.lines.push(line);
        for (column, value) in table.dimensions.iter_mut().zip(dimension_values) {
            column.values.push(value);
        }
        for (column, (at, _)) in table.columns.iter_mut().zip(&self.numbers) {
            let typed = record.number(*at);
            let (value, problem) = match record.get(*at) {
                Some(_) if typed.is_some() => (typed, None),
                None => (
                    None,
                    Some(CellProblem::ShortRow {
                        fields: record.len(),
                    }),
                ),
                Some(bytes) if bytes.is_ascii() => {
                    let value = shape.numbers.parse_ascii(bytes);
                    let problem = match value {
                        None => Some(bytes.trim_ascii()).filter(|t| !t.is_empty()).map(|t| {
                            CellProblem::Unparsable(String::from_utf8_lossy(t).into_owned())
                        }),
                        Some(_) => None,
                    };
                    (value, problem)
                }
                Some(bytes) => match shape.encoding.decode(bytes) {
                    Err(bad) => (
                        None,
                        Some(CellProblem::Unavailable(format!(
                            "{}:{line}:{}: the cell `{}` is not valid UTF-8; {ENCODING_HELP}",
                            self.source,
                            at + 1,
                            bad.escaped.trim()
                        ))),
                    ),
                    Ok(cell) => {
                        let value = shape.numbers.parse(&cell);
                        let problem = match value {
                            None => Some(cell.trim())
                                .filter(|t| !t.is_empty())
                                .map(|t| CellProblem::Unparsable(t.to_owned())),
                            Some(_) => None,
                        };
                        (value, problem)
                    }
                },
            };
            let problem = match &row_problem {
                Some(reason) => Some(CellProblem::Unavailable(reason.clone())),
                None => problem,
            };
            let value = if row_problem.is_some() { None } else { value };
            if let Some(problem) = problem {
                column.problems.insert(row, problem);
            }
            column.values.push(value);
        }
    }
}

/// Reads a wide file's batches (see [`crate::evaluate_file`]).
pub(crate) struct WideBatches<'a> {
    wide: Wide<'a>,
}

impl<'a> WideBatches<'a> {
    /// The batch reader of a wide file with `header`, for `request`.
    pub(crate) fn new(
        header: &[String],
        source: &str,
        request: ReadRequest<'a>,
    ) -> Result<Self, DataError> {
        let wide = Wide::find(header, source, request.shape, &|c| request.reads(c))?;
        Ok(Self { wide })
    }
}

impl BatchReader for WideBatches<'_> {
    fn header_warnings(&self) -> Vec<DataWarning> {
        self.wide.header_warnings.clone()
    }

    fn read_batch(&self, batch: &RecordBatch) -> Result<Table, DataError> {
        let mut table = self.wide.table();
        let mut seen = Seen::default();
        for record in batch.records() {
            self.wide.push(&mut table, &mut seen, &record);
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

    fn read(csv: &[u8], shape: &DataShape) -> Result<Table, DataError> {
        Table::from_csv_reader(csv, "d.csv", shape)
    }

    fn warnings(table: &Table) -> Vec<(Option<u64>, &str)> {
        table
            .warnings()
            .iter()
            .map(|w| (w.line, w.message.as_str()))
            .collect()
    }

    #[test]
    fn a_repeated_header_the_pack_reads_is_refused_naming_both_columns() {
        let err = read(b"entity,a,b,a\nX,1,2,3\n", &shape(false)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "d.csv:1:4: the header has `a` twice, in columns 2 and 4 (d.csv:1:2 and d.csv:1:4); the pack reads `a` and will not guess which one is meant: rename or remove one of them"
        );
        let reads = |c: &str| c != "b";
        let table = read_wide(
            &b"entity,b,a,b\nX,1,2,3\n"[..],
            "d.csv",
            &shape(false),
            &reads,
        )
        .unwrap();
        assert_eq!(
            warnings(&table),
            [
                (
                    Some(1),
                    "the header has `b` twice, in columns 2 and 4 (d.csv:1:2 and d.csv:1:4); the pack does not read it, so neither is used"
                ),
                (Some(1), "the header has no `segment` dimension column"),
            ]
        );
        assert_eq!(table.column("a").unwrap().value(0), Some(2.into()));
    }

    #[test]
    fn signs_and_numbers_outside_the_grammar_are_cell_problems() {
        let table = read(b"entity,a\nX,+-1\nY,1e5\nZ,-\nW, -7 \n", &shape(false)).unwrap();
        let a = table.column("a").unwrap();
        assert_eq!(a.problem(0), Some(&CellProblem::Unparsable("+-1".into())));
        assert_eq!(a.problem(1), Some(&CellProblem::Unparsable("1e5".into())));
        assert_eq!(a.problem(2), Some(&CellProblem::Unparsable("-".into())));
        assert_eq!(a.value(3), Some((-7).into()));
        assert_eq!((a.value(0), a.value(1), a.value(2)), (None, None, None));
    }

    #[test]
    fn bytes_that_are_not_utf8_are_located_errors_never_replaced() {
        let csv = b"entity,segment,a\nA\xff,s,1\nA\xfe,s,2\nB,s,3\xff\n";
        let table = read(csv, &shape(false)).unwrap();
        assert_eq!((table.entity(0), table.entity(1)), ("A\\xFF", "A\\xFE"));
        let help = "if the file was saved as Windows-1252 or Latin-1 (as spreadsheets often export), read it with `--encoding windows-1252` (or `latin1`), or declare `encoding = \"windows-1252\"` in the pack's [data] section";
        let a = table.column("a").unwrap();
        assert_eq!(
            a.problem(0),
            Some(&CellProblem::Unavailable(format!(
                "d.csv:2:1: the entity `A\\xFF` is not valid UTF-8, so the row's values are not read; {help}"
            )))
        );
        assert_eq!(a.value(0), None);
        assert_eq!(
            a.problem(2),
            Some(&CellProblem::Unavailable(format!(
                "d.csv:4:3: the cell `3\\xFF` is not valid UTF-8; {help}"
            )))
        );
        assert_eq!(table.warnings()[0].line, Some(2));

        let latin1 = DataShape {
            encoding: crate::TextEncoding::Latin1,
            ..shape(false)
        };
        let table = read(b"entity,segment,a\nA\xf1o,s\xe9,1\n", &latin1).unwrap();
        assert_eq!(
            (table.entity(0), table.dimensions()[0].values[0].as_str()),
            ("Año", "sé")
        );
        assert_eq!(table.column("a").unwrap().value(0), Some(1.into()));
    }

    #[test]
    fn a_quote_open_at_the_end_is_refused_with_the_line_it_opened_on() {
        let csv = b"entity,a\nX,1\n\"Y,2\nZ,3\nW,4\n";
        let err = read(csv, &shape(false)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "d.csv:3: a quoted field opened on this line is never closed, so everything after it to the end of the file would be one field: close the quote (a quote inside a quoted field is written twice, `\"\"`)"
        );
        let csv = b"entity,segment,a\nX,\"two\nlines\",1\nY,s,\"2\n";
        let err = read(csv, &shape(false)).unwrap_err();
        assert!(
            err.to_string().starts_with("d.csv:4: a quoted field"),
            "{err}"
        );
    }

    #[test]
    fn a_key_with_a_line_break_is_refused_for_its_row_and_text_may_span_lines() {
        let csv = b"entity,segment,a\n\"X\nY\",s,1\nZ,\"two\nlines\",2\n";
        let table = read(csv, &shape(false)).unwrap();
        let a = table.column("a").unwrap();
        assert_eq!(
            a.problem(0),
            Some(&CellProblem::Unavailable(
                "d.csv:2:1: the entity `X\\nY` holds a line break, so the row's values are not read: a key is one line (is a quote left open before it?)".into()
            ))
        );
        assert_eq!(a.value(1), Some(2.into()));
        assert_eq!(table.dimensions()[0].values[1], "two\nlines");
    }
}
