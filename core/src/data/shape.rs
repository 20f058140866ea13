//! What the data looks like: its layout and formats ([`DataShape`], the
//! pack's `[data]`), the columns the formulas read ([`Field`]) and the typed
//! values a cell or a parameter holds ([`Value`]). The pack declares them;
//! readers follow them.

use std::fmt;

use rust_decimal::Decimal;

use crate::data::decimal::NumberFormat;
use crate::data::encoding::TextEncoding;
use crate::data::period::PeriodFormat;

/// The core's own format: one row per entity (and period), one column per field.
pub const WIDE_FORMAT: &str = "wide";

/// A number or a text, as a parameter, a missing-value default or a formula input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Value {
    /// An exact decimal.
    Number(Decimal),
    /// A text.
    Text(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Text(t) => write!(f, "{t:?}"),
        }
    }
}

/// How a field's cells are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FieldKind {
    /// Exact decimals (the default).
    #[default]
    Number,
    /// Text, passed to formulas as a string.
    Text,
}

/// Which columns of the input identify a row and which describe it.
///
/// The default is wide data keyed by an `entity` column, without periods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataShape {
    /// How the data is laid out: `wide` (default) or a plugin's format, e.g. `balances`.
    pub format: String,
    /// Column holding the entity key (default `entity`).
    pub entity: String,
    /// Column holding the period key, when the data has periods.
    pub period: Option<String>,
    /// Text columns carried along (department, peer group, …).
    pub dimensions: Vec<String>,
    /// The dimension that names each entity's peer group, for peer comparison.
    pub peer_group: Option<String>,
    /// Columns read as text for `type = "text"` fields.
    pub text_columns: Vec<String>,
    /// The CSV field separator (default `,`).
    pub delimiter: u8,
    /// How numbers are written in the data (default `.` decimals, no
    /// thousands separator).
    pub numbers: NumberFormat,
    /// The sheet of a spreadsheet to read (default: the first).
    pub sheet: Option<String>,
    /// The text encoding of a CSV file (default UTF-8).
    pub encoding: TextEncoding,
    /// How periods are put in time order (`[data] period_format`).
    pub period_format: PeriodFormat,
}

impl Default for DataShape {
    fn default() -> Self {
        Self {
            format: WIDE_FORMAT.to_owned(),
            entity: "entity".to_owned(),
            period: None,
            dimensions: Vec::new(),
            peer_group: None,
            text_columns: Vec::new(),
            delimiter: b',',
            numbers: NumberFormat::default(),
            sheet: None,
            encoding: TextEncoding::Utf8,
            period_format: PeriodFormat::Auto,
        }
    }
}

/// A numeric input the formulas may read, by its variable name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Name formulas use (a rhai identifier); for an input-function call, the call itself.
    pub name: String,
    /// Header of the data column it reads (defaults to `name`).
    pub column: String,
    /// What the field holds.
    pub description: String,
    /// For an input-function call such as `saldo("14")`: the function and its canonical argument.
    pub call: Option<(&'static str, String)>,
    /// Number or text.
    pub kind: FieldKind,
    /// Used when the cell is empty, instead of a missing-value error.
    pub when_missing: Option<Value>,
    /// Put on every indicator cell that used `when_missing`.
    pub flag: Option<String>,
}
