//! Reading results across rows: each cell's variation from the entity's
//! previous period, and its standing in its peer group (mean, median,
//! difference from them, rank).
//!
//! Periods of an entity are ordered in time (see [`crate::PeriodForm`]:
//! `12/2008` before `1/2009`), as the pack's `[data] period_format` says;
//! when they cannot be (periods in no known form, or in several), no
//! variation is computed and [`Analysis::warnings`] says why. The previous
//! period is the latest earlier one the entity has; when the entity has two
//! rows for it, the variation is not computed (which would it be from?).
//! Ranks follow the indicator's direction (1 = best) with ties sharing a
//! rank (1, 1, 3); cells without a value are not ranked and do not count in
//! the group's figures.

use std::collections::BTreeMap;

use rayon::prelude::*;
use rust_decimal::Decimal;

use crate::data::period::Chronology;
use crate::data::table::DataWarning;
use crate::evaluate::result::ResultSet;
use crate::pack::{Direction, Matrix, SelectionRule, Standard, TieRule};

/// A cell's change from the entity's previous period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variation {
    /// The value in the previous period.
    pub previous: Decimal,
    /// `current − previous` (percentage points for percentages).
    pub absolute: Decimal,
    /// `(current − previous) / previous × 100` over signed values; `None` when `previous` is 0.
    pub relative: Option<Decimal>,
}

/// A cell's standing among the entities of its peer group in the same period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerStanding {
    /// Entities of the group with a value for this indicator and period.
    pub size: usize,
    /// Mean of their values.
    pub mean: Decimal,
    /// Median of their values (mean of the two middle ones for an even count).
    pub median: Decimal,
    /// `value − mean`.
    pub from_mean: Decimal,
    /// `value − median`.
    pub from_median: Decimal,
    /// 1 for the best value of the group, by the indicator's direction.
    pub rank: usize,
}

/// A matrix's selection in one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixCut {
    /// The matrix.
    pub matrix: String,
    /// The period (`None` when the data has none).
    pub period: Option<String>,
    /// Items with a score.
    pub items: usize,
    /// How many the rule asks for (`None` for a threshold).
    pub k: Option<usize>,
    /// The score at the cut (the k-th item's, or the threshold).
    pub cut: Option<Decimal>,
    /// How many were selected.
    pub selected: usize,
}

/// A score cell's place in its matrix's selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ranking {
    /// 1 for the highest priority; tied scores share a rank.
    pub rank: usize,
    /// Whether the selection took it.
    pub selected: bool,
}

/// Variation, peer standing and matrix selection of every cell, indexed like the result set.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    variations: Vec<Option<Variation>>,
    standings: Vec<Option<PeerStanding>>,
    rankings: Vec<Option<Ranking>>,
    cuts: Vec<MatrixCut>,
    warnings: Vec<DataWarning>,
    width: usize,
}

impl Analysis {
    /// Computes both for `results`.
    ///
    /// ```
    /// use semaforo_core::{compile, evaluate, Analysis, RulePack, SourceFile, Table};
    /// let pack = RulePack::from_sources(SourceFile::new("pack.toml", r#"
    /// [pack]
    /// id = "peers"
    /// version = "1"
    /// [data]
    /// period = "period"
    /// dimensions = ["group"]
    /// peer_group = "group"
    /// [fields]
    /// x = "x"
    /// [[indicator]]
    /// id = "x2"
    /// formula = "x * 2"
    /// "#), vec![]).unwrap();
    /// let rules = compile(pack, &[]).unwrap();
    /// let csv = "entity,period,group,x\nA,2024-01,g,1\nA,2024-02,g,3\nB,2024-02,g,2\n";
    /// let table = Table::from_csv_reader(csv.as_bytes(), "inline", rules.pack().data_shape()).unwrap();
    /// let results = evaluate(&rules, &table);
    /// let analysis = Analysis::of(&results);
    /// let variation = analysis.variation(1, 0).unwrap();
    /// assert_eq!((variation.previous, variation.absolute), (2.into(), 4.into()));
    /// assert_eq!(analysis.peer_standing(1, 0).unwrap().rank, 1); // A's 6 beats B's 4
    /// ```
    #[must_use]
    pub fn of(results: &ResultSet) -> Self {
        let width = results.pack().indicators().len();
        let mut analysis = Self {
            variations: vec![None; results.rows().len() * width],
            standings: vec![None; results.rows().len() * width],
            rankings: vec![None; results.rows().len() * width],
            cuts: Vec::new(),
            warnings: Vec::new(),
            width,
        };
        analysis.variations(results);
        analysis.standings(results);
        for matrix in results.pack().matrices() {
            analysis.select(results, matrix);
        }
        analysis
    }

    /// Only the matrices' selections (no variation, no peer standing): what
    /// a summary of the selection needs, without the rest of the work.
    #[must_use]
    pub fn selections(results: &ResultSet) -> Vec<MatrixCut> {
        let width = results.pack().indicators().len();
        let mut analysis = Self {
            rankings: vec![None; results.rows().len() * width],
            width,
            ..Self::default()
        };
        for matrix in results.pack().matrices() {
            analysis.select(results, matrix);
        }
        analysis.cuts
    }

    /// The rank and selection of a matrix's score cell.
    #[must_use]
    pub fn ranking(&self, row: usize, indicator: usize) -> Option<&Ranking> {
        self.rankings.get(row * self.width + indicator)?.as_ref()
    }

    /// Each matrix's selection, period by period.
    #[must_use]
    pub fn cuts(&self) -> &[MatrixCut] {
        &self.cuts
    }

    fn select(&mut self, results: &ResultSet, matrix: &Matrix) {
        let mut periods: BTreeMap<Option<&str>, Vec<(usize, Decimal)>> = BTreeMap::new();
        for (row, key) in results.rows().iter().enumerate() {
            if let Some(score) = results.cell(row, matrix.score).value {
                periods
                    .entry(key.period.as_deref())
                    .or_default()
                    .push((row, score));
            }
        }
        let selection = &matrix.selection;
        for (period, mut items) in periods {
            // Best first; equal scores keep input order until a tie rule says otherwise.
            let better = |a: Decimal, b: Decimal| if selection.descending { a > b } else { a < b };
            items.sort_by(|a, b| {
                if better(a.1, b.1) {
                    std::cmp::Ordering::Less
                } else if better(b.1, a.1) {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            });
            let n = items.len();
            // Items are sorted best first: ranks by position where each tie starts.
            let ranks: Vec<usize> = items
                .iter()
                .enumerate()
                .scan(0, |start, (i, (_, score))| {
                    if i > 0 && better(items[i - 1].1, *score) {
                        *start = i;
                    }
                    Some(1 + *start)
                })
                .collect();
            let (k, cut, chosen): (Option<usize>, Option<Decimal>, Vec<usize>) = match selection
                .rule
            {
                SelectionRule::AtLeast(threshold) => {
                    let chosen = items
                        .iter()
                        .filter(|(_, s)| !better(threshold, *s))
                        .map(|(r, _)| *r)
                        .collect();
                    (None, Some(threshold), chosen)
                }
                SelectionRule::TopPercent(_) | SelectionRule::Top(_) => {
                    let k = match selection.rule {
                        SelectionRule::TopPercent(p) => usize::try_from(
                            (p * Decimal::from(n) / Decimal::ONE_HUNDRED)
                                .ceil()
                                .mantissa(),
                        )
                        .unwrap_or(n),
                        SelectionRule::Top(t) => usize::try_from(t).unwrap_or(n),
                        SelectionRule::AtLeast(_) => unreachable!("handled above"),
                    }
                    .min(n);
                    if k == 0 {
                        (Some(0), None, Vec::new())
                    } else {
                        let cut = items[k - 1].1;
                        let at_least_cut: Vec<usize> = items
                            .iter()
                            .filter(|(_, s)| !better(cut, *s))
                            .map(|(r, _)| *r)
                            .collect();
                        let chosen = match &selection.ties {
                            TieRule::Include => at_least_cut,
                            TieRule::Exclude if at_least_cut.len() <= k => at_least_cut,
                            TieRule::Exclude => items
                                .iter()
                                .filter(|(_, s)| better(*s, cut))
                                .map(|(r, _)| *r)
                                .collect(),
                            TieRule::BreakBy(criterion) => {
                                let mut ordered = items.clone();
                                ordered.sort_by(|a, b| {
                                    if better(a.1, b.1) {
                                        return std::cmp::Ordering::Less;
                                    }
                                    if better(b.1, a.1) {
                                        return std::cmp::Ordering::Greater;
                                    }
                                    let (ca, cb) = (
                                        results.cell(a.0, *criterion).value,
                                        results.cell(b.0, *criterion).value,
                                    );
                                    cb.cmp(&ca).then_with(|| {
                                        results.rows()[a.0].entity.cmp(&results.rows()[b.0].entity)
                                    })
                                });
                                ordered.iter().take(k).map(|(r, _)| *r).collect()
                            }
                        };
                        (Some(k), Some(cut), chosen)
                    }
                }
            };
            let chosen_rows: std::collections::BTreeSet<usize> = chosen.iter().copied().collect();
            for (&(row, _), &rank) in items.iter().zip(&ranks) {
                self.rankings[row * self.width + matrix.score] = Some(Ranking {
                    rank,
                    selected: chosen_rows.contains(&row),
                });
            }
            self.cuts.push(MatrixCut {
                matrix: matrix.id.clone(),
                period: period.map(str::to_owned),
                items: n,
                k,
                cut,
                selected: chosen.len(),
            });
        }
    }

    /// The variation of a cell, if the entity has a previous period with a value.
    #[must_use]
    pub fn variation(&self, row: usize, indicator: usize) -> Option<&Variation> {
        self.variations.get(row * self.width + indicator)?.as_ref()
    }

    /// The peer standing of a cell, if the pack has peer groups and the cell a value.
    #[must_use]
    pub fn peer_standing(&self, row: usize, indicator: usize) -> Option<&PeerStanding> {
        self.standings.get(row * self.width + indicator)?.as_ref()
    }

    /// Why some variations were not computed (periods that cannot be put in
    /// time order, an entity with two rows for one period).
    #[must_use]
    pub fn warnings(&self) -> &[DataWarning] {
        &self.warnings
    }

    /// The warnings [`Analysis::of`] would give, without the rest of the work.
    #[must_use]
    pub fn period_warnings(results: &ResultSet) -> Vec<DataWarning> {
        previous_rows(results).1
    }

    fn variations(&mut self, results: &ResultSet) {
        let (pairs, warnings) = previous_rows(results);
        self.warnings = warnings;
        for (row, previous_row) in pairs {
            for indicator in 0..self.width {
                let (Some(previous), Some(current)) = (
                    results.cell(previous_row, indicator).value,
                    results.cell(row, indicator).value,
                ) else {
                    continue;
                };
                let Some(absolute) = current.checked_sub(previous) else {
                    continue;
                };
                let relative = if previous.is_zero() {
                    None
                } else {
                    absolute
                        .checked_div(previous)
                        .and_then(|r| r.checked_mul(Decimal::ONE_HUNDRED))
                };
                self.variations[row * self.width + indicator] = Some(Variation {
                    previous,
                    absolute,
                    relative,
                });
            }
        }
    }

    fn standings(&mut self, results: &ResultSet) {
        let mut groups: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
        for (row, key) in results.rows().iter().enumerate() {
            if let Some(group) = &key.peer_group {
                groups
                    .entry((key.period.as_deref().unwrap_or(""), group.as_str()))
                    .or_default()
                    .push(row);
            }
        }
        let indicators = results.pack().indicators().len();
        let work: Vec<(&[usize], usize)> = groups
            .values()
            .flat_map(|rows| (0..indicators).map(move |indicator| (rows.as_slice(), indicator)))
            .collect();
        // Each group × indicator on its own, on the rayon pool.
        let standings: Vec<Vec<(usize, PeerStanding)>> = work
            .into_par_iter()
            .map(|(rows, indicator)| peer_standings(results, rows, indicator))
            .collect();
        for (row, standing, indicator) in standings
            .into_iter()
            .zip(groups.values().flat_map(|_| 0..indicators))
            .flat_map(|(found, indicator)| found.into_iter().map(move |(r, s)| (r, s, indicator)))
        {
            self.standings[row * self.width + indicator] = Some(standing);
        }
    }
}

/// Each row with a previous period, and that period's row: the entity's
/// latest row strictly earlier in time, when it is the only row of its period.
/// Entities with a period that has no place in time get none.
fn previous_rows(results: &ResultSet) -> (Vec<(usize, usize)>, Vec<DataWarning>) {
    let chronology = Chronology::of(
        results.rows().iter().filter_map(|k| k.period.as_deref()),
        results.pack().data_shape().period_format,
    );
    let mut by_entity: BTreeMap<&str, Vec<(Option<i64>, usize)>> = BTreeMap::new();
    for (row, key) in results.rows().iter().enumerate() {
        if let Some(period) = &key.period {
            by_entity
                .entry(key.entity.as_str())
                .or_default()
                .push((chronology.place(period), row));
        }
    }
    let mut pairs = Vec::new();
    let mut doubled: Vec<(&str, usize)> = Vec::new();
    for (entity, mut rows) in by_entity {
        if rows.iter().any(|(place, _)| place.is_none()) {
            continue;
        }
        rows.sort_unstable();
        // Rows of one period are adjacent: walk the periods in time order.
        let mut previous: Option<&[(Option<i64>, usize)]> = None;
        let mut reported = false;
        for period in rows.chunk_by(|a, b| a.0 == b.0) {
            if let Some(before) = previous {
                if let [(_, previous_row)] = before {
                    pairs.extend(period.iter().map(|&(_, row)| (row, *previous_row)));
                } else if !reported {
                    doubled.push((entity, before[0].1));
                    reported = true;
                }
            }
            previous = Some(period);
        }
    }
    let mut warnings = chronology.warnings;
    if let Some(&(entity, row)) = doubled.first() {
        let key = &results.rows()[row];
        let more = match doubled.len() {
            1 => String::new(),
            n => format!(" (and {} more entities)", n - 1),
        };
        warnings.push(DataWarning {
            line: Some(key.line),
            kind: "ambiguous_previous_period",
            message: format!(
                "entity `{entity}` has more than one row for period `{}`{more}: the variation of the period after it was not computed, because its previous value is ambiguous",
                key.period.as_deref().unwrap_or_default()
            ),
        });
    }
    (pairs, warnings)
}

/// The standing of each of `rows` with a value of `indicator` among them.
fn peer_standings(
    results: &ResultSet,
    rows: &[usize],
    indicator: usize,
) -> Vec<(usize, PeerStanding)> {
    let spec = &results.pack().indicators()[indicator];
    let values: Vec<(usize, Decimal)> = rows
        .iter()
        .filter_map(|&row| Some((row, results.cell(row, indicator).value?)))
        .collect();
    if values.is_empty() {
        return Vec::new();
    }
    let Some((mean, median)) = mean_and_median(&values) else {
        return Vec::new();
    };
    // Sorted best first, each key computed once: a value's rank is 1 + the
    // position where its tie starts.
    let mut ranked: Vec<(Decimal, usize, Decimal)> = values
        .iter()
        .map(|&(row, value)| (badness(value, spec.direction, spec.standard), row, value))
        .collect();
    ranked.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut tie_start = 0;
    let mut out = Vec::with_capacity(ranked.len());
    for (i, &(key, row, value)) in ranked.iter().enumerate() {
        if i > 0 && ranked[i - 1].0 < key {
            tie_start = i;
        }
        out.push((
            row,
            PeerStanding {
                size: ranked.len(),
                mean,
                median,
                from_mean: value - mean,
                from_median: value - median,
                rank: 1 + tie_start,
            },
        ));
    }
    out
}

/// Sort key: smaller is better, by direction.
fn badness(value: Decimal, direction: Direction, standard: Option<Standard>) -> Decimal {
    match (direction, standard) {
        (Direction::LowerIsBetter, _) => value,
        (Direction::WithinRange, Some(Standard::Range { min, max })) => {
            if value < min {
                min - value
            } else if value > max {
                value - max
            } else {
                Decimal::ZERO
            }
        }
        _ => -value,
    }
}

fn mean_and_median(values: &[(usize, Decimal)]) -> Option<(Decimal, Decimal)> {
    let mut sorted: Vec<Decimal> = values.iter().map(|&(_, v)| v).collect();
    sorted.sort_unstable();
    let n = Decimal::from(sorted.len());
    let sum = sorted
        .iter()
        .try_fold(Decimal::ZERO, |acc, v| acc.checked_add(*v))?;
    let mid = sorted.len() / 2;
    let median = if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / Decimal::TWO
    };
    Some((sum.checked_div(n)?, median))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn ranks_follow_direction_and_ties_share() {
        let values = [d("2.87"), d("4.33"), d("2.87"), d("1.5")];
        let mut lower: Vec<Decimal> = values
            .iter()
            .map(|&v| badness(v, Direction::LowerIsBetter, None))
            .collect();
        lower.sort_unstable();
        assert_eq!(lower[0], d("1.5"));
        assert!(
            badness(d("130.27"), Direction::HigherIsBetter, None)
                < badness(d("124.6"), Direction::HigherIsBetter, None)
        );
        let range = Some(Standard::Range {
            min: d("10"),
            max: d("20"),
        });
        assert_eq!(
            badness(d("15"), Direction::WithinRange, range),
            Decimal::ZERO
        );
        assert_eq!(badness(d("23"), Direction::WithinRange, range), d("3"));
    }

    #[test]
    fn median_of_an_even_count_is_the_mean_of_the_middle_two() {
        let values: Vec<(usize, Decimal)> = ["4", "1", "3", "2"]
            .iter()
            .enumerate()
            .map(|(i, v)| (i, d(v)))
            .collect();
        assert_eq!(mean_and_median(&values), Some((d("2.5"), d("2.5"))));
        assert_eq!(
            mean_and_median(&values[..3]),
            Some((d("8") / d("3"), d("3")))
        );
    }
}
