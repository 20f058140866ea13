//! The library does not drag the command line, the web server or the Excel
//! writer in: `cargo tree` of `semaforo` without its default features, and of
//! `semaforo-core`, names none of their crates; each feature brings its own.
//! `cargo tree` reads the lock file only (`--frozen`): no build, no network.
//! Last, `report::write` with and without the `xlsx` feature.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// The crates of the command line (`cli`).
const CLI: &[&str] = &["clap", "codespan-reporting", "indicatif", "anyhow"];
/// The crates of `semaforo serve`.
const SERVE: &[&str] = &["axum", "tokio", "hyper", "hyper-util"];
/// The crate of the Excel report.
const XLSX: &[&str] = &["rust_xlsxwriter"];

/// The names of the crates `package` depends on at run time (normal
/// dependencies, transitively) with `features` given to `cargo tree`.
fn normal_dependencies(package: &str, features: &[&str]) -> BTreeSet<String> {
    let output = Command::new(env!("CARGO"))
        .args(["tree", "--frozen", "-e", "normal", "--prefix", "none", "-p"])
        .arg(package)
        .args(features)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8(output.stdout).expect("cargo tree writes UTF-8");
    assert!(
        output.status.success() && !stdout.is_empty(),
        "cargo tree -p {package} {features:?} failed (offline: `cargo fetch` first):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// Those of `crates` that are among `dependencies`.
fn present<'a>(dependencies: &BTreeSet<String>, crates: &[&'a str]) -> Vec<&'a str> {
    crates
        .iter()
        .copied()
        .filter(|name| dependencies.contains(*name))
        .collect()
}

/// Asserts that `dependencies` (of `what`) hold none of `crates`.
fn assert_none(what: &str, dependencies: &BTreeSet<String>, crates: &[&str]) {
    let found = present(dependencies, crates);
    assert!(
        found.is_empty(),
        "{what} depends on {found:?}: {dependencies:?}"
    );
}

/// Asserts that `dependencies` (of `what`) hold every one of `crates`.
fn assert_all(what: &str, dependencies: &BTreeSet<String>, crates: &[&str]) {
    assert_eq!(
        present(dependencies, crates),
        crates,
        "{what}: {dependencies:?}"
    );
}

#[test]
fn the_library_without_default_features_has_no_cli_server_or_excel_crates() {
    let library = normal_dependencies("semaforo", &["--no-default-features"]);
    assert_all(
        "the library",
        &library,
        &["semaforo-core", "rhai", "comfy-table"],
    );
    for crates in [CLI, SERVE, XLSX] {
        assert_none("the library", &library, crates);
    }
}

#[test]
fn the_core_has_no_cli_server_or_excel_crates() {
    let core = normal_dependencies("semaforo-core", &[]);
    assert_all("semaforo-core", &core, &["rhai"]);
    for crates in [CLI, SERVE, XLSX] {
        assert_none("semaforo-core", &core, crates);
    }
}

#[test]
fn the_default_features_bring_the_cli_the_server_and_the_excel_writer() {
    let default = normal_dependencies("semaforo", &[]);
    for crates in [CLI, SERVE, XLSX] {
        assert_all("semaforo with default features", &default, crates);
    }
}

#[test]
fn each_feature_brings_its_own_crates_and_serve_the_cli() {
    let only = |feature| {
        normal_dependencies(
            "semaforo",
            &["--no-default-features", "--features", feature],
        )
    };
    let cli = only("cli");
    assert_all("feature cli", &cli, CLI);
    assert_none("feature cli", &cli, SERVE);
    assert_none("feature cli", &cli, XLSX);
    let xlsx = only("xlsx");
    assert_all("feature xlsx", &xlsx, XLSX);
    assert_none("feature xlsx", &xlsx, CLI);
    assert_none("feature xlsx", &xlsx, SERVE);
    let serve = only("serve");
    assert_all("feature serve", &serve, SERVE);
    assert_all("feature serve", &serve, CLI);
    assert_none("feature serve", &serve, XLSX);
}

/// `report::write` writes a workbook when the `xlsx` feature is on, and
/// refuses the format as unsupported when it is off; the other formats are
/// always there.
#[test]
fn the_excel_report_is_written_exactly_when_the_xlsx_feature_is_on() {
    use semaforo::report::{self, Format, Origin};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rules = semaforo::load(&root.join("rules/sagrario")).expect("the shipped pack loads");
    let data = root.join("examples/sagrario/balances.csv");
    let table = semaforo::read_data(&rules, &data).expect("the shipped data reads");
    let results = semaforo::evaluate(&rules, &table);
    let origin = Origin::now("balances.csv");
    for format in [Format::Table, Format::Csv, Format::Json, Format::Html] {
        let mut out = Vec::new();
        report::write(&results, format, &origin, &mut out).expect("written");
        assert!(!out.is_empty(), "{format:?}");
    }
    let mut out = Vec::new();
    let written = report::write(&results, Format::Xlsx, &origin, &mut out);
    if cfg!(feature = "xlsx") {
        assert!(written.is_ok(), "{written:?}");
        assert!(out.starts_with(b"PK"), "an xlsx file is a zip archive");
    } else {
        let error = written.expect_err("refused without the xlsx feature");
        assert_eq!(error.kind(), std::io::ErrorKind::Unsupported, "{error}");
        assert!(error.to_string().contains("`xlsx` feature"), "{error}");
        assert!(out.is_empty());
    }
}
