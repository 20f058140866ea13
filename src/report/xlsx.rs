//! `--format xlsx`: an Excel workbook for people who work in spreadsheets.
//!
//! Two sheets:
//!
//! - **Results**: one row per record (entity or group × indicator), the
//!   columns of the CSV output with readable headers (the indicator's name
//!   beside its id, the error's kind beside its message). Figures are
//!   numbers with the indicator's number format (its `decimals` and the
//!   pack's unit suffix; thousands separators for money and counts); the
//!   value and band cells are filled with the band level's colour. The header
//!   row is frozen and carries an autofilter.
//! - **Summary**: where the results come from (pack id, version, content
//!   hash, data, time in UTC), then, per band set, how many cells of each
//!   indicator fall in each band level, with an error and a no-band count,
//!   per peer group and period (whichever the data has).
//!
//! **Numbers are floats here.** Excel stores numbers as binary floating
//! point (`f64`), so this writer is the one place where a result's exact
//! decimal becomes a float: each figure is written as the `f64` nearest to
//! its exact decimal (parsed from the exact text, correctly rounded; never
//! rounded for display first), and the cell's number format shows the
//! indicator's decimals. The CSV and JSON formats carry the exact decimals.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io::{self, Write};

use rust_decimal::Decimal;
use rust_xlsxwriter::{Color, DocProperties, Format, FormatAlign, Workbook, Worksheet, XlsxError};
use semaforo_core::{Colour, Indicator, Standard, Unit};

use super::{Column, Origin, Record, Sheet, exact};

/// Name of the sheet of records.
const RESULTS: &str = "Results";
/// Name of the sheet of counts and origin.
const SUMMARY: &str = "Summary";
/// Rows of an Excel sheet, the header's included.
const EXCEL_ROWS: usize = 1_048_576;
/// Most decimals a number format shows.
const MAX_DECIMALS: u32 = 15;
/// Narrowest and widest column, in characters.
const WIDTHS: (usize, usize) = (6, 60);
/// Width taken by a number of unknown length.
const NUMBER_WIDTH: usize = 12;

pub(super) fn write(sheet: &Sheet<'_>, origin: &Origin, out: &mut dyn Write) -> io::Result<()> {
    let records = record_count(sheet);
    if records >= EXCEL_ROWS {
        return Err(io::Error::other(format!(
            "{records} records do not fit in one Excel sheet ({} rows at most): use --format csv",
            EXCEL_ROWS - 1
        )));
    }
    let bytes = workbook(sheet, origin)
        .map_err(|e| io::Error::other(format!("writing the Excel workbook: {e}")))?;
    out.write_all(&bytes)?;
    out.flush()
}

/// How many records [`Sheet::records`] yields, without formatting them.
fn record_count(sheet: &Sheet<'_>) -> usize {
    let per_row = sheet
        .results
        .pack()
        .indicators()
        .iter()
        .filter(|i| i.grain.is_none())
        .count();
    sheet
        .results
        .rows()
        .len()
        .saturating_mul(per_row)
        .saturating_add(sheet.results.groups().len())
}

/// The whole workbook, as the bytes of an `.xlsx` file.
fn workbook(sheet: &Sheet<'_>, origin: &Origin) -> Result<Vec<u8>, XlsxError> {
    let styles = Styles::new(sheet);
    let identity = sheet.results.identity();
    let mut workbook = Workbook::new();
    workbook.set_properties(
        &DocProperties::new()
            .set_title(format!("Semáforo: {} {}", identity.id, identity.version))
            .set_comment(format!(
                "{} ({}), data {}",
                identity.id, identity.content_hash, origin.data
            )),
    );
    let counts = results_sheet(workbook.add_worksheet(), sheet, &styles)?;
    summary_sheet(workbook.add_worksheet(), sheet, origin, &styles, &counts)?;
    workbook.save_to_buffer()
}

/// The formats of the workbook, built once.
struct Styles<'a> {
    header: Format,
    bold: Format,
    text: Format,
    /// Compliance and relative variation: percent with two decimals.
    percent: Format,
    /// Sizes, ranks and counts.
    integer: Format,
    /// Per indicator id.
    indicators: HashMap<&'a str, Look>,
    /// Per band set (pack order), per level: the level's colour.
    colors: Vec<Vec<Option<Colour>>>,
}

/// How one indicator's figures look.
struct Look {
    /// Its number format, no fill.
    number: Format,
    /// Per level of its band set, when the level has a colour: the value
    /// cell's and the band cell's formats, filled with it.
    levels: Vec<Option<(Format, Format)>>,
}

impl<'a> Styles<'a> {
    fn new(sheet: &Sheet<'a>) -> Self {
        let pack = sheet.results.pack();
        let colors: Vec<Vec<Option<Colour>>> = pack
            .band_sets()
            .iter()
            .map(|set| set.levels.iter().map(|level| level.colour).collect())
            .collect();
        let text = Format::new();
        let indicators = pack
            .indicators()
            .iter()
            .map(|indicator| {
                let suffix = pack.labels().unit_suffix(indicator.unit);
                let number = Format::new().set_num_format(number_format(indicator, suffix));
                let levels = indicator
                    .band_set
                    .and_then(|set| colors.get(set))
                    .map(|levels| {
                        levels
                            .iter()
                            .map(|color| {
                                color.map(|c| (filled(number.clone(), c), filled(text.clone(), c)))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (indicator.id.as_str(), Look { number, levels })
            })
            .collect();
        Self {
            header: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0x00D9_D9D9))
                .set_align(FormatAlign::Center),
            bold: Format::new().set_bold(),
            text,
            percent: Format::new().set_num_format("0.00\"%\""),
            integer: Format::new().set_num_format("0"),
            indicators,
            colors,
        }
    }

    /// The look of `indicator` (every indicator of the pack has one).
    fn look(&self, indicator: &Indicator) -> Option<&Look> {
        self.indicators.get(indicator.id.as_str())
    }
}

/// The Excel number format of an indicator's figures: its decimals, thousands
/// separators for money and counts, the pack's unit suffix.
fn number_format(indicator: &Indicator, suffix: &str) -> String {
    let mut format = match indicator.unit {
        Unit::Money | Unit::Count => "#,##0",
        _ => "0",
    }
    .to_owned();
    let decimals = indicator.decimals.min(MAX_DECIMALS);
    if decimals > 0 {
        format.push('.');
        format.extend(std::iter::repeat_n('0', decimals as usize));
    }
    let suffix: String = suffix.chars().filter(|c| *c != '"').collect();
    if !suffix.is_empty() {
        format.push('"');
        format.push_str(&suffix);
        format.push('"');
    }
    format
}

/// `format` filled with `colour`, its text in the colour readable on it
/// ([`Colour::text_on`], the rule the HTML report uses too).
fn filled(format: Format, colour: Colour) -> Format {
    format
        .set_background_color(Color::RGB(colour.rgb()))
        .set_font_color(Color::RGB(colour.text_on().rgb()))
}

/// Writes cells left to right, one row at a time, keeping each column's width.
struct Cursor<'w> {
    sheet: &'w mut Worksheet,
    row: u32,
    col: u16,
    widths: Vec<usize>,
}

impl<'w> Cursor<'w> {
    fn new(sheet: &'w mut Worksheet, row: u32) -> Self {
        Self {
            sheet,
            row,
            col: 0,
            widths: Vec::new(),
        }
    }

    fn widen(&mut self, width: usize) {
        let col = usize::from(self.col);
        if self.widths.len() <= col {
            self.widths.resize(col + 1, 0);
        }
        self.widths[col] = self.widths[col].max(width);
    }

    /// A text cell; nothing for an empty text.
    fn text(&mut self, text: &str, format: &Format) -> Result<(), XlsxError> {
        if !text.is_empty() {
            self.sheet
                .write_string_with_format(self.row, self.col, text, format)?;
            self.widen(text.chars().count());
        }
        self.col += 1;
        Ok(())
    }

    /// A text cell that does not widen its column (a title over wider ones).
    fn title(&mut self, text: &str, format: &Format) -> Result<(), XlsxError> {
        self.sheet
            .write_string_with_format(self.row, self.col, text, format)?;
        self.col += 1;
        Ok(())
    }

    /// A number from its exact decimal text; an empty cell for `None`.
    fn number(&mut self, exact_text: Option<&str>, format: &Format) -> Result<(), XlsxError> {
        if let Some((text, value)) = exact_text.and_then(|t| float(t).map(|v| (t, v))) {
            self.sheet
                .write_number_with_format(self.row, self.col, value, format)?;
            let whole = text.split('.').next().map_or(0, str::len);
            self.widen(NUMBER_WIDTH.max(whole + whole / 3 + 6));
        }
        self.col += 1;
        Ok(())
    }

    /// A number from a decimal; an empty cell for `None`.
    fn decimal(&mut self, value: Option<Decimal>, format: &Format) -> Result<(), XlsxError> {
        self.number(value.map(exact).as_deref(), format)
    }

    /// A whole number; an empty cell for `None`.
    fn count(&mut self, value: Option<usize>, format: &Format) -> Result<(), XlsxError> {
        if let Some(n) = value {
            // Counts of records stay far below 2^53: exact as f64.
            let n = n as f64;
            self.sheet
                .write_number_with_format(self.row, self.col, n, format)?;
            self.widen(8);
        }
        self.col += 1;
        Ok(())
    }

    /// A true/false cell; an empty cell for `None`.
    fn boolean(&mut self, value: Option<bool>) -> Result<(), XlsxError> {
        if let Some(b) = value {
            self.sheet.write_boolean(self.row, self.col, b)?;
            self.widen(6);
        }
        self.col += 1;
        Ok(())
    }

    /// A row of header cells, each with its format.
    fn header<'h>(
        &mut self,
        cells: impl IntoIterator<Item = (&'h str, &'h Format)>,
    ) -> Result<(), XlsxError> {
        for (text, format) in cells {
            self.text(text, format)?;
        }
        Ok(())
    }

    fn next_row(&mut self) {
        self.row += 1;
        self.col = 0;
    }

    /// Sets every column's width from what was written (plus a margin).
    fn set_widths(&mut self) -> Result<(), XlsxError> {
        for (col, width) in self.widths.iter().enumerate() {
            let col = u16::try_from(col).unwrap_or(u16::MAX);
            let width = (*width).clamp(WIDTHS.0, WIDTHS.1) as f64 + 2.0;
            self.sheet.set_column_width(col, width)?;
        }
        Ok(())
    }
}

/// The `f64` nearest to an exact decimal written as text (Rust's parsing is
/// correctly rounded). The writer boundary, the one place results become floats.
fn float(exact_text: &str) -> Option<f64> {
    exact_text.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The results sheet; returns the band counts for the summary.
fn results_sheet<'s>(
    worksheet: &mut Worksheet,
    sheet: &'s Sheet<'_>,
    styles: &Styles<'_>,
) -> Result<Counts<'s>, XlsxError> {
    worksheet.set_name(RESULTS)?;
    let columns = sheet.columns.all();
    let mut cursor = Cursor::new(worksheet, 0);
    cursor.header(columns.iter().map(|c| (c.title(), &styles.header)))?;
    let mut counts = Counts::default();
    for r in sheet.records() {
        cursor.next_row();
        counts.add(&r);
        results_row(&mut cursor, sheet, styles, &r)?;
    }
    let last_row = cursor.row;
    let last_col = u16::try_from(columns.len().saturating_sub(1)).unwrap_or(u16::MAX);
    cursor.set_widths()?;
    worksheet_finish(cursor.sheet, last_row, last_col)?;
    Ok(counts)
}

/// Frozen header row and an autofilter over the table.
fn worksheet_finish(
    worksheet: &mut Worksheet,
    last_row: u32,
    last_col: u16,
) -> Result<(), XlsxError> {
    worksheet.set_freeze_panes(1, 0)?;
    worksheet.autofilter(0, 0, last_row, last_col)?;
    Ok(())
}

fn results_row(
    cursor: &mut Cursor<'_>,
    sheet: &Sheet<'_>,
    styles: &Styles<'_>,
    r: &Record<'_>,
) -> Result<(), XlsxError> {
    let text = &styles.text;
    let look = styles.look(r.indicator);
    let number = look.map_or(text, |l| &l.number);
    let fill = look
        .zip(r.cell.band)
        .and_then(|(l, band)| l.levels.get(band))
        .and_then(Option::as_ref);
    for &column in sheet.columns.all() {
        match column {
            Column::Level => cursor.text(r.level, text)?,
            Column::Entity => cursor.text(r.entity, text)?,
            Column::Period => cursor.text(r.period.unwrap_or_default(), text)?,
            Column::Indicator => cursor.text(&r.indicator.id, text)?,
            Column::Name => cursor.text(&r.indicator.name, text)?,
            Column::Value => {
                cursor.number(r.value.as_deref(), fill.map_or(number, |(value, _)| value))?;
            }
            Column::Unit => cursor.text(r.indicator.unit.as_str(), text)?,
            Column::Standard => match r.indicator.standard {
                Some(Standard::Target(_)) => cursor.number(r.standard.as_deref(), number)?,
                _ => cursor.text(r.standard.as_deref().unwrap_or_default(), text)?,
            },
            Column::Compliance => cursor.number(r.compliance.as_deref(), &styles.percent)?,
            Column::Band => cursor.text(
                r.band.unwrap_or_default(),
                fill.map_or(text, |(_, band)| band),
            )?,
            Column::ErrorKind => {
                cursor.text(r.error.as_ref().map_or("", |(kind, _)| kind), text)?
            }
            Column::Error => cursor.text(
                r.error.as_ref().map_or("", |(_, message)| message.as_str()),
                text,
            )?,
            Column::Flags => cursor.text(&r.cell.flags.join("; "), text)?,
            Column::Previous => cursor.decimal(r.previous, number)?,
            Column::Variation => cursor.decimal(r.variation, number)?,
            Column::VariationPct => cursor.decimal(r.variation_pct, &styles.percent)?,
            Column::PeerGroup => cursor.text(r.peer_group.unwrap_or_default(), text)?,
            Column::PeerSize => cursor.count(r.peer_size, &styles.integer)?,
            Column::PeerMean => cursor.decimal(r.peer_mean, number)?,
            Column::PeerMedian => cursor.decimal(r.peer_median, number)?,
            Column::FromPeerMean => cursor.decimal(r.from_peer_mean, number)?,
            Column::FromPeerMedian => cursor.decimal(r.from_peer_median, number)?,
            Column::PeerRank => cursor.count(r.peer_rank, &styles.integer)?,
            Column::Rank => cursor.count(r.rank, &styles.integer)?,
            Column::Selected => cursor.boolean(r.selected)?,
        }
    }
    Ok(())
}

/// Where a record is counted: its peer group and period, when the data has them.
type GroupKey<'s> = (Option<&'s str>, Option<&'s str>);

/// Per group (first-appearance order) and indicator, the cells per band level.
#[derive(Default)]
struct Counts<'s> {
    groups: Vec<GroupKey<'s>>,
    group_index: HashMap<GroupKey<'s>, usize>,
    /// By (group index, indicator id).
    tallies: HashMap<(usize, &'s str), Tally>,
}

/// The cells of one indicator in one group.
#[derive(Default)]
struct Tally {
    records: usize,
    /// Per band level, in the band set's order.
    levels: Vec<usize>,
    errors: usize,
    no_band: usize,
}

impl<'s> Counts<'s> {
    fn add(&mut self, r: &Record<'s>) {
        let key = (r.peer_group, r.period);
        let next = self.groups.len();
        let group = match self.group_index.entry(key) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                e.insert(next);
                self.groups.push(key);
                next
            }
        };
        let tally = self
            .tallies
            .entry((group, r.indicator.id.as_str()))
            .or_default();
        tally.records += 1;
        match (r.cell.band, &r.error) {
            (_, Some(_)) => tally.errors += 1,
            (Some(level), None) => {
                if tally.levels.len() <= level {
                    tally.levels.resize(level + 1, 0);
                }
                tally.levels[level] += 1;
            }
            (None, None) => tally.no_band += 1,
        }
    }
}

/// The summary sheet: origin, then one block of counts per band set.
fn summary_sheet(
    worksheet: &mut Worksheet,
    sheet: &Sheet<'_>,
    origin: &Origin,
    styles: &Styles<'_>,
    counts: &Counts<'_>,
) -> Result<(), XlsxError> {
    worksheet.set_name(SUMMARY)?;
    let results = sheet.results;
    let pack = results.pack();
    let identity = results.identity();
    let mut cursor = Cursor::new(worksheet, 0);
    cursor.title("Semáforo results", &styles.bold)?;
    let at = origin.utc_iso8601();
    for (label, value) in [
        ("Pack", identity.id.as_str()),
        ("Version", identity.version.as_str()),
        ("Content hash", identity.content_hash.as_str()),
        ("Data", origin.data.as_str()),
        ("Computed at (UTC)", at.as_str()),
    ] {
        cursor.next_row();
        cursor.text(label, &styles.bold)?;
        cursor.title(value, &styles.text)?;
    }
    for (label, value) in [
        ("Records", record_count(sheet)),
        ("Cell errors", results.error_count()),
    ] {
        cursor.next_row();
        cursor.text(label, &styles.bold)?;
        cursor.count(Some(value), &styles.integer)?;
    }
    // One block per band set, in the order the indicators first use them;
    // indicators without bands last.
    let mut blocks: Vec<Option<usize>> = Vec::new();
    for indicator in pack.indicators() {
        if !blocks.contains(&indicator.band_set) {
            blocks.push(indicator.band_set);
        }
    }
    blocks.sort_by_key(Option::is_none);
    let no_levels = Vec::new();
    for block in blocks {
        let (title, labels, colors) = match block.and_then(|b| pack.band_sets().get(b)) {
            Some(set) => (
                format!("Cells per band: {}", set.id),
                set.levels.iter().map(|l| l.label.as_str()).collect(),
                block
                    .and_then(|b| styles.colors.get(b))
                    .unwrap_or(&no_levels),
            ),
            None => (
                "Cells of indicators without bands".to_owned(),
                Vec::new(),
                &no_levels,
            ),
        };
        cursor.next_row();
        cursor.next_row();
        cursor.title(&title, &styles.bold)?;
        cursor.next_row();
        let mut header: Vec<(&str, Format)> = Vec::new();
        if sheet.columns.peers {
            header.push(("Peer group", styles.header.clone()));
        }
        if sheet.columns.period {
            header.push(("Period", styles.header.clone()));
        }
        header.extend(
            ["Indicator", "Name", "Records"]
                .into_iter()
                .map(|h| (h, styles.header.clone())),
        );
        for (index, label) in labels.iter().enumerate() {
            let format = match colors.get(index).copied().flatten() {
                Some(color) => filled(styles.header.clone(), color),
                None => styles.header.clone(),
            };
            header.push((*label, format));
        }
        header.push(("Error", styles.header.clone()));
        header.push(("No band", styles.header.clone()));
        cursor.header(header.iter().map(|(h, f)| (*h, f)))?;
        for (group, (peer_group, period)) in counts.groups.iter().enumerate() {
            for indicator in pack.indicators().iter().filter(|i| i.band_set == block) {
                let Some(tally) = counts.tallies.get(&(group, indicator.id.as_str())) else {
                    continue;
                };
                cursor.next_row();
                if sheet.columns.peers {
                    cursor.text(peer_group.unwrap_or_default(), &styles.text)?;
                }
                if sheet.columns.period {
                    cursor.text(period.unwrap_or_default(), &styles.text)?;
                }
                cursor.text(&indicator.id, &styles.text)?;
                cursor.text(&indicator.name, &styles.text)?;
                cursor.count(Some(tally.records), &styles.integer)?;
                for level in 0..labels.len() {
                    let n = tally.levels.get(level).copied().unwrap_or(0);
                    cursor.count(Some(n), &styles.integer)?;
                }
                cursor.count(Some(tally.errors), &styles.integer)?;
                cursor.count(Some(tally.no_band), &styles.integer)?;
            }
        }
    }
    cursor.set_widths()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_the_nearest_to_the_exact_decimal() {
        assert_eq!(float("0.1"), Some(0.1));
        assert_eq!(float("-2.873254"), Some(-2.873_254));
        assert_eq!(float("x"), None);
    }
}
