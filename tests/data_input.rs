//! How the command line reads data it cannot take at face value: a file in
//! Windows-1252 or Latin-1 (`--encoding`, `[data] encoding`), one whose
//! bytes are not UTF-8, a refused file, a bad `[data] encoding`.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

mod support;

use std::path::Path;
use std::process::Output;

use support::{assert_contains, assert_exit, path, root, semaforo, stderr};

/// A wide pack in a temporary directory, `[data]` extended by `data`.
fn pack(data: &str) -> tempfile::TempDir {
    support::pack(
        &format!(
            "[pack]\nid = \"enc\"\nversion = \"1\"\n[data]\nentity = \"entidad\"\n{data}\n[fields]\nvalor = \"a value\"\n[[indicator]]\nid = \"doble\"\nformula = \"valor * 2\"\n"
        ),
        &[],
    )
}

/// `eval --quiet --format csv` of `data` with `pack`, then `extra`.
fn eval(pack: &Path, data: &Path, extra: &[&str]) -> Output {
    let mut flags = vec!["--quiet", "--format", "csv"];
    flags.extend(extra);
    support::eval(path(pack), path(data), &flags)
}

const LATIN1: &[u8] = b"entidad,valor\nCooperativa Ca\xf1ar,2\nCooperativa Ca\xf1ar \xc9,3\n";

#[test]
fn a_windows_1252_file_reads_with_the_flag_or_the_pack_and_is_refused_as_utf8() {
    let dir = pack("");
    let data = dir.path().join("datos.csv");
    std::fs::write(&data, LATIN1).unwrap();

    let out = eval(dir.path(), &data, &["--encoding", "windows-1252"]);
    assert_exit(&out, 0);
    let csv = String::from_utf8(out.stdout).unwrap();
    assert_contains(&csv, "Cooperativa Cañar,doble,4,");
    assert_contains(&csv, "Cooperativa Cañar É,doble,6,");

    let declared = pack("encoding = \"latin1\"");
    let out = eval(declared.path(), &data, &[]);
    assert_exit(&out, 0);
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("Cooperativa Cañar É,doble,6,")
    );

    // Read as UTF-8 (the default), both rows stay apart, each an error
    // that says where and what to do; no replacement character anywhere.
    let out = eval(dir.path(), &data, &[]);
    assert_exit(&out, 0);
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(!csv.contains('\u{fffd}'), "{csv}");
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(
        rows[0].starts_with("Cooperativa Ca\\xF1ar,doble,,"),
        "{csv}"
    );
    assert!(
        rows[1].starts_with("Cooperativa Ca\\xF1ar \\xC9,doble,,"),
        "{csv}"
    );
    let at = format!(
        "{}:2:1: the entity `Cooperativa Ca\\xF1ar` is not valid UTF-8",
        data.display()
    );
    assert!(
        rows[0].contains(&at) && rows[0].contains("--encoding windows-1252"),
        "{csv}"
    );
}

#[test]
fn a_bad_encoding_in_the_pack_is_located() {
    let dir = pack("encoding = \"ebcdic\"");
    let out = semaforo(&["check", path(dir.path())]);
    assert_exit(&out, 1);
    let stderr = stderr(&out);
    assert_contains(
        &stderr,
        "pack.toml:6:12: error[SEM011]: encoding `ebcdic` is not one of `\"utf-8\"`, `\"windows-1252\"`, `\"latin1\"`",
    );
}

#[test]
fn an_unterminated_quote_refuses_the_file_with_its_line() {
    let dir = pack("");
    let data = dir.path().join("datos.csv");
    std::fs::write(&data, "entidad,valor\nA,1\n\"B,2\nC,3\n").unwrap();
    let out = eval(dir.path(), &data, &[]);
    assert_exit(&out, 2);
    let stderr = stderr(&out);
    let expected = format!(
        "{}:3: a quoted field opened on this line is never closed",
        data.display()
    );
    assert_contains(&stderr, &expected);
}

/// `eval --format json` of `data` with `pack`, both under the repository root.
fn json(pack: &str, data: &str, extra: &[&str]) -> String {
    let mut flags = vec!["--quiet", "--format", "json"];
    flags.extend(extra);
    let out = support::eval(pack, data, &flags);
    assert_exit(&out, 0);
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_spreadsheet_reads_the_same_whatever_the_csv_encoding() {
    let (pack, sheet) = ("rules/poa-senavex", "examples/senavex/ejecucion_2020.xlsx");
    let plain = json(pack, sheet, &[]);
    assert_contains(&plain, "Í");
    assert_eq!(json(pack, sheet, &["--encoding", "windows-1252"]), plain);
    assert_eq!(json(pack, sheet, &["--encoding", "latin1"]), plain);

    // A sheet's text has no encoding: one holding a character the declared
    // CSV encoding cannot write (`→`, in its `nota` column) is read as it
    // is, as with UTF-8 (it was refused while sheets were turned into CSV
    // text in that encoding).
    let (pack, sheet) = (
        "rules/poa-insafocoop",
        "examples/insafocoop/seguimiento_mensual.xlsx",
    );
    let utf8 = json(pack, sheet, &["--encoding", "utf-8"]);
    assert_eq!(json(pack, sheet, &["--encoding", "windows-1252"]), utf8);
    let root = root();
    let out = eval(
        &root.join("rules/poa-insafocoop"),
        &root.join(sheet),
        &["--encoding", "windows-1252"],
    );
    assert_exit(&out, 0);
}
