//! The input table, stored column-wise: key columns, text dimensions, and
//! decimal value columns a compiled formula reads by index.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

/// Why a value cell holds no number.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CellProblem {
    /// The text could not be read as a decimal.
    Unparsable(String),
    /// The row ended before this column.
    ShortRow {
        /// How many fields the row had.
        fields: usize,
    },
}

/// One numeric column. Empty cells are `None`; cells that are not numbers
/// are `None` with a [`CellProblem`] recorded for the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberColumn {
    /// Header text.
    pub name: String,
    /// 1-based position of the column in the file.
    pub position: usize,
    pub(crate) values: Vec<Option<Decimal>>,
    pub(crate) problems: BTreeMap<usize, CellProblem>,
}

impl NumberColumn {
    /// The value of `row`, if the cell holds a number.
    #[must_use]
    pub fn value(&self, row: usize) -> Option<Decimal> {
        self.values.get(row).copied().flatten()
    }

    /// Why `row` holds no number, when the cell was not simply empty.
    #[must_use]
    pub fn problem(&self, row: usize) -> Option<&CellProblem> {
        self.problems.get(&row)
    }
}

/// A text column carried along (department, peer group, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextColumn {
    /// Header text.
    pub name: String,
    /// One value per row (empty when the cell was empty).
    pub values: Vec<String>,
}

/// Something odd in the data that did not stop reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataWarning {
    /// 1-based line in the input, when it concerns one row.
    pub line: Option<u64>,
    /// What is odd.
    pub message: String,
}

/// Rows of entities (and periods) with their values, column-wise.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    pub(crate) source: String,
    pub(crate) entities: Vec<String>,
    pub(crate) periods: Option<Vec<String>>,
    pub(crate) lines: Vec<u64>,
    pub(crate) dimensions: Vec<TextColumn>,
    pub(crate) columns: Vec<NumberColumn>,
    pub(crate) warnings: Vec<DataWarning>,
}

impl Table {
    /// Where the data came from (a file path, or a name given by the caller).
    #[must_use]
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entities.len()
    }

    /// Whether the table has no rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    /// Entity key of `row`.
    #[must_use]
    pub fn entity(&self, row: usize) -> &str {
        &self.entities[row]
    }

    /// Period key of `row`, when the data has periods.
    #[must_use]
    pub fn period(&self, row: usize) -> Option<&str> {
        self.periods.as_ref().map(|p| p[row].as_str())
    }

    /// Whether the data has a period column.
    #[must_use]
    pub fn has_periods(&self) -> bool {
        self.periods.is_some()
    }

    /// 1-based line of `row` in the input.
    #[must_use]
    pub fn line(&self, row: usize) -> u64 {
        self.lines[row]
    }

    /// The numeric column with this header.
    #[must_use]
    pub fn column(&self, name: &str) -> Option<&NumberColumn> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Text dimension columns.
    #[must_use]
    pub fn dimensions(&self) -> &[TextColumn] {
        &self.dimensions
    }

    /// Oddities found while reading that did not stop it.
    #[must_use]
    pub fn warnings(&self) -> &[DataWarning] {
        &self.warnings
    }
}
