//! Results: for every input row × indicator, a value with its assessment or
//! a precise error. Nothing is dropped: a result set has exactly one cell per
//! row and indicator.

use std::fmt;
use std::sync::Arc;

use rust_decimal::Decimal;

use crate::pack::{PackIdentity, RulePack};
use crate::source::Location;

/// Which sandbox limit a formula hit.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitKind {
    /// `max_operations` (e.g. `loop {}`).
    Operations,
    /// `max_call_levels` (e.g. runaway recursion).
    CallLevels,
    /// A string, array or map grew past its limit.
    DataSize(String),
    /// The cell ran longer than `max_cell_time_ms` (this many milliseconds).
    Time(u64),
    /// The evaluation was cancelled (see [`crate::Cancel`]) before or while
    /// this cell was computed.
    Cancelled,
    /// Recursion with deeply nested expressions at every level came close
    /// to the end of the native stack.
    Stack,
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Operations => f.write_str("too many operations (limits.max_operations)"),
            Self::CallLevels => f.write_str("calls nested too deep (limits.max_call_levels)"),
            Self::DataSize(what) => write!(f, "{what} too large"),
            Self::Time(ms) => write!(f, "ran longer than {ms} ms (limits.max_cell_time_ms)"),
            Self::Cancelled => f.write_str("the evaluation was cancelled"),
            Self::Stack => f.write_str(
                "nested too deep for the stack: expressions nested deeply inside recursive calls \
                 (lower limits.max_call_levels, or nest less)",
            ),
        }
    }
}

/// Why a cell has no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CellError {
    /// An input field is empty for this row.
    #[error("missing value of field `{field}` for {row}{detail}")]
    MissingValue {
        /// The field.
        field: String,
        /// Entity (and period) of the row.
        row: String,
        /// Extra context, e.g. that the row is short.
        detail: String,
    },
    /// An input cell holds text that is not a decimal.
    #[error(
        "field `{field}` for {row}: `{text}` is not a decimal number ({source_name}:{line}:{column})"
    )]
    InvalidValue {
        /// The field.
        field: String,
        /// Entity (and period) of the row.
        row: String,
        /// The cell as written.
        text: String,
        /// The data file.
        source_name: String,
        /// 1-based line in the data file.
        line: u64,
        /// 1-based column in the data file.
        column: usize,
    },
    /// A data reader could not produce an input for this row.
    #[error("{field} for {row}: {reason}")]
    InputUnavailable {
        /// The input, e.g. `saldo("1411")`.
        field: String,
        /// Entity (and period) of the row.
        row: String,
        /// Why, e.g. that the account has no balance.
        reason: String,
    },
    /// Rows of a group gave an aggregate no value.
    #[error("{aggregate}: {failed} of {rows} rows have no value; first: {first}")]
    AggregateInput {
        /// The aggregate, e.g. `mean(cumplimiento)`.
        aggregate: String,
        /// Rows without a value.
        failed: usize,
        /// Rows in the group.
        rows: usize,
        /// The first of them, with its error.
        first: String,
    },
    /// The data has no column for a field the formula reads.
    #[error("field `{field}` reads column `{column}`, which is not in the data")]
    ColumnAbsent {
        /// The field.
        field: String,
        /// The header it expects.
        column: String,
    },
    /// An indicator this formula reads has no value for the row.
    #[error("depends on `{indicator}`, which has no value here")]
    DependencyFailed {
        /// The indicator read.
        indicator: String,
    },
    /// A division by zero: the ratio is not applicable.
    #[error("division by zero{}: {detail}", at_suffix(.at))]
    DivisionByZero {
        /// What was divided.
        detail: String,
        /// Where in the pack.
        at: Option<Location>,
    },
    /// A result too large or too precise for a decimal.
    #[error("arithmetic overflow{}: {detail}", at_suffix(.at))]
    Overflow {
        /// The operation.
        detail: String,
        /// Where in the pack.
        at: Option<Location>,
    },
    /// A math function or operator called outside its domain, e.g.
    /// `sqrt(-1)`, `ln(0)`, a negative number to a fractional power.
    #[error("invalid argument{}: {detail}", at_suffix(.at))]
    DomainError {
        /// The function or operator, e.g. `sqrt`.
        function: String,
        /// The call and why it has no value.
        detail: String,
        /// Where in the pack.
        at: Option<Location>,
    },
    /// The formula hit a sandbox limit.
    #[error("formula stopped{}: {limit}", at_suffix(.at))]
    LimitExceeded {
        /// Which limit.
        limit: LimitKind,
        /// Where in the pack.
        at: Option<Location>,
    },
    /// Any other error raised while running the formula.
    #[error("formula error{}: {message}", at_suffix(.at))]
    Script {
        /// rhai's message.
        message: String,
        /// Where in the pack.
        at: Option<Location>,
    },
    /// The formula returned something that is not a number.
    #[error("formula returned {type_name}, not a number")]
    NotANumber {
        /// rhai's type name of the result.
        type_name: String,
    },
}

fn at_suffix(at: &Option<Location>) -> String {
    at.as_ref().map(|l| format!(" at {l}")).unwrap_or_default()
}

impl CellError {
    /// A stable snake_case name of the variant, for machine-readable output.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MissingValue { .. } => "missing_value",
            Self::InvalidValue { .. } => "invalid_value",
            Self::InputUnavailable { .. } => "input_unavailable",
            Self::AggregateInput { .. } => "aggregate_input",
            Self::ColumnAbsent { .. } => "column_absent",
            Self::DependencyFailed { .. } => "dependency_failed",
            Self::DivisionByZero { .. } => "division_by_zero",
            Self::Overflow { .. } => "overflow",
            Self::DomainError { .. } => "domain_error",
            Self::LimitExceeded { .. } => "limit_exceeded",
            Self::Script { .. } => "script_error",
            Self::NotANumber { .. } => "not_a_number",
        }
    }
}

/// The result of one indicator for one row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cell {
    /// The exact, unrounded value.
    pub value: Option<Decimal>,
    /// `value / standard × 100`, unrounded.
    pub compliance: Option<Decimal>,
    /// Whether the standard is met.
    pub met: Option<bool>,
    /// Index of the band level in the indicator's band set.
    pub band: Option<usize>,
    /// Why there is no value.
    pub error: Option<Box<CellError>>,
    /// Marks from the inputs, e.g. `MISSING_REPORT` when a field's empty cell
    /// was replaced by its `when_missing` value.
    pub flags: Vec<String>,
}

/// The result of an indicator with a grain, for one group of rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupResult {
    /// Index of the indicator in the pack.
    pub indicator: usize,
    /// The grain's columns joined with `+`, or `all` for the whole table.
    pub level: String,
    /// The group's values of the grain's non-period columns, joined with ` / ` (`*` for none).
    pub entity: String,
    /// The group's period, when the grain includes the period column.
    pub period: Option<String>,
    /// How many rows the group has.
    pub rows: usize,
    /// Value, compliance, band or error.
    pub cell: Cell,
}

/// One input row's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowKey {
    /// Entity key.
    pub entity: String,
    /// Period key, when the data has periods.
    pub period: Option<String>,
    /// 1-based line in the input.
    pub line: u64,
    /// The entity's peer group, when the pack names a `peer_group` dimension.
    pub peer_group: Option<String>,
}

/// Every row × indicator of one evaluation, with the pack that produced it.
#[derive(Debug, Clone)]
#[must_use]
pub struct ResultSet {
    pub(crate) pack: Arc<RulePack>,
    pub(crate) rows: Vec<RowKey>,
    pub(crate) cells: Vec<Cell>,
    pub(crate) groups: Vec<GroupResult>,
}

impl ResultSet {
    /// The results of consecutive parts of one input, as one set; `parts`
    /// come from evaluating `pack` and have no group results.
    pub(crate) fn concat(pack: Arc<RulePack>, parts: Vec<ResultSet>) -> Self {
        let rows = parts.iter().map(|p| p.rows.len()).sum();
        let cells = parts.iter().map(|p| p.cells.len()).sum();
        let mut all = Self {
            pack,
            rows: Vec::with_capacity(rows),
            cells: Vec::with_capacity(cells),
            groups: Vec::new(),
        };
        for part in parts {
            debug_assert!(part.groups.is_empty(), "streamed packs have no grain");
            all.rows.extend(part.rows);
            all.cells.extend(part.cells);
        }
        all
    }

    /// The pack the results come from (id, version, hash, indicators, labels).
    #[must_use]
    pub fn pack(&self) -> &RulePack {
        &self.pack
    }

    /// The pack's identity, for reproducing a report.
    #[must_use]
    pub fn identity(&self) -> &PackIdentity {
        self.pack.identity()
    }

    /// The input rows, in input order.
    #[must_use]
    pub fn rows(&self) -> &[RowKey] {
        &self.rows
    }

    /// The cell of `row` and indicator `indicator` (indices as in [`Self::rows`] and the pack).
    #[must_use]
    pub fn cell(&self, row: usize, indicator: usize) -> &Cell {
        &self.cells[row * self.pack.indicators().len() + indicator]
    }

    /// Every per-row cell, row by row, indicators in pack order, with the
    /// row's and the indicator's index. Indicators with a grain have no
    /// per-row cells: their results are in [`Self::groups`].
    pub fn cells(&self) -> impl Iterator<Item = (usize, &RowKey, usize, &crate::Indicator, &Cell)> {
        let indicators = self.pack.indicators();
        self.rows.iter().enumerate().flat_map(move |(r, row)| {
            indicators
                .iter()
                .enumerate()
                .filter(|(_, ind)| ind.grain.is_none())
                .map(move |(i, ind)| (r, row, i, ind, &self.cells[r * indicators.len() + i]))
        })
    }

    /// The results of the indicators with a grain, after the per-row ones:
    /// indicator by indicator, groups in order of first appearance.
    #[must_use]
    pub fn groups(&self) -> &[GroupResult] {
        &self.groups
    }

    /// Number of cells, per-row and per-group, that carry an error.
    #[must_use]
    pub fn error_count(&self) -> usize {
        self.cells
            .iter()
            .chain(self.groups.iter().map(|g| &g.cell))
            .filter(|c| c.error.is_some())
            .count()
    }

    /// The band label of a cell, if it has a band.
    #[must_use]
    pub fn band_label(&self, indicator: usize, cell: &Cell) -> Option<&str> {
        let ind = &self.pack.indicators()[indicator];
        let set = &self.pack.band_sets()[ind.band_set?];
        Some(set.levels[cell.band?].label.as_str())
    }
}
