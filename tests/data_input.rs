//! How the command line reads data it cannot take at face value: a file in
//! Windows-1252 or Latin-1 (`--encoding`, `[data] encoding`), one whose
//! bytes are not UTF-8, a refused file, a bad `[data] encoding`.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::path::Path;
use std::process::{Command, Output};

fn semaforo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_semaforo"))
        .args(args)
        .output()
        .unwrap()
}

/// A wide pack in a temporary directory, `[data]` extended by `data`.
fn pack(data: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let manifest = format!(
        "[pack]\nid = \"enc\"\nversion = \"1\"\n[data]\nentity = \"entidad\"\n{data}\n[fields]\nvalor = \"a value\"\n[[indicator]]\nid = \"doble\"\nformula = \"valor * 2\"\n"
    );
    std::fs::write(dir.path().join("pack.toml"), manifest).unwrap();
    dir
}

fn eval(pack: &Path, data: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["eval", "--quiet", "--format", "csv", "--pack"];
    args.push(pack.to_str().unwrap());
    args.extend(["--data", data.to_str().unwrap()]);
    args.extend(extra);
    semaforo(&args)
}

const LATIN1: &[u8] = b"entidad,valor\nCooperativa Ca\xf1ar,2\nCooperativa Ca\xf1ar \xc9,3\n";

#[test]
fn a_windows_1252_file_reads_with_the_flag_or_the_pack_and_is_refused_as_utf8() {
    let dir = pack("");
    let data = dir.path().join("datos.csv");
    std::fs::write(&data, LATIN1).unwrap();

    let out = eval(dir.path(), &data, &["--encoding", "windows-1252"]);
    assert_eq!(out.status.code(), Some(0));
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.contains("Cooperativa Cañar,doble,4,"), "{csv}");
    assert!(csv.contains("Cooperativa Cañar É,doble,6,"), "{csv}");

    let declared = pack("encoding = \"latin1\"");
    let out = eval(declared.path(), &data, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("Cooperativa Cañar É,doble,6,")
    );

    // Read as UTF-8 (the default), both rows stay apart, each an error
    // that says where and what to do; no replacement character anywhere.
    let out = eval(dir.path(), &data, &[]);
    assert_eq!(out.status.code(), Some(0));
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
    let out = semaforo(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "pack.toml:6:12: error[SEM011]: encoding `ebcdic` is not one of `\"utf-8\"`, `\"windows-1252\"`, `\"latin1\"`"
        ),
        "{stderr}"
    );
}

#[test]
fn an_unterminated_quote_refuses_the_file_with_its_line() {
    let dir = pack("");
    let data = dir.path().join("datos.csv");
    std::fs::write(&data, "entidad,valor\nA,1\n\"B,2\nC,3\n").unwrap();
    let out = eval(dir.path(), &data, &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!(
        "{}:3: a quoted field opened on this line is never closed",
        data.display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
}

/// `eval --format json` of `data` with `pack` from the repository root.
fn json(pack: &str, data: &str, extra: &[&str]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut args = vec!["eval", "--quiet", "--format", "json", "--pack"];
    let (pack, data) = (root.join(pack), root.join(data));
    args.push(pack.to_str().unwrap());
    args.extend(["--data", data.to_str().unwrap()]);
    args.extend(extra);
    let out = semaforo(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_spreadsheet_reads_the_same_whatever_the_csv_encoding() {
    let (pack, sheet) = ("rules/poa-senavex", "examples/senavex/ejecucion_2020.xlsx");
    let plain = json(pack, sheet, &[]);
    assert!(plain.contains('Í'), "{plain}");
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
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = eval(
        &root.join("rules/poa-insafocoop"),
        &root.join(sheet),
        &["--encoding", "windows-1252"],
    );
    assert_eq!(out.status.code(), Some(0));
}
