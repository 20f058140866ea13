//! Spreadsheets as data: one sheet of an `.xlsx`, `.xlsm`, `.xlsb`, `.xls`
//! or `.ods` file (read with `calamine`) turned into typed records — the
//! same [`RecordBatch`] a CSV file's rows become — which the pack's format
//! then reads through its [`crate::BatchReader`], with no text in between.
//!
//! - The sheet is `[data] sheet` (or `--sheet`), else the first one.
//! - Only the cells the file holds are read: `.xlsx`/`.xlsm` and `.xlsb`
//!   sheets are streamed cell by cell, so a stray cell at `XFD1048576`
//!   costs one cell, never the rectangle up to it; a cell right of Excel's
//!   last column is ignored, one below its last row is an error. `.xls`
//!   and `.ods` files are read whole by `calamine`, so their structure and
//!   each sheet's grid are measured first and a file that would need more
//!   than 2^24 cells per sheet (or never finish: a cycle of `.xls`
//!   sectors) is refused (see `workbook_extent.rs`, `workbook_xls.rs`).
//! - The header row is the first row with a text cell equal to the pack's
//!   entity column: title rows above a table are skipped. The table's
//!   columns end at the header's last cell; cells right of it (notes,
//!   stray far-away cells) have no column name and are ignored.
//! - A cell typed as a number is a typed field ([`FieldValue::Number`]):
//!   the shortest decimal that is exactly the number the file stores, read
//!   as it is, whatever the pack's number format; a cell typed as text is
//!   text, so `1.234,56` is read with the declared number format and
//!   refused otherwise — never guessed. A line break inside a cell becomes
//!   a space. A sheet's text has no encoding: it is read as UTF-8 whatever
//!   the pack declares for its CSV files.
//! - Dates become ISO dates (`2024-03-31`, or with the time when there is one).
//! - Rows and columns keep their sheet positions: each data row is a record
//!   at the line of its sheet row, so a message's `line:column` is the
//!   spreadsheet's row and column (1-based, `C` = 3) after title rows,
//!   blank rows, hidden rows, merged cells, and sheets whose used range
//!   starts anywhere. The header is line 1.
//! - What the sheet holds is bounded ([`MAX_CSV_BYTES`]); a larger sheet, a
//!   cell past the format's last row or column, or a file the reader cannot
//!   parse is a [`DataError`] naming the file and sheet.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use calamine::{Data, DataRef, Reader, Sheets, open_workbook_auto};
use rust_decimal::Decimal;

mod extent;
mod xls;

use crate::data::decimal::NumberFormat;
use crate::data::error::DataError;
use crate::data::records::{FieldValue, RecordBatch};
use crate::data::shape::DataShape;
use extent::{MAX_COLUMNS, MAX_ROWS};

/// File extensions read as spreadsheets.
const EXTENSIONS: [&str; 5] = ["xlsx", "xlsm", "xlsb", "xls", "ods"];

/// The most a sheet may hold (1 GiB): its cells' text and numbers as they
/// are held while the sheet is read, then its records; a larger sheet is
/// refused, with the advice to save it as CSV, which is streamed.
pub const MAX_CSV_BYTES: usize = 1 << 30;

/// What one cell costs while held, besides its text.
const CELL_OVERHEAD: usize = size_of::<SheetCell>();

/// Whether `path` names a spreadsheet (by its extension).
#[must_use]
pub fn is_workbook(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// One cell the sheet holds: its 0-based position, its value, and whether
/// it was typed as text (only a text cell can be the entity header).
#[derive(Debug)]
struct SheetCell {
    row: u32,
    column: u32,
    value: CellValue,
    is_text: bool,
}

/// What a cell holds: text, or a number typed as one.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CellValue {
    Text(String),
    Number(Decimal),
}

impl CellValue {
    /// Whether the cell is text equal to `name` once trimmed.
    fn is(&self, name: &str) -> bool {
        matches!(self, Self::Text(text) if text.trim() == name)
    }

    /// The cell as text (a header name), trimmed.
    fn text(&self) -> String {
        match self {
            Self::Text(text) => text.trim().to_owned(),
            Self::Number(value) => value.to_string(),
        }
    }

    /// The cell as a record's field.
    fn field(&self) -> FieldValue<'_> {
        match self {
            Self::Text(text) => FieldValue::Text(text.as_bytes()),
            Self::Number(value) => FieldValue::Number(*value),
        }
    }
}

/// A sheet read as records: the name messages give it (`book.xlsx[Sheet]`),
/// its header's names and the rows under the header.
#[derive(Debug)]
pub(crate) struct Sheet {
    /// `book.xlsx[Sheet]`.
    pub(crate) source: String,
    /// The header row's names, trimmed; `""` for a blank header cell.
    pub(crate) header: Vec<String>,
    /// Every row under the header with a cell in the table, at the line of
    /// its sheet row.
    pub(crate) records: RecordBatch,
}

/// Where a conversion failed: the file (and sheet), a line, and why.
struct Failure {
    source: String,
}

impl Failure {
    fn at(&self, line: u64, message: String) -> DataError {
        DataError::Csv {
            source_name: self.source.clone(),
            line,
            message,
        }
    }
}

/// A sheet of the spreadsheet at `path` (`shape`'s `sheet`, else the
/// first) as typed records under its header (see the module's doc).
pub(crate) fn read_sheet(path: &Path, shape: &DataShape) -> Result<Sheet, DataError> {
    let file = path.display().to_string();
    // The spreadsheet readers parse untrusted bytes; should one of them fail
    // on an input it does not foresee, the file is refused, the run goes on.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| convert(path, shape))).unwrap_or_else(
        |panic| {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(DataError::Csv {
                source_name: file,
                line: 1,
                message: format!(
                    "cannot read the spreadsheet: the file is damaged ({why}); open and save it again, or export the sheet as CSV"
                ),
            })
        },
    )
}

fn convert(path: &Path, shape: &DataShape) -> Result<Sheet, DataError> {
    let whole = Failure {
        source: path.display().to_string(),
    };
    if path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("ods"))
    {
        extent::check_ods(path).map_err(|message| whole.at(1, message))?;
    }
    if path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("xls"))
    {
        let bytes = std::fs::read(path)
            .map_err(|e| whole.at(1, format!("cannot read the spreadsheet: {e}")))?;
        xls::check_xls(&bytes)
            .map_err(|message| whole.at(1, format!("cannot read the spreadsheet: {message}")))?;
    }
    let mut workbook = open_workbook_auto(path)
        .map_err(|e| whole.at(1, format!("cannot read the spreadsheet: {e}")))?;
    let names = workbook.sheet_names();
    let sheet = match &shape.sheet {
        Some(sheet) if names.contains(sheet) => sheet.clone(),
        Some(sheet) => {
            return Err(whole.at(
                1,
                format!(
                    "the spreadsheet has no sheet `{sheet}`; its sheets are: {}",
                    names.join(", ")
                ),
            ));
        }
        None => names
            .first()
            .cloned()
            .ok_or_else(|| whole.at(1, "the spreadsheet has no sheet".to_owned()))?,
    };
    let at = Failure {
        source: format!("{}[{sheet}]", whole.source),
    };
    let cells = read_cells(&mut workbook, &sheet, &at)?;
    let (header, records) = records(cells, shape, &at)?;
    Ok(Sheet {
        source: at.source,
        header,
        records,
    })
}

/// Every non-empty cell of `sheet`, in row then column order; a later cell
/// at the same position (a damaged file) replaces the earlier one.
fn read_cells(
    workbook: &mut Sheets<BufReader<File>>,
    sheet: &str,
    at: &Failure,
) -> Result<Vec<SheetCell>, DataError> {
    let cannot = |e: &dyn std::fmt::Display| at.at(1, format!("cannot read the sheet: {e}"));
    let mut cells = Cells::new(at);
    match workbook {
        Sheets::Xlsx(xlsx) => {
            let mut reader = xlsx.worksheet_cells_reader(sheet).map_err(|e| cannot(&e))?;
            while let Some(cell) = reader.next_cell().map_err(|e| cannot(&e))? {
                let (row, column) = cell.get_position();
                cells.push(row, column, cell.get_value())?;
            }
        }
        Sheets::Xlsb(xlsb) => {
            let mut reader = xlsb.worksheet_cells_reader(sheet).map_err(|e| cannot(&e))?;
            while let Some(cell) = reader.next_cell().map_err(|e| cannot(&e))? {
                let (row, column) = cell.get_position();
                cells.push(row, column, cell.get_value())?;
            }
        }
        Sheets::Xls(_) | Sheets::Ods(_) => {
            let range = workbook.worksheet_range(sheet).map_err(|e| cannot(&e))?;
            let (top, left) = range.start().unwrap_or((0, 0));
            for (row, column, value) in range.used_cells() {
                let (Ok(row), Ok(column)) = (u32::try_from(row), u32::try_from(column)) else {
                    continue;
                };
                cells.push(
                    top.saturating_add(row),
                    left.saturating_add(column),
                    &data_ref(value),
                )?;
            }
        }
    }
    Ok(cells.sorted())
}

/// The cells of a sheet as they are read, with the bytes they hold.
struct Cells<'a> {
    cells: Vec<SheetCell>,
    bytes: usize,
    in_order: bool,
    at: &'a Failure,
}

impl<'a> Cells<'a> {
    fn new(at: &'a Failure) -> Self {
        Self {
            cells: Vec::new(),
            bytes: 0,
            in_order: true,
            at,
        }
    }

    fn push(&mut self, row: u32, column: u32, value: &DataRef<'_>) -> Result<(), DataError> {
        if matches!(value, DataRef::Empty) {
            return Ok(());
        }
        if column >= MAX_COLUMNS {
            // Right of any table a spreadsheet can hold: no column name, ignored.
            return Ok(());
        }
        if row >= MAX_ROWS {
            return Err(self.at.at(
                u64::from(row) + 1,
                format!(
                    "a cell at row {} is past the last row a spreadsheet can have ({MAX_ROWS}): the file is damaged; open and save it again, or export the sheet as CSV",
                    u64::from(row) + 1,
                ),
            ));
        }
        let cell = cell_value(value);
        let held = match &cell {
            CellValue::Text(text) if text.trim().is_empty() => return Ok(()),
            CellValue::Text(text) => text.len(),
            CellValue::Number(_) => 0,
        };
        self.bytes = self.bytes.saturating_add(held + CELL_OVERHEAD);
        if self.bytes > MAX_CSV_BYTES {
            return Err(too_large(self.at, row));
        }
        if let Some(last) = self.cells.last() {
            self.in_order &= (last.row, last.column) < (row, column);
        }
        self.cells.push(SheetCell {
            row,
            column,
            is_text: matches!(value, DataRef::String(_) | DataRef::SharedString(_)),
            value: cell,
        });
        Ok(())
    }

    fn sorted(mut self) -> Vec<SheetCell> {
        if !self.in_order {
            // Stable: of two cells at one position, the later read stays last.
            self.cells.sort_by_key(|c| (c.row, c.column));
            let mut kept: Vec<SheetCell> = Vec::with_capacity(self.cells.len());
            for cell in self.cells {
                match kept.last_mut() {
                    Some(last) if (last.row, last.column) == (cell.row, cell.column) => {
                        *last = cell;
                    }
                    _ => kept.push(cell),
                }
            }
            return kept;
        }
        self.cells
    }
}

fn too_large(at: &Failure, row: u32) -> DataError {
    at.at(
        u64::from(row) + 1,
        format!(
            "the sheet is larger than {} MiB as text: export it as CSV, which is read as it streams",
            MAX_CSV_BYTES >> 20
        ),
    )
}

/// The header's names and the records of the table under the header row
/// (see the module's doc).
fn records(
    cells: Vec<SheetCell>,
    shape: &DataShape,
    at: &Failure,
) -> Result<(Vec<String>, RecordBatch), DataError> {
    let Some(header) = cells
        .iter()
        .find(|c| c.is_text && c.value.is(&shape.entity))
        .map(|c| c.row)
    else {
        return Err(at.at(
            1,
            format!(
                "no row of the sheet has a `{}` header cell (the pack's [data] entity column); choose the sheet with --sheet",
                shape.entity
            ),
        ));
    };
    if let Some(period) = &shape.period
        && !cells
            .iter()
            .any(|c| c.row == header && c.value.text() == period.as_str())
    {
        return Err(at.at(
            u64::from(header) + 1,
            format!(
                "the header has no `{period}` column, which the pack's [data] section names as the period"
            ),
        ));
    }
    // The table's width: up to the header's last cell.
    let width = cells
        .iter()
        .filter(|c| c.row == header)
        .map(|c| c.column)
        .max()
        .map_or(0, |last| last as usize + 1);
    let mut names = vec![String::new(); width];
    let mut records = RecordBatch::default();
    let mut row_cells: Vec<Option<CellValue>> = vec![None; width];
    let mut rows = cells
        .into_iter()
        .skip_while(|c| c.row < header)
        .filter(|c| (c.column as usize) < width)
        .peekable();
    while let Some(first) = rows.next() {
        let row = first.row;
        row_cells.iter_mut().for_each(|c| *c = None);
        row_cells[first.column as usize] = Some(first.value);
        while let Some(cell) = rows.next_if(|c| c.row == row) {
            row_cells[cell.column as usize] = Some(cell.value);
        }
        if row == header {
            for (name, cell) in names.iter_mut().zip(&row_cells) {
                *name = cell.as_ref().map(CellValue::text).unwrap_or_default();
            }
            continue;
        }
        records.push_fields(
            u64::from(row) + 1,
            row_cells.iter().map(|cell| {
                cell.as_ref()
                    .map_or(FieldValue::Text(b""), CellValue::field)
            }),
        );
        if records.byte_len() > MAX_CSV_BYTES {
            return Err(too_large(at, row));
        }
    }
    Ok((names, records))
}

/// A whole-range cell as the streaming readers give cells.
fn data_ref(value: &Data) -> DataRef<'_> {
    match value {
        Data::Int(i) => DataRef::Int(*i),
        Data::Float(f) => DataRef::Float(*f),
        Data::String(s) => DataRef::SharedString(s),
        Data::Bool(b) => DataRef::Bool(*b),
        Data::DateTime(d) => DataRef::DateTime(*d),
        Data::DateTimeIso(s) => DataRef::DateTimeIso(s.clone()),
        Data::DurationIso(s) => DataRef::DurationIso(s.clone()),
        Data::Error(e) => DataRef::Error(e.clone()),
        Data::Empty => DataRef::Empty,
    }
}

/// A cell's value: a number typed as one is the shortest decimal that is
/// exactly the number the file stores (what Excel shows), as a typed number
/// — text only when no decimal holds it (a cell the reader then refuses as
/// written); everything else is text, line breaks as spaces.
fn cell_value(cell: &DataRef<'_>) -> CellValue {
    let written = |s: &str| {
        CellValue::Text(if s.contains(['\n', '\r']) {
            s.replace("\r\n", " ").replace(['\n', '\r'], " ")
        } else {
            s.to_owned()
        })
    };
    match cell {
        DataRef::Empty => CellValue::Text(String::new()),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => written(s),
        DataRef::SharedString(s) => written(s),
        DataRef::Float(f) => float(*f),
        DataRef::Int(i) => CellValue::Number(Decimal::from(*i)),
        DataRef::Bool(b) => CellValue::Text(b.to_string()),
        DataRef::DateTime(date) if date.is_datetime() => {
            let (year, month, day, hour, minute, second, _) = date.to_ymd_hms_milli();
            CellValue::Text(if (hour, minute, second) == (0, 0, 0) {
                format!("{year:04}-{month:02}-{day:02}")
            } else {
                format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}")
            })
        }
        DataRef::DateTime(duration) => float(duration.as_f64()),
        DataRef::Error(error) => CellValue::Text(error.to_string()),
    }
}

/// A stored floating-point number as the shortest decimal that reads back
/// as it (Rust's `Display` of an `f64` is that decimal's digits, never an
/// exponent), taken digit for digit; text when no decimal holds it.
fn float(value: f64) -> CellValue {
    const DIGITS: NumberFormat = NumberFormat {
        decimal: '.',
        thousands: None,
        exponent: false,
    };
    let digits = value.to_string();
    match DIGITS.parse(&digits) {
        Some(number) => CellValue::Number(number),
        None => CellValue::Text(digits),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> CellValue {
        CellValue::Number(text.parse().unwrap())
    }

    fn text(text: &str) -> CellValue {
        CellValue::Text(text.to_owned())
    }

    #[test]
    fn number_cells_are_typed_exactly_and_text_cells_stay_text() {
        assert_eq!(
            cell_value(&DataRef::Float(1_084_203.65)),
            number("1084203.65")
        );
        assert_eq!(
            cell_value(&DataRef::Float(0.1 + 0.2)),
            number("0.30000000000000004")
        );
        assert_eq!(cell_value(&DataRef::Float(75.0)), number("75"));
        assert_eq!(cell_value(&DataRef::Int(-3)), number("-3"));
        // No decimal holds it: text, for its cell to refuse as written.
        assert_eq!(
            cell_value(&DataRef::Float(1e30)),
            text(&1e30_f64.to_string())
        );
        assert_eq!(
            cell_value(&DataRef::String("1.234,56".into())),
            text("1.234,56")
        );
        assert_eq!(
            cell_value(&DataRef::SharedString("Monto\r\nprogramado\n2024")),
            text("Monto programado 2024")
        );
        assert_eq!(cell_value(&DataRef::Bool(true)), text("true"));
        assert_eq!(cell_value(&DataRef::Empty), text(""));
    }

    #[test]
    fn spreadsheets_are_known_by_extension() {
        assert!(is_workbook(Path::new("poa.xlsx")));
        assert!(is_workbook(Path::new("POA.ODS")));
        assert!(!is_workbook(Path::new("poa.csv")));
        assert!(!is_workbook(Path::new("xlsx")));
    }

    fn cell(row: u32, column: u32, value: &str) -> SheetCell {
        let value = value
            .parse()
            .map_or_else(|_| text(value), CellValue::Number);
        SheetCell {
            row,
            column,
            is_text: matches!(value, CellValue::Text(_)),
            value,
        }
    }

    #[test]
    fn each_row_is_a_record_on_the_line_of_its_sheet_row() {
        let at = Failure {
            source: "b.xlsx[S]".into(),
        };
        // A title in A1, the header in row 3 from column B, rows 4, 7 and 8,
        // a note right of the table in row 5 (ignored: no column name).
        let cells = vec![
            cell(0, 0, "Informe"),
            cell(2, 1, "entity"),
            cell(2, 2, " x "),
            cell(3, 1, "A"),
            cell(3, 2, "1.50"),
            cell(4, 5, "nota"),
            cell(6, 1, "B"),
            cell(7, 2, "2"),
        ];
        let (header, records) = records(cells, &DataShape::default(), &at).unwrap();
        assert_eq!(header, ["", "entity", "x"]);
        let rows: Vec<(u64, Vec<FieldValue<'_>>)> = records
            .records()
            .map(|r| (r.line(), (0..r.len()).map(|f| r.value(f)).collect()))
            .collect();
        let typed = |t: &str| FieldValue::Number(t.parse().unwrap());
        let empty = FieldValue::Text(b"");
        assert_eq!(
            rows,
            [
                (4, vec![empty, FieldValue::Text(b"A"), typed("1.50")]),
                (7, vec![empty, FieldValue::Text(b"B"), empty]),
                (8, vec![empty, empty, typed("2")]),
            ]
        );
    }

    #[test]
    fn a_sheet_without_the_entity_or_period_header_is_refused_where_it_looked() {
        let at = Failure {
            source: "b.xlsx[S]".into(),
        };
        let shape = DataShape {
            period: Some("period".into()),
            ..DataShape::default()
        };
        let err = records(vec![cell(0, 0, "id")], &shape, &at).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("b.xlsx[S]:1: no row of the sheet has a `entity` header cell"),
            "{err}"
        );
        let cells = vec![cell(1, 0, "entity"), cell(1, 1, "periodo")];
        let err = records(cells, &shape, &at).unwrap_err();
        assert_eq!(
            err.to_string(),
            "b.xlsx[S]:2: the header has no `period` column, which the pack's [data] section names as the period"
        );
    }
}
