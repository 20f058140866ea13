//! The spreadsheet reader against generated workbooks: title and blank
//! rows above and inside the table, the table anywhere on the sheet, typed
//! numbers, dates, text, booleans and error cells, duplicate headers, and
//! cells far away (up to the sheet's last cell, `XFD1048576`); then the
//! bytes of a valid workbook truncated and flipped.
//!
//! Invariants: nothing panics or aborts (a far cell is never allocated as a
//! rectangle), every row of the table is in the results on its sheet row,
//! each cell has the value its typed cell holds or an error naming the
//! sheet's own row and column, and a damaged file is an error naming it.
//!
//! `SEMAFORO_FUZZ_CASES=100000 cargo test --release --test sheet_fuzz` runs longer.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

mod support;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rust_decimal::Decimal;
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
use support::fuzz::runner;
use support::{SHEET_PACK, edit_first_sheet, pack_in};

/// A pack reading the sheet `Hoja`: `doble = x * 2`.
fn pack(dir: &Path) -> semaforo::CompiledRuleSet {
    semaforo::load(&pack_in(dir, SHEET_PACK)).unwrap()
}

/// What a cell of the `x` column holds.
#[derive(Debug, Clone)]
enum Value {
    Empty,
    Number(f64),
    /// Text that is an exact decimal, or not a number at all.
    Text(String),
    Bool(bool),
    Date(u16, u8, u8),
    Error(&'static str),
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Empty),
        any::<i32>().prop_map(|i| Value::Number(f64::from(i))),
        (-1.0e12..1.0e12f64).prop_map(Value::Number),
        prop_oneof![Just(1.0e300), Just(-2.5e-7), Just(1.0e21), Just(0.1 + 0.2)]
            .prop_map(Value::Number),
        prop_oneof![
            Just("1.5"),
            Just("-3"),
            Just("abc"),
            Just("1.2.3"),
            Just("12,5"),
            Just(" 7 "),
            Just("n/a"),
            Just("línea\nnueva"),
        ]
        .prop_map(|s| Value::Text(s.to_owned())),
        any::<bool>().prop_map(Value::Bool),
        (1990u16..2030, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| Value::Date(y, m, d)),
        prop_oneof![Just("#DIV/0!"), Just("#N/A"), Just("#REF!")].prop_map(Value::Error),
    ]
}

/// A generated sheet: where the table is, what is around it.
#[derive(Debug, Clone)]
struct Sheet {
    /// Title rows above the header (their 0-based rows are below `header_row`).
    titles: Vec<String>,
    header_row: u32,
    first_column: u16,
    /// Header names left to right; `entity` and `x` are among them.
    header: Vec<&'static str>,
    /// Data rows: blank rows before each, then its `x` value.
    rows: Vec<(u32, Value)>,
    /// Cells right of the table: (row, column ≥ the table's width), up to
    /// past Excel's last column (`XFD`), written after the rest of the sheet.
    far: Vec<(u32, u32)>,
    /// A last row at the sheet's last row, with only an entity.
    last_row: bool,
}

fn sheet() -> impl Strategy<Value = Sheet> {
    let header = prop_oneof![
        Just(vec!["entity", "x"]),
        Just(vec!["x", "nota", "entity"]),
        Just(vec!["entity", "nota", "x", "nota"]),
        Just(vec!["entity", "x", "x"]),
        Just(vec!["nota", "entity", "", "x"]),
    ];
    (
        proptest::collection::vec(
            prop_oneof![
                Just("Informe"),
                Just("x"),
                Just("Periodo: 2024"),
                Just("42")
            ],
            0..3,
        ),
        0u32..4,
        0u16..5,
        header,
        proptest::collection::vec((0u32..4, value()), 0..12),
        proptest::collection::vec(
            prop_oneof![
                (0u32..1_048_576, 0u32..20_000),
                Just((1_048_575, 16_383)),
                Just((19, 18_277)),
            ],
            0..3,
        ),
        proptest::bool::weighted(0.1),
    )
        .prop_map(
            |(titles, gap, first_column, header, rows, far, last_row)| Sheet {
                header_row: titles.len() as u32 + gap,
                titles: titles.into_iter().map(str::to_owned).collect(),
                first_column,
                header,
                rows,
                far,
                last_row,
            },
        )
}

/// A row of the table as expected in the results: entity, 1-based sheet row, value.
#[derive(Debug)]
struct Expected {
    entity: String,
    line: u64,
    value: Value,
}

fn write(sheet: &Sheet, path: &Path) -> (Vec<Expected>, u16) {
    let mut workbook = Workbook::new();
    let ws = workbook.add_worksheet();
    ws.set_name("Hoja").unwrap();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (row, title) in sheet.titles.iter().enumerate() {
        ws.write_string(row as u32, 0, title).unwrap();
    }
    let column_of = |name: &str| {
        sheet.first_column + sheet.header.iter().position(|h| *h == name).unwrap() as u16
    };
    for (i, name) in sheet.header.iter().enumerate() {
        if !name.is_empty() {
            ws.write_string(sheet.header_row, sheet.first_column + i as u16, *name)
                .unwrap();
        }
    }
    let width = sheet.first_column + sheet.header.len() as u16;
    let (entity_column, x_column) = (column_of("entity"), column_of("x"));
    let mut expected = Vec::new();
    let mut row = sheet.header_row;
    for (i, (blank, value)) in sheet.rows.iter().enumerate() {
        row += 1 + blank;
        let entity = format!("E{i}");
        ws.write_string(row, entity_column, &entity).unwrap();
        match value {
            Value::Empty => {}
            Value::Number(n) => {
                ws.write_number(row, x_column, *n).unwrap();
            }
            Value::Text(s) => {
                ws.write_string(row, x_column, s).unwrap();
            }
            Value::Bool(b) => {
                ws.write_boolean(row, x_column, *b).unwrap();
            }
            Value::Date(y, m, d) => {
                let day = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                ws.write_datetime_with_format(row, x_column, &day, &date)
                    .unwrap();
            }
            Value::Error(e) => {
                ws.write_formula(row, x_column, Formula::new("=1/0").set_result(*e))
                    .unwrap();
            }
        }
        expected.push(Expected {
            entity,
            line: u64::from(row) + 1,
            value: value.clone(),
        });
    }
    workbook.save(path).unwrap();
    // Far cells are added to the sheet's XML (the writer is slow to place
    // them), after the rows already there: out of order, as some files are.
    let mut far: Vec<(u32, u32, &str)> = sheet
        .far
        .iter()
        .filter(|&&(far_row, far_column)| {
            far_column >= u32::from(width) && far_row != sheet.header_row
        })
        .map(|&(far_row, far_column)| (far_row, far_column, "lejos"))
        .collect();
    if sheet.last_row && row < 1_048_575 {
        far.push((1_048_575, u32::from(entity_column), "ULTIMA"));
        expected.push(Expected {
            entity: "ULTIMA".to_owned(),
            line: 1_048_576,
            value: Value::Empty,
        });
    }
    append_cells(path, &far);
    (expected, x_column)
}

/// `A`, `B`, … `XFD`, … for a 0-based column.
fn column_name(column: u32) -> String {
    let mut n = column + 1;
    let mut name = Vec::new();
    while n > 0 {
        name.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    name.reverse();
    String::from_utf8(name).unwrap()
}

/// Adds text cells at the end of the first sheet's data of the workbook at `path`.
fn append_cells(path: &Path, cells: &[(u32, u32, &str)]) {
    if cells.is_empty() {
        return;
    }
    let rows: String = cells
        .iter()
        .map(|(row, column, text)| {
            format!(
                "<row r=\"{r}\"><c r=\"{c}{r}\" t=\"inlineStr\"><is><t>{text}</t></is></c></row>",
                r = row + 1,
                c = column_name(*column)
            )
        })
        .collect();
    edit_first_sheet(path, |xml| {
        if xml.contains("</sheetData>") {
            xml.replacen("</sheetData>", &format!("{rows}</sheetData>"), 1)
        } else {
            xml.replacen("<sheetData/>", &format!("<sheetData>{rows}</sheetData>"), 1)
        }
    });
}

/// `(value, error message)` of the `doble` cell expected for `value`.
fn check_cell(value: &Value, cell: &semaforo::Cell, located: &str) -> Result<(), TestCaseError> {
    let error = cell.error.as_ref().map(ToString::to_string);
    let number = match value {
        Value::Number(n) => Decimal::from_str(&n.to_string()).ok(),
        Value::Text(s) => Decimal::from_str(s.trim()).ok(),
        _ => None,
    };
    match (value, number) {
        (Value::Empty, _) => {
            prop_assert!(
                error
                    .as_deref()
                    .is_some_and(|e| e.starts_with("missing value of field `x`")),
                "{error:?}"
            );
        }
        (_, Some(n)) => match n.checked_mul(Decimal::TWO) {
            Some(double) => prop_assert_eq!(cell.value, Some(double), "{:?}", error),
            None => prop_assert!(error.is_some()),
        },
        (_, None) => {
            // Not a number: refused where it is, never read as one.
            prop_assert_eq!(cell.value, None);
            let error = error.unwrap_or_default();
            prop_assert!(
                error.ends_with(located),
                "{} does not end with {}",
                error,
                located
            );
        }
    }
    Ok(())
}

#[test]
fn generated_sheets_keep_every_row_on_its_sheet_row() {
    let dir = tempfile::tempdir().unwrap();
    let rules = pack(dir.path());
    let book: PathBuf = dir.path().join("book.xlsx");
    let source = format!("{}[Hoja]", book.display());
    runner(48)
        .run(&sheet(), |sheet| {
            let (expected, x_column) = write(&sheet, &book);
            let duplicate_x = sheet.header.iter().filter(|h| **h == "x").count() > 1;
            let done = match semaforo::evaluate_file(&rules, &book, &|_| {}) {
                Ok(done) => done,
                Err(e) => {
                    // Only a header the pack cannot read unambiguously may refuse the sheet.
                    prop_assert!(duplicate_x, "{}", e);
                    prop_assert!(e.to_string().starts_with(&source), "{}", e);
                    return Ok(());
                }
            };
            let results = &done.results;
            let rows: Vec<(&str, u64)> = results
                .rows()
                .iter()
                .map(|k| (k.entity.as_str(), k.line))
                .collect();
            let wanted: Vec<(&str, u64)> = expected
                .iter()
                .map(|e| (e.entity.as_str(), e.line))
                .collect();
            prop_assert_eq!(rows, wanted);
            if !duplicate_x {
                for (row, expected) in expected.iter().enumerate() {
                    let located = format!("{source}:{}:{})", expected.line, x_column + 1);
                    check_cell(&expected.value, results.cell(row, 0), &located)?;
                }
            }
            Ok(())
        })
        .unwrap();
}

/// A small valid workbook's bytes.
fn valid_workbook() -> Vec<u8> {
    let mut workbook = Workbook::new();
    let ws = workbook.add_worksheet();
    ws.set_name("Hoja").unwrap();
    ws.write_string(0, 0, "Informe").unwrap();
    ws.write_string(2, 0, "entity").unwrap();
    ws.write_string(2, 1, "x").unwrap();
    for row in 3..40u32 {
        ws.write_string(row, 0, format!("E{row}")).unwrap();
        ws.write_number(row, 1, f64::from(row) * 1.25).unwrap();
    }
    workbook.save_to_buffer().unwrap()
}

#[test]
fn damaged_workbooks_are_an_error_naming_the_file_never_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let rules = pack(dir.path());
    let valid = valid_workbook();
    let book = dir.path().join("damaged.xlsx");
    let file = book.display().to_string();
    let damage = (
        0..valid.len(),
        proptest::collection::vec((0..valid.len(), 1u8..=255), 0..4),
        any::<bool>(),
    );
    runner(256)
        .run(&damage, |(cut, flips, truncate)| {
            let mut bytes = valid.clone();
            for (at, mask) in flips {
                bytes[at] ^= mask;
            }
            if truncate {
                bytes.truncate(cut);
            }
            std::fs::write(&book, &bytes).unwrap();
            match semaforo::evaluate_file(&rules, &book, &|_| {}) {
                Err(e) => prop_assert!(e.to_string().starts_with(&file), "{}", e),
                Ok(done) => {
                    // What could be read is on its sheet rows, each with a value or an error.
                    for (row, key) in done.results.rows().iter().enumerate() {
                        prop_assert!(key.line >= 1, "{:?}", key);
                        let cell = done.results.cell(row, 0);
                        prop_assert!(cell.value.is_some() != cell.error.is_some());
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}
