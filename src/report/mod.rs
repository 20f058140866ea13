//! Writing a [`ResultSet`] for people (a table) and for programs (CSV, JSON).
//! One format per file; every format writes every cell, errors included.
//! `Sheet` prepares what all formats share: which optional columns apply
//! (`Columns`, decided once) and each cell's exact figures.

mod csv;
mod html;
mod json;
mod spool;
mod table;
#[cfg(feature = "xlsx")]
mod xlsx;

use std::io::{self, Write};
use std::ops::Range;

use rust_decimal::Decimal;
use semaforo_core::{
    Analysis, Cell, GroupResult, Indicator, MatrixCut, PeerStanding, Ranking, ResultSet, RowKey,
    RulePack, Standard, Variation, round_for_display,
};

pub use spool::{SPOOL_BUDGET, Spool, Spooled, Tally};

/// An output format of `semaforo eval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A readable table, values rounded for display.
    Table,
    /// One line per entity × indicator, exact decimals.
    Csv,
    /// An array of objects, exact decimals as strings.
    Json,
    /// An Excel workbook: results with band colours and number formats,
    /// and a summary sheet of counts per band. Needs the `xlsx` feature
    /// (on by default): without it [`write()`] refuses this format.
    Xlsx,
    /// One self-contained HTML page: summary, coloured tables, charts.
    Html,
}

impl Format {
    /// Whether the format is binary (not for a terminal).
    #[must_use]
    pub fn is_binary(self) -> bool {
        matches!(self, Self::Xlsx)
    }
}

/// Where the results come from, for the formats that say so (HTML, Excel).
#[derive(Debug, Clone)]
pub struct Origin {
    /// The data the results were computed from (a file name, or e.g. `request body`).
    pub data: String,
    /// When the results were computed.
    pub at: std::time::SystemTime,
}

impl Origin {
    /// When, as UTC ISO 8601 to the second, e.g. `2009-02-13T23:31:30Z`.
    #[must_use]
    pub fn utc_iso8601(&self) -> String {
        jiff::Timestamp::try_from(self.at).map_or_else(
            |_| "unknown time".to_owned(),
            |at| at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )
    }

    /// Results of `data` computed now.
    #[must_use]
    pub fn now(data: impl Into<String>) -> Self {
        Self {
            data: data.into(),
            at: std::time::SystemTime::now(),
        }
    }
}

/// Writes `results` of the data named in `origin` in `format`.
///
/// # Errors
/// When writing fails.
pub fn write(
    results: &ResultSet,
    format: Format,
    origin: &Origin,
    out: &mut dyn Write,
) -> io::Result<()> {
    let sheet = Sheet::new(results);
    match format {
        Format::Table => table::write(&sheet, out),
        Format::Csv => csv::write(&sheet, out),
        Format::Json => json::write(&sheet, out),
        #[cfg(feature = "xlsx")]
        Format::Xlsx => xlsx::write(&sheet, origin, out),
        #[cfg(not(feature = "xlsx"))]
        Format::Xlsx => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this build of semaforo writes no xlsx: enable the `xlsx` feature",
        )),
        Format::Html => html::write(&sheet, origin, out),
    }
}

/// One line per matrix and period: how many were selected and the cut.
#[must_use]
pub fn selection_summary(results: &ResultSet) -> Vec<String> {
    selection_lines(results.pack(), &Analysis::selections(results))
}

/// [`selection_summary`] of the selections `cuts` of `pack`'s matrices.
fn selection_lines(pack: &RulePack, cuts: &[MatrixCut]) -> Vec<String> {
    cuts.iter()
        .map(|cut| {
            let period = cut
                .period
                .as_deref()
                .map(|p| format!(" {p}"))
                .unwrap_or_default();
            let rule = match &pack
                .matrices()
                .iter()
                .find(|m| m.id == cut.matrix)
                .map(|m| m.selection.rule)
            {
                Some(semaforo_core::SelectionRule::TopPercent(p)) => {
                    format!("top {p} % → k = {}", cut.k.unwrap_or_default())
                }
                Some(semaforo_core::SelectionRule::Top(n)) => format!("top {n}"),
                _ => "threshold".to_owned(),
            };
            let score = cut
                .cut
                .map_or_else(|| "none".to_owned(), |c| c.normalize().to_string());
            format!(
                "{}{period}: {} of {} selected ({rule}), cut score {score}",
                cut.matrix, cut.selected, cut.items
            )
        })
        .collect()
}

/// The results with what every format needs to lay them out: the whole
/// result set and its [`Analysis`], a figure per cell. The table, the
/// workbook and the HTML page (for people, of a size people read) are
/// written from it; CSV and JSON from a [`Spool`] too, part by part.
struct Sheet<'a> {
    results: &'a ResultSet,
    analysis: Analysis,
    /// Which optional columns the results have, decided once for every format.
    columns: Columns,
}

/// A column of the results, as the record formats (CSV, JSON, the
/// workbook's results sheet) write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Level,
    Entity,
    Period,
    Indicator,
    Name,
    Value,
    Unit,
    Standard,
    Compliance,
    Band,
    ErrorKind,
    Error,
    Flags,
    Previous,
    Variation,
    VariationPct,
    PeerGroup,
    PeerSize,
    PeerMean,
    PeerMedian,
    FromPeerMean,
    FromPeerMedian,
    PeerRank,
    Rank,
    Selected,
}

impl Column {
    /// The CSV header and JSON key; `None` for the columns only the
    /// workbook has (the indicator's name; the error's kind, which JSON
    /// writes inside its `error` object and CSV leaves out).
    fn key(self) -> Option<&'static str> {
        Some(match self {
            Self::Name | Self::ErrorKind => return None,
            Self::Level => "level",
            Self::Entity => "entity",
            Self::Period => "period",
            Self::Indicator => "indicator",
            Self::Value => "value",
            Self::Unit => "unit",
            Self::Standard => "standard",
            Self::Compliance => "compliance",
            Self::Band => "band",
            Self::Error => "error",
            Self::Flags => "flags",
            Self::Previous => "previous",
            Self::Variation => "variation",
            Self::VariationPct => "variation_pct",
            Self::PeerGroup => "peer_group",
            Self::PeerSize => "peer_size",
            Self::PeerMean => "peer_mean",
            Self::PeerMedian => "peer_median",
            Self::FromPeerMean => "from_peer_mean",
            Self::FromPeerMedian => "from_peer_median",
            Self::PeerRank => "peer_rank",
            Self::Rank => "rank",
            Self::Selected => "selected",
        })
    }

    /// The header of the workbook's results sheet.
    #[cfg_attr(
        not(feature = "xlsx"),
        allow(dead_code, reason = "only the xlsx report has titles")
    )]
    fn title(self) -> &'static str {
        match self {
            Self::Level => "Level",
            Self::Entity => "Entity",
            Self::Period => "Period",
            Self::Indicator => "Indicator",
            Self::Name => "Name",
            Self::Value => "Value",
            Self::Unit => "Unit",
            Self::Standard => "Standard",
            Self::Compliance => "Compliance",
            Self::Band => "Band",
            Self::ErrorKind => "Error kind",
            Self::Error => "Error",
            Self::Flags => "Flags",
            Self::Previous => "Previous",
            Self::Variation => "Variation",
            Self::VariationPct => "Variation %",
            Self::PeerGroup => "Peer group",
            Self::PeerSize => "Peer size",
            Self::PeerMean => "Peer mean",
            Self::PeerMedian => "Peer median",
            Self::FromPeerMean => "From peer mean",
            Self::FromPeerMedian => "From peer median",
            Self::PeerRank => "Peer rank",
            Self::Rank => "Rank",
            Self::Selected => "Selected",
        }
    }
}

/// Which optional columns the results have, and every column in the order
/// the record formats write them. Each format lays out only these.
struct Columns {
    /// The pack has indicators with a grain: show each record's level.
    levels: bool,
    /// The data has periods: show the period and the variation from the previous one.
    period: bool,
    /// The pack names a peer group: show each cell's standing in it.
    peers: bool,
    /// The pack has matrices: show rank and selection.
    matrices: bool,
    /// Every column, in order.
    all: Vec<Column>,
}

impl Columns {
    /// The columns of `results`.
    fn of(results: &ResultSet) -> Self {
        Self::new(
            results.pack(),
            !results.groups().is_empty(),
            results.rows().iter().any(|r| r.period.is_some()),
            results.rows().iter().any(|r| r.peer_group.is_some()),
        )
    }

    /// The columns of results of `pack` with group results (`levels`),
    /// rows with a period (`period`) or a peer group (`peers`).
    fn new(pack: &RulePack, levels: bool, period: bool, peers: bool) -> Self {
        let flags = pack.fields().iter().any(|f| f.flag.is_some());
        let matrices = !pack.matrices().is_empty();
        let mut all = Vec::new();
        if levels {
            all.push(Column::Level);
        }
        all.push(Column::Entity);
        if period {
            all.push(Column::Period);
        }
        all.extend([
            Column::Indicator,
            Column::Name,
            Column::Value,
            Column::Unit,
            Column::Standard,
            Column::Compliance,
            Column::Band,
            Column::ErrorKind,
            Column::Error,
        ]);
        // The pack flags cells (a field with `flag`): show the flags.
        if flags {
            all.push(Column::Flags);
        }
        if period {
            all.extend([Column::Previous, Column::Variation, Column::VariationPct]);
        }
        if peers {
            all.extend([
                Column::PeerGroup,
                Column::PeerSize,
                Column::PeerMean,
                Column::PeerMedian,
                Column::FromPeerMean,
                Column::FromPeerMedian,
                Column::PeerRank,
            ]);
        }
        if matrices {
            all.extend([Column::Rank, Column::Selected]);
        }
        Self {
            levels,
            period,
            peers,
            matrices,
            all,
        }
    }

    /// Every column, in order: the workbook's results sheet.
    #[cfg_attr(
        not(feature = "xlsx"),
        allow(dead_code, reason = "only the xlsx report lists them all")
    )]
    fn all(&self) -> &[Column] {
        &self.all
    }

    /// The columns of the machine-readable formats (CSV, JSON) with their
    /// keys, in order.
    fn keyed(&self) -> impl Iterator<Item = (Column, &'static str)> + '_ {
        self.all.iter().filter_map(|&c| Some((c, c.key()?)))
    }
}

/// One entity (or group) × indicator, exact decimals as text.
struct Record<'a> {
    entity: &'a str,
    period: Option<&'a str>,
    level: &'a str,
    peer_group: Option<&'a str>,
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
    rank: Option<usize>,
    selected: Option<bool>,
}

impl<'a> Sheet<'a> {
    fn new(results: &'a ResultSet) -> Self {
        Self {
            results,
            analysis: Analysis::of(results),
            columns: Columns::of(results),
        }
    }

    /// Every record: the rows' cells, then the groups'.
    fn records(&self) -> impl Iterator<Item = Record<'_>> {
        self.row_records(0..self.results.rows().len())
            .chain(self.group_records())
    }

    /// The records of the rows in `rows`, row by row, indicators in pack order.
    fn row_records(&self, rows: Range<usize>) -> impl Iterator<Item = Record<'_>> {
        let indicators = self.results.pack().indicators();
        rows.flat_map(move |row_index| {
            let row = &self.results.rows()[row_index];
            indicators
                .iter()
                .enumerate()
                .filter(|(_, indicator)| indicator.grain.is_none())
                .map(move |(index, indicator)| {
                    let cell = self.results.cell(row_index, index);
                    Record::of_row(
                        row,
                        self.record(indicator, cell),
                        self.analysis.variation(row_index, index).copied(),
                        self.analysis.peer_standing(row_index, index).cloned(),
                        self.analysis.ranking(row_index, index).copied(),
                    )
                })
        })
    }

    /// The records of the indicators with a grain, group by group.
    fn group_records(&self) -> impl Iterator<Item = Record<'_>> {
        let pack = self.results.pack();
        self.results
            .groups()
            .iter()
            .map(move |group| Record::of_group(pack, group))
    }

    /// The figures every record has.
    fn record(&self, indicator: &'a Indicator, cell: &'a Cell) -> Record<'a> {
        Record::of_cell(
            self.results.pack(),
            indicator,
            cell,
            cell.error.as_ref().map(|e| (e.kind(), e.to_string())),
        )
    }

    /// A value rounded for display with its unit's suffix.
    fn displayed(&self, indicator: &Indicator, value: Decimal) -> String {
        let suffix = self.results.pack().labels().unit_suffix(indicator.unit);
        format!("{}{suffix}", round_for_display(value, indicator.decimals))
    }
}

impl<'a> Record<'a> {
    /// The figures every record has: `cell` of `indicator` of `pack`,
    /// with its `error` (kind and message).
    fn of_cell(
        pack: &'a RulePack,
        indicator: &'a Indicator,
        cell: &'a Cell,
        error: Option<(&'static str, String)>,
    ) -> Self {
        let band = indicator
            .band_set
            .zip(cell.band)
            .map(|(set, band)| pack.band_sets()[set].levels[band].label.as_str());
        Record {
            entity: "",
            period: None,
            level: "row",
            peer_group: None,
            indicator,
            cell,
            value: cell.value.map(exact),
            standard: indicator.standard.map(standard_text),
            compliance: cell.compliance.map(exact),
            band,
            error,
            previous: None,
            variation: None,
            variation_pct: None,
            peer_size: None,
            peer_mean: None,
            peer_median: None,
            from_peer_mean: None,
            from_peer_median: None,
            peer_rank: None,
            rank: None,
            selected: None,
        }
    }

    /// The record of a group result of an indicator of `pack`.
    fn of_group(pack: &'a RulePack, group: &'a GroupResult) -> Self {
        let indicator = &pack.indicators()[group.indicator];
        let cell = &group.cell;
        Record {
            entity: &group.entity,
            period: group.period.as_deref(),
            level: &group.level,
            ..Record::of_cell(
                pack,
                indicator,
                cell,
                cell.error.as_ref().map(|e| (e.kind(), e.to_string())),
            )
        }
    }

    /// `cell`'s record (see [`Record::of_cell`]) on the row keyed `row`,
    /// with the cell's variation, peer standing and ranking.
    fn of_row(
        row: &'a RowKey,
        cell: Self,
        variation: Option<Variation>,
        standing: Option<PeerStanding>,
        ranking: Option<Ranking>,
    ) -> Self {
        let (peer_size, peer_mean, peer_median, from_peer_mean, from_peer_median, peer_rank) =
            match standing {
                Some(s) => (
                    Some(s.size),
                    Some(s.mean),
                    Some(s.median),
                    Some(s.from_mean),
                    Some(s.from_median),
                    Some(s.rank),
                ),
                None => (None, None, None, None, None, None),
            };
        Record {
            entity: &row.entity,
            period: row.period.as_deref(),
            level: "row",
            peer_group: row.peer_group.as_deref(),
            previous: variation.map(|v| v.previous),
            variation: variation.map(|v| v.absolute),
            variation_pct: variation.and_then(|v| v.relative),
            peer_size,
            peer_mean,
            peer_median,
            from_peer_mean,
            from_peer_median,
            peer_rank,
            rank: ranking.map(|r| r.rank),
            selected: ranking.map(|r| r.selected),
            ..cell
        }
    }
}

/// A standard as every format writes it: `4`, or `1..3` for a range.
pub fn standard_text(standard: Standard) -> String {
    match standard {
        Standard::Target(v) => exact(v),
        Standard::Range { min, max } => format!("{}..{}", exact(min), exact(max)),
        _ => standard.to_string(),
    }
}

/// The exact decimal as text, without trailing zeros (`68.00` → `68`):
/// what `value.normalize().to_string()` writes, from the integer digits
/// `itoa` writes, several times faster on the millions of figures of a
/// supervisor's batch.
fn exact(value: Decimal) -> String {
    let mut text = String::with_capacity(24);
    exact_into(&mut text, value);
    text
}

/// Appends [`exact`] of `value` to `text`: what the CSV writer uses, with
/// one buffer for every figure instead of a string each.
fn exact_into(text: &mut String, value: Decimal) {
    let value = value.normalize();
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(value.mantissa().unsigned_abs());
    let scale = usize::try_from(value.scale()).unwrap_or(0);
    if value.is_sign_negative() {
        text.push('-');
    }
    if scale == 0 {
        text.push_str(digits);
    } else if digits.len() > scale {
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        text.push_str(whole);
        text.push('.');
        text.push_str(fraction);
    } else {
        text.push_str("0.");
        text.extend(std::iter::repeat_n('0', scale - digits.len()));
        text.push_str(digits);
    }
}

/// [`exact`] of an optional value.
fn exact_or_none(value: Option<Decimal>) -> Option<String> {
    value.map(exact)
}

#[cfg(test)]
mod tests {
    use super::{Origin, exact};

    #[test]
    fn origin_times_are_utc_iso_8601() {
        let at = |s| Origin {
            data: String::new(),
            at: std::time::UNIX_EPOCH + std::time::Duration::from_secs(s),
        };
        assert_eq!(at(0).utc_iso8601(), "1970-01-01T00:00:00Z");
        assert_eq!(at(1_234_567_890).utc_iso8601(), "2009-02-13T23:31:30Z");
        assert_eq!(
            at(951_782_400 + 3_723).utc_iso8601(),
            "2000-02-29T01:02:03Z"
        );
        assert_eq!(at(4_107_542_399).utc_iso8601(), "2100-02-28T23:59:59Z");
        let before = Origin {
            data: String::new(),
            at: std::time::UNIX_EPOCH - std::time::Duration::from_secs(1),
        };
        assert_eq!(before.utc_iso8601(), "1969-12-31T23:59:59Z");
    }
    use rust_decimal::Decimal;

    #[test]
    fn exact_writes_what_normalize_to_string_writes() {
        let mut values: Vec<Decimal> = [
            "0",
            "-0",
            "0.000",
            "68.00",
            "-68.50",
            "0.05",
            "-0.0005",
            "123456789",
            "1e-28",
            "79228162514264337593543950335",
            "-79228162514264337593543950335",
            "7.9228162514264337593543950335",
            "-0.0000000000000000000000000001",
            "100",
        ]
        .iter()
        .map(|t| Decimal::from_scientific(t).or_else(|_| t.parse()).unwrap())
        .collect();
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..20_000 {
            let mantissa = i128::from(rng.i64(..)) * i128::from(rng.u32(..));
            let scale = rng.u32(0..=28);
            values.push(Decimal::from_i128_with_scale(
                mantissa % 10_i128.pow(27),
                scale,
            ));
        }
        for value in values {
            assert_eq!(exact(value), value.normalize().to_string(), "{value:?}");
        }
    }
}
