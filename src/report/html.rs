//! `--format html`: one self-contained page for people. Nothing in it is
//! fetched: the CSS, a little JS (sortable tables) and the charts (SVG) are
//! inline, and the page links only to its own sections.
//!
//! The page has a header (pack id, version and hash; the data and when it
//! was evaluated, UTC), a summary (cells per band in the band colours,
//! errors), one table per peer group (else per period, else one) with the
//! entities as rows and the indicators as columns, each cell coloured by its
//! band and its error message in its tooltip, the roll-ups of indicators
//! with a grain, charts (each prioritisation matrix's Pareto chart; the
//! distribution of each indicator across institutions) and a legend of every
//! indicator's formula, standard and bands.
//!
//! Values are shown as the table format shows them: rounded half away from
//! zero to the indicator's `decimals`, with the unit's suffix, from the
//! exact `Decimal`. Chart *coordinates* are computed in `f64` from those
//! decimals: a position on the screen, never a figure anyone reads.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use semaforo_core::{
    BandBasis, Direction, FormulaSource, Indicator, MatrixCut, RulePack, Standard,
    round_for_display,
};

use super::{Origin, Sheet, exact, selection_summary};

/// Fewest values of an indicator in one period for its distribution chart.
const MIN_DISTRIBUTION: usize = 5;
/// Most equal-width bins of a distribution chart.
const MAX_BINS: usize = 24;
/// Most items whose names are written under the bars of a Pareto chart.
const MAX_LABELLED_BARS: usize = 80;
/// Fill of a chart mark without a band colour.
const NO_BAND: &str = "#8c959f";
/// Fill of a selected Pareto bar.
const SELECTED: &str = "#1f6feb";
/// Fill of a Pareto bar that was not selected.
const NOT_SELECTED: &str = "#c9d1d9";

pub(super) fn write(sheet: &Sheet<'_>, origin: &Origin, out: &mut dyn Write) -> io::Result<()> {
    let page = Page::new(sheet);
    let identity = sheet.results.identity();
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"semaforo\">\n<title>{} {} — Semáforo report</title>\n\
         <style>\n{STYLE}",
        esc(&identity.id),
        esc(&identity.version)
    )?;
    for (index, (fill, text)) in page.colours.iter().enumerate() {
        writeln!(out, ".b{index}{{background:{fill};color:{text}}}")?;
    }
    writeln!(out, "</style>\n</head>\n<body>")?;
    let selections = page.selections();
    let charts = page.charts();
    let mut sections = vec![("summary", "Summary")];
    if !selections.is_empty() {
        sections.push(("selection", "Selection"));
    }
    sections.push(("results", "Results"));
    if !sheet.results.groups().is_empty() {
        sections.push(("rollups", "Roll-ups"));
    }
    if !charts.is_empty() {
        sections.push(("charts", "Distributions"));
    }
    sections.push(("legend", "Indicators"));
    page.header(origin, &sections, out)?;
    writeln!(out, "<main>")?;
    page.summary(out)?;
    out.write_all(selections.as_bytes())?;
    page.tables(out)?;
    page.rollups(out)?;
    out.write_all(charts.as_bytes())?;
    page.legend(out)?;
    writeln!(
        out,
        "</main>\n<footer>Written by Semáforo. Click a column header to sort; \
         hover or tap a cell for its details.</footer>\n<script>\n{SCRIPT}</script>\n</body>\n</html>"
    )
}

/// What the page needs besides the sheet: band colours as CSS classes.
struct Page<'s, 'a> {
    sheet: &'s Sheet<'a>,
    /// Distinct band fills (`#rrggbb`) with their readable text colour; class `b<index>`.
    colours: Vec<(String, &'static str)>,
    /// Per band set, per level: the index in `colours` of its fill.
    level_classes: Vec<Vec<Option<usize>>>,
}

impl<'s, 'a> Page<'s, 'a> {
    fn new(sheet: &'s Sheet<'a>) -> Self {
        let mut colours: Vec<(String, &'static str)> = Vec::new();
        let level_classes =
            sheet
                .results
                .pack()
                .band_sets()
                .iter()
                .map(|set| {
                    set.levels
                        .iter()
                        .map(|level| {
                            let semaforo_core::Colour { r, g, b } = level.colour?;
                            let fill = format!("#{r:02x}{g:02x}{b:02x}");
                            Some(colours.iter().position(|(f, _)| *f == fill).unwrap_or_else(
                                || {
                                    colours.push((fill, text_on((r, g, b))));
                                    colours.len() - 1
                                },
                            ))
                        })
                        .collect()
                })
                .collect();
        Self {
            sheet,
            colours,
            level_classes,
        }
    }

    fn pack(&self) -> &RulePack {
        self.sheet.results.pack()
    }

    /// The CSS class of a band level's fill, if it has a colour.
    fn band_class(&self, indicator: &Indicator, band: Option<usize>) -> Option<usize> {
        *self.level_classes.get(indicator.band_set?)?.get(band?)?
    }

    /// The fill of a band level for a chart (grey without one).
    fn band_fill(&self, indicator: &Indicator, band: Option<usize>) -> &str {
        self.band_class(indicator, band)
            .and_then(|c| self.colours.get(c))
            .map_or(NO_BAND, |(fill, _)| fill.as_str())
    }

    /// The page's header: what was evaluated, with what, when; links to `sections`.
    fn header(
        &self,
        origin: &Origin,
        sections: &[(&str, &str)],
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let identity = self.sheet.results.identity();
        let description = self.pack().description();
        writeln!(
            out,
            "<header class=\"top\"><div class=\"wrap\">\n<h1>{} <span class=\"version\">{}</span></h1>",
            esc(&identity.id),
            esc(&identity.version)
        )?;
        if !description.is_empty() {
            writeln!(out, "<p class=\"description\">{}</p>", esc(description))?;
        }
        let nav: Vec<String> = sections
            .iter()
            .map(|(id, title)| format!("<a href=\"#{id}\">{title}</a>"))
            .collect();
        writeln!(
            out,
            "<dl class=\"meta\">\n<dt>Pack</dt><dd>{} {}</dd>\n<dt>Hash</dt><dd><code class=\"hash\">{}</code></dd>\n\
             <dt>Data</dt><dd><code>{}</code></dd>\n<dt>Evaluated</dt><dd><time datetime=\"{at}\">{at}</time></dd>\n</dl>\n\
             <nav>{}</nav>\n</div></header>",
            esc(&identity.id),
            esc(&identity.version),
            esc(&identity.content_hash),
            esc(&origin.data),
            nav.join(" "),
            at = origin.utc_iso8601(),
        )
    }

    fn summary(&self, out: &mut dyn Write) -> io::Result<()> {
        let results = self.sheet.results;
        let indicators = self.pack().indicators();
        // (label, class) in order of first appearance in the pack's band sets.
        let mut bands: Vec<(&str, Option<usize>, usize)> = Vec::new();
        let mut no_band = 0_usize;
        let mut values = 0_usize;
        let cells = results
            .cells()
            .map(|(_, _, index, indicator, cell)| (index, indicator, cell))
            .chain(
                results
                    .groups()
                    .iter()
                    .map(|g| (g.indicator, &indicators[g.indicator], &g.cell)),
            );
        for (index, indicator, cell) in cells {
            if cell.value.is_none() {
                continue;
            }
            values += 1;
            match results.band_label(index, cell) {
                Some(label) => {
                    let class = self.band_class(indicator, cell.band);
                    match bands
                        .iter_mut()
                        .find(|(l, c, _)| *l == label && *c == class)
                    {
                        Some(entry) => entry.2 += 1,
                        None => bands.push((label, class, 1)),
                    }
                }
                None => no_band += 1,
            }
        }
        // Levels best first as the band sets list them, whatever order the cells came in.
        let order = |label: &str| {
            self.pack()
                .band_sets()
                .iter()
                .flat_map(|s| s.levels.iter())
                .position(|l| l.label == label)
                .unwrap_or(usize::MAX)
        };
        bands.sort_by_key(|(label, ..)| order(label));
        let errors = results.error_count();
        writeln!(
            out,
            "<section id=\"summary\">\n<h2>Summary</h2>\n<p>{} rows × {} indicators: {values} values, \
             {errors} errors.</p>\n<div class=\"chips\">",
            results.rows().len(),
            indicators.len()
        )?;
        for (label, class, count) in &bands {
            let class = class.map_or_else(|| "nob".to_owned(), |c| format!("b{c}"));
            writeln!(
                out,
                "<span class=\"chip {class}\" data-band=\"{}\"><b>{count}</b> {}</span>",
                esc(label),
                esc(label)
            )?;
        }
        if no_band > 0 {
            writeln!(
                out,
                "<span class=\"chip nob\"><b>{no_band}</b> without a band</span>"
            )?;
        }
        writeln!(
            out,
            "<span class=\"chip errors\" data-errors=\"{errors}\"><b>{errors}</b> errors</span>\n</div>"
        )?;
        let selections = selection_summary(results);
        if !selections.is_empty() {
            writeln!(out, "<ul class=\"selections\">")?;
            for line in selections {
                writeln!(out, "<li>{}</li>", esc(&line))?;
            }
            writeln!(out, "</ul>")?;
        }
        writeln!(out, "</section>")
    }

    /// One table per peer group (else per period, else one), rows in input order.
    fn tables(&self, out: &mut dyn Write) -> io::Result<()> {
        let sheet = self.sheet;
        let rows = sheet.results.rows();
        let (grouping, mut groups): (&str, Vec<(String, Vec<usize>)>) = if sheet.has_peers {
            ("Peer group", Vec::new())
        } else if sheet.has_period {
            ("Period", Vec::new())
        } else {
            ("", vec![(String::new(), (0..rows.len()).collect())])
        };
        if !grouping.is_empty() {
            let mut index: BTreeMap<&str, usize> = BTreeMap::new();
            for (row, key) in rows.iter().enumerate() {
                let name = if sheet.has_peers {
                    key.peer_group.as_deref().unwrap_or("(none)")
                } else {
                    key.period.as_deref().unwrap_or("(none)")
                };
                let at = *index.entry(name).or_insert_with(|| {
                    groups.push((name.to_owned(), Vec::new()));
                    groups.len() - 1
                });
                groups[at].1.push(row);
            }
        }
        writeln!(out, "<section id=\"results\">\n<h2>Results</h2>")?;
        for (name, members) in &groups {
            if !grouping.is_empty() {
                writeln!(
                    out,
                    "<h3>{grouping}: {} <small>({} rows)</small></h3>",
                    esc(name),
                    members.len()
                )?;
            }
            self.table(members, out)?;
        }
        writeln!(out, "</section>")
    }

    fn table(&self, members: &[usize], out: &mut dyn Write) -> io::Result<()> {
        let sheet = self.sheet;
        let pack = self.pack();
        let columns: Vec<(usize, &Indicator)> = pack
            .indicators()
            .iter()
            .enumerate()
            .filter(|(_, i)| i.grain.is_none())
            .collect();
        write!(
            out,
            "<div class=\"scroll\"><table class=\"sortable results\">\n<thead><tr><th class=\"k\" data-type=\"text\">entity</th>"
        )?;
        if sheet.has_period {
            write!(out, "<th data-type=\"text\">period</th>")?;
        }
        for (_, indicator) in &columns {
            write!(
                out,
                "<th data-type=\"num\" data-indicator=\"{}\" title=\"{} ({})\">{}</th>",
                esc(&indicator.id),
                esc(&indicator.name),
                esc(&indicator.id),
                esc(&indicator.name)
            )?;
        }
        for matrix in pack.matrices() {
            write!(
                out,
                "<th data-type=\"num\" title=\"{0}: rank\">rank</th><th data-type=\"text\" title=\"{0}: selected\">selected</th>",
                esc(&matrix.name)
            )?;
        }
        writeln!(out, "</tr></thead>\n<tbody>")?;
        let mut line = String::new();
        for &row in members {
            line.clear();
            let key = &sheet.results.rows()[row];
            let selected_row = pack.matrices().iter().any(|m| {
                sheet
                    .analysis
                    .ranking(row, m.score)
                    .is_some_and(|r| r.selected)
            });
            let _ = write!(
                line,
                "<tr{}><td class=\"k\">{}</td>",
                if selected_row {
                    " class=\"selected\""
                } else {
                    ""
                },
                esc(&key.entity)
            );
            if sheet.has_period {
                let _ = write!(
                    line,
                    "<td>{}</td>",
                    esc(key.period.as_deref().unwrap_or(""))
                );
            }
            for &(index, indicator) in &columns {
                self.cell(row, index, indicator, &mut line);
            }
            for matrix in pack.matrices() {
                match sheet.analysis.ranking(row, matrix.score) {
                    Some(ranking) => {
                        let _ = write!(
                            line,
                            "<td data-v=\"{0}\">{0}</td><td class=\"{1}\">{2}</td>",
                            ranking.rank,
                            if ranking.selected { "sel" } else { "" },
                            if ranking.selected { "✔ selected" } else { "" }
                        );
                    }
                    None => line.push_str("<td data-v=\"\"></td><td></td>"),
                }
            }
            line.push_str("</tr>\n");
            out.write_all(line.as_bytes())?;
        }
        writeln!(out, "</tbody></table></div>")
    }

    /// One result cell: the displayed value coloured by band, details in its title.
    fn cell(&self, row: usize, index: usize, indicator: &Indicator, line: &mut String) {
        let sheet = self.sheet;
        let cell = sheet.results.cell(row, index);
        if let Some(error) = &cell.error {
            let _ = write!(
                line,
                "<td class=\"err\" data-v=\"\" data-error=\"{}\" title=\"{}\">⚠ {}</td>",
                esc(error.kind()),
                esc(&error.to_string()),
                esc(&error.kind().replace('_', " "))
            );
            return;
        }
        let Some(value) = cell.value else {
            let _ = write!(
                line,
                "<td data-v=\"\">{}</td>",
                esc(&self.pack().labels().not_applicable)
            );
            return;
        };
        let mut details: Vec<String> = Vec::new();
        if let Some(label) = sheet.results.band_label(index, cell) {
            details.push(label.to_owned());
        }
        if let Some(standard) = indicator.standard {
            details.push(format!("standard {}", self.standard(indicator, standard)));
        }
        if let Some(compliance) = cell.compliance {
            details.push(format!("compliance {}%", round_for_display(compliance, 2)));
        }
        if let Some(variation) = sheet.analysis.variation(row, index) {
            let sign = if variation.absolute > Decimal::ZERO {
                "+"
            } else {
                ""
            };
            details.push(format!(
                "change {sign}{}",
                round_for_display(variation.absolute, indicator.decimals)
            ));
        }
        if let Some(standing) = sheet.analysis.peer_standing(row, index) {
            details.push(format!("peer rank {} of {}", standing.rank, standing.size));
        }
        if !cell.flags.is_empty() {
            details.push(format!("flags: {}", cell.flags.join(", ")));
        }
        let class = self
            .band_class(indicator, cell.band)
            .map(|c| format!(" class=\"b{c}\""))
            .unwrap_or_default();
        let flag = if cell.flags.is_empty() { "" } else { "*" };
        let _ = write!(
            line,
            "<td{class} data-v=\"{}\" title=\"{}\">{}{flag}</td>",
            exact(value),
            esc(&details.join(" · ")),
            esc(&sheet.displayed(indicator, value))
        );
    }

    /// A standard as displayed: rounded with the unit's suffix.
    fn standard(&self, indicator: &Indicator, standard: Standard) -> String {
        match standard {
            Standard::Target(v) => self.sheet.displayed(indicator, v),
            Standard::Range { min, max } => format!(
                "{}..{}",
                self.sheet.displayed(indicator, min),
                self.sheet.displayed(indicator, max)
            ),
            other => other.to_string(),
        }
    }

    /// The results of indicators with a grain, one line per group.
    fn rollups(&self, out: &mut dyn Write) -> io::Result<()> {
        let results = self.sheet.results;
        if results.groups().is_empty() {
            return Ok(());
        }
        writeln!(
            out,
            "<section id=\"rollups\">\n<h2>Roll-ups</h2>\n<div class=\"scroll\"><table class=\"sortable\">\n\
             <thead><tr><th data-type=\"text\">level</th><th class=\"k\" data-type=\"text\">group</th>{}\
             <th data-type=\"text\">indicator</th><th data-type=\"num\">value</th><th data-type=\"text\">status</th>\
             <th data-type=\"num\">rows</th></tr></thead>\n<tbody>",
            if self.sheet.has_period {
                "<th data-type=\"text\">period</th>"
            } else {
                ""
            }
        )?;
        for group in results.groups() {
            let indicator = &self.pack().indicators()[group.indicator];
            let mut line = format!(
                "<tr><td class=\"t\">{}</td><td class=\"k\">{}</td>",
                esc(&group.level),
                esc(&group.entity)
            );
            if self.sheet.has_period {
                let _ = write!(
                    line,
                    "<td>{}</td>",
                    esc(group.period.as_deref().unwrap_or(""))
                );
            }
            let _ = write!(line, "<td class=\"t\">{}</td>", esc(&indicator.name));
            let cell = &group.cell;
            match (&cell.error, cell.value) {
                (Some(error), _) => {
                    let _ = write!(
                        line,
                        "<td class=\"err\" data-v=\"\" title=\"{}\">⚠ {}</td>",
                        esc(&error.to_string()),
                        esc(&error.kind().replace('_', " "))
                    );
                }
                (None, Some(value)) => {
                    let class = self
                        .band_class(indicator, cell.band)
                        .map(|c| format!(" class=\"b{c}\""))
                        .unwrap_or_default();
                    let _ = write!(
                        line,
                        "<td{class} data-v=\"{}\">{}</td>",
                        exact(value),
                        esc(&self.sheet.displayed(indicator, value))
                    );
                }
                (None, None) => {
                    let _ = write!(
                        line,
                        "<td data-v=\"\">{}</td>",
                        esc(&self.pack().labels().not_applicable)
                    );
                }
            }
            let _ = writeln!(
                line,
                "<td class=\"t\">{}</td><td>{}</td></tr>",
                esc(results.band_label(group.indicator, cell).unwrap_or("")),
                group.rows
            );
            out.write_all(line.as_bytes())?;
        }
        writeln!(out, "</tbody></table></div>\n</section>")
    }

    /// Each matrix's Pareto chart, period by period (empty without matrices).
    fn selections(&self) -> String {
        let mut body = String::new();
        for cut in self.sheet.analysis.cuts() {
            self.pareto(cut, &mut body);
        }
        if body.is_empty() {
            return body;
        }
        format!("<section id=\"selection\">\n<h2>Selection</h2>\n{body}</section>\n")
    }

    /// The distribution charts (empty when no indicator has enough values).
    fn charts(&self) -> String {
        let distributions = self.distributions();
        if distributions.is_empty() {
            return distributions;
        }
        format!(
            "<section id=\"charts\">\n<h2>Distributions</h2>\n<div class=\"grid\">\n{distributions}</div>\n</section>\n"
        )
    }

    /// A matrix's Pareto chart for one period: scores best first as bars
    /// (the selected ones highlighted), the cumulative share of the total
    /// score as a line, the cut as a dashed line.
    fn pareto(&self, cut: &MatrixCut, svg: &mut String) {
        let sheet = self.sheet;
        let Some(matrix) = self.pack().matrices().iter().find(|m| m.id == cut.matrix) else {
            return;
        };
        let indicator = &self.pack().indicators()[matrix.score];
        let mut items: Vec<(usize, Decimal, usize, bool)> = sheet
            .results
            .rows()
            .iter()
            .enumerate()
            .filter(|(_, key)| key.period == cut.period)
            .filter_map(|(row, _)| {
                let ranking = sheet.analysis.ranking(row, matrix.score)?;
                let score = sheet.results.cell(row, matrix.score).value?;
                Some((row, score, ranking.rank, ranking.selected))
            })
            .collect();
        // Best first; among tied items the selected ones first, then input order.
        items.sort_by_key(|&(row, _, rank, selected)| (rank, !selected, row));
        if items.is_empty() {
            return;
        }
        let total: Decimal = items.iter().map(|i| i.1.max(Decimal::ZERO)).sum();
        let top = items
            .iter()
            .map(|i| i.1)
            .max()
            .unwrap_or(Decimal::ONE)
            .max(Decimal::ZERO);
        let step_value = nice_step(top / Decimal::from(4));
        let top = step_value * Decimal::from(4);
        let top_f = to_f64(top).max(f64::MIN_POSITIVE);
        let n = items.len();
        let labelled = n <= MAX_LABELLED_BARS;
        let (width, left, right, upper) = (960.0_f64, 56.0_f64, 56.0_f64, 24.0_f64);
        let longest = items
            .iter()
            .map(|i| sheet.results.rows()[i.0].entity.chars().count())
            .max()
            .unwrap_or(0);
        // Names are written at 60°: about 5.5 px per character, 0.87 of it downwards.
        let lower = if labelled {
            (usize_f64(longest) * 5.5 * 0.87 + 24.0).min(130.0)
        } else {
            36.0_f64
        };
        let height = 300.0 + upper + lower;
        let plot_w = width - left - right;
        let plot_h = 300.0_f64;
        let step = plot_w / usize_f64(n);
        let bar_w = (step * 0.8).max(0.5);
        let y_of = |v: f64| upper + plot_h * (1.0 - (v / top_f).clamp(0.0, 1.0));
        let y_pct = |p: f64| upper + plot_h * (1.0 - (p / 100.0).clamp(0.0, 1.0));
        let period = cut
            .period
            .as_deref()
            .map(|p| format!(" — {}", esc(p)))
            .unwrap_or_default();
        let _ = writeln!(
            svg,
            "<figure class=\"chart pareto\" data-matrix=\"{}\">\n<figcaption>Pareto chart: {}{period} — {} of {} selected, cut score {}</figcaption>\n\
             <svg class=\"pareto\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"Pareto chart of {}\">",
            esc(&matrix.id),
            esc(&matrix.name),
            cut.selected,
            cut.items,
            cut.cut.map_or_else(
                || "none".to_owned(),
                |c| esc(&sheet.displayed(indicator, c))
            ),
            esc(&matrix.name)
        );
        // Axes and grid: scores on the left, cumulative percent on the right.
        for i in 0..=4_u32 {
            let fraction = f64::from(i) / 4.0;
            let y = upper + plot_h * (1.0 - fraction);
            let _ = writeln!(
                svg,
                "<line class=\"grid\" x1=\"{left}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>\
                 <text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
                 <text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\">{}%</text>",
                width - right,
                left - 6.0,
                y + 4.0,
                esc(&exact(step_value * Decimal::from(i))),
                width - right + 6.0,
                y + 4.0,
                25 * i
            );
        }
        let mut cumulative = Decimal::ZERO;
        let mut points = String::new();
        for (position, &(row, score, rank, selected)) in items.iter().enumerate() {
            let x = left + usize_f64(position) * step + (step - bar_w) / 2.0;
            let y = y_of(to_f64(score.max(Decimal::ZERO)));
            let entity = &sheet.results.rows()[row].entity;
            let _ = writeln!(
                svg,
                "<rect class=\"bar{}\" data-item=\"{}\" x=\"{x:.2}\" y=\"{y:.2}\" width=\"{bar_w:.2}\" height=\"{:.2}\" fill=\"{}\">\
                 <title>#{rank} {}: {}{}</title></rect>",
                if selected { " selected" } else { "" },
                esc(entity),
                upper + plot_h - y,
                if selected { SELECTED } else { NOT_SELECTED },
                esc(entity),
                esc(&sheet.displayed(indicator, score)),
                if selected { " (selected)" } else { "" }
            );
            if labelled {
                let cx = x + bar_w / 2.0;
                let ly = upper + plot_h + 8.0;
                let _ = writeln!(
                    svg,
                    "<text class=\"item{}\" x=\"{cx:.1}\" y=\"{ly:.1}\" transform=\"rotate(-60 {cx:.1} {ly:.1})\" text-anchor=\"end\">{}</text>",
                    if selected { " selected" } else { "" },
                    esc(entity)
                );
            }
            cumulative += score.max(Decimal::ZERO);
            let share = if total.is_zero() {
                Decimal::ZERO
            } else {
                cumulative * Decimal::ONE_HUNDRED / total
            };
            let _ = write!(
                points,
                "{:.1},{:.1} ",
                left + usize_f64(position) * step + step / 2.0,
                y_pct(to_f64(share))
            );
        }
        let _ = writeln!(
            svg,
            "<polyline class=\"cumulative\" points=\"{}\"/>",
            points.trim_end()
        );
        // The cut: after the last selected bar, and at the cut score.
        let selected = items.iter().filter(|i| i.3).count();
        if selected > 0 && selected < n {
            let x = left + usize_f64(selected) * step;
            let _ = writeln!(
                svg,
                "<line class=\"cut\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{upper}\" y2=\"{:.1}\"/>",
                upper + plot_h
            );
        }
        if let Some(score) = cut.cut {
            let y = y_of(to_f64(score.max(Decimal::ZERO)));
            let _ = writeln!(
                svg,
                "<line class=\"cut\" x1=\"{left}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>\
                 <text class=\"cut-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">cut {}</text>",
                width - right,
                width - right - 4.0,
                y - 4.0,
                esc(&sheet.displayed(indicator, score))
            );
        }
        let _ = writeln!(
            svg,
            "<line class=\"axis\" x1=\"{left}\" x2=\"{left}\" y1=\"{upper}\" y2=\"{0:.1}\"/>\
             <line class=\"axis\" x1=\"{left}\" x2=\"{1:.1}\" y1=\"{0:.1}\" y2=\"{0:.1}\"/>\n</svg>\n\
             <p class=\"key\"><span class=\"sw\" style=\"background:{SELECTED}\"></span> selected ({selected}) \
             <span class=\"sw\" style=\"background:{NOT_SELECTED}\"></span> not selected \
             <span class=\"sw line\"></span> cumulative % of the total score \
             <span class=\"sw dash\"></span> cut</p>\n</figure>",
            upper + plot_h,
            width - right
        );
    }

    /// For each per-row indicator with enough values in the latest period,
    /// a histogram of its values across institutions, bars split by band,
    /// the standard marked.
    fn distributions(&self) -> String {
        let sheet = self.sheet;
        let rows = sheet.results.rows();
        let latest = rows.iter().filter_map(|r| r.period.as_deref()).max();
        let members: Vec<usize> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.period.as_deref() == latest)
            .map(|(i, _)| i)
            .collect();
        let mut charts = String::new();
        for (index, indicator) in self.pack().indicators().iter().enumerate() {
            if indicator.grain.is_some() {
                continue;
            }
            let values: Vec<(Decimal, Option<usize>)> = members
                .iter()
                .map(|&row| sheet.results.cell(row, index))
                .filter_map(|cell| Some((cell.value?, cell.band)))
                .collect();
            if values.len() >= MIN_DISTRIBUTION {
                self.histogram(indicator, latest, &values, &mut charts);
            }
        }
        charts
    }

    fn histogram(
        &self,
        indicator: &Indicator,
        period: Option<&str>,
        values: &[(Decimal, Option<usize>)],
        svg: &mut String,
    ) {
        let data_lo = values.iter().map(|v| v.0).min().unwrap_or_default();
        let data_hi = values.iter().map(|v| v.0).max().unwrap_or_default();
        let mut distinct: Vec<Decimal> = values.iter().map(|v| v.0).collect();
        distinct.sort_unstable();
        distinct.dedup();
        // Few distinct values (e.g. 1–5 scores): one bar per value. Otherwise equal-width bins.
        let by_value = distinct.len() <= MAX_BINS;
        let bins = if by_value { distinct.len() } else { MAX_BINS };
        let mut counts: Vec<BTreeMap<Option<usize>, usize>> = vec![BTreeMap::new(); bins];
        let width_of_bin = (data_hi - data_lo) / Decimal::from(MAX_BINS);
        for &(value, band) in values {
            let bin = if by_value {
                distinct.binary_search(&value).unwrap_or(0)
            } else {
                ((value - data_lo) / width_of_bin)
                    .floor()
                    .to_usize()
                    .unwrap_or(0)
                    .min(bins - 1)
            };
            *counts[bin].entry(band).or_default() += 1;
        }
        let standard = indicator.standard.map(|s| match s {
            Standard::Range { min, max } => vec![min, max],
            Standard::Target(v) => vec![v],
            _ => Vec::new(),
        });
        let (mut lo, mut hi) = (data_lo, data_hi);
        for &s in standard.iter().flatten() {
            lo = lo.min(s);
            hi = hi.max(s);
        }
        let (lo_f, hi_f) = (to_f64(lo), to_f64(hi));
        let span = if hi_f > lo_f { hi_f - lo_f } else { 1.0 };
        let (width, left, right, upper, plot_h) = (480.0_f64, 16.0, 16.0, 16.0, 120.0_f64);
        let plot_w = width - left - right;
        // By value, bars are centred on their value, kept inside the plot by a margin.
        let margin = if by_value { plot_w / 10.0 } else { 0.0 };
        let x_of = |v: f64| left + margin + (plot_w - 2.0 * margin) * (v - lo_f) / span;
        let bar_w = if by_value {
            ((plot_w - 2.0 * margin) / usize_f64(bins.max(2)) * 0.7).clamp(3.0, 40.0)
        } else {
            (plot_w - 2.0 * margin) * to_f64(width_of_bin) / span
        };
        let tallest = counts
            .iter()
            .map(|c| c.values().sum::<usize>())
            .max()
            .unwrap_or(1)
            .max(1);
        let period_text = period.map(|p| format!(", {}", esc(p))).unwrap_or_default();
        let _ = writeln!(
            svg,
            "<figure class=\"chart distribution\" data-indicator=\"{}\">\n<figcaption>{} <small>({} institutions{period_text})</small></figcaption>\n\
             <svg viewBox=\"0 0 {width} {}\" role=\"img\" aria-label=\"Distribution of {}\">",
            esc(&indicator.id),
            esc(&indicator.name),
            values.len(),
            upper + plot_h + 34.0,
            esc(&indicator.name)
        );
        let base = upper + plot_h;
        for (bin, bands) in counts.iter().enumerate() {
            let (x, from, to) = if by_value {
                let v = distinct[bin];
                (x_of(to_f64(v)) - bar_w / 2.0, v, v)
            } else {
                let from = data_lo + width_of_bin * Decimal::from(bin);
                (x_of(to_f64(from)), from, from + width_of_bin)
            };
            let total: usize = bands.values().sum();
            if total == 0 {
                continue;
            }
            let range = if by_value {
                self.sheet.displayed(indicator, from)
            } else {
                format!(
                    "{} – {}",
                    self.sheet.displayed(indicator, from),
                    self.sheet.displayed(indicator, to)
                )
            };
            let split: Vec<String> = bands
                .iter()
                .map(|(band, count)| {
                    let label = indicator
                        .band_set
                        .and_then(|s| self.pack().band_sets()[s].levels.get((*band)?))
                        .map_or("no band", |l| l.label.as_str());
                    format!("{label} {count}")
                })
                .collect();
            let _ = write!(
                svg,
                "<g class=\"bin\"><title>{}: {total} ({})</title>",
                esc(&range),
                esc(&split.join(", "))
            );
            let mut y = base;
            // Stacked in band order (best first at the bottom; no band below all).
            for (band, count) in bands {
                let h = plot_h * usize_f64(*count) / usize_f64(tallest);
                y -= h;
                let _ = write!(
                    svg,
                    "<rect x=\"{x:.2}\" y=\"{y:.2}\" width=\"{:.2}\" height=\"{h:.2}\" fill=\"{}\"/>",
                    (bar_w - 1.0).max(0.5),
                    self.band_fill(indicator, *band)
                );
            }
            let _ = writeln!(svg, "</g>");
        }
        let _ = writeln!(
            svg,
            "<line class=\"axis\" x1=\"{left}\" x2=\"{:.1}\" y1=\"{base}\" y2=\"{base}\"/>\
             <text class=\"tick\" x=\"{left}\" y=\"{:.1}\">{}</text>\
             <text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            width - right,
            base + 14.0,
            esc(&self.sheet.displayed(indicator, lo)),
            width - right,
            base + 14.0,
            esc(&self.sheet.displayed(indicator, hi))
        );
        for &s in standard.iter().flatten() {
            let x = x_of(to_f64(s));
            let anchor = if x < left + 60.0 {
                "start"
            } else if x > width - right - 60.0 {
                "end"
            } else {
                "middle"
            };
            let _ = writeln!(
                svg,
                "<line class=\"standard\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.1}\" y2=\"{base}\"/>\
                 <text class=\"standard-label\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">standard {}</text>",
                upper - 2.0,
                base + 28.0,
                esc(&self.sheet.displayed(indicator, s))
            );
        }
        let _ = writeln!(svg, "</svg>\n</figure>");
    }

    /// Every indicator: what it measures, its formula, standard and bands.
    fn legend(&self, out: &mut dyn Write) -> io::Result<()> {
        let pack = self.pack();
        writeln!(
            out,
            "<section id=\"legend\">\n<h2>Indicators</h2>\n<dl class=\"legend\">"
        )?;
        for indicator in pack.indicators() {
            let mut entry = format!(
                "<dt id=\"ind-{}\">{} <code>{}</code></dt>\n<dd>",
                esc(&indicator.id),
                esc(&indicator.name),
                esc(&indicator.id)
            );
            if !indicator.description.is_empty() {
                let _ = write!(entry, "<p>{}</p>", esc(&indicator.description));
            }
            let _ = write!(
                entry,
                "<p class=\"facts\">unit {}{} · {} is better",
                esc(indicator.unit.as_str()),
                if indicator.group.is_empty() {
                    String::new()
                } else {
                    format!(" · group {}", esc(&indicator.group))
                },
                esc(indicator.direction.as_str())
            );
            match indicator.standard {
                Some(standard) => {
                    let _ = write!(
                        entry,
                        " · standard <b class=\"standard\">{}</b>",
                        esc(&self.standard(indicator, standard))
                    );
                }
                None => entry.push_str(" · no standard"),
            }
            if let Some(grain) = &indicator.grain {
                let _ = write!(
                    entry,
                    " · computed per {}",
                    if grain.is_empty() {
                        "whole table".to_owned()
                    } else {
                        esc(&grain.join(", "))
                    }
                );
            }
            entry.push_str("</p>");
            let (kind, text) = formula_text(pack, indicator);
            let _ = write!(
                entry,
                "<p class=\"formula-kind\">{kind}</p><pre class=\"formula\"><code>{}</code></pre>",
                esc(&text)
            );
            if let Some(set) = indicator.band_set.and_then(|s| pack.band_sets().get(s)) {
                let basis = match set.basis {
                    BandBasis::Value => "value",
                    _ => "compliance %",
                };
                let reading = match indicator.direction {
                    Direction::HigherIsBetter => "≥",
                    _ => "≤",
                };
                let _ = write!(
                    entry,
                    "<p class=\"bands\">bands <code>{}</code>: ",
                    esc(&set.id)
                );
                for (level_index, level) in set.levels.iter().enumerate() {
                    let class = self
                        .band_class(indicator, Some(level_index))
                        .map_or_else(|| "nob".to_owned(), |c| format!("b{c}"));
                    let rule = level.threshold.map_or_else(
                        || "otherwise".to_owned(),
                        |t| format!("{basis} {reading} {}", exact(t)),
                    );
                    let _ = write!(
                        entry,
                        "<span class=\"chip {class}\">{}</span> {} ",
                        esc(&level.label),
                        esc(&rule)
                    );
                }
                entry.push_str("</p>");
            }
            if !indicator.overrides.is_empty() {
                let changed: Vec<String> = indicator
                    .overrides
                    .iter()
                    .map(|o| {
                        format!(
                            "{} ({})",
                            o.keys.join(", "),
                            o.location.file.path().display()
                        )
                    })
                    .collect();
                let _ = write!(
                    entry,
                    "<p class=\"facts\">tailored: {}</p>",
                    esc(&changed.join("; "))
                );
            }
            entry.push_str("</dd>\n");
            out.write_all(entry.as_bytes())?;
        }
        writeln!(out, "</dl>\n</section>")
    }
}

/// What the legend says of a formula: its kind and its text (for a
/// function of a `.rhai` file, the function's source when it can be found).
fn formula_text(pack: &RulePack, indicator: &Indicator) -> (&'static str, String) {
    match &indicator.formula {
        FormulaSource::Inline { text, .. } => ("formula", text.trim().to_owned()),
        FormulaSource::Generated { text, .. } => ("generated formula", text.trim().to_owned()),
        FormulaSource::Function { name, location } => {
            let text = function_source(pack, name).unwrap_or_else(|| {
                format!(
                    "function {name} (in the pack's .rhai files; named in {})",
                    location.file.path().display()
                )
            });
            ("function", text)
        }
        _ => ("formula", String::new()),
    }
}

/// The source of `fn name(…) { … }` in one of the pack's `.rhai` files:
/// from `fn` to the brace that closes its body (braces counted; a brace
/// inside a string or comment may cut it short, which only shortens what
/// the legend shows).
fn function_source(pack: &RulePack, name: &str) -> Option<String> {
    let needle = format!("fn {name}(");
    pack.files()
        .iter()
        .filter(|f| f.path().extension().is_some_and(|e| e == "rhai"))
        .find_map(|file| {
            let text = file.text();
            let start = text.match_indices(&needle).find_map(|(at, _)| {
                let before = text[..at].chars().next_back();
                before
                    .is_none_or(|c| c.is_whitespace() || c == ';' || c == '}')
                    .then_some(at)
            })?;
            let open = start + text[start..].find('{')?;
            let mut depth = 0_usize;
            for (offset, c) in text[open..].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(text[start..=open + offset].to_owned());
                        }
                    }
                    _ => {}
                }
            }
            None
        })
}

/// A round step for an axis at least `raw`: 1, 2 or 5 times a power of ten.
fn nice_step(raw: Decimal) -> Decimal {
    if raw <= Decimal::ZERO {
        return Decimal::ONE;
    }
    let ten = Decimal::TEN;
    let mut magnitude = Decimal::ONE;
    while magnitude * ten <= raw {
        magnitude *= ten;
    }
    while magnitude > raw && magnitude.scale() < 20 {
        magnitude /= ten;
    }
    [Decimal::ONE, Decimal::TWO, Decimal::from(5), ten]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= raw)
        .unwrap_or(ten * magnitude)
}

/// Text escaped for HTML content and attribute values.
fn esc(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// A decimal as a chart coordinate (never shown as a figure).
fn to_f64(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(0.0)
}

/// A count as a chart coordinate.
fn usize_f64(count: usize) -> f64 {
    u32::try_from(count).map_or(f64::from(u32::MAX), f64::from)
}

/// Black or white text, whichever contrasts more with `fill` (WCAG relative luminance).
fn text_on((r, g, b): (u8, u8, u8)) -> &'static str {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.040_45 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
    // Contrast with white (1.05 / (L + 0.05)) against black ((L + 0.05) / 0.05).
    if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 {
        "#ffffff"
    } else {
        "#111111"
    }
}

/// The page's CSS: readable on a phone (tables scroll sideways, the entity column stays put).
const STYLE: &str = r#":root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
.wrap,main{max-width:1280px;margin:0 auto;padding:0 1rem}
header.top{background:#24292f;color:#fff;padding:1rem 0}
header.top h1{margin:.2rem 0;font-size:1.5rem}
header.top .version{font-weight:400;opacity:.8}
header.top .description{margin:.3rem 0 .6rem;opacity:.9;max-width:60rem}
header.top a{color:#9ecbff;margin-right:1rem}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.5rem 0}
dl.meta dt{opacity:.7}dl.meta dd{margin:0;overflow-wrap:anywhere}
code{font:.9em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
h2{margin:1.6rem 0 .6rem;font-size:1.25rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
h3{margin:1rem 0 .4rem;font-size:1.05rem}
h3 small{color:var(--muted);font-weight:400}
.chips{display:flex;flex-wrap:wrap;gap:.4rem}
.chip{display:inline-block;padding:.15rem .6rem;border-radius:1rem;border:1px solid rgba(0,0,0,.12);white-space:nowrap}
.chip.nob{background:#fff;color:var(--fg)}
.chip.errors{background:#fff8c5;color:#6b4c00}
.selections{color:var(--muted)}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;border:1px solid var(--line);border-radius:6px;background:#fff;max-width:100%}
table{border-collapse:collapse;font-size:.85rem;font-variant-numeric:tabular-nums}
th,td{padding:.3rem .55rem;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
th{background:#eef1f4;cursor:pointer;white-space:normal;min-width:5.5rem;max-width:11rem;vertical-align:bottom;font-weight:600;user-select:none}
th:hover,th:focus{background:#dde3ea;outline:none}
th[aria-sort=ascending]::after{content:" \25B2";font-size:.7em}
th[aria-sort=descending]::after{content:" \25BC";font-size:.7em}
.k{text-align:left;position:sticky;left:0;background:#fff;z-index:1;font-weight:600}
th.k{background:#eef1f4;z-index:2}
tr.selected .k{background:#ddf4ff}
td.sel{color:#0550ae;font-weight:600}
td.t{text-align:left}
td.err{background:repeating-linear-gradient(135deg,#fff8c5 0 6px,#fff 6px 12px);color:#6b4c00;cursor:help;text-align:left}
td[title]{cursor:help}
.chart{background:#fff;border:1px solid var(--line);border-radius:6px;margin:0 0 1rem;padding:.5rem}
.chart figcaption{font-weight:600;margin-bottom:.3rem}
.chart figcaption small{font-weight:400;color:var(--muted)}
.chart svg{width:100%;height:auto;display:block}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:1rem}
.grid .chart{margin:0}
svg text{font-size:11px;fill:var(--fg)}
svg .tick{fill:var(--muted)}
svg .grid{stroke:#eaeef2;stroke-width:1}
svg .axis{stroke:#8c959f;stroke-width:1}
svg .cumulative{fill:none;stroke:#cf222e;stroke-width:2}
svg .cut{stroke:#1f2328;stroke-width:1.5;stroke-dasharray:6 4}
svg .cut-label{font-weight:600}
svg text.item.selected{font-weight:700;fill:#0550ae}
svg .standard{stroke:#1f2328;stroke-width:1.5;stroke-dasharray:4 3}
svg .standard-label{font-weight:600}
.key{font-size:.85rem;color:var(--muted);margin:.3rem 0 0}
.sw{display:inline-block;width:.9rem;height:.9rem;vertical-align:-.1rem;margin:0 .2rem 0 .6rem;border-radius:2px}
.sw.line{height:0;border-top:2px solid #cf222e;vertical-align:.25rem}
.sw.dash{height:0;border-top:2px dashed #1f2328;vertical-align:.25rem}
dl.legend dt{font-weight:600;margin-top:1rem}
dl.legend dd{margin:.2rem 0 0 0;padding-left:.8rem;border-left:3px solid var(--line)}
dl.legend p{margin:.2rem 0}
.facts,.formula-kind{color:var(--muted);font-size:.9rem}
pre.formula{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.4rem .6rem;overflow-x:auto;margin:.2rem 0;white-space:pre-wrap;overflow-wrap:anywhere}
footer{color:var(--muted);font-size:.85rem;text-align:center;padding:2rem 1rem}
@media (max-width:640px){body{font-size:14px}.wrap,main{padding:0 .5rem}header.top h1{font-size:1.2rem}
th,td{padding:.25rem .4rem}table{font-size:.8rem}.grid{grid-template-columns:1fr}}
"#;

/// Sortable tables: a click (or Enter) on a header sorts by that column,
/// numbers by their exact value's `data-v`, empty cells last; then the page
/// marks itself ready (`data-ready="yes"` on `<html>`), or `data-js-error`
/// if a script error happened.
const SCRIPT: &str = r#"(function () {
  'use strict';
  var root = document.documentElement;
  window.addEventListener('error', function (e) {
    root.setAttribute('data-js-error', String(e.message || 'error'));
  });
  function key(cell, numeric) {
    var v = cell ? cell.getAttribute('data-v') : null;
    if (numeric) {
      if (v === null) { v = cell ? cell.textContent : ''; }
      var x = parseFloat(v);
      return isNaN(x) ? null : x;
    }
    var t = v === null ? (cell ? cell.textContent : '') : v;
    return t === '' ? null : t;
  }
  function sortBy(table, th, index) {
    var numeric = th.getAttribute('data-type') === 'num';
    var ascending = th.getAttribute('aria-sort') !== 'ascending';
    var heads = th.parentNode.cells;
    for (var h = 0; h < heads.length; h++) { heads[h].removeAttribute('aria-sort'); }
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var keyed = rows.map(function (row, i) { return [key(row.cells[index], numeric), i, row]; });
    keyed.sort(function (a, b) {
      var x = a[0], y = b[0];
      if (x === null || y === null) { return x === y ? a[1] - b[1] : (x === null ? 1 : -1); }
      var c = numeric ? (x < y ? -1 : (x > y ? 1 : 0)) : String(x).localeCompare(String(y), undefined, {numeric: true});
      return c === 0 ? a[1] - b[1] : (ascending ? c : -c);
    });
    var fragment = document.createDocumentFragment();
    keyed.forEach(function (k) { fragment.appendChild(k[2]); });
    body.appendChild(fragment);
  }
  var tables = document.querySelectorAll('table.sortable');
  Array.prototype.forEach.call(tables, function (table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      th.tabIndex = 0;
      th.setAttribute('role', 'button');
      th.addEventListener('click', function () { sortBy(table, th, index); });
      th.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(table, th, index); }
      });
    });
  });
  root.setAttribute('data-ready', 'yes');
})();
"#;

#[cfg(test)]
mod tests {
    use super::{esc, nice_step, text_on};

    #[test]
    fn text_stays_readable_on_band_colours() {
        assert_eq!(text_on((0x2e, 0x7d, 0x32)), "#ffffff");
        assert_eq!(text_on((0xc6, 0x28, 0x28)), "#ffffff");
        assert_eq!(text_on((0xf9, 0xa8, 0x25)), "#111111");
        assert_eq!(text_on((255, 255, 255)), "#111111");
    }

    #[test]
    fn axis_steps_are_round() {
        let d = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
        assert_eq!(nice_step(d("3.75")), d("5"));
        assert_eq!(nice_step(d("2")), d("2"));
        assert_eq!(nice_step(d("0.13")), d("0.2"));
        assert_eq!(nice_step(d("1234")), d("2000"));
        assert_eq!(nice_step(d("0")), d("1"));
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }
}
