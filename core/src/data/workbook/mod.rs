//! Spreadsheets as data: one sheet of an `.xlsx`, `.xlsm`, `.xlsb`, `.xls`
//! or `.ods` file (read with `calamine`) turned into CSV text in the pack's
//! own data format, which the pack's reader then reads like any CSV file.
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
//! - A cell typed as a number is written as the shortest decimal that is
//!   exactly the number the file stores, with the pack's decimal separator;
//!   a cell typed as text is passed as written, so `1.234,56` is read with
//!   the declared number format and refused otherwise — never guessed.
//!   A line break inside a cell becomes a space.
//! - Dates become ISO dates (`2024-03-31`, or with the time when there is one).
//! - Rows and columns keep their sheet positions, so a message's
//!   `line:column` is the spreadsheet's row and column (1-based, `C` = 3)
//!   after title rows, blank rows, hidden rows, merged cells, and sheets
//!   whose used range starts anywhere. Each row is a record at the CSV line
//!   of its sheet row: the line breaks that stand for the blank rows below a
//!   record are written inside one extra, unnamed last field, because a CSV
//!   reader gives a record after blank lines the line where the blank lines
//!   began.
//! - The text is bounded ([`MAX_CSV_BYTES`]); a larger sheet, a cell past
//!   the format's last row or column, or a file the reader cannot parse is
//!   a [`DataError`] naming the file and sheet.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use calamine::{Data, DataRef, Reader, Sheets, open_workbook_auto};

mod extent;
mod xls;

use crate::data::error::DataError;
use crate::data::shape::DataShape;
use extent::{MAX_COLUMNS, MAX_ROWS};

/// File extensions read as spreadsheets.
const EXTENSIONS: [&str; 5] = ["xlsx", "xlsm", "xlsb", "xls", "ods"];

/// The most CSV text a sheet may become (1 GiB), counting the cells held
/// while the sheet is read; a larger sheet is refused, with the advice to
/// save it as CSV, which is streamed.
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

/// One cell the sheet holds: its 0-based position, its text, and whether it
/// was typed as text (only a text cell can be the entity header).
#[derive(Debug)]
struct SheetCell {
    row: u32,
    column: u32,
    text: String,
    is_text: bool,
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

/// A sheet of the spreadsheet at `path` as CSV in `shape`'s format, with the
/// name messages give it (`book.xlsx[Sheet]`).
pub(crate) fn to_csv(path: &Path, shape: &DataShape) -> Result<(Vec<u8>, String), DataError> {
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

fn convert(path: &Path, shape: &DataShape) -> Result<(Vec<u8>, String), DataError> {
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
    let cells = read_cells(&mut workbook, &sheet, shape.numbers.decimal, &at)?;
    let csv = write_csv(cells, shape, &at)?;
    Ok((csv, at.source))
}

/// Every non-empty cell of `sheet`, in row then column order; a later cell
/// at the same position (a damaged file) replaces the earlier one.
fn read_cells(
    workbook: &mut Sheets<BufReader<File>>,
    sheet: &str,
    decimal: char,
    at: &Failure,
) -> Result<Vec<SheetCell>, DataError> {
    let cannot = |e: &dyn std::fmt::Display| at.at(1, format!("cannot read the sheet: {e}"));
    let mut cells = Cells::new(decimal, at);
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
    decimal: char,
    at: &'a Failure,
}

impl<'a> Cells<'a> {
    fn new(decimal: char, at: &'a Failure) -> Self {
        Self {
            cells: Vec::new(),
            bytes: 0,
            in_order: true,
            decimal,
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
        let text = text(value, self.decimal);
        if text.trim().is_empty() {
            return Ok(());
        }
        self.bytes = self.bytes.saturating_add(text.len() + CELL_OVERHEAD);
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
            text,
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

/// The CSV text of the table under the header row (see the module's doc).
fn write_csv(cells: Vec<SheetCell>, shape: &DataShape, at: &Failure) -> Result<Vec<u8>, DataError> {
    let Some(header) = cells
        .iter()
        .find(|c| c.is_text && c.text.trim() == shape.entity)
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
            .any(|c| c.row == header && c.text.trim() == period.as_str())
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
    let mut writer = csv::WriterBuilder::new()
        .delimiter(shape.delimiter)
        .flexible(true)
        .from_writer(Vec::new());
    let mut fields: Vec<String> = vec![String::new(); width + 1];
    // The CSV line of the record waiting for its last field: the header is
    // line 1, a data row is on the line of its sheet row.
    let mut pending: Option<u64> = None;
    let mut rows = cells
        .into_iter()
        .skip_while(|c| c.row < header)
        .filter(|c| (c.column as usize) < width)
        .peekable();
    while let Some(first) = rows.next() {
        let row = first.row;
        let sheet_line = u64::from(row) + 1;
        if let Some(previous) = pending.take() {
            // The previous record's last field carries the blank rows between.
            let gap = sheet_line.saturating_sub(previous + 1);
            fields[width] = "\n".repeat(usize::try_from(gap).unwrap_or(0));
            writer
                .write_record(&fields)
                .map_err(|e| at.at(previous, format!("cannot convert the sheet: {e}")))?;
            if writer.get_ref().len() > MAX_CSV_BYTES {
                return Err(too_large(at, row));
            }
        }
        for field in &mut fields {
            field.clear();
        }
        fields[first.column as usize] = first.text;
        while let Some(cell) = rows.next_if(|c| c.row == row) {
            fields[cell.column as usize] = cell.text;
        }
        pending = Some(if row == header { 1 } else { sheet_line });
    }
    if let Some(previous) = pending {
        fields[width].clear();
        writer
            .write_record(&fields)
            .map_err(|e| at.at(previous, format!("cannot convert the sheet: {e}")))?;
    }
    writer
        .into_inner()
        .map_err(|e| at.at(1, format!("cannot convert the sheet: {}", e.error())))
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

/// A cell as CSV text; numbers with `decimal` as the decimal separator, line
/// breaks as spaces (one record is one line).
fn text(cell: &DataRef<'_>, decimal: char) -> String {
    let number = |text: String| {
        if decimal == '.' {
            text
        } else {
            text.replace('.', &decimal.to_string())
        }
    };
    let written = |s: &str| {
        if s.contains(['\n', '\r']) {
            s.replace("\r\n", " ").replace(['\n', '\r'], " ")
        } else {
            s.to_owned()
        }
    };
    match cell {
        DataRef::Empty => String::new(),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => written(s),
        DataRef::SharedString(s) => written(s),
        // The shortest text that reads back as the stored number: what Excel shows.
        DataRef::Float(f) => number(f.to_string()),
        DataRef::Int(i) => i.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(date) if date.is_datetime() => {
            let (year, month, day, hour, minute, second, _) = date.to_ymd_hms_milli();
            if (hour, minute, second) == (0, 0, 0) {
                format!("{year:04}-{month:02}-{day:02}")
            } else {
                format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}")
            }
        }
        DataRef::DateTime(duration) => number(duration.as_f64().to_string()),
        DataRef::Error(error) => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_become_exact_text_in_the_declared_format() {
        assert_eq!(text(&DataRef::Float(1_084_203.65), '.'), "1084203.65");
        assert_eq!(text(&DataRef::Float(1_084_203.65), ','), "1084203,65");
        assert_eq!(text(&DataRef::Float(0.1 + 0.2), '.'), "0.30000000000000004");
        assert_eq!(text(&DataRef::Float(75.0), '.'), "75");
        assert_eq!(text(&DataRef::Int(-3), ','), "-3");
        assert_eq!(text(&DataRef::String("1.234,56".into()), '.'), "1.234,56");
        assert_eq!(
            text(&DataRef::SharedString("Monto\r\nprogramado\n2024"), '.'),
            "Monto programado 2024"
        );
        assert_eq!(text(&DataRef::Empty, '.'), "");
    }

    #[test]
    fn spreadsheets_are_known_by_extension() {
        assert!(is_workbook(Path::new("poa.xlsx")));
        assert!(is_workbook(Path::new("POA.ODS")));
        assert!(!is_workbook(Path::new("poa.csv")));
        assert!(!is_workbook(Path::new("xlsx")));
    }

    fn cell(row: u32, column: u32, text: &str) -> SheetCell {
        SheetCell {
            row,
            column,
            text: text.to_owned(),
            is_text: text.parse::<f64>().is_err(),
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
            cell(2, 2, "x"),
            cell(3, 1, "A"),
            cell(3, 2, "1"),
            cell(4, 5, "nota"),
            cell(6, 1, "B"),
            cell(7, 2, "2"),
        ];
        let csv = write_csv(cells, &DataShape::default(), &at).unwrap();
        assert_eq!(
            String::from_utf8(csv.clone()).unwrap(),
            ",entity,x,\"\n\n\"\n,A,1,\"\n\n\"\n,B,,\n,,2,\n"
        );
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(csv.as_slice());
        let lines: Vec<u64> = reader
            .byte_records()
            .map(|r| r.unwrap().position().unwrap().line())
            .collect();
        assert_eq!(lines, [4, 7, 8]);
    }
}
