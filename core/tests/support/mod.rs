//! What the integration tests of `semaforo-core` share: the case count of
//! generated tests, a stand-in for the `ratios` plugin, packs built from
//! text or written to disk, their problems as text, and tables read from
//! inline CSV.
//!
//! Each test file declares `mod support;`. (The root package's tests have
//! their own `tests/support`; this crate cannot depend on it.)
// Cargo compiles every `tests/*.rs` as a crate of its own and each uses only
// some of these helpers; the others would warn as dead code in that crate.
#![allow(dead_code)]
#![expect(
    clippy::unwrap_used,
    reason = "a broken fixture should fail the test loudly"
)]

use std::fs;
use std::path::Path;

use proptest::test_runner::{Config, TestRunner};
use rust_decimal::Decimal;
use semaforo_core::{CompiledRuleSet, Diagnostics, Plugin, Registry, RulePack, SourceFile, Table};

/// Cases per property: `SEMAFORO_FUZZ_CASES`, else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("SEMAFORO_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// A runner of [`cases`]`(default)` cases that writes no regression files.
pub fn runner(default: u32) -> TestRunner {
    TestRunner::new(Config {
        cases: cases(default),
        failure_persistence: None,
        ..Config::default()
    })
}

/// A plugin like `ratios`: `percent(a, b)` and `ratio(a, b)`, zero when `b`
/// is zero (core cannot depend on the real plugin).
pub struct Ratios;

impl Plugin for Ratios {
    fn name(&self) -> &'static str {
        "ratios"
    }
    fn description(&self) -> &'static str {
        "percent and ratio"
    }
    fn register(&self, registry: &mut Registry<'_>) {
        registry
            .engine()
            .register_fn("percent", |a: Decimal, b: Decimal| {
                a.checked_div(b).unwrap_or_default() * Decimal::ONE_HUNDRED
            });
        registry
            .engine()
            .register_fn("ratio", |a: Decimal, b: Decimal| {
                a.checked_div(b).unwrap_or_default()
            });
    }
}

/// The plugins of a build that has only [`Ratios`].
pub const PLUGINS: &[&'static dyn Plugin] = &[&Ratios];

/// A pack of one file, `pack.toml` holding `manifest`, loaded from text.
pub fn from_manifest(manifest: &str) -> Result<RulePack, Diagnostics> {
    RulePack::from_sources(SourceFile::new("pack.toml", manifest), vec![])
}

/// Writes `text` to `dir/name`, creating `dir`.
pub fn write(dir: &Path, name: &str, text: &str) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join(name), text).unwrap();
}

/// Each problem as it is printed.
pub fn messages(err: &Diagnostics) -> Vec<String> {
    err.iter().map(ToString::to_string).collect()
}

/// `csv` read as the file `d.csv` with the shape `rules` reads.
pub fn table(rules: &CompiledRuleSet, csv: &str) -> Table {
    Table::from_csv_reader(csv.as_bytes(), "d.csv", rules.pack().data_shape()).unwrap()
}
