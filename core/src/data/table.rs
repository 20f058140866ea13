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
    /// A data reader could not produce the value; the reason says why
    /// (e.g. an account with no balance for this entity and period).
    Unavailable(String),
}

/// One numeric column. Empty cells are `None`; cells that are not numbers
/// are `None` with a [`CellProblem`] recorded for the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberColumn {
    /// Header text.
    pub name: String,
    /// 1-based position of the column in the file (0 for a column a reader computed).
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
    /// What kind of oddity, a stable snake_case name (`repeated_row`,
    /// `sub_accounts_disagree`…): warnings are counted and summarised by it.
    pub kind: &'static str,
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
    /// An empty table for a [`crate::DataReader`] to fill: add every row with
    /// [`Table::push_row`], then the value columns with [`Table::push_column`].
    ///
    /// ```
    /// use semaforo_core::{CellProblem, Table};
    /// use rust_decimal::Decimal;
    /// let mut table = Table::new("balances.csv", true, &[]);
    /// table.push_row("COAC", Some("2008-12"), 2, vec![]);
    /// table.push_column("saldo(\"14\")", vec![Ok(Decimal::from(5))]);
    /// table.push_column("saldo(\"19\")", vec![Err(CellProblem::Unavailable("account 19 has no balance".into()))]);
    /// assert_eq!(table.column("saldo(\"14\")").unwrap().value(0), Some(Decimal::from(5)));
    /// assert!(table.column("saldo(\"19\")").unwrap().problem(0).is_some());
    /// ```
    #[must_use]
    pub fn new(source: impl Into<String>, has_periods: bool, dimensions: &[String]) -> Self {
        Self {
            source: source.into(),
            periods: has_periods.then(Vec::new),
            dimensions: dimensions
                .iter()
                .map(|name| TextColumn {
                    name: name.clone(),
                    values: Vec::new(),
                })
                .collect(),
            ..Self::default()
        }
    }

    /// Appends a row (its keys, its line in the input and its dimension
    /// values, in the order given to [`Table::new`]); returns its index.
    pub fn push_row(
        &mut self,
        entity: &str,
        period: Option<&str>,
        line: u64,
        dimensions: Vec<String>,
    ) -> usize {
        self.entities.push(entity.to_owned());
        if let Some(periods) = &mut self.periods {
            periods.push(period.unwrap_or_default().to_owned());
        }
        self.lines.push(line);
        for (column, value) in self.dimensions.iter_mut().zip(dimensions) {
            column.values.push(value);
        }
        self.entities.len() - 1
    }

    /// Adds a value column: one value, or the reason there is none, per row.
    ///
    /// # Panics
    /// When `values` does not have one entry per row (a reader bug).
    pub fn push_column(&mut self, name: &str, values: Vec<Result<Decimal, CellProblem>>) {
        assert_eq!(values.len(), self.len(), "a column needs one value per row");
        let mut problems = BTreeMap::new();
        let values = values
            .into_iter()
            .enumerate()
            .map(|(row, value)| value.map_err(|problem| problems.insert(row, problem)).ok())
            .collect();
        self.columns.push(NumberColumn {
            name: name.to_owned(),
            position: 0,
            values,
            problems,
        });
    }

    /// Records something odd that did not stop reading.
    pub fn push_warning(&mut self, warning: DataWarning) {
        self.warnings.push(warning);
    }

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
