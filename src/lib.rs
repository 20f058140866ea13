//! # semaforo
//!
//! The Semáforo command line and its public facade: the engine of
//! [`semaforo_core`] with every plugin of this build.
//!
//! ```no_run
//! use std::path::Path;
//! let rules = semaforo::load(Path::new("rules/sagrario")).expect("a valid pack");
//! let table = semaforo::read_data(&rules, Path::new("examples/sagrario/balances.csv")).unwrap();
//! let results = semaforo::evaluate(&rules, &table);
//! println!("{} cells, {} errors", results.rows().len() * rules.pack().indicators().len(), results.error_count());
//! ```
//!
//! ## Features
//!
//! The library — loading, evaluating, and [`report`] as a table, CSV, JSON
//! or HTML — needs none of them; all are on by default:
//!
//! - `cli`: the `semaforo` binary (clap, codespan-reporting, indicatif, anyhow).
//! - `serve`: `semaforo serve`, the HTTP API (axum, hyper, tokio); implies `cli`.
//! - `xlsx`: the Excel report, [`report::Format::Xlsx`] (rust_xlsxwriter);
//!   without it [`report::write`] refuses that format.
//!
//! A program that only evaluates depends on
//! `semaforo = { version = "0.1", default-features = false }`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::path::Path;

pub use semaforo_core::*;

pub mod report;

/// Every plugin compiled into this build, by the name packs use.
pub const PLUGINS: &[&dyn Plugin] = &[
    &semaforo_accounts::AccountsPlugin,
    &semaforo_calendar::CalendarPlugin,
    &semaforo_matrix::MatrixPlugin,
    &semaforo_poa::PoaPlugin,
    &semaforo_ratios::RatiosPlugin,
];

/// Loads the pack in `dir` and compiles it with [`PLUGINS`].
///
/// # Errors
/// Every problem in the pack, from loading and compiling, each with its location.
pub fn load(dir: &Path) -> Result<CompiledRuleSet, Diagnostics> {
    load_and_compile(dir, PLUGINS)
}
