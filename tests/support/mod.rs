//! What the integration tests of the `semaforo` package share: running the
//! built binary and reading what it printed, packs written into temporary
//! directories, the repository's fixtures, result sets compared cell by
//! cell, workbooks edited inside their zip, and the case count of
//! generated tests ([`fuzz`]).
//!
//! Each test file declares `mod support;`.
// Cargo compiles every `tests/*.rs` as a crate of its own and each uses only
// some of these helpers; the others would warn as dead code in that crate.
#![allow(dead_code)]
#![expect(
    clippy::unwrap_used,
    reason = "a broken fixture should fail the test loudly"
)]

pub mod fuzz;

use std::fs;
use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's root (the `semaforo` package), where the shipped packs,
/// examples and fixtures are.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the built `semaforo` binary with `args` from the repository's root.
pub fn semaforo(args: &[&str]) -> Output {
    semaforo_in(&root(), args)
}

/// Runs the built `semaforo` binary with `args` from `dir`.
pub fn semaforo_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_semaforo"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the semaforo binary runs")
}

/// `semaforo eval --pack PACK --data DATA`, then `extra`, from the root.
pub fn eval(pack: &str, data: &str, extra: &[&str]) -> Output {
    let mut args = vec!["eval", "--pack", pack, "--data", data];
    args.extend(extra);
    semaforo(&args)
}

/// What the run printed on standard output.
pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

/// What the run printed on standard error.
pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// Checks the run's exit status; a failure shows what it printed.
#[track_caller]
pub fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Checks that `text` contains `needle`; a failure shows `text`.
#[track_caller]
pub fn assert_contains(text: &str, needle: &str) {
    assert!(text.contains(needle), "expected `{needle}` in\n{text}");
}

/// A path as the `&str` a command-line argument takes.
pub fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A pack in a temporary directory: `pack.toml` holding `manifest`, and
/// each `(name, text)` of `files` beside it.
pub fn pack(manifest: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("pack.toml"), manifest).unwrap();
    for (name, text) in files {
        fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// The folder `dir/pack` holding a `pack.toml` of `manifest`.
pub fn pack_in(dir: &Path, manifest: &str) -> PathBuf {
    let pack = dir.join("pack");
    fs::create_dir_all(&pack).unwrap();
    fs::write(pack.join("pack.toml"), manifest).unwrap();
    pack
}

/// A pack reading the wide sheet `Hoja`: `doble = x * 2` for each entity.
pub const SHEET_PACK: &str = "[pack]\nid = \"hoja\"\nversion = \"1\"\n[data]\nsheet = \"Hoja\"\n[fields]\nx = \"x\"\n[[indicator]]\nid = \"doble\"\nformula = \"x * 2\"\n";

/// Every row key and cell of a result set, for comparing two of them.
pub fn contents(results: &semaforo::ResultSet) -> Vec<String> {
    results
        .cells()
        .map(|(_, row, _, indicator, cell)| format!("{row:?} {} {cell:?}", indicator.id))
        .collect()
}

/// Rewrites the zip at `path` (a workbook) with the text of its first
/// sheet (`xl/worksheets/sheet1.xml`) passed through `edit`.
pub fn edit_first_sheet(path: &Path, edit: impl FnOnce(String) -> String) {
    let bytes = fs::read(path).unwrap();
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut edit = Some(edit);
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let name = file.name().to_owned();
        let mut contents = Vec::new();
        file.read_to_end(&mut contents).unwrap();
        if name == "xl/worksheets/sheet1.xml" {
            let edit = edit.take().unwrap();
            contents = edit(String::from_utf8(contents).unwrap()).into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&contents).unwrap();
    }
    fs::write(path, out.finish().unwrap().into_inner()).unwrap();
}

/// The shipped examples and the fixture, as `(pack, data)` relative to [`root`].
pub const SAGRARIO: (&str, &str) = ("rules/sagrario", "examples/sagrario/balances.csv");
/// The process-prioritisation matrix over the COACSA processes.
pub const PRIORIZACION: (&str, &str) = (
    "rules/priorizacion-procesos",
    "examples/coacsa/procesos.csv",
);
/// INSAFOCOOP's operating plan and its monthly follow-up.
pub const POA: (&str, &str) = (
    "rules/poa-insafocoop",
    "examples/insafocoop/seguimiento_mensual.csv",
);
/// The wide fichas fixture: El Sagrario's indicators from a wide table.
pub const WIDE_FICHAS: (&str, &str) = (
    "tests/fixtures/wide-fichas",
    "tests/fixtures/wide-fichas/fichas.csv",
);
