//! Spreadsheets as data: one sheet of an `.xlsx`, `.xlsm`, `.xlsb`, `.xls`
//! or `.ods` file (read with `calamine`) turned into CSV text in the pack's
//! own data format, which the pack's reader then reads like any CSV file.
//!
//! - The sheet is `[data] sheet` (or `--sheet`), else the first one.
//! - The header row is the first row with a cell equal to the pack's entity
//!   column: title rows above a table are skipped.
//! - A cell typed as a number is written as the shortest decimal that is
//!   exactly the number the file stores, with the pack's decimal separator;
//!   a cell typed as text is passed as written, so `1.234,56` is read with
//!   the declared number format and refused otherwise — never guessed.
//! - Dates become ISO dates (`2024-03-31`, or with the time when there is one).
//! - Rows keep their sheet numbers and columns their sheet positions, so a
//!   message's `line:column` is the spreadsheet's row and column.

use std::path::Path;

use calamine::{Data, Reader, open_workbook_auto};

use crate::csv_input::DataError;
use crate::pack::DataShape;

/// File extensions read as spreadsheets.
const EXTENSIONS: [&str; 5] = ["xlsx", "xlsm", "xlsb", "xls", "ods"];

/// Whether `path` names a spreadsheet (by its extension).
#[must_use]
pub fn is_workbook(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// A sheet of the spreadsheet at `path` as CSV in `shape`'s format, with the
/// name messages give it (`book.xlsx[Sheet]`).
pub(crate) fn to_csv(path: &Path, shape: &DataShape) -> Result<(Vec<u8>, String), DataError> {
    let file = path.display().to_string();
    let failed = |message: String| DataError::Csv {
        source_name: file.clone(),
        line: 1,
        message,
    };
    let mut workbook = open_workbook_auto(path)
        .map_err(|e| failed(format!("cannot read the spreadsheet: {e}")))?;
    let names = workbook.sheet_names();
    let sheet = match &shape.sheet {
        Some(sheet) if names.contains(sheet) => sheet.clone(),
        Some(sheet) => {
            return Err(failed(format!(
                "the spreadsheet has no sheet `{sheet}`; its sheets are: {}",
                names.join(", ")
            )));
        }
        None => names
            .first()
            .cloned()
            .ok_or_else(|| failed("the spreadsheet has no sheet".to_owned()))?,
    };
    let source = format!("{file}[{sheet}]");
    let range = workbook
        .worksheet_range(&sheet)
        .map_err(|e| failed(format!("cannot read sheet `{sheet}`: {e}")))?;
    let (first_row, first_column) = range.start().unwrap_or((0, 0));
    let rows: Vec<&[Data]> = range.rows().collect();
    let Some(header) = rows.iter().position(|row| {
        row.iter()
            .any(|cell| matches!(cell, Data::String(s) if s.trim() == shape.entity))
    }) else {
        return Err(DataError::Csv {
            source_name: source,
            line: 1,
            message: format!(
                "no row of the sheet has a `{}` header cell (the pack's [data] entity column); choose the sheet with --sheet",
                shape.entity
            ),
        });
    };
    let mut writer = csv::WriterBuilder::new();
    writer
        .delimiter(shape.delimiter)
        .flexible(true)
        .buffer_capacity(1024);
    // Blank lines (skipped by the CSV reader) keep the sheet's row numbers.
    let above = usize::try_from(first_row).unwrap_or(0) + header;
    let mut bytes: Vec<u8> = vec![b'\n'; above];
    let leading = usize::try_from(first_column).unwrap_or(0);
    let mut fields: Vec<String> = Vec::new();
    for row in &rows[header..] {
        fields.clear();
        fields.extend(std::iter::repeat_n(String::new(), leading));
        fields.extend(row.iter().map(|cell| text(cell, shape.numbers.decimal)));
        if fields.iter().all(String::is_empty) {
            bytes.push(b'\n');
            continue;
        }
        let mut csv = writer.from_writer(&mut bytes);
        csv.write_record(&fields)
            .and_then(|()| csv.flush().map_err(csv::Error::from))
            .map_err(|e| failed(format!("cannot convert the sheet: {e}")))?;
    }
    Ok((bytes, source))
}

/// A cell as CSV text; numbers with `decimal` as the decimal separator.
fn text(cell: &Data, decimal: char) -> String {
    let number = |text: String| {
        if decimal == '.' {
            text
        } else {
            text.replace('.', &decimal.to_string())
        }
    };
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        // The shortest text that reads back as the stored number: what Excel shows.
        Data::Float(f) => number(f.to_string()),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(date) if date.is_datetime() => {
            let (year, month, day, hour, minute, second, _) = date.to_ymd_hms_milli();
            if (hour, minute, second) == (0, 0, 0) {
                format!("{year:04}-{month:02}-{day:02}")
            } else {
                format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}")
            }
        }
        Data::DateTime(duration) => number(duration.as_f64().to_string()),
        Data::Error(error) => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_become_exact_text_in_the_declared_format() {
        assert_eq!(text(&Data::Float(1_084_203.65), '.'), "1084203.65");
        assert_eq!(text(&Data::Float(1_084_203.65), ','), "1084203,65");
        assert_eq!(text(&Data::Float(0.1 + 0.2), '.'), "0.30000000000000004");
        assert_eq!(text(&Data::Float(75.0), '.'), "75");
        assert_eq!(text(&Data::Int(-3), ','), "-3");
        assert_eq!(text(&Data::String("1.234,56".into()), '.'), "1.234,56");
        assert_eq!(text(&Data::Empty, '.'), "");
    }

    #[test]
    fn spreadsheets_are_known_by_extension() {
        assert!(is_workbook(Path::new("poa.xlsx")));
        assert!(is_workbook(Path::new("POA.ODS")));
        assert!(!is_workbook(Path::new("poa.csv")));
        assert!(!is_workbook(Path::new("xlsx")));
    }
}
