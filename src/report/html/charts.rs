//! The page's charts, inline SVG: each prioritisation matrix's Pareto
//! chart and the distribution of each indicator across institutions.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use semaforo_core::{Indicator, MatrixCut, Standard};

use super::super::exact;
use super::{Page, esc};

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

impl Page<'_, '_> {
    /// The fill of a band level for a chart (grey without one).
    fn band_fill(&self, indicator: &Indicator, band: Option<usize>) -> &str {
        self.band_class(indicator, band)
            .and_then(|c| self.colours.get(c))
            .map_or(NO_BAND, |(fill, _)| fill.as_str())
    }

    /// Each matrix's Pareto chart, period by period (empty without matrices).
    pub(super) fn selections(&self) -> String {
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
    pub(super) fn charts(&self) -> String {
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

/// A decimal as a chart coordinate (never shown as a figure).
fn to_f64(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(0.0)
}

/// A count as a chart coordinate.
fn usize_f64(count: usize) -> f64 {
    u32::try_from(count).map_or(f64::from(u32::MAX), f64::from)
}

#[cfg(test)]
mod tests {
    use super::nice_step;

    #[test]
    fn axis_steps_are_round() {
        let d = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
        assert_eq!(nice_step(d("3.75")), d("5"));
        assert_eq!(nice_step(d("2")), d("2"));
        assert_eq!(nice_step(d("0.13")), d("0.2"));
        assert_eq!(nice_step(d("1234")), d("2000"));
        assert_eq!(nice_step(d("0")), d("1"));
    }
}
