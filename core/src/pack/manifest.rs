//! The `pack.toml` format as written by people: serde structures that keep
//! the spans of the values later checks must point at.
//!
//! Nothing here is validated beyond TOML types; [`super::load`] turns a
//! [`Manifest`] into a checked [`super::RulePack`]. The format reference is
//! `rules/README.md`.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// The whole `pack.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Manifest {
    pub pack: PackSection,
    #[serde(default)]
    pub data: DataSection,
    #[serde(default)]
    pub fields: BTreeMap<Spanned<String>, FieldSpec>,
    #[serde(default)]
    pub labels: LabelsSection,
    #[serde(default)]
    pub limits: LimitsSection,
    #[serde(default)]
    pub defaults: IndicatorDefaults,
    #[serde(default)]
    pub bands: BTreeMap<Spanned<String>, BandSetSpec>,
    #[serde(default, rename = "indicator")]
    pub indicators: Vec<Spanned<IndicatorSpec>>,
    #[serde(default, rename = "override")]
    pub overrides: BTreeMap<Spanned<String>, IndicatorSpec>,
    #[serde(default)]
    pub parameters: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default, rename = "matrix")]
    pub matrices: Vec<Spanned<MatrixSpec>>,
    #[serde(default)]
    pub helpers: HelpersSection,
}

/// `[helpers]`: what the pack's `.rhai` files may replace knowingly.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HelpersSection {
    /// Names of functions (of plugins, the engine or parent packs' helpers)
    /// this pack's helper functions replace on purpose.
    #[serde(default)]
    pub overrides: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MatrixSpec {
    pub id: Spanned<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub scale: Option<Spanned<ScaleSpec>>,
    pub score: Option<Spanned<String>>,
    #[serde(default, rename = "criterion")]
    pub criteria: Vec<Spanned<CriterionSpec>>,
    pub select: Option<Spanned<SelectSpec>>,
}

/// `{ min = 1, max = 5 }`, or the word `"none"` (no scale check).
#[derive(Debug, Deserialize)]
#[serde(untagged, expecting = "a scale `{ min = 1, max = 5 }` or \"none\"")]
pub(crate) enum ScaleSpec {
    Word(String),
    Bounds { min: toml::Value, max: toml::Value },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CriterionSpec {
    pub id: Spanned<String>,
    pub from: Spanned<String>,
    pub weight: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub invert: bool,
    #[serde(rename = "use")]
    pub use_: Option<Spanned<String>>,
    pub scale: Option<Spanned<ScaleSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SelectSpec {
    pub top_percent: Option<Spanned<toml::Value>>,
    pub top: Option<Spanned<u32>>,
    pub at_least: Option<Spanned<toml::Value>>,
    pub ties: Option<Spanned<String>>,
    pub order: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PackSection {
    pub id: Spanned<String>,
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub plugins: Vec<Spanned<String>>,
    #[serde(default)]
    pub extends: Vec<Spanned<String>>,
    #[serde(default)]
    pub disable: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DataSection {
    pub format: Option<Spanned<String>>,
    pub entity: Option<String>,
    pub period: Option<String>,
    pub dimensions: Option<Vec<String>>,
    pub peer_group: Option<Spanned<String>>,
    pub delimiter: Option<Spanned<String>>,
    pub decimal: Option<Spanned<String>>,
    pub thousands: Option<Spanned<String>>,
    pub sheet: Option<String>,
    pub exponent: Option<bool>,
    pub encoding: Option<Spanned<String>>,
    pub period_format: Option<Spanned<String>>,
}

/// `name = "description"` or `name = { column = "...", description = "..." }`.
#[derive(Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "a description string, or a table with `column` and `description`"
)]
pub(crate) enum FieldSpec {
    Described(String),
    Full(FieldTable),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FieldTable {
    pub column: Option<String>,
    #[serde(default)]
    pub description: String,
    // Plain types: spans do not survive the untagged `FieldSpec` around them.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub when_missing: Option<toml::Value>,
    pub flag: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LabelsSection {
    pub not_applicable: Option<String>,
    #[serde(default)]
    pub units: BTreeMap<Spanned<String>, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitsSection {
    // Spanned: a value out of its range is reported at the value (see `Limits::check`).
    pub max_operations: Option<Spanned<u64>>,
    pub max_call_levels: Option<Spanned<u64>>,
    pub max_expr_depth: Option<Spanned<u64>>,
    pub max_string_size: Option<Spanned<u64>>,
    pub max_array_size: Option<Spanned<u64>>,
    pub max_map_size: Option<Spanned<u64>>,
    pub max_cell_time_ms: Option<Spanned<u64>>,
}

/// Values every indicator takes unless it sets its own.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IndicatorDefaults {
    pub group: Option<String>,
    pub unit: Option<Spanned<String>>,
    pub direction: Option<Spanned<String>>,
    pub bands: Option<Spanned<String>>,
    pub frequency: Option<String>,
    pub decimals: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BandSetSpec {
    #[serde(default)]
    pub on: Option<Spanned<String>>,
    pub levels: Vec<Spanned<BandLevelSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BandLevelSpec {
    pub label: String,
    pub threshold: Option<Spanned<toml::Value>>,
    pub color: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IndicatorSpec {
    /// Required in `[[indicator]]`; refused in `[override.ID]`.
    pub id: Option<Spanned<String>>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub group: Option<String>,
    pub unit: Option<Spanned<String>>,
    pub direction: Option<Spanned<String>>,
    pub standard: Option<Spanned<toml::Value>>,
    pub standard_min: Option<Spanned<toml::Value>>,
    pub standard_max: Option<Spanned<toml::Value>>,
    pub bands: Option<Spanned<String>>,
    pub frequency: Option<String>,
    pub decimals: Option<u32>,
    pub responsible: Option<String>,
    pub formula: Option<Spanned<String>>,
    pub function: Option<Spanned<String>>,
    pub grain: Option<Spanned<Vec<String>>>,
}
