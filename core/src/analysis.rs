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
        for (row, key) in results.rows().iter().enumerate() {
            let previous = stats.previous_row(row);
            for indicator in 0..width {
                let at = row * width + indicator;
                let value = results.cell(row, indicator).value;
                if let Some(previous) = previous {
                    variations[at] =
                        Variation::between(results.cell(previous, indicator).value, value);
                }
                standings[at] = stats.peer_standing(key, indicator, value);
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
            directions: pack
                .indicators()
                .iter()
                .map(|i| (i.direction, i.standard))
                .collect(),
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
    /// Each value's [`badness`], sorted: a value's rank is 1 + how many are smaller.
    keys: Keys,
}

/// Sorted decimals, as integers of one scale when they all fit an `i128`
/// (the same order, compared many times faster), else as they are.
#[derive(Debug)]
enum Keys {
    /// Each decimal × 10^`scale`.
    Integers {
        scale: u32,
        keys: Vec<Wide>,
    },
    Decimals(Vec<Decimal>),
}

/// An `i128` as four 32-bit words, high (signed) first: ordered as the
/// `i128`, and of a decimal's size and alignment, so that a vector of
/// decimals becomes one of these in place, without a second allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Wide(i32, u32, u32, u32);

impl Wide {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "each word takes its 32 bits"
    )]
    fn of(n: i128) -> Self {
        Self(
            (n >> 96) as i32,
            (n >> 64) as u32,
            (n >> 32) as u32,
            n as u32,
        )
    }

    fn get(self) -> i128 {
        (i128::from(self.0) << 96)
            | (i128::from(self.1) << 64)
            | (i128::from(self.2) << 32)
            | i128::from(self.3)
    }
}

impl Default for Keys {
    fn default() -> Self {
        Self::Decimals(Vec::new())
    }
}

impl Keys {
    /// `values`, sorted.
    fn of(mut values: Vec<Decimal>) -> Self {
        let scale = values.iter().map(|v| v.scale()).max().unwrap_or(0);
        if values.iter().all(|&v| integer_at(v, scale).is_some()) {
            // In place: a `Wide` has a decimal's size and alignment.
            let mut keys: Vec<Wide> = values
                .into_iter()
                .map(|v| Wide::of(integer_at(v, scale).unwrap_or_default()))
                .collect();
            keys.sort_unstable();
            Self::Integers { scale, keys }
        } else {
            values.sort_unstable();
            Self::Decimals(values)
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Integers { keys, .. } => keys.len(),
            Self::Decimals(keys) => keys.len(),
        }
    }

    /// How many keys are smaller than `key`.
    fn below(&self, key: Decimal) -> usize {
        match self {
            Self::Integers { scale, keys } => match integer_at(key, *scale) {
                Some(key) => {
                    let key = Wide::of(key);
                    keys.partition_point(|k| *k < key)
                }
                None => keys.partition_point(|&k| less(k.get(), *scale, key)),
            },
            Self::Decimals(keys) => keys.partition_point(|k| *k < key),
        }
    }
}

/// Whether `k` / 10^`scale` < `key`, exactly.
fn less(k: i128, scale: u32, key: Decimal) -> bool {
    if let Some(places) = key.scale().checked_sub(scale) {
        // k × 10^places against the key's mantissa; past i128, k's sign decides.
        return match 10_i128.checked_pow(places).and_then(|p| k.checked_mul(p)) {
            Some(k) => k < key.mantissa(),
            None => k < 0,
        };
    }
    match integer_at(key, scale) {
        Some(key) => k < key,
        // The key is past i128 at this scale: its sign decides.
        None => key.is_sign_positive(),
    }
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
        let scale = values.iter().map(|v| v.scale()).max().unwrap_or(0);
        if values.iter().all(|&v| integer_at(v, scale).is_some()) {
            values.sort_unstable_by_key(|&v| integer_at(v, scale));
        } else {
            values.sort_unstable();
        }
        let figures = mean_and_median(&values);
        for value in &mut values {
            *value = badness(*value, direction, standard);
        }
        Self {
            figures,
            keys: Keys::of(values),
        }
    }
}

/// What [`Slots`] gathered, computed: each cell's figures are read from it
/// with the cell's row (its index among all the rows added), key and value.
#[derive(Debug, Default)]
pub struct SlotStats {
    /// Each indicator's direction and standard: what its ranks follow.
    directions: Vec<(Direction, Option<Standard>)>,
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

    /// The standing of a cell of the row keyed `key` with `value` for
    /// `indicator`, if the row has a peer group and the cell a value.
    #[must_use]
    pub fn peer_standing(
        &self,
        key: &RowKey,
        indicator: usize,
        value: Option<Decimal>,
    ) -> Option<PeerStanding> {
        let value = value?;
        let slot = *self
            .groups
            .get(key.period.as_deref().unwrap_or(""))?
            .get(key.peer_group.as_deref()?)?;
        let peers = self.peers.get(slot)?.get(indicator)?;
        let (mean, median) = peers.figures?;
        let (direction, standard) = *self.directions.get(indicator)?;
        Some(PeerStanding {
            size: peers.keys.len(),
            mean,
            median,
            from_mean: value - mean,
            from_median: value - median,
            rank: 1 + peers.keys.below(badness(value, direction, standard)),
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
    fn keys_as_integers_order_and_count_as_decimals() {
        let values: Vec<Decimal> = [
            "1.5",
            "-2",
            "1.50",
            "0.000000000000000000000000001",
            "3",
            "-2.25",
        ]
        .iter()
        .map(|v| d(v))
        .collect();
        let keys = Keys::of(values.clone());
        assert!(matches!(keys, Keys::Integers { scale: 27, .. }));
        let huge = Decimal::MAX;
        let mut probes = values.clone();
        probes.extend([
            d("1.4999999999999999999999999999"),
            d("0"),
            huge,
            -huge,
            d("1e-28"),
        ]);
        for probe in probes {
            let below = values.iter().filter(|&&v| v < probe).count();
            assert_eq!(keys.below(probe), below, "{probe}");
        }
        // Too wide for one scale: kept as decimals.
        for n in [
            0,
            1,
            -1,
            i128::MAX,
            i128::MIN,
            1 << 96,
            -(1 << 96),
            12_345 << 40,
        ] {
            assert_eq!(Wide::of(n).get(), n);
            assert_eq!(Wide::of(n).cmp(&Wide::of(1)), n.cmp(&1), "{n}");
            assert_eq!(Wide::of(n).cmp(&Wide::of(-7)), n.cmp(&-7), "{n}");
        }
        let wide = Keys::of(vec![huge, d("0.0000000001")]);
        assert!(matches!(wide, Keys::Decimals(_)));
        assert_eq!(wide.below(d("1")), 1);
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
