//! Data as users have it: the seeds' tables saved as Excel workbooks (a
//! title row above the table, numbers and dates typed as such), and CSV
//! written with `;` separators and comma decimals. Each gives the same
//! results as the plain CSV; a value that does not fit the declared format
//! is an error naming its row and column.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn semaforo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_semaforo"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap()
}

/// `eval --format json` of `data` with `pack`, every record's error message
/// dropped (kept: entity, period, indicator, value, compliance, band, error kind).
fn results(pack: &str, data: &str, extra: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec![
        "eval", "--quiet", "--format", "json", "--pack", pack, "--data", data,
    ];
    args.extend(extra);
    let out = semaforo(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut records: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    for record in &mut records {
        if let Some(error) = record.get_mut("error").and_then(|e| e.as_object_mut()) {
            error.remove("message");
        }
    }
    records
}

#[test]
fn the_000_poa_runs_from_its_workbook_with_the_same_results() {
    let csv = results(
        "rules/poa-insafocoop",
        "examples/insafocoop/seguimiento_mensual.csv",
        &[],
    );
    let xlsx = results(
        "rules/poa-insafocoop",
        "examples/insafocoop/seguimiento_mensual.xlsx",
        &[],
    );
    assert!(csv.len() > 100, "{} records", csv.len());
    assert_eq!(xlsx, csv);
}

#[test]
fn the_004_execution_runs_from_its_workbook_with_the_same_results() {
    // Dates typed as dates (inicio, fin) read as ISO dates; amounts typed as numbers.
    let csv = results(
        "rules/poa-senavex",
        "examples/senavex/ejecucion_2020.csv",
        &[],
    );
    let xlsx = results(
        "rules/poa-senavex",
        "examples/senavex/ejecucion_2020.xlsx",
        &[],
    );
    assert!(csv.len() > 100, "{} records", csv.len());
    assert_eq!(xlsx, csv);
    // The messages differ only in how a zero is written: a workbook stores 0, not 0.00.
    let out = semaforo(&[
        "eval",
        "--quiet",
        "--format",
        "csv",
        "--pack",
        "rules/poa-senavex",
        "--data",
        "examples/senavex/ejecucion_2020.xlsx",
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("ejecucion(0, 0)"));
}

#[test]
fn a_missing_sheet_or_header_is_an_error_that_says_what_there_is() {
    let out = semaforo(&[
        "eval",
        "--pack",
        "rules/poa-senavex",
        "--data",
        "examples/senavex/ejecucion_2020.xlsx",
        "--sheet",
        "Hoja1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "semaforo: examples/senavex/ejecucion_2020.xlsx:1: the spreadsheet has no sheet `Hoja1`; its sheets are: Ejecucion"
    );
    // The INSAFOCOOP sheet has no `partida` header: the SENAVEX pack cannot read it.
    let out = semaforo(&[
        "eval",
        "--pack",
        "rules/poa-senavex",
        "--data",
        "examples/insafocoop/seguimiento_mensual.xlsx",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "seguimiento_mensual.xlsx[Seguimiento]:1: no row of the sheet has a `partida` header cell"
        ),
        "{}",
        String::from_utf8_lossy(&out.stderr)
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
    let pack = dir.path().join("pack");
    std::fs::create_dir(&pack).unwrap();
    std::fs::write(
        pack.join("pack.toml"),
        format!(
            "[pack]\nid = \"sagrario-es\"\nversion = \"1\"\nextends = [\"{}\"]\n[data]\ndelimiter = \";\"\ndecimal = \",\"\nthousands = \".\"\n",
            root().join("rules/sagrario").display()
        ),
    )
    .unwrap();
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
    let out = semaforo(&[
        "eval",
        "--quiet",
        "--format",
        "csv",
        "--pack",
        "rules/poa-senavex",
        "--data",
        data.to_str().unwrap(),
        "--delimiter",
        ";",
        "--decimal",
        ",",
        "--thousands",
        ".",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let expected = format!(
        "`12,000.00` is not a decimal number ({}:3:4)",
        data.display()
    );
    assert!(stdout.contains(&expected), "{stdout}");
}

#[test]
fn separators_in_the_pack_are_checked_where_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pack.toml"),
        "[pack]\nid = \"t\"\nversion = \"1\"\n[data]\ndelimiter = \"ab\"\ndecimal = \";\"\n[fields]\na = \"a\"\n[[indicator]]\nid = \"x\"\nformula = \"a\"\n",
    )
    .unwrap();
    let out = semaforo(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "pack.toml:5:13: error[SEM011]: delimiter `ab` is not one character that can separate CSV fields",
        "pack.toml:6:11: error[SEM011]: decimal separator `;` is not one of `\".\"`, `\",\"`",
    ] {
        assert!(stderr.contains(expected), "{stderr}");
    }
}
