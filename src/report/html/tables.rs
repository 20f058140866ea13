//! The page's tables: the summary of cells per band, one results table
//! per peer group (else per period, else one), and the roll-ups of
//! indicators with a grain.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use rust_decimal::Decimal;
use semaforo_core::{Indicator, round_for_display};

use super::super::{exact, selection_summary};
use super::{Page, esc};

impl Page<'_, '_> {
    pub(super) fn summary(&self, out: &mut dyn Write) -> io::Result<()> {
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
    pub(super) fn tables(&self, out: &mut dyn Write) -> io::Result<()> {
        let sheet = self.sheet;
        let rows = sheet.results.rows();
        let (grouping, mut groups): (&str, Vec<(String, Vec<usize>)>) = if sheet.columns.peers {
            ("Peer group", Vec::new())
        } else if sheet.columns.period {
            ("Period", Vec::new())
        } else {
            ("", vec![(String::new(), (0..rows.len()).collect())])
        };
        if !grouping.is_empty() {
            let mut index: BTreeMap<&str, usize> = BTreeMap::new();
            for (row, key) in rows.iter().enumerate() {
                let name = if sheet.columns.peers {
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
        if sheet.columns.period {
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
            if sheet.columns.period {
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

    /// The results of indicators with a grain, one line per group.
    pub(super) fn rollups(&self, out: &mut dyn Write) -> io::Result<()> {
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
            if self.sheet.columns.period {
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
            if self.sheet.columns.period {
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
}
