//! Data as users have it: the seeds' tables saved as Excel workbooks (a
//! title row above the table, numbers and dates typed as such), and CSV
//! written with `;` separators and comma decimals. Each gives the same
//! results as the plain CSV; a value that does not fit the declared format
//! is an error naming its row and column.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

mod support;

use std::path::Path;

use support::{
    SHEET_PACK, assert_contains, assert_exit, edit_first_sheet, eval, pack, pack_in, path, root,
    semaforo, stderr,
};

/// `eval --format json` of `data` with `pack`, every record's error message
/// dropped (kept: entity, period, indicator, value, compliance, band, error kind).
fn results(pack: &str, data: &str, extra: &[&str]) -> Vec<serde_json::Value> {
    let mut flags = vec!["--quiet", "--format", "json"];
    flags.extend(extra);
    let out = eval(pack, data, &flags);
    assert_exit(&out, 0);
    let mut records: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    for record in &mut records {
        if let Some(error) = record.get_mut("error").and_then(|e| e.as_object_mut()) {
            error.remove("message");
        }
    }
    records
}

/// `pack` gives the same results, more than 100 of them, from the CSV
/// file `data` and from the workbook beside it (`.xlsx` for `.csv`).
fn assert_workbook_reads_like_its_csv(pack: &str, data: &str) {
    let csv = results(pack, data, &[]);
    let xlsx = results(pack, &data.replace(".csv", ".xlsx"), &[]);
    assert!(csv.len() > 100, "{} records", csv.len());
    assert_eq!(xlsx, csv);
}

#[test]
fn the_000_poa_runs_from_its_workbook_with_the_same_results() {
    assert_workbook_reads_like_its_csv(
        "rules/poa-insafocoop",
        "examples/insafocoop/seguimiento_mensual.csv",
    );
}

#[test]
fn the_004_execution_runs_from_its_workbook_with_the_same_results() {
    // Dates typed as dates (inicio, fin) read as ISO dates; amounts typed as numbers.
    assert_workbook_reads_like_its_csv("rules/poa-senavex", "examples/senavex/ejecucion_2020.csv");
    // The messages differ only in how a zero is written: a workbook stores 0, not 0.00.
    let out = eval(
        "rules/poa-senavex",
        "examples/senavex/ejecucion_2020.xlsx",
        &["--quiet", "--format", "csv"],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ejecucion(0, 0)"));
}

#[test]
fn a_missing_sheet_or_header_is_an_error_that_says_what_there_is() {
    let stderr = refused(
        Path::new("rules/poa-senavex"),
        Path::new("examples/senavex/ejecucion_2020.xlsx"),
        &["--sheet", "Hoja1"],
    );
    assert_eq!(
        stderr.trim(),
        "semaforo: examples/senavex/ejecucion_2020.xlsx:1: the spreadsheet has no sheet `Hoja1`; its sheets are: Ejecucion"
    );
    // The INSAFOCOOP sheet has no `partida` header: the SENAVEX pack cannot read it.
    let stderr = refused(
        Path::new("rules/poa-senavex"),
        Path::new("examples/insafocoop/seguimiento_mensual.xlsx"),
        &[],
    );
    assert_contains(
        &stderr,
        "seguimiento_mensual.xlsx[Seguimiento]:1: no row of the sheet has a `partida` header cell",
    );
}

/// The amount columns of the SENAVEX execution table.
const SENAVEX_NUMBERS: [&str; 5] = [
    "prog_tgn",
    "prog_otras",
    "exec_tgn",
    "exec_otras",
    "eficacia",
];

/// `path` rewritten the way a Spanish-locale spreadsheet exports CSV:
/// `;` between fields and, in the `numbers` columns, `,` as the decimal
/// separator and `.` between thousands.
fn spanish_csv(path: &Path, numbers: &[&str]) -> tempfile::NamedTempFile {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().clone();
    let file = tempfile::NamedTempFile::new().unwrap();
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_path(file.path())
        .unwrap();
    writer.write_record(&header).unwrap();
    for record in reader.records() {
        let record = record.unwrap();
        let fields: Vec<String> = header
            .iter()
            .zip(&record)
            .map(|(name, field)| {
                if numbers.contains(&name) && !field.is_empty() {
                    spanish(field)
                } else {
                    field.to_owned()
                }
            })
            .collect();
        writer.write_record(&fields).unwrap();
    }
    writer.flush().unwrap();
    file
}

/// `12345.5` → `12.345,5`.
fn spanish(number: &str) -> String {
    let (sign, digits) = number
        .strip_prefix('-')
        .map_or(("", number), |rest| ("-", rest));
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    if fraction.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped},{fraction}")
    }
}

#[test]
fn a_comma_decimal_csv_gives_the_same_results_as_the_dot_decimal_one() {
    let data = root().join("examples/senavex/ejecucion_2020.csv");
    let spanish = spanish_csv(&data, &SENAVEX_NUMBERS);
    let text = std::fs::read_to_string(spanish.path()).unwrap();
    assert!(text.contains(";12.000,00;"), "{}", &text[..400]);
    let flags = ["--delimiter", ";", "--decimal", ",", "--thousands", "."];
    let comma = results(
        "rules/poa-senavex",
        spanish.path().to_str().unwrap(),
        &flags,
    );
    let dot = results("rules/poa-senavex", data.to_str().unwrap(), &[]);
    assert_eq!(comma, dot);
}

#[test]
fn the_balances_format_reads_comma_decimals_declared_in_the_pack() {
    // A tailoring of the cooperative library whose only change is the file format.
    let dir = tempfile::tempdir().unwrap();
    let pack = pack_in(
        dir.path(),
        &format!(
            "[pack]\nid = \"sagrario-es\"\nversion = \"1\"\nextends = [\"{}\"]\n[data]\ndelimiter = \";\"\ndecimal = \",\"\nthousands = \".\"\n",
            root().join("rules/sagrario").display()
        ),
    );
    let data = root().join("examples/sagrario/balances.csv");
    let spanish = spanish_csv(&data, &["value"]);
    let comma = results(
        pack.to_str().unwrap(),
        spanish.path().to_str().unwrap(),
        &[],
    );
    let dot = results("rules/sagrario", data.to_str().unwrap(), &[]);
    assert!(dot.len() > 50);
    assert_eq!(comma, dot);
}

#[test]
fn a_value_that_does_not_fit_the_declared_format_names_its_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("ejecucion.csv");
    let text = std::fs::read_to_string(
        spanish_csv(
            &root().join("examples/senavex/ejecucion_2020.csv"),
            &SENAVEX_NUMBERS,
        )
        .path(),
    )
    .unwrap();
    // A US-formatted amount slipped into a Spanish-formatted file: not guessed.
    let text = text.replacen(";12.000,00;", ";12,000.00;", 1);
    std::fs::write(&data, text).unwrap();
    let out = eval(
        "rules/poa-senavex",
        path(&data),
        &[
            "--quiet",
            "--format",
            "csv",
            "--delimiter",
            ";",
            "--decimal",
            ",",
            "--thousands",
            ".",
        ],
    );
    assert_exit(&out, 0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let expected = format!(
        "`12,000.00` is not a decimal number ({}:3:4)",
        data.display()
    );
    assert_contains(&stdout, &expected);
}

#[test]
fn separators_in_the_pack_are_checked_where_they_are_written() {
    let dir = pack(
        "[pack]\nid = \"t\"\nversion = \"1\"\n[data]\ndelimiter = \"ab\"\ndecimal = \";\"\n[fields]\na = \"a\"\n[[indicator]]\nid = \"x\"\nformula = \"a\"\n",
        &[],
    );
    let out = semaforo(&["check", path(dir.path())]);
    assert_exit(&out, 1);
    let stderr = stderr(&out);
    for expected in [
        "pack.toml:5:13: error[SEM011]: delimiter `ab` is not one character that can separate CSV fields",
        "pack.toml:6:11: error[SEM011]: decimal separator `;` is not one of `\".\"`, `\",\"`",
    ] {
        assert_contains(&stderr, expected);
    }
}

/// `eval --format json` of `data` with `pack`: the records and stderr.
fn eval_json(pack: &Path, data: &Path) -> (Vec<serde_json::Value>, String) {
    let out = eval(path(pack), path(data), &["--quiet", "--format", "json"]);
    assert_exit(&out, 0);
    (serde_json::from_slice(&out.stdout).unwrap(), stderr(&out))
}

/// `eval` of `data` with `pack`, then `extra`, which must refuse it (exit 2):
/// what it says.
fn refused(pack: &Path, data: &Path, extra: &[&str]) -> String {
    let out = eval(path(pack), path(data), extra);
    assert_exit(&out, 2);
    stderr(&out)
}

/// `(entity, value or error message)` of each record.
fn cells(records: &[serde_json::Value]) -> Vec<(String, String)> {
    records
        .iter()
        .map(|r| {
            let outcome = r["value"].as_str().map_or_else(
                || r["error"]["message"].as_str().unwrap_or("").to_owned(),
                str::to_owned,
            );
            (r["entity"].as_str().unwrap().to_owned(), outcome)
        })
        .collect()
}

#[test]
fn sheet_messages_name_the_row_and_column_the_spreadsheet_shows() {
    use rust_xlsxwriter::{Format, Workbook};
    let dir = tempfile::tempdir().unwrap();
    let pack = pack_in(dir.path(), SHEET_PACK);
    let book = dir.path().join("book.xlsx");
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Hoja").unwrap();
    // The used range starts at C1: a merged title, a blank row, a subtitle.
    sheet
        .merge_range(0, 2, 0, 4, "Seguimiento 2024", &Format::new())
        .unwrap();
    sheet.write_string(2, 2, "(en dólares)").unwrap();
    sheet.write_string(3, 2, "entity").unwrap();
    sheet.write_string(3, 3, "x").unwrap();
    sheet.write_string(4, 2, "A").unwrap();
    sheet.write_number(4, 3, 5).unwrap();
    // Row 6 blank; row 7 hidden, with a bad cell.
    sheet.write_string(6, 2, "B").unwrap();
    sheet.write_string(6, 3, "abc").unwrap();
    sheet.set_row_hidden(6).unwrap();
    // Rows 8–9: the entity merged over both, so row 9 has none.
    sheet.merge_range(7, 2, 8, 2, "C", &Format::new()).unwrap();
    sheet.write_number(7, 3, 2).unwrap();
    sheet.write_string(8, 3, "x1").unwrap();
    // Fifteen blank rows, then row 25, and A again in row 27.
    sheet.write_string(24, 2, "D").unwrap();
    sheet.write_string(24, 3, "1.2.3").unwrap();
    sheet.write_string(26, 2, "A").unwrap();
    sheet.write_number(26, 3, 1).unwrap();
    // A note right of the table and a stray cell at the sheet's last cell.
    sheet.write_string(4, 6, "revisar").unwrap();
    sheet.write_string(1_048_575, 16_383, "?").unwrap();
    workbook.save(&book).unwrap();

    let (records, stderr) = eval_json(&pack, &book);
    let at = |line: u32| format!("{}[Hoja]:{line}:4)", book.display());
    let found = cells(&records);
    assert_eq!(
        found.iter().map(|(e, _)| e.as_str()).collect::<Vec<_>>(),
        ["A", "B", "C", "", "D", "A"],
        "{found:?}"
    );
    assert_eq!(found[0].1, "10");
    assert!(
        found[1].1.contains("`abc`") && found[1].1.ends_with(&at(7)),
        "{found:?}"
    );
    assert_eq!(found[2].1, "4");
    assert!(
        found[3].1.contains("`x1`") && found[3].1.ends_with(&at(9)),
        "{found:?}"
    );
    assert!(
        found[4].1.contains("`1.2.3`") && found[4].1.ends_with(&at(25)),
        "{found:?}"
    );
    assert_eq!(found[5].1, "2");
    assert_contains(&stderr, ":9: warning: row has an empty `entity`");
    assert_contains(
        &stderr,
        ":27: warning: entity `A`  appears again (first on line 5)",
    );
}

#[test]
fn a_sheets_typed_numbers_are_read_exactly_whatever_the_packs_csv_locale() {
    use rust_xlsxwriter::Workbook;
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("pack");
    std::fs::create_dir_all(&pack).unwrap();
    // CSV files of this pack write `1.084.203,65` in Windows-1252.
    std::fs::write(
        pack.join("pack.toml"),
        "[pack]\nid = \"coma\"\nversion = \"1\"\n[data]\ndelimiter = \";\"\ndecimal = \",\"\nthousands = \".\"\nencoding = \"windows-1252\"\n[fields]\nx = \"x\"\n[[indicator]]\nid = \"valor\"\nformula = \"x\"\n",
    )
    .unwrap();
    let book = dir.path().join("book.xlsx");
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "entity").unwrap();
    sheet.write_string(0, 1, "x").unwrap();
    // Typed numbers: read as the file stores them, no separator involved.
    sheet.write_string(1, 0, "A").unwrap();
    sheet.write_number(1, 1, 1_084_203.65).unwrap();
    sheet.write_string(2, 0, "B").unwrap();
    sheet.write_number(2, 1, 0.1 + 0.2).unwrap();
    // Text is read with the declared format.
    sheet.write_string(3, 0, "C").unwrap();
    sheet.write_string(3, 1, "1.234,56").unwrap();
    // A sheet's text has no encoding: `→` is not refused for windows-1252.
    sheet.write_string(4, 0, "Año → D").unwrap();
    sheet.write_number(4, 1, -7).unwrap();
    workbook.save(&book).unwrap();

    let (records, _) = eval_json(&pack, &book);
    assert_eq!(
        cells(&records),
        [
            ("A".to_owned(), "1084203.65".to_owned()),
            ("B".to_owned(), "0.30000000000000004".to_owned()),
            ("C".to_owned(), "1234.56".to_owned()),
            ("Año → D".to_owned(), "-7".to_owned()),
        ]
    );
}

#[test]
fn a_cell_far_from_the_table_is_never_allocated() {
    use rust_xlsxwriter::Workbook;
    let dir = tempfile::tempdir().unwrap();
    let pack = pack_in(dir.path(), SHEET_PACK);
    // The cells of issue #13: each alone made the old reader allocate the
    // rectangle up to it (175 GB for ZZZ20, which is past Excel's last column).
    for (far, row, column) in [
        ("XFD1048576", 1_048_575, 16_383),
        ("ZZZ20", 19, 0),
        ("A300000", 299_999, 0),
    ] {
        let book = dir.path().join(format!("far-{far}.xlsx"));
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.set_name("Hoja").unwrap();
        sheet.write_string(0, 0, "entity").unwrap();
        sheet.write_string(0, 1, "x").unwrap();
        sheet.write_string(1, 0, "A").unwrap();
        sheet.write_number(1, 1, 21).unwrap();
        sheet.write_string(row, column, "far").unwrap();
        workbook.save(&book).unwrap();
        if far == "ZZZ20" {
            edit_first_sheet(&book, |xml| {
                assert_contains(&xml, "r=\"A20\"");
                xml.replace("r=\"A20\"", "r=\"ZZZ20\"")
            });
        }
        let (records, _) = eval_json(&pack, &book);
        let found = cells(&records);
        assert_eq!(found[0], ("A".to_owned(), "42".to_owned()), "{far}");
        if far == "A300000" {
            // In the entity column: a row of the table, on its own line.
            assert_eq!(found.len(), 2, "{found:?}");
            assert_eq!(found[1].0, "far");
            assert!(
                found[1].1.starts_with("missing value of field `x`"),
                "{found:?}"
            );
        } else {
            assert_eq!(found.len(), 1, "{far}: {found:?}");
        }
    }
}

#[test]
fn a_damaged_workbook_is_an_error_naming_the_file() {
    use rust_xlsxwriter::Workbook;
    let dir = tempfile::tempdir().unwrap();
    let pack = pack_in(dir.path(), SHEET_PACK);
    let book = dir.path().join("book.xlsx");
    let mut workbook = Workbook::new();
    workbook
        .add_worksheet()
        .set_name("Hoja")
        .unwrap()
        .write_string(0, 0, "entity")
        .unwrap();
    let bytes = workbook.save_to_buffer().unwrap();
    std::fs::write(&book, &bytes[..bytes.len() / 2]).unwrap();
    let stderr = refused(&pack, &book, &[]);
    assert!(
        stderr.starts_with(&format!(
            "semaforo: {}:1: cannot read the spreadsheet: ",
            book.display()
        )),
        "{stderr}"
    );
}

/// An `.ods` file whose one sheet `Hoja` has `rows` (the XML of its `table:table-row`s).
fn ods(path: &Path, rows: &str) {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("mimetype", stored).unwrap();
    zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .unwrap();
    zip.start_file("META-INF/manifest.xml", stored).unwrap();
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>"#).unwrap();
    zip.start_file("content.xml", stored).unwrap();
    write!(
        zip,
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="Hoja">{rows}</table:table></office:spreadsheet></office:body></office:document-content>"#
    )
    .unwrap();
    zip.finish().unwrap();
}

fn ods_text(text: &str) -> String {
    format!(
        r#"<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>"#
    )
}

fn ods_number(n: &str) -> String {
    format!(
        r#"<table:table-cell office:value-type="float" office:value="{n}"><text:p>{n}</text:p></table:table-cell>"#
    )
}

#[test]
fn an_ods_sheet_is_read_on_its_rows_and_a_far_cell_is_refused_before_it_is_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let pack = pack_in(dir.path(), SHEET_PACK);
    let header = format!(
        "<table:table-row>{}{}</table:table-row>",
        ods_text("entity"),
        ods_text("x")
    );
    let row = |entity: &str, x: &str| {
        format!(
            "<table:table-row>{}{}</table:table-row>",
            ods_text(entity),
            x
        )
    };
    // A blank row repeated three times, as LibreOffice writes them, then row 6.
    let blank = r#"<table:table-row table:number-rows-repeated="3"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>"#;
    let book = dir.path().join("book.ods");
    ods(
        &book,
        &format!(
            "{header}{}{blank}{}",
            row("A", &ods_number("21")),
            row("B", &ods_text("n/a"))
        ),
    );
    let (records, _) = eval_json(&pack, &book);
    let found = cells(&records);
    assert_eq!(found[0], ("A".to_owned(), "42".to_owned()));
    assert!(
        found[1]
            .1
            .ends_with(&format!("{}[Hoja]:6:2)", book.display())),
        "{found:?}"
    );
    // A value after a billion repeated empty cells, or a million rows × 20 columns.
    for (far, expected) in [
        (
            row(
                "C",
                &format!(
                    r#"<table:table-cell table:number-columns-repeated="1000000000"/>{}"#,
                    ods_number("1")
                ),
            ),
            "sheet `Hoja` reaches row 3, column 1000000002",
        ),
        (
            format!(
                r#"<table:table-row table:number-rows-repeated="1000000">{}<table:table-cell table:number-columns-repeated="20" office:value-type="float" office:value="1"/></table:table-row>"#,
                ods_text("D"),
            ),
            "sheet `Hoja` reaches row 3, column 2 (1000002 × 21 = 21000042 cells",
        ),
    ] {
        let book = dir.path().join("far.ods");
        ods(
            &book,
            &format!("{header}{}{far}", row("A", &ods_number("21"))),
        );
        let stderr = refused(&pack, &book, &[]);
        assert!(
            stderr.starts_with(&format!("semaforo: {}:1: {expected}", book.display())),
            "{stderr}"
        );
    }
}

/// A BIFF8 record.
fn biff(kind: u16, data: &[u8]) -> Vec<u8> {
    let mut record = kind.to_le_bytes().to_vec();
    record.extend((data.len() as u16).to_le_bytes());
    record.extend(data);
    record
}

fn xls_label(row: u16, column: u16, text: &str) -> Vec<u8> {
    let mut data = [row.to_le_bytes(), column.to_le_bytes(), [0, 0]].concat();
    data.extend((text.len() as u16).to_le_bytes());
    data.push(0);
    data.extend(text.as_bytes());
    biff(0x0204, &data)
}

fn xls_number(row: u16, column: u16, n: f64) -> Vec<u8> {
    let data = [
        &row.to_le_bytes()[..],
        &column.to_le_bytes(),
        &[0, 0],
        &n.to_le_bytes(),
    ]
    .concat();
    biff(0x0203, &data)
}

/// An `.xls` file (a compound file holding a `Workbook` stream) with one
/// sheet `Hoja` of `cells` records after `dimensions`; `cycle` makes the
/// stream's last sector point back to its first.
fn xls(path: &Path, dimensions: (u32, u32, u16, u16), cells: &[Vec<u8>], cycle: bool) {
    let bof = |dt: u16| {
        biff(
            0x0809,
            &[&[0x00, 0x06][..], &dt.to_le_bytes(), &[0; 12]].concat(),
        )
    };
    let mut globals = bof(0x0005);
    let sheet_at = globals.len() + 4 + 12 + 4;
    let mut boundsheet = (sheet_at as u32).to_le_bytes().to_vec();
    boundsheet.extend([0, 0, 4, 0]);
    boundsheet.extend(b"Hoja");
    globals.extend(biff(0x0085, &boundsheet));
    globals.extend(biff(0x000A, &[]));
    assert_eq!(globals.len(), sheet_at);
    let mut stream = globals;
    stream.extend(bof(0x0010));
    let (rf, rl, cf, cl) = dimensions;
    stream.extend(biff(
        0x0200,
        &[
            &rf.to_le_bytes()[..],
            &rl.to_le_bytes(),
            &cf.to_le_bytes(),
            &cl.to_le_bytes(),
            &[0, 0],
        ]
        .concat(),
    ));
    for cell in cells {
        stream.extend(cell);
    }
    stream.extend(biff(0x000A, &[]));
    let len = stream.len().max(4096);
    stream.resize(len.div_ceil(512) * 512, 0);
    let sectors = stream.len() / 512;
    let mut header = vec![0u8; 512];
    header[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    let mut put = |at: usize, bytes: &[u8]| header[at..at + bytes.len()].copy_from_slice(bytes);
    put(24, &0x3Eu16.to_le_bytes());
    put(26, &3u16.to_le_bytes());
    put(28, &0xFFFEu16.to_le_bytes());
    put(30, &9u16.to_le_bytes());
    put(32, &6u16.to_le_bytes());
    put(44, &1u32.to_le_bytes());
    put(48, &1u32.to_le_bytes());
    put(56, &4096u32.to_le_bytes());
    put(60, &0xFFFF_FFFEu32.to_le_bytes());
    put(68, &0xFFFF_FFFEu32.to_le_bytes());
    for i in 0..109 {
        put(
            76 + 4 * i,
            &(if i == 0 { 0u32 } else { 0xFFFF_FFFF }).to_le_bytes(),
        );
    }
    let mut fat = vec![0xFFFF_FFFDu32, 0xFFFF_FFFE];
    for i in 0..sectors {
        let next = if i + 1 < sectors {
            2 + i as u32 + 1
        } else if cycle {
            2
        } else {
            0xFFFF_FFFE
        };
        fat.push(next);
    }
    fat.resize(128, 0xFFFF_FFFF);
    let entry = |name: &str, kind: u8, start: u32, size: u32| {
        let mut entry = vec![0u8; 128];
        let name: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
        entry[..name.len()].copy_from_slice(&name);
        entry[64..66].copy_from_slice(&(name.len() as u16 + 2).to_le_bytes());
        entry[66] = kind;
        entry[68..80].copy_from_slice(&[0xFF; 12]);
        entry[116..120].copy_from_slice(&start.to_le_bytes());
        entry[120..124].copy_from_slice(&size.to_le_bytes());
        entry
    };
    let mut file = header;
    file.extend(fat.iter().flat_map(|f| f.to_le_bytes()));
    file.extend(entry("Root Entry", 5, 0xFFFF_FFFE, 0));
    file.extend(entry("Workbook", 2, 2, stream.len() as u32));
    file.extend(vec![0u8; 256]);
    file.extend(&stream);
    std::fs::write(path, file).unwrap();
}

#[test]
fn an_xls_sheet_is_read_on_its_rows_and_a_file_that_would_not_fit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pack = pack_in(dir.path(), SHEET_PACK);
    let book = dir.path().join("book.xls");
    let table = [
        xls_label(0, 0, "Informe"),
        xls_label(2, 0, "entity"),
        xls_label(2, 1, "x"),
        xls_label(3, 0, "A"),
        xls_number(3, 1, 21.0),
        xls_label(6, 0, "B"),
        xls_label(6, 1, "n/a"),
    ];
    xls(&book, (0, 7, 0, 2), &table, false);
    let (records, _) = eval_json(&pack, &book);
    let found = cells(&records);
    assert_eq!(found[0], ("A".to_owned(), "42".to_owned()));
    assert!(
        found[1]
            .1
            .ends_with(&format!("{}[Hoja]:7:2)", book.display())),
        "{found:?}"
    );
    // A cell at the last row and column a BIFF8 cell can name; dimensions
    // declaring 4 billion rows; a sector chain that comes back on itself.
    let mut far = table.to_vec();
    far.push(xls_number(65_535, 65_535, 1.0));
    for (dimensions, cells, cycle, expected) in [
        (
            (0, 7, 0, 2),
            &far,
            false,
            "sheet 1 spans 65536 rows × 65536 columns from its first to its last cell (4294967296 cells",
        ),
        (
            (0, u32::MAX, 0, 200),
            &table.to_vec(),
            false,
            "sheet 1 spans 4294967295 rows × 200 columns",
        ),
        (
            (0, 7, 0, 2),
            &table.to_vec(),
            true,
            "the file is damaged: a chain of its sectors comes back to sector 2, so reading it would never end",
        ),
    ] {
        xls(&book, dimensions, cells, cycle);
        let stderr = refused(&pack, &book, &[]);
        assert!(
            stderr.starts_with(&format!(
                "semaforo: {}:1: cannot read the spreadsheet: {expected}",
                book.display()
            )),
            "{stderr}"
        );
    }
}

#[test]
fn variation_follows_time_and_unordered_periods_are_a_warning_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let pack = pack_in(
        dir.path(),
        "[pack]\nid = \"p\"\nversion = \"1\"\n[data]\nperiod = \"period\"\n[fields]\nx = \"x\"\n[[indicator]]\nid = \"doble\"\nformula = \"x * 2\"\n",
    );
    // Issue #13: as text 1/2009 sorts before 12/2008, which took its value as previous.
    let data = dir.path().join("data.csv");
    std::fs::write(&data, "entity,period,x\nA,12/2008,1\nA,1/2009,3\n").unwrap();
    let (records, stderr) = eval_json(&pack, &data);
    let previous: Vec<&serde_json::Value> = records.iter().map(|r| &r["previous"]).collect();
    assert_eq!(
        previous,
        [&serde_json::Value::Null, &serde_json::json!("2")]
    );
    assert!(!stderr.contains("warning"), "{stderr}");
    // explain's default period is the last in time too.
    let out = semaforo(&[
        "explain",
        "--pack",
        pack.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--entity",
        "A",
        "--indicator",
        "doble",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("period 1/2009 (the entity's last, chosen as no --period was given; --period picks another: 12/2008)"),
        "{stdout}"
    );
    // Periods in no known form: no variation, and stderr says why.
    std::fs::write(&data, "entity,period,x\nA,P9,1\nA,P10,3\n").unwrap();
    let (records, stderr) = eval_json(&pack, &data);
    assert!(records.iter().all(|r| r["previous"].is_null()));
    assert_contains(
        &stderr,
        &format!(
            "{}: warning: variation from the previous period was not computed: the periods `P10`, `P9` are not written in a form whose time order is known",
            data.display()
        ),
    );
}

#[test]
fn the_balances_format_reads_a_workbook_with_a_title_row_like_its_csv() {
    use rust_xlsxwriter::Workbook;
    let dir = tempfile::tempdir().unwrap();
    let csv = root().join("examples/sagrario/balances.csv");
    let book = dir.path().join("balances.xlsx");
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet
        .write_string(0, 1, "Balances COAC El Sagrario")
        .unwrap();
    let mut reader = csv::Reader::from_path(&csv).unwrap();
    let header = reader.headers().unwrap().clone();
    for (column, name) in header.iter().enumerate() {
        sheet.write_string(2, column as u16 + 1, name).unwrap();
    }
    for (row, record) in reader.records().enumerate() {
        for (column, (name, field)) in header.iter().zip(&record.unwrap()).enumerate() {
            let (row, column) = (row as u32 + 3, column as u16 + 1);
            match field.parse::<f64>() {
                Ok(n) if name == "value" => sheet.write_number(row, column, n).unwrap(),
                _ => sheet.write_string(row, column, field).unwrap(),
            };
        }
    }
    workbook.save(&book).unwrap();
    let from_csv = results("rules/sagrario", csv.to_str().unwrap(), &[]);
    let from_book = results("rules/sagrario", book.to_str().unwrap(), &[]);
    assert!(from_csv.len() > 50);
    assert_eq!(from_book, from_csv);
    // A pack whose period column the sheet lacks: named at the header's row.
    let pack = pack_in(
        dir.path(),
        "[pack]\nid = \"p\"\nversion = \"1\"\n[data]\nperiod = \"periodo\"\n[fields]\nx = \"value\"\n[[indicator]]\nid = \"y\"\nformula = \"x\"\n",
    );
    let stderr = refused(&pack, &book, &[]);
    assert_eq!(
        stderr.trim(),
        format!(
            "semaforo: {}[Sheet1]:3: the header has no `periodo` column, which the pack's [data] section names as the period",
            book.display()
        )
    );
}
