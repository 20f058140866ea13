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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use rayon::prelude::*;
use rust_decimal::Decimal;

use crate::compile::set::CompiledRuleSet;
use crate::data::period::Chronology;
use crate::data::table::DataWarning;
use crate::evaluate::result::{ResultSet, RowKey};
use crate::pack::{Direction, Matrix, RulePack, SelectionRule, Standard, TieRule};

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

impl Variation {
    /// The change from `previous` to `current`, when both have a value
    /// (and their difference fits a decimal).
    #[must_use]
    pub fn between(previous: Option<Decimal>, current: Option<Decimal>) -> Option<Self> {
        let (previous, current) = (previous?, current?);
        let absolute = current.checked_sub(previous)?;
        let relative = if previous.is_zero() {
            None
        } else {
            absolute
                .checked_div(previous)
                .and_then(|r| r.checked_mul(Decimal::ONE_HUNDRED))
        };
        Some(Self {
            previous,
            absolute,
            relative,
        })
    }
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
///
/// It holds a figure per cell: for the reports read by people (table,
/// workbook, HTML), `explain`, `serve` and pack tests. The record formats
/// of `eval` use [`Slots`] and [`SlotStats`] directly, part by part, with
/// memory per slot instead of per cell.
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
        let mut slots = Slots::new(results);
        slots.add(results);
        let mut stats = slots.finish();
        let width = results.pack().indicators().len();
        let rows = results.rows().len();
        let mut variations = vec![None; rows * width];
        let mut standings = vec![None; rows * width];
        let mut rankings = vec![None; rows * width];
        let mut ranks = stats.ranks();
        for (row, key) in results.rows().iter().enumerate() {
            let previous = stats.previous_row(row);
            for indicator in 0..width {
                let at = row * width + indicator;
                let value = results.cell(row, indicator).value;
                if let Some(previous) = previous {
                    variations[at] =
                        Variation::between(results.cell(previous, indicator).value, value);
                }
                let rank = ranks.next(key, indicator, value);
                standings[at] = stats.peer_standing(key, indicator, value, rank);
            }
        }
        for matrix in results.pack().matrices() {
            for (row, ranking) in rankings
                .iter_mut()
                .skip(matrix.score)
                .step_by(width)
                .enumerate()
            {
                *ranking = stats.ranking(row, matrix.score);
            }
        }
        Self {
            variations,
            standings,
            rankings,
            cuts: std::mem::take(&mut stats.cuts),
            warnings: std::mem::take(&mut stats.warnings),
            width,
        }
    }

    /// Only the matrices' selections (no variation, no peer standing): what
    /// a summary of the selection needs, without the rest of the work.
    #[must_use]
    pub fn selections(results: &ResultSet) -> Vec<MatrixCut> {
        let mut slots = Slots::new(results);
        slots.matrices_only = true;
        slots.add(results);
        slots.finish().cuts
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
        let mut slots = Slots::new(results);
        slots.matrices_only = true;
        slots.add_rows(results.rows());
        slots.finish().warnings
    }
}

/// No period (or no entity) for a row in [`Slots`].
const NONE: u32 = u32::MAX;

/// One row as [`Slots`] remembers it for the chronology: 16 bytes.
#[derive(Debug, Clone, Copy)]
struct RowPlace {
    entity: u32,
    period: u32,
    line: u64,
}

/// A matrix's score cell as [`Slots`] remembers it.
#[derive(Debug, Clone)]
struct Item {
    row: usize,
    score: Decimal,
    /// The tie-breaking criterion's value (`TieRule::BreakBy` only).
    criterion: Option<Decimal>,
    /// The row's entity (`TieRule::BreakBy` only; empty otherwise).
    entity: String,
}

/// The first pass of an analysis over the parts of a result set, given in
/// input order (see [`crate::evaluate_file_with`]): what the figures of
/// every cell need from the rest of the data, gathered per slot instead of
/// per cell. A slot is a peer group × period × indicator (it keeps the
/// values of its cells, 16 bytes each: the only memory per cell) or a
/// matrix × period (its score cells). Per row it keeps 16 bytes for the
/// chronology (entity, period, line). [`Slots::finish`] then computes what
/// each cell's figures are read from.
#[derive(Debug)]
pub struct Slots {
    pack: Arc<RulePack>,
    matrices_only: bool,
    rows: usize,
    entities: HashMap<String, u32>,
    entity_names: Vec<String>,
    periods: HashMap<String, u32>,
    period_names: Vec<String>,
    places: Vec<RowPlace>,
    /// Peer slots by period (`""` for none) and group: an index into `values`.
    groups: HashMap<String, HashMap<String, usize>>,
    /// Per peer group × period, per indicator, the values.
    values: Vec<Vec<Vec<Decimal>>>,
    /// Per matrix, per period, its items in input order.
    items: Vec<BTreeMap<Option<String>, Vec<Item>>>,
}

impl Slots {
    /// Nothing gathered yet, for results of the pack of `results` (any part).
    #[must_use]
    pub fn new(results: &ResultSet) -> Self {
        Self::of_pack(results.pack.clone())
    }

    /// Nothing gathered yet, for results of `rules`.
    #[must_use]
    pub fn for_rules(rules: &CompiledRuleSet) -> Self {
        Self::of_pack(rules.pack.clone())
    }

    fn of_pack(pack: Arc<RulePack>) -> Self {
        Self {
            items: vec![BTreeMap::new(); pack.matrices().len()],
            pack,
            matrices_only: false,
            rows: 0,
            entities: HashMap::new(),
            entity_names: Vec::new(),
            periods: HashMap::new(),
            period_names: Vec::new(),
            places: Vec::new(),
            groups: HashMap::new(),
            values: Vec::new(),
        }
    }

    /// How many rows were added so far: the index the next part's first row has.
    #[must_use]
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Adds the next part of the results (rows in input order, after those added before).
    pub fn add(&mut self, part: &ResultSet) {
        let first = self.rows;
        self.add_rows(part.rows());
        let width = self.pack.indicators().len();
        for (index, key) in part.rows().iter().enumerate() {
            let row = first + index;
            for (matrix, items) in self.pack.matrices.iter().zip(&mut self.items) {
                let Some(score) = part.cell(index, matrix.score).value else {
                    continue;
                };
                let (criterion, entity) = match matrix.selection.ties {
                    TieRule::BreakBy(criterion) => {
                        (part.cell(index, criterion).value, key.entity.clone())
                    }
                    _ => (None, String::new()),
                };
                items.entry(key.period.clone()).or_default().push(Item {
                    row,
                    score,
                    criterion,
                    entity,
                });
            }
            if self.matrices_only {
                continue;
            }
            let Some(group) = &key.peer_group else {
                continue;
            };
            let period = key.period.as_deref().unwrap_or("");
            let by_group = match self.groups.get_mut(period) {
                Some(by_group) => by_group,
                None => self.groups.entry(period.to_owned()).or_default(),
            };
            let slot = match by_group.get(group.as_str()) {
                Some(&slot) => slot,
                None => {
                    self.values.push(vec![Vec::new(); width]);
                    by_group.insert(group.clone(), self.values.len() - 1);
                    self.values.len() - 1
                }
            };
            for (indicator, values) in self.values[slot].iter_mut().enumerate() {
                if let Some(value) = part.cell(index, indicator).value {
                    push_gently(values, value);
                }
            }
        }
    }

    /// Adds rows for the chronology only.
    fn add_rows(&mut self, rows: &[RowKey]) {
        self.rows += rows.len();
        for key in rows {
            let entity = intern(&mut self.entities, &mut self.entity_names, &key.entity);
            let period = key.period.as_deref().map_or(NONE, |period| {
                intern(&mut self.periods, &mut self.period_names, period)
            });
            self.places.push(RowPlace {
                entity,
                period,
                line: key.line,
            });
        }
    }

    /// The figures of every slot: chronology, peer statistics, selections.
    #[must_use]
    pub fn finish(self) -> SlotStats {
        let (previous, warnings) = self.previous_rows();
        let pack = &self.pack;
        // Each group × period × indicator on its own, on the rayon pool.
        let peers: Vec<Vec<PeerSlot>> = self
            .values
            .into_par_iter()
            .map(|by_indicator| {
                by_indicator
                    .into_iter()
                    .zip(pack.indicators())
                    .map(|(values, spec)| PeerSlot::of(values, spec.direction, spec.standard))
                    .collect()
            })
            .collect();
        let mut rankings = HashMap::new();
        let mut cuts = Vec::new();
        for (matrix, periods) in pack.matrices().iter().zip(self.items) {
            for (period, items) in periods {
                let (found, cut) = select(matrix, period, items);
                rankings.extend(found.into_iter().map(|(row, r)| ((row, matrix.score), r)));
                cuts.push(cut);
            }
        }
        SlotStats {
            groups: self.groups,
            peers,
            previous,
            rankings,
            cuts,
            warnings,
        }
    }

    /// Each row's previous row (the entity's latest row strictly earlier in
    /// time, when it is the only row of its period; [`NONE`] when there is
    /// none), and the warnings about the periods' order. Entities with a
    /// period that has no place in time get none.
    fn previous_rows(&self) -> (Vec<u32>, Vec<DataWarning>) {
        let chronology = Chronology::of(
            self.period_names.iter().map(String::as_str),
            self.pack.data_shape().period_format,
        );
        let places: Vec<Option<i64>> = self
            .period_names
            .iter()
            .map(|p| chronology.place(p))
            .collect();
        let mut previous = vec![NONE; self.places.len()];
        // Rows with a period, by entity, then time, then input order.
        let mut ordered: Vec<(u32, Option<i64>, u32)> = self
            .places
            .iter()
            .zip(0..)
            .filter(|(p, _)| p.period != NONE)
            .map(|(p, row)| (p.entity, places[p.period as usize], row))
            .collect();
        ordered.sort_unstable_by_key(|&(entity, place, row)| (entity, place.is_some(), place, row));
        let mut doubled: Vec<(&str, u32)> = Vec::new();
        for rows in ordered.chunk_by(|a, b| a.0 == b.0) {
            if rows.iter().any(|(_, place, _)| place.is_none()) {
                continue;
            }
            // Rows of one period are adjacent: walk the periods in time order.
            let mut before: Option<&[(u32, Option<i64>, u32)]> = None;
            let mut reported = false;
            for period in rows.chunk_by(|a, b| a.1 == b.1) {
                if let Some(before) = before {
                    if let [(_, _, previous_row)] = before {
                        for &(_, _, row) in period {
                            previous[row as usize] = *previous_row;
                        }
                    } else if !reported {
                        doubled.push((&self.entity_names[rows[0].0 as usize], before[0].2));
                        reported = true;
                    }
                }
                before = Some(period);
            }
        }
        let mut warnings = chronology.warnings;
        if let Some(&(entity, row)) = doubled.iter().min_by_key(|(entity, _)| *entity) {
            let place = self.places[row as usize];
            let more = match doubled.len() {
                1 => String::new(),
                n => format!(" (and {} more entities)", n - 1),
            };
            warnings.push(DataWarning {
                line: Some(place.line),
                kind: "ambiguous_previous_period",
                message: format!(
                    "entity `{entity}` has more than one row for period `{}`{more}: the variation of the period after it was not computed, because its previous value is ambiguous",
                    self.period_names[place.period as usize]
                ),
            });
        }
        (previous, warnings)
    }
}

/// Pushes `value`, growing `values` by a quarter when full instead of
/// doubling: the peer values are most of what [`Slots`] holds, and a
/// doubled vector is half empty.
fn push_gently(values: &mut Vec<Decimal>, value: Decimal) {
    if values.len() == values.capacity() {
        values.reserve_exact((values.len() / 4).max(16));
    }
    values.push(value);
}

/// `name`'s number in `names`, given a new one the first time.
fn intern(numbers: &mut HashMap<String, u32>, names: &mut Vec<String>, name: &str) -> u32 {
    if let Some(&number) = numbers.get(name) {
        return number;
    }
    let number = u32::try_from(names.len()).unwrap_or(NONE - 1);
    numbers.insert(name.to_owned(), number);
    names.push(name.to_owned());
    number
}

/// One peer group × period × indicator, done.
#[derive(Debug, Default)]
struct PeerSlot {
    /// Mean and median of the values; `None` when their sum overflows.
    figures: Option<(Decimal, Decimal)>,
    /// Each value's rank (1 + how many values are better, by [`badness`]),
    /// in the order the values were added: the writer reads them in that
    /// order again (see [`PeerRanks`]), one after the other, instead of
    /// searching thousands of sorted keys per cell, slot after slot, which
    /// missed the cache on every step.
    ranks: Vec<u32>,
}

/// Each key's rank among `keys` — 1 + how many keys are smaller, so equal
/// keys share a rank (1, 1, 3) — in the keys' order.
fn ranks_in_order(keys: &[Decimal]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..u32::try_from(keys.len()).unwrap_or(u32::MAX)).collect();
    let at = |i: u32| i as usize;
    let scale = keys.iter().map(|k| k.scale()).max().unwrap_or(0);
    // As integers of one scale when they all fit (the same order, compared
    // many times faster), else as decimals.
    let integers: Option<Vec<i128>> = keys.iter().map(|&k| integer_at(k, scale)).collect();
    let same: Box<dyn Fn(u32, u32) -> bool + '_> = match &integers {
        Some(integers) => {
            order.sort_unstable_by_key(|&i| integers[at(i)]);
            Box::new(move |a, b| integers[at(a)] == integers[at(b)])
        }
        None => {
            order.sort_unstable_by(|&a, &b| keys[at(a)].cmp(&keys[at(b)]));
            Box::new(move |a, b| keys[at(a)] == keys[at(b)])
        }
    };
    let mut ranks = vec![0; keys.len()];
    let mut rank = 0;
    for (position, &i) in order.iter().enumerate() {
        if position == 0 || !same(order[position - 1], i) {
            rank = u32::try_from(position + 1).unwrap_or(u32::MAX);
        }
        ranks[at(i)] = rank;
    }
    ranks
}

/// `value` × 10^`scale`, when `value` has at most `scale` places and it fits.
fn integer_at(value: Decimal, scale: u32) -> Option<i128> {
    let places = scale.checked_sub(value.scale())?;
    value.mantissa().checked_mul(10_i128.checked_pow(places)?)
}

impl PeerSlot {
    fn of(mut values: Vec<Decimal>, direction: Direction, standard: Option<Standard>) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        let badness: Vec<Decimal> = values
            .iter()
            .map(|&v| badness(v, direction, standard))
            .collect();
        let ranks = ranks_in_order(&badness);
        drop(badness);
        let scale = values.iter().map(|v| v.scale()).max().unwrap_or(0);
        if values.iter().all(|&v| integer_at(v, scale).is_some()) {
            values.sort_unstable_by_key(|&v| integer_at(v, scale));
        } else {
            values.sort_unstable();
        }
        Self {
            figures: mean_and_median(&values),
            ranks,
        }
    }
}

/// What [`Slots`] gathered, computed: each cell's figures are read from it
/// with the cell's row (its index among all the rows added), key and value.
#[derive(Debug, Default)]
pub struct SlotStats {
    groups: HashMap<String, HashMap<String, usize>>,
    peers: Vec<Vec<PeerSlot>>,
    previous: Vec<u32>,
    rankings: HashMap<(usize, usize), Ranking>,
    cuts: Vec<MatrixCut>,
    warnings: Vec<DataWarning>,
}

impl SlotStats {
    /// The row of the entity's previous period, if it has one (see the module docs).
    #[must_use]
    pub fn previous_row(&self, row: usize) -> Option<usize> {
        self.previous
            .get(row)
            .filter(|&&p| p != NONE)
            .map(|&p| p as usize)
    }

    /// A reader of the cells' peer ranks, for cells taken in the order
    /// they were added to the [`Slots`].
    #[must_use]
    pub fn ranks(&self) -> PeerRanks<'_> {
        PeerRanks {
            stats: self,
            next: self.peers.iter().map(|slot| vec![0; slot.len()]).collect(),
        }
    }

    /// The slot of the rows keyed `key` (peer group and period), if they have one.
    fn slot(&self, key: &RowKey) -> Option<usize> {
        let by_group = self.groups.get(key.period.as_deref().unwrap_or(""))?;
        by_group.get(key.peer_group.as_deref()?).copied()
    }

    /// The standing of a cell of the row keyed `key` with `value` for
    /// `indicator`, if the row has a peer group and the cell a value (and
    /// its differences from the mean and median are decimals); `rank` is
    /// what [`PeerRanks::next`] gave for the cell.
    #[must_use]
    pub fn peer_standing(
        &self,
        key: &RowKey,
        indicator: usize,
        value: Option<Decimal>,
        rank: u32,
    ) -> Option<PeerStanding> {
        let value = value?;
        let peers = self.peers.get(self.slot(key)?)?.get(indicator)?;
        let (mean, median) = peers.figures?;
        Some(PeerStanding {
            size: peers.ranks.len(),
            mean,
            median,
            // Past a decimal's range (values near ±7.9e28): no standing
            // rather than a wrong one or a panic.
            from_mean: value.checked_sub(mean)?,
            from_median: value.checked_sub(median)?,
            rank: rank as usize,
        })
    }

    /// The rank and selection of a matrix's score cell.
    #[must_use]
    pub fn ranking(&self, row: usize, indicator: usize) -> Option<Ranking> {
        self.rankings.get(&(row, indicator)).copied()
    }

    /// Each matrix's selection, period by period.
    #[must_use]
    pub fn cuts(&self) -> &[MatrixCut] {
        &self.cuts
    }

    /// Why some variations were not computed (see [`Analysis::warnings`]).
    #[must_use]
    pub fn warnings(&self) -> &[DataWarning] {
        &self.warnings
    }
}

/// Each cell's peer rank, read in the order the cells were added to the
/// [`Slots`] (rows in input order, indicators in pack order): every slot's
/// ranks are read one after the other.
#[derive(Debug)]
pub struct PeerRanks<'s> {
    stats: &'s SlotStats,
    /// Per slot and indicator, the next rank to read.
    next: Vec<Vec<usize>>,
}

impl PeerRanks<'_> {
    /// The rank of the next cell — of the row keyed `key`, for `indicator`,
    /// with `value` — or 0 when it has none (no value, no peer group).
    /// Every cell must be asked for, in the order they were added.
    pub fn next(&mut self, key: &RowKey, indicator: usize, value: Option<Decimal>) -> u32 {
        if value.is_none() {
            return 0;
        }
        let Some(slot) = self.stats.slot(key) else {
            return 0;
        };
        let (Some(peers), Some(next)) = (
            self.stats.peers.get(slot).and_then(|s| s.get(indicator)),
            self.next.get_mut(slot).and_then(|s| s.get_mut(indicator)),
        ) else {
            return 0;
        };
        let rank = peers.ranks.get(*next).copied().unwrap_or(0);
        *next += 1;
        rank
    }
}

/// A matrix's selection in `period` among `items` (its score cells in
/// input order): each item's row with its ranking, and the cut.
fn select(
    matrix: &Matrix,
    period: Option<String>,
    mut items: Vec<Item>,
) -> (Vec<(usize, Ranking)>, MatrixCut) {
    let selection = &matrix.selection;
    // Best first; equal scores keep input order until a tie rule says otherwise.
    let better = |a: Decimal, b: Decimal| if selection.descending { a > b } else { a < b };
    let order = |a: Decimal, b: Decimal| {
        if better(a, b) {
            std::cmp::Ordering::Less
        } else if better(b, a) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    };
    items.sort_by(|a, b| order(a.score, b.score));
    let n = items.len();
    // Items are sorted best first: ranks by position where each tie starts.
    let ranks: Vec<usize> = items
        .iter()
        .enumerate()
        .scan(0, |start, (i, item)| {
            if i > 0 && better(items[i - 1].score, item.score) {
                *start = i;
            }
            Some(1 + *start)
        })
        .collect();
    let rows_where = |keep: &dyn Fn(Decimal) -> bool| -> Vec<usize> {
        items
            .iter()
            .filter(|item| keep(item.score))
            .map(|item| item.row)
            .collect()
    };
    let (k, cut, chosen): (Option<usize>, Option<Decimal>, Vec<usize>) = match selection.rule {
        SelectionRule::AtLeast(threshold) => (
            None,
            Some(threshold),
            rows_where(&|s| !better(threshold, s)),
        ),
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
                let cut = items[k - 1].score;
                let at_least_cut = rows_where(&|s| !better(cut, s));
                let chosen = match &selection.ties {
                    TieRule::Include => at_least_cut,
                    TieRule::Exclude if at_least_cut.len() <= k => at_least_cut,
                    TieRule::Exclude => rows_where(&|s| better(s, cut)),
                    TieRule::BreakBy(_) => {
                        let mut ordered: Vec<&Item> = items.iter().collect();
                        ordered.sort_by(|a, b| {
                            order(a.score, b.score)
                                .then_with(|| b.criterion.cmp(&a.criterion))
                                .then_with(|| a.entity.cmp(&b.entity))
                        });
                        ordered.iter().take(k).map(|item| item.row).collect()
                    }
                };
                (Some(k), Some(cut), chosen)
            }
        }
    };
    let chosen_rows: BTreeSet<usize> = chosen.iter().copied().collect();
    let found = items
        .iter()
        .zip(&ranks)
        .map(|(item, &rank)| {
            (
                item.row,
                Ranking {
                    rank,
                    selected: chosen_rows.contains(&item.row),
                },
            )
        })
        .collect();
    let cut = MatrixCut {
        matrix: matrix.id.clone(),
        period,
        items: n,
        k,
        cut,
        selected: chosen.len(),
    };
    (found, cut)
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

/// Mean and median of `sorted` (not empty); `None` when the sum overflows.
fn mean_and_median(sorted: &[Decimal]) -> Option<(Decimal, Decimal)> {
    let n = Decimal::from(sorted.len());
    let sum = sorted
        .iter()
        .try_fold(Decimal::ZERO, |acc, v| acc.checked_add(*v))?;
    let mid = sorted.len() / 2;
    let median = if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        sorted[mid - 1].checked_add(sorted[mid])? / Decimal::TWO
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
    fn ranks_count_the_smaller_keys_as_integers_or_as_decimals() {
        let naive = |keys: &[Decimal]| -> Vec<u32> {
            keys.iter()
                .map(|k| 1 + u32::try_from(keys.iter().filter(|&o| o < k).count()).unwrap())
                .collect()
        };
        // One scale fits every key (27 places): compared as integers.
        let fits: Vec<Decimal> = [
            "1.5",
            "-2",
            "1.50",
            "0.000000000000000000000000001",
            "3",
            "-2.25",
            "1.5",
        ]
        .iter()
        .map(|v| d(v))
        .collect();
        assert_eq!(ranks_in_order(&fits), [4, 2, 4, 3, 7, 1, 4]);
        assert_eq!(ranks_in_order(&fits), naive(&fits));
        // Too wide for one scale: compared as decimals.
        let wide = [
            Decimal::MAX,
            d("0.0000000001"),
            -Decimal::MAX,
            d("0.0000000001"),
        ];
        assert_eq!(ranks_in_order(&wide), [4, 2, 1, 2]);
        // Every list of up to 5 keys from a few values, ties and the decimal path among them.
        let pool = [d("-1"), d("0"), d("0.0"), d("2.5"), d("2.50"), Decimal::MAX];
        for n in 0..=5_u32 {
            for code in 0..6_usize.pow(n) {
                let keys: Vec<Decimal> = (0..n).map(|i| pool[code / 6_usize.pow(i) % 6]).collect();
                assert_eq!(ranks_in_order(&keys), naive(&keys), "{keys:?}");
            }
        }
    }

    #[test]
    fn figures_past_a_decimals_range_are_none_not_a_panic() {
        // The sum overflows, and so would the middle two's.
        assert_eq!(mean_and_median(&[Decimal::MAX, Decimal::MAX]), None);
        assert_eq!(mean_and_median(&[-Decimal::MAX, -Decimal::MAX]), None);
        // Mean and median 0: every difference from them is a decimal.
        let slot = PeerSlot::of(
            vec![Decimal::MAX, -Decimal::MAX, Decimal::ZERO],
            Direction::HigherIsBetter,
            None,
        );
        assert_eq!(slot.figures, Some((Decimal::ZERO, Decimal::ZERO)));
        assert_eq!(slot.ranks, [1, 3, 2]);
    }

    #[test]
    fn median_of_an_even_count_is_the_mean_of_the_middle_two() {
        let values: Vec<Decimal> = ["1", "2", "3", "4"].iter().map(|v| d(v)).collect();
        assert_eq!(mean_and_median(&values), Some((d("2.5"), d("2.5"))));
        assert_eq!(
            mean_and_median(&[d("1"), d("3"), d("4")]),
            Some((d("8") / d("3"), d("3")))
        );
    }
}
