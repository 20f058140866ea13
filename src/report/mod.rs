//! Writing a [`ResultSet`] for people (a table) and for programs (CSV, JSON).
//! One format per file; every format writes every cell, errors included.

mod csv;
mod json;
mod table;

use std::io::{self, Write};

use semaforo_core::{Cell, Indicator, ResultSet, round_for_display};

/// An output format of `semaforo eval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A readable table, values rounded for display.
    Table,
    /// One line per entity × indicator, exact decimals.
    Csv,
    /// An array of objects, exact decimals as strings.
    Json,
}

/// Writes `results` in `format`.
///
/// # Errors
/// When writing fails.
pub fn write(results: &ResultSet, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Table => table::write(results, out),
        Format::Csv => csv::write(results, out),
        Format::Json => json::write(results, out),
    }
}

/// Whether the results have periods, and the key columns every format starts with.
fn key_columns(results: &ResultSet) -> (bool, Vec<&'static str>) {
    let has_period = results.rows().iter().any(|r| r.period.is_some());
    let mut header = vec!["entity"];
    if has_period {
        header.push("period");
    }
    header.push("indicator");
    (has_period, header)
}

/// The exact decimal as text, without trailing zeros (`68.00` → `68`).
fn exact(value: rust_decimal::Decimal) -> String {
    value.normalize().to_string()
}

/// The columns every machine-readable format shares, exact decimals as text.
struct Record<'a> {
    value: Option<String>,
    unit: &'static str,
    standard: Option<String>,
    compliance: Option<String>,
    band: Option<&'a str>,
    error: Option<(&'static str, String)>,
}

impl<'a> Record<'a> {
    fn new(results: &'a ResultSet, index: usize, indicator: &Indicator, cell: &Cell) -> Self {
        Self {
            value: cell.value.map(exact),
            unit: indicator.unit.as_str(),
            standard: indicator.standard.map(|s| match s {
                semaforo_core::Standard::Target(v) => exact(v),
                semaforo_core::Standard::Range { min, max } => {
                    format!("{}..{}", exact(min), exact(max))
                }
                _ => s.to_string(),
            }),
            compliance: cell.compliance.map(exact),
            band: results.band_label(index, cell),
            error: cell.error.as_ref().map(|e| (e.kind(), e.to_string())),
        }
    }
}

/// A value rounded for display with its unit's suffix.
fn displayed(results: &ResultSet, indicator: &Indicator, value: rust_decimal::Decimal) -> String {
    let suffix = results.pack().labels().unit_suffix(indicator.unit);
    format!("{}{suffix}", round_for_display(value, indicator.decimals))
}
