//! A rule pack: the checked, in-memory form of a pack directory.
//!
//! [`RulePack::load`] reads `pack.toml` and the pack's `*.rhai` files and
//! reports every problem it finds; [`crate::compile`] turns a pack into a
//! [`crate::CompiledRuleSet`].

mod checks;
pub(crate) mod colour;
pub(crate) mod files;
mod formula;
pub(crate) mod layer;
pub(crate) mod limits;
mod load;
mod manifest;
mod matrix;
pub(crate) mod names;
pub(crate) mod standard;
mod toml_text;

use std::fmt;
use std::sync::Arc;

use rust_decimal::Decimal;

pub(crate) use crate::data::shape::{DataShape, Field, FieldKind, Value};
use crate::pack::limits::Limits;
pub(crate) use crate::pack::standard::{BandSet, Direction, Standard};
use crate::source::{Location, SourceFile};

pub use formula::{FormulaKind, FormulaText};
pub use load::PACK_FILE;
pub(crate) use load::finish;

/// A rule pack as loaded from its directory, checked but not yet compiled.
#[derive(Debug, Clone)]
pub struct RulePack {
    pub(crate) identity: PackIdentity,
    pub(crate) description: String,
    pub(crate) plugins: Vec<(String, Location)>,
    pub(crate) data: DataShape,
    pub(crate) format_location: Option<Location>,
    pub(crate) fields: Vec<Field>,
    pub(crate) labels: Labels,
    pub(crate) limits: Limits,
    pub(crate) band_sets: Vec<BandSet>,
    pub(crate) indicators: Vec<Indicator>,
    pub(crate) scripts: Vec<Arc<SourceFile>>,
    /// `[helpers] overrides` of the pack and its parents, each located in
    /// the pack.toml that declares it (whose directory holds its scripts).
    pub(crate) helper_overrides: Vec<(String, Location)>,
    pub(crate) parameters: Vec<Parameter>,
    pub(crate) matrices: Vec<Matrix>,
    /// Every file that went into the pack, parents' included.
    pub(crate) files: Vec<Arc<SourceFile>>,
}

impl RulePack {
    /// The pack's id, version and content hash.
    #[must_use]
    pub fn identity(&self) -> &PackIdentity {
        &self.identity
    }

    /// One-paragraph description from `pack.toml`.
    #[must_use]
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The indicators, in the order the pack declares them.
    #[must_use]
    pub fn indicators(&self) -> &[Indicator] {
        &self.indicators
    }

    /// The value fields the pack's formulas may read.
    #[must_use]
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// Which columns of the data are keys and dimensions.
    #[must_use]
    pub fn data_shape(&self) -> &DataShape {
        &self.data
    }

    /// Display words of the pack.
    #[must_use]
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// The band sets, in name order.
    #[must_use]
    pub fn band_sets(&self) -> &[BandSet] {
        &self.band_sets
    }

    /// Every file that went into the pack (manifests and scripts, the
    /// parents' included), as read.
    #[must_use]
    pub fn files(&self) -> &[Arc<SourceFile>] {
        &self.files
    }

    /// Named constants formulas may read (`[parameters]`).
    #[must_use]
    pub fn parameters(&self) -> &[Parameter] {
        &self.parameters
    }

    /// Prioritisation matrices (`[[matrix]]`), each with its score indicator.
    #[must_use]
    pub fn matrices(&self) -> &[Matrix] {
        &self.matrices
    }
}

/// A named constant of the pack (`[parameters]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    /// Name formulas use.
    pub name: String,
    /// Its value.
    pub value: Value,
    /// Where it is set (the last pack that set it).
    pub location: Location,
}

/// A prioritisation matrix: criteria scored on scales, a score, a selection.
/// Its criteria and score are indicators of the pack (`<id>_<criterion>` and
/// `<id>`); the selection ranks items (data rows) by the score, per period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    /// Id of the matrix, which is also its score indicator's id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Index of the score indicator among the pack's indicators.
    pub score: usize,
    /// Indices of the criterion indicators, in declaration order, with the criterion ids.
    pub criteria: Vec<(String, usize)>,
    /// How items are selected.
    pub selection: Selection,
    /// Where the matrix is defined.
    pub location: Location,
}

/// Which items a matrix selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// How many.
    pub rule: SelectionRule,
    /// What happens to items tied at the cut.
    pub ties: TieRule,
    /// `true` when a higher score means a higher priority (the default).
    pub descending: bool,
}

/// How many items a matrix selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SelectionRule {
    /// The best `k = ceil(percent × n / 100)` items (Pareto: 20).
    TopPercent(Decimal),
    /// The best `n` items.
    Top(u32),
    /// Every item scoring at least (or at most, ascending) this.
    AtLeast(Decimal),
}

/// What happens to items tied at the cut.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TieRule {
    /// Select every item tied at the cut (more than k may be selected).
    Include,
    /// Select none of the items tied at the cut unless they all fit in k.
    Exclude,
    /// Order tied items by this criterion indicator (higher first), then by entity; take exactly k.
    BreakBy(usize),
}

/// What identifies a resolved pack, so a report can be reproduced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackIdentity {
    /// `pack.id`.
    pub id: String,
    /// `pack.version`.
    pub version: String,
    /// SHA-256 (hex) over the names and contents of every file that went into the pack.
    pub content_hash: String,
}

impl fmt::Display for PackIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} ({})",
            self.id,
            self.version,
            &self.content_hash[..12.min(self.content_hash.len())]
        )
    }
}

/// The pack's own words for output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    /// Shown in readable output where a value is not applicable (default `N/A`).
    pub not_applicable: String,
    /// Suffix shown after values of a unit, e.g. `percent = "%"`.
    pub units: Vec<(Unit, String)>,
}

impl Labels {
    /// The suffix printed after a value of `unit`.
    #[must_use]
    pub fn unit_suffix(&self, unit: Unit) -> &str {
        self.units
            .iter()
            .find(|(u, _)| *u == unit)
            .map_or(unit.default_suffix(), |(_, s)| s.as_str())
    }
}

/// What a value measures; drives display only, never the arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Unit {
    /// A percentage: the formula already multiplies by 100.
    Percent,
    /// A plain ratio.
    Ratio,
    /// An amount of money.
    Money,
    /// A number of days.
    Days,
    /// A count of things.
    Count,
    /// A score (e.g. a matrix total).
    Score,
}

impl Unit {
    /// Every unit, as written in `pack.toml`.
    pub const ALL: [Unit; 6] = [
        Self::Percent,
        Self::Ratio,
        Self::Money,
        Self::Days,
        Self::Count,
        Self::Score,
    ];

    /// The word used in `pack.toml` and in output.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Percent => "percent",
            Self::Ratio => "ratio",
            Self::Money => "money",
            Self::Days => "days",
            Self::Count => "count",
            Self::Score => "score",
        }
    }

    fn default_suffix(self) -> &'static str {
        match self {
            Self::Percent => "%",
            Self::Days => " d",
            Self::Ratio | Self::Money | Self::Count | Self::Score => "",
        }
    }

    /// Parses the `pack.toml` word.
    #[must_use]
    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|u| u.as_str() == word)
    }
}

/// Where an indicator's formula comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormulaSource {
    /// A rhai expression written in `pack.toml`.
    Inline {
        /// The expression.
        text: String,
        /// The TOML string holding it, quotes included.
        location: Location,
    },
    /// A function of one of the pack's `.rhai` files; its parameters name
    /// the fields and indicators it reads.
    Function {
        /// The function's name.
        name: String,
        /// The `function = "…"` value in `pack.toml`.
        location: Location,
    },
    /// A formula the pack builds itself (a matrix criterion or score).
    Generated {
        /// The expression.
        text: String,
        /// What it was built from.
        location: Location,
    },
}

/// One indicator of a pack, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    /// Stable id; also the variable name other formulas use to read its value.
    pub id: String,
    /// Display name (defaults to the id).
    pub name: String,
    /// What the indicator measures and how to read it.
    pub description: String,
    /// Group or area (e.g. "Calidad de activos").
    pub group: String,
    /// What the value measures.
    pub unit: Unit,
    /// Which way is good.
    pub direction: Direction,
    /// The target, if the indicator has one.
    pub standard: Option<Standard>,
    /// Index into the pack's band sets.
    pub band_set: Option<usize>,
    /// How often it is computed (e.g. "monthly"); informative.
    pub frequency: String,
    /// Decimal places shown in readable output (half away from zero).
    pub decimals: u32,
    /// Who answers for it; informative.
    pub responsible: String,
    /// The formula.
    pub formula: FormulaSource,
    /// Where the indicator's id is written (the file that defined it).
    pub location: Location,
    /// The `[override.ID]` tables of tailoring packs that changed it, in order.
    pub overrides: Vec<Override>,
    /// The columns whose values group the rows it is computed over (`grain`);
    /// `None` for a per-row indicator, empty for the whole table.
    pub grain: Option<Vec<String>>,
}

/// One `[override.ID]` applied to an inherited indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// The keys it set, e.g. `["standard", "bands"]`.
    pub keys: Vec<&'static str>,
    /// The `[override.ID]` table.
    pub location: Location,
}
