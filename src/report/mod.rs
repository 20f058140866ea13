//! Writing a [`ResultSet`] for people (a table) and for programs (CSV, JSON).
//! One format per file; every format writes every cell, errors included.
//! `Sheet` prepares what all formats share: which optional columns apply and
//! each cell's exact figures as text.

mod csv;
mod json;
mod table;

use std::io::{self, Write};

use rust_decimal::Decimal;
use semaforo_core::{Analysis, Cell, Indicator, ResultSet, RowKey, Standard, round_for_display};

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
    let sheet = Sheet::new(results);
    match format {
        Format::Table => table::write(&sheet, out),
        Format::Csv => csv::write(&sheet, out),
        Format::Json => json::write(&sheet, out),
    }
}

/// The results with what every format needs to lay them out.
struct Sheet<'a> {
    results: &'a ResultSet,
    analysis: Analysis,
    /// The data has periods: show the period and the variation from the previous one.
    has_period: bool,
    /// The pack names a peer group: show each cell's standing in it.
    has_peers: bool,
}

/// One entity × indicator, exact decimals as text.
struct Record<'a> {
    row: &'a RowKey,
    indicator: &'a Indicator,
    cell: &'a Cell,
    value: Option<String>,
    standard: Option<String>,
    compliance: Option<String>,
    band: Option<&'a str>,
    error: Option<(&'static str, String)>,
    previous: Option<Decimal>,
    variation: Option<Decimal>,
    variation_pct: Option<Decimal>,
    peer_size: Option<usize>,
    peer_mean: Option<Decimal>,
    peer_median: Option<Decimal>,
    from_peer_mean: Option<Decimal>,
    from_peer_median: Option<Decimal>,
    peer_rank: Option<usize>,
}

impl<'a> Sheet<'a> {
    fn new(results: &'a ResultSet) -> Self {
        Self {
            results,
            analysis: Analysis::of(results),
            has_period: results.rows().iter().any(|r| r.period.is_some()),
            has_peers: results.rows().iter().any(|r| r.peer_group.is_some()),
        }
    }

    /// The columns of the machine-readable formats, in order.
    fn columns(&self) -> Vec<&'static str> {
        let mut columns = vec!["entity"];
        if self.has_period {
            columns.push("period");
        }
        columns.extend([
            "indicator",
            "value",
            "unit",
            "standard",
            "compliance",
            "band",
            "error",
        ]);
        if self.has_period {
            columns.extend(["previous", "variation", "variation_pct"]);
        }
        if self.has_peers {
            columns.extend([
                "peer_group",
                "peer_size",
                "peer_mean",
                "peer_median",
                "from_peer_mean",
                "from_peer_median",
                "peer_rank",
            ]);
        }
        columns
    }

    fn records(&self) -> impl Iterator<Item = Record<'_>> {
        let width = self.results.pack().indicators().len();
        self.results
            .cells()
            .enumerate()
            .map(move |(n, (row, indicator, cell))| {
                let (row_index, index) = (n / width, n % width);
                let variation = self.analysis.variation(row_index, index);
                let standing = self.analysis.peer_standing(row_index, index);
                Record {
                    row,
                    indicator,
                    cell,
                    value: cell.value.map(exact),
                    standard: indicator.standard.map(|s| match s {
                        Standard::Target(v) => exact(v),
                        Standard::Range { min, max } => format!("{}..{}", exact(min), exact(max)),
                        _ => s.to_string(),
                    }),
                    compliance: cell.compliance.map(exact),
                    band: self.results.band_label(index, cell),
                    error: cell.error.as_ref().map(|e| (e.kind(), e.to_string())),
                    previous: variation.map(|v| v.previous),
                    variation: variation.map(|v| v.absolute),
                    variation_pct: variation.and_then(|v| v.relative),
                    peer_size: standing.map(|s| s.size),
                    peer_mean: standing.map(|s| s.mean),
                    peer_median: standing.map(|s| s.median),
                    from_peer_mean: standing.map(|s| s.from_mean),
                    from_peer_median: standing.map(|s| s.from_median),
                    peer_rank: standing.map(|s| s.rank),
                }
            })
    }

    /// A value rounded for display with its unit's suffix.
    fn displayed(&self, indicator: &Indicator, value: Decimal) -> String {
        let suffix = self.results.pack().labels().unit_suffix(indicator.unit);
        format!("{}{suffix}", round_for_display(value, indicator.decimals))
    }
}

/// The exact decimal as text, without trailing zeros (`68.00` → `68`).
fn exact(value: Decimal) -> String {
    value.normalize().to_string()
}

/// [`exact`] of an optional value.
fn exact_or_none(value: Option<Decimal>) -> Option<String> {
    value.map(exact)
}
