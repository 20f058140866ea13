//! One pack file, read on its own: a [`Layer`]. A pack that extends others
//! is resolved from the layers of its parents and its own (see
//! [`super::load`]); everything that can be checked inside one file is
//! checked here, at that file's locations.

use std::collections::BTreeMap;
use std::sync::Arc;

use rust_decimal::Decimal;
use toml::Spanned;

use super::manifest::{
    BandSetSpec, FieldSpec, IndicatorDefaults, IndicatorSpec, LimitsSection, Manifest, MatrixSpec,
    ScaleSpec,
};
use super::{Direction, Field, FieldKind, FormulaSource, Parameter, SelectionRule, Unit, Value};
use crate::data::encoding::{ENCODING_NAMES, TextEncoding};
use crate::diagnostic::{Diagnostic, DiagnosticCode};
use crate::pack::colour::Colour;
use crate::pack::limits::Limits;
use crate::pack::standard::{BandBasis, BandLevel, BandSet};
use crate::source::{Location, SourceFile};

/// An indicator as one or more files describe it; every key optional until
/// the pack is resolved.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub id: String,
    pub location: Location,
    pub name: Option<String>,
    pub description: Option<String>,
    pub group: Option<String>,
    pub unit: Option<Unit>,
    pub direction: Option<(Direction, Location)>,
    pub standard: Option<(Decimal, Location)>,
    pub standard_min: Option<(Decimal, Location)>,
    pub standard_max: Option<(Decimal, Location)>,
    pub bands: Option<(String, Location)>,
    pub frequency: Option<String>,
    pub decimals: Option<u32>,
    pub responsible: Option<String>,
    pub formula: Option<FormulaSource>,
    pub grain: Option<Vec<String>>,
    /// Where each override came from, with the keys it set.
    pub overrides: Vec<(Vec<&'static str>, Location)>,
}

impl Draft {
    /// Applies the keys an override sets; returns their names.
    pub fn apply(&mut self, over: Draft) -> Vec<&'static str> {
        let mut keys = Vec::new();
        macro_rules! take {
            ($($field:ident),*) => {$(
                if over.$field.is_some() {
                    self.$field = over.$field;
                    keys.push(stringify!($field));
                }
            )*};
        }
        take!(
            name,
            description,
            group,
            unit,
            direction,
            standard,
            standard_min,
            standard_max,
            bands,
            frequency,
            decimals,
            responsible,
            formula,
            grain
        );
        keys
    }
}

/// `[data]` keys a file sets.
#[derive(Debug, Clone, Default)]
pub(crate) struct DataLayer {
    pub format: Option<(String, Location)>,
    pub entity: Option<String>,
    pub period: Option<String>,
    pub dimensions: Option<Vec<String>>,
    pub peer_group: Option<(String, Location)>,
    /// The CSV field separator.
    pub delimiter: Option<u8>,
    /// The decimal separator, where it was set.
    pub decimal: Option<(char, Location)>,
    /// The thousands separator (`None` inside: explicitly none).
    pub thousands: Option<Option<char>>,
    /// The spreadsheet sheet to read.
    pub sheet: Option<String>,
    /// Whether numbers may carry an exponent.
    pub exponent: Option<bool>,
    /// The data's text encoding.
    pub encoding: Option<TextEncoding>,
    /// How periods are written (`None`: not set here, or refused).
    pub period_format: Option<crate::data::period::PeriodFormat>,
}

/// Everything one `pack.toml` (and the `.rhai` files beside it) says.
#[derive(Debug)]
pub(crate) struct Layer {
    pub manifest: Arc<SourceFile>,
    pub scripts: Vec<Arc<SourceFile>>,
    pub id: String,
    pub version: String,
    pub description: String,
    pub extends: Vec<(String, Location)>,
    pub disable: Vec<(String, Location)>,
    pub plugins: Vec<(String, Location)>,
    pub data: DataLayer,
    /// Each field with where its name is written.
    pub fields: Vec<(Field, Location)>,
    /// `[helpers] overrides`: helper functions replacing others on purpose.
    pub helper_overrides: Vec<(String, Location)>,
    pub not_applicable: Option<String>,
    pub units: Vec<(Unit, String)>,
    pub limits: LimitsSection,
    pub band_sets: Vec<BandSet>,
    pub indicators: Vec<Draft>,
    pub overrides: Vec<Draft>,
    pub parameters: Vec<Parameter>,
    pub matrices: Vec<MatrixDraft>,
}

/// A matrix as one file describes it; expanded into indicators when the pack is resolved.
#[derive(Debug, Clone)]
pub(crate) struct MatrixDraft {
    pub id: String,
    pub name: String,
    pub description: String,
    pub location: Location,
    pub scale: Scale,
    pub score: ScoreRule,
    pub criteria: Vec<CriterionDraft>,
    pub selection: Option<(SelectionRule, TieDraft, bool)>,
}

/// A criterion scale: bounds, none, or the matrix's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scale {
    Inherit,
    Unchecked,
    Bounds(Decimal, Decimal),
}

#[derive(Debug, Clone)]
pub(crate) enum ScoreRule {
    Sum,
    WeightedSum,
    Formula(String, Location),
}

#[derive(Debug, Clone)]
pub(crate) enum TieDraft {
    Include,
    Exclude,
    BreakBy(String, Location),
}

/// What of its source a criterion reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CriterionUse {
    Value,
    Compliance,
    Unmet,
}

#[derive(Debug, Clone)]
pub(crate) struct CriterionDraft {
    pub id: String,
    pub location: Location,
    pub from: (String, Location),
    pub weight: Decimal,
    pub invert: bool,
    pub use_: CriterionUse,
    pub scale: Scale,
}

/// Parses TOML source text of a number exactly, never through `f64`.
pub(crate) fn decimal_from_toml(raw: &str) -> Option<Decimal> {
    let raw = raw.trim().trim_matches(|c| c == '"' || c == '\'');
    let cleaned: String = raw.chars().filter(|&c| c != '_').collect();
    let cleaned = cleaned.strip_prefix('+').unwrap_or(&cleaned);
    if cleaned.contains(['e', 'E']) {
        Decimal::from_scientific(cleaned).ok()
    } else {
        Decimal::from_str_exact(cleaned).ok()
    }
}

impl LimitsSection {
    /// These keys over `base`; values out of range were refused by [`Self::check`].
    pub fn over(&self, base: Limits) -> Limits {
        let size = |v: &Option<Spanned<u64>>, base: usize| {
            v.as_ref().map_or(base, |v| {
                usize::try_from(*v.get_ref()).unwrap_or(usize::MAX)
            })
        };
        let number =
            |v: &Option<Spanned<u64>>, base: u64| v.as_ref().map_or(base, |v| *v.get_ref());
        Limits {
            max_operations: number(&self.max_operations, base.max_operations),
            max_call_levels: size(&self.max_call_levels, base.max_call_levels),
            max_expr_depth: size(&self.max_expr_depth, base.max_expr_depth),
            max_string_size: size(&self.max_string_size, base.max_string_size),
            max_array_size: size(&self.max_array_size, base.max_array_size),
            max_map_size: size(&self.max_map_size, base.max_map_size),
            max_cell_time_ms: number(&self.max_cell_time_ms, base.max_cell_time_ms),
        }
    }

    /// Keys set here win over `base`'s.
    pub fn merge_over(&mut self, base: &LimitsSection) {
        macro_rules! merge {
            ($($key:ident),*) => {$(
                if self.$key.is_none() {
                    self.$key.clone_from(&base.$key);
                }
            )*};
        }
        merge!(
            max_operations,
            max_call_levels,
            max_expr_depth,
            max_string_size,
            max_array_size,
            max_map_size,
            max_cell_time_ms
        );
    }

    /// Every key with its value, in [`Limits::RANGES`] order.
    fn keys(&self) -> [(&'static str, Option<&Spanned<u64>>); 7] {
        [
            ("max_operations", self.max_operations.as_ref()),
            ("max_call_levels", self.max_call_levels.as_ref()),
            ("max_expr_depth", self.max_expr_depth.as_ref()),
            ("max_string_size", self.max_string_size.as_ref()),
            ("max_array_size", self.max_array_size.as_ref()),
            ("max_map_size", self.max_map_size.as_ref()),
            ("max_cell_time_ms", self.max_cell_time_ms.as_ref()),
        ]
    }

    /// A diagnostic (`SEM015`) at every value outside its key's range.
    fn check(&self, file: &Arc<SourceFile>, problems: &mut Vec<Diagnostic>) {
        for (key, value) in self.keys() {
            let Some(value) = value else { continue };
            if let Err(message) = Limits::check(key, *value.get_ref()) {
                problems.push(
                    Diagnostic::error(
                        DiagnosticCode::LimitOutOfRange,
                        message,
                        Some(Location {
                            file: file.clone(),
                            span: value.span(),
                        }),
                    )
                    .with_help(
                        "remove the key to use the default, or write a value inside the range",
                    ),
                );
            }
        }
    }
}

/// Reads one file's TOML into a layer, reporting what is wrong inside it.
pub(crate) fn read_layer(
    manifest: Arc<SourceFile>,
    scripts: Vec<Arc<SourceFile>>,
    problems: &mut Vec<Diagnostic>,
) -> Option<Layer> {
    let parsed: Manifest = match toml::from_str(manifest.text()) {
        Ok(parsed) => parsed,
        Err(e) => {
            let message = e.message().trim_end();
            let problem = match e.span() {
                Some(span) => Diagnostic::error(
                    DiagnosticCode::TomlSyntax,
                    message.to_owned(),
                    Some(Location {
                        file: manifest.clone(),
                        span,
                    }),
                ),
                // The toml crate gives no place for some errors (its
                // recursion limit on dotted keys and table headers): point at
                // the deepest key path, else at the start of the file.
                None => {
                    let span = crate::pack::toml_text::deepest_key(manifest.text());
                    let deep = span.is_some();
                    let problem = Diagnostic::error(
                        DiagnosticCode::TomlSyntax,
                        if deep {
                            format!("keys nested too deeply ({message})")
                        } else {
                            message.to_owned()
                        },
                        Some(Location {
                            file: manifest.clone(),
                            span: span.unwrap_or(0..0),
                        }),
                    );
                    if deep {
                        problem.with_help("a pack.toml needs a few levels of tables, e.g. [bands.NAME] or [override.ID]; this key path has far more")
                    } else {
                        problem
                    }
                }
            };
            problems.push(problem);
            return None;
        }
    };
    let mut reader = LayerReader {
        file: manifest.clone(),
        problems,
    };
    Some(reader.layer(parsed, manifest, scripts))
}

struct LayerReader<'a> {
    file: Arc<SourceFile>,
    problems: &'a mut Vec<Diagnostic>,
}

impl LayerReader<'_> {
    fn at<T>(&self, spanned: &Spanned<T>) -> Location {
        Location {
            file: self.file.clone(),
            span: spanned.span(),
        }
    }

    /// A `[data] delimiter`: one ASCII character other than a quote or a line break.
    fn delimiter(&mut self, text: &Spanned<String>) -> Option<u8> {
        match text.get_ref().as_bytes() {
            [b] if b.is_ascii() && !matches!(b, b'"' | b'\n' | b'\r') => Some(*b),
            _ => {
                self.error(
                    DiagnosticCode::InvalidValue,
                    format!(
                        "delimiter `{}` is not one character that can separate CSV fields",
                        text.get_ref()
                    ),
                    self.at(text),
                    Some("write e.g. `delimiter = \";\"` or `delimiter = \"\\t\"`"),
                );
                None
            }
        }
    }

    /// A `[data] encoding`: one of [`ENCODING_NAMES`].
    fn encoding(&mut self, text: &Spanned<String>) -> Option<TextEncoding> {
        let found = TextEncoding::from_name(text.get_ref());
        if found.is_none() {
            let names: Vec<String> = ENCODING_NAMES
                .iter()
                .map(|(n, _)| format!("`\"{n}\"`"))
                .collect();
            self.error(
                DiagnosticCode::InvalidValue,
                format!("encoding `{}` is not one of {}", text.get_ref(), names.join(", ")),
                self.at(text),
                Some("write the encoding the data files are saved in, e.g. `encoding = \"windows-1252\"` for an export from a spreadsheet on Windows"),
            );
        }
        found
    }

    /// A `[data] decimal` or `thousands` separator, one of `allowed`.
    fn separator(&mut self, text: &Spanned<String>, allowed: &[&str], what: &str) -> Option<char> {
        let value = text.get_ref();
        if allowed.contains(&value.as_str()) {
            return value.chars().next();
        }
        let choices = allowed
            .iter()
            .map(|a| format!("`\"{a}\"`"))
            .collect::<Vec<_>>()
            .join(", ");
        self.error(
            DiagnosticCode::InvalidValue,
            format!("{what} separator `{value}` is not one of {choices}"),
            self.at(text),
            None,
        );
        None
    }

    fn error(
        &mut self,
        code: DiagnosticCode,
        message: String,
        location: Location,
        help: Option<&str>,
    ) {
        let mut problem = Diagnostic::error(code, message, Some(location));
        problem.help = help.map(str::to_owned);
        self.problems.push(problem);
    }

    fn decimal(&mut self, value: &Spanned<toml::Value>, what: &str) -> Option<(Decimal, Location)> {
        let location = self.at(value);
        let raw = &self.file.text()[value.span()];
        let parsed = match value.get_ref() {
            toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::String(_) => {
                decimal_from_toml(raw)
            }
            _ => None,
        };
        if parsed.is_none() {
            self.error(
                DiagnosticCode::BadNumber,
                format!("{what} `{raw}` is not a decimal number"),
                location.clone(),
                Some("write a plain number such as 4 or 5.52"),
            );
        }
        parsed.map(|d| (d, location))
    }

    fn spanned_list(&self, list: Vec<Spanned<String>>) -> Vec<(String, Location)> {
        list.into_iter()
            .map(|s| (s.get_ref().clone(), self.at(&s)))
            .collect()
    }

    fn layer(
        &mut self,
        m: Manifest,
        manifest: Arc<SourceFile>,
        scripts: Vec<Arc<SourceFile>>,
    ) -> Layer {
        let data = DataLayer {
            format: m.data.format.map(|f| (f.get_ref().clone(), self.at(&f))),
            entity: m.data.entity,
            period: m.data.period,
            dimensions: m.data.dimensions,
            peer_group: m
                .data
                .peer_group
                .map(|g| (g.get_ref().clone(), self.at(&g))),
            delimiter: m.data.delimiter.and_then(|d| self.delimiter(&d)),
            decimal: m.data.decimal.and_then(|d| {
                let location = self.at(&d);
                self.separator(&d, &[".", ","], "decimal")
                    .map(|c| (c, location))
            }),
            thousands: m.data.thousands.and_then(|t| {
                if t.get_ref().is_empty() {
                    return Some(None);
                }
                self.separator(&t, &[".", ",", " ", "'"], "thousands")
                    .map(Some)
            }),
            sheet: m.data.sheet,
            exponent: m.data.exponent,
            encoding: m.data.encoding.and_then(|e| self.encoding(&e)),
            period_format: m.data.period_format.and_then(|f| {
                let format = crate::data::period::PeriodFormat::parse(f.get_ref());
                if format.is_none() {
                    let message = format!("period_format `{}` is not one of {}", f.get_ref(), crate::data::period::PeriodFormat::CHOICES);
                    self.error(DiagnosticCode::BadPeriodFormat, message, self.at(&f), Some("`auto` orders periods written in one recognised form; `text` declares that their text order is their time order"));
                }
                format
            }),
        };
        let fields = m
            .fields
            .into_iter()
            .map(|(name, spec)| {
                let location = self.at(&name);
                (self.field(name, spec), location)
            })
            .collect();
        let mut units = Vec::new();
        for (word, suffix) in m.labels.units {
            match Unit::parse(word.get_ref()) {
                Some(unit) => units.push((unit, suffix)),
                None => {
                    let at = self.at(&word);
                    let all: Vec<_> = Unit::ALL.iter().map(|u| u.as_str()).collect();
                    self.error(
                        DiagnosticCode::InvalidValue,
                        format!("labels.units names unknown unit `{}`", word.get_ref()),
                        at,
                        Some(&format!("units: {}", all.join(", "))),
                    );
                }
            }
        }
        let band_sets = m
            .bands
            .into_iter()
            .map(|(id, spec)| self.band_set(id, spec))
            .collect();
        let mut indicators = Vec::new();
        for spec in m.indicators {
            let table = self.at(&spec);
            let spec = spec.into_inner();
            let Some(id) = spec.id.clone() else {
                let location = Location {
                    file: self.file.clone(),
                    span: table.span.start..table.span.start,
                };
                self.error(
                    DiagnosticCode::InvalidValue,
                    "an [[indicator]] has no `id`".into(),
                    location,
                    Some("give every indicator an id"),
                );
                continue;
            };
            let location = self.at(&id);
            let mut draft = self.draft(id.into_inner(), location, spec);
            self.apply_defaults(&mut draft, &m.defaults);
            indicators.push(draft);
        }
        let mut overrides = Vec::new();
        for (id, spec) in m.overrides {
            let location = self.at(&id);
            if let Some(own) = &spec.id {
                let at = self.at(own);
                self.error(
                    DiagnosticCode::InvalidValue,
                    format!("[override.{}] cannot change the id", id.get_ref()),
                    at,
                    Some("an override names its indicator in the table name; remove `id`"),
                );
            }
            overrides.push(self.draft(id.into_inner(), location, spec));
        }
        let parameters = m
            .parameters
            .iter()
            .filter_map(|(name, value)| {
                let location = self.at(name);
                if !rhai::is_valid_identifier(name.get_ref()) {
                    self.error(
                        DiagnosticCode::InvalidValue,
                        format!(
                            "parameter name `{}` cannot be used in formulas",
                            name.get_ref()
                        ),
                        location.clone(),
                        None,
                    );
                } else if let Some(why) = crate::pack::names::unusable(name.get_ref()) {
                    self.error(
                        DiagnosticCode::ReservedName,
                        format!(
                            "parameter name `{}` cannot be read by formulas: {why}",
                            name.get_ref()
                        ),
                        location.clone(),
                        Some("rename the parameter, e.g. with a prefix or suffix"),
                    );
                }
                let value = self.value(value, "parameter")?;
                Some(Parameter {
                    name: name.get_ref().clone(),
                    value,
                    location,
                })
            })
            .collect();
        let matrices = m
            .matrices
            .into_iter()
            .filter_map(|spec| self.matrix(spec))
            .collect();
        Layer {
            manifest,
            scripts,
            id: m.pack.id.into_inner(),
            version: m.pack.version,
            description: m.pack.description,
            extends: self.spanned_list(m.pack.extends),
            disable: self.spanned_list(m.pack.disable),
            plugins: self.spanned_list(m.pack.plugins),
            helper_overrides: self.spanned_list(m.helpers.overrides),
            data,
            fields,
            not_applicable: m.labels.not_applicable,
            units,
            limits: {
                m.limits.check(&self.file, self.problems);
                m.limits
            },
            band_sets,
            indicators,
            overrides,
            parameters,
            matrices,
        }
    }

    fn scale(&mut self, spec: Option<&Spanned<ScaleSpec>>, default: Scale) -> Scale {
        let Some(spec) = spec else { return default };
        let at = self.at(spec);
        match spec.get_ref() {
            ScaleSpec::Word(word) if word == "none" => Scale::Unchecked,
            ScaleSpec::Word(word) => {
                self.error(
                    DiagnosticCode::InvalidValue,
                    format!("scale `{word}` is unknown"),
                    at,
                    Some("write `scale = { min = 1, max = 5 }` or `scale = \"none\"`"),
                );
                default
            }
            ScaleSpec::Bounds { min, max } => {
                let bound = |v: &toml::Value| match v {
                    toml::Value::Integer(i) => Some(Decimal::from(*i)),
                    toml::Value::String(s) => decimal_from_toml(s),
                    _ => None,
                };
                match (bound(min), bound(max)) {
                    (Some(min), Some(max)) if min < max => Scale::Bounds(min, max),
                    _ => {
                        self.error(
                            DiagnosticCode::InvalidValue,
                            "a scale needs whole-number (or quoted decimal) bounds with min < max"
                                .into(),
                            at,
                            None,
                        );
                        default
                    }
                }
            }
        }
    }

    fn matrix(&mut self, spec: Spanned<MatrixSpec>) -> Option<MatrixDraft> {
        let spec = spec.into_inner();
        let location = self.at(&spec.id);
        let id = spec.id.into_inner();
        let scale = self.scale(spec.scale.as_ref(), Scale::Unchecked);
        let score = match spec.score.as_ref().map(|s| (s.get_ref().as_str(), s)) {
            None | Some(("sum", _)) => ScoreRule::Sum,
            Some(("weighted_sum", _)) => ScoreRule::WeightedSum,
            Some((formula, spanned)) => ScoreRule::Formula(formula.to_owned(), self.at(spanned)),
        };
        let mut criteria = Vec::new();
        for criterion in spec.criteria {
            let criterion = criterion.into_inner();
            let use_ = match criterion.use_.as_ref().map(|u| (u.get_ref().as_str(), u)) {
                None | Some(("value", _)) => CriterionUse::Value,
                Some(("compliance", _)) => CriterionUse::Compliance,
                Some(("unmet", _)) => CriterionUse::Unmet,
                Some((other, spanned)) => {
                    let at = self.at(spanned);
                    self.error(
                        DiagnosticCode::InvalidValue,
                        format!("criterion use `{other}` is unknown"),
                        at,
                        Some("use `value`, `compliance` or `unmet`"),
                    );
                    CriterionUse::Value
                }
            };
            let weight = criterion
                .weight
                .as_ref()
                .and_then(|w| self.decimal(w, "weight"))
                .map_or(Decimal::ONE, |(d, _)| d);
            let scale = self.scale(criterion.scale.as_ref(), Scale::Inherit);
            criteria.push(CriterionDraft {
                location: self.at(&criterion.id),
                id: criterion.id.into_inner(),
                from: (criterion.from.get_ref().clone(), self.at(&criterion.from)),
                weight,
                invert: criterion.invert,
                use_,
                scale,
            });
        }
        if criteria.is_empty() {
            self.error(
                DiagnosticCode::InvalidValue,
                format!("matrix `{id}` has no criteria"),
                location.clone(),
                Some("add [[matrix.criterion]] tables"),
            );
        }
        let selection = spec.select.map(|select| {
            let at = self.at(&select);
            let select = select.into_inner();
            let rule = match (&select.top_percent, &select.top, &select.at_least) {
                (Some(p), None, None) => self
                    .decimal(p, "top_percent")
                    .map(|(d, _)| SelectionRule::TopPercent(d)),
                (None, Some(n), None) => Some(SelectionRule::Top(*n.get_ref())),
                (None, None, Some(t)) => self
                    .decimal(t, "at_least")
                    .map(|(d, _)| SelectionRule::AtLeast(d)),
                _ => {
                    self.error(
                        DiagnosticCode::InvalidValue,
                        "a selection needs exactly one of `top_percent`, `top`, `at_least`".into(),
                        at.clone(),
                        None,
                    );
                    None
                }
            };
            let ties = match select.ties.as_ref().map(|t| (t.get_ref().as_str(), t)) {
                None | Some(("include", _)) => TieDraft::Include,
                Some(("exclude", _)) => TieDraft::Exclude,
                Some((word, spanned)) => match word.strip_prefix("break_by:") {
                    Some(criterion) => {
                        TieDraft::BreakBy(criterion.trim().to_owned(), self.at(spanned))
                    }
                    None => {
                        let at = self.at(spanned);
                        self.error(
                            DiagnosticCode::InvalidValue,
                            format!("tie rule `{word}` is unknown"),
                            at,
                            Some("use `include`, `exclude` or `break_by:<criterion id>`"),
                        );
                        TieDraft::Include
                    }
                },
            };
            let descending = match select.order.as_ref().map(|o| (o.get_ref().as_str(), o)) {
                None | Some(("desc", _)) => true,
                Some(("asc", _)) => false,
                Some((word, spanned)) => {
                    let at = self.at(spanned);
                    self.error(
                        DiagnosticCode::InvalidValue,
                        format!("order `{word}` is unknown"),
                        at,
                        Some("use `desc` (higher score first) or `asc`"),
                    );
                    true
                }
            };
            rule.map(|rule| (rule, ties, descending))
        });
        Some(MatrixDraft {
            id,
            name: spec.name.unwrap_or_default(),
            description: spec.description.unwrap_or_default(),
            location,
            scale,
            score,
            criteria,
            selection: selection.flatten(),
        })
    }

    fn field(&mut self, name: Spanned<String>, spec: FieldSpec) -> Field {
        let (column, description, kind, when_missing, flag) = match spec {
            FieldSpec::Described(d) => (None, d, FieldKind::Number, None, None),
            FieldSpec::Full(table) => {
                let at = self.at(&name);
                let kind = match table.kind.as_deref() {
                    None | Some("number") => FieldKind::Number,
                    Some("text") => FieldKind::Text,
                    Some(other) => {
                        self.error(
                            DiagnosticCode::InvalidValue,
                            format!("field type `{other}` is unknown"),
                            at.clone(),
                            Some("use `type = \"number\"` (the default) or `type = \"text\"`"),
                        );
                        FieldKind::Number
                    }
                };
                let when_missing = match &table.when_missing {
                    None => None,
                    Some(toml::Value::String(text)) if kind == FieldKind::Text => {
                        Some(Value::Text(text.clone()))
                    }
                    Some(toml::Value::Integer(i)) => Some(Value::Number(Decimal::from(*i))),
                    // A TOML float's shortest text is what was written (`0.5`), read exactly.
                    Some(toml::Value::Float(f)) => {
                        decimal_from_toml(&f.to_string()).map(Value::Number)
                    }
                    Some(toml::Value::String(text)) => decimal_from_toml(text).map(Value::Number),
                    Some(_) => None,
                };
                if table.when_missing.is_some() && when_missing.is_none() {
                    self.error(
                        DiagnosticCode::BadNumber,
                        format!(
                            "`when_missing` of field `{}` is not a value of its type",
                            name.get_ref()
                        ),
                        at,
                        Some("a number field takes a number, a text field a quoted text"),
                    );
                }
                if table.flag.is_some() && when_missing.is_none() {
                    let at = self.at(&name);
                    self.error(
                        DiagnosticCode::InvalidValue,
                        format!(
                            "field `{}` has a `flag` but no `when_missing`",
                            name.get_ref()
                        ),
                        at,
                        Some("a flag marks cells that used `when_missing`"),
                    );
                }
                (
                    table.column,
                    table.description,
                    kind,
                    when_missing,
                    table.flag,
                )
            }
        };
        let location = self.at(&name);
        let name = name.into_inner();
        if !rhai::is_valid_identifier(&name) {
            self.error(
                DiagnosticCode::InvalidValue,
                format!("field name `{name}` cannot be used in formulas"),
                location,
                Some("use letters, digits and `_`; map an awkward header with `column = \"…\"`"),
            );
        } else if let Some(why) = crate::pack::names::unusable(&name) {
            self.error(
                DiagnosticCode::ReservedName,
                format!("field name `{name}` cannot be read by formulas: {why}"),
                location,
                Some(&format!("name the field otherwise and keep the header with `column`, e.g. `{name}_ = {{ column = \"{name}\" }}`")),
            );
        }
        Field {
            column: column.unwrap_or_else(|| name.clone()),
            name,
            description,
            call: None,
            kind,
            when_missing,
            flag,
        }
    }

    /// A TOML number (read exactly from its text) or text.
    fn value(&mut self, value: &Spanned<toml::Value>, what: &str) -> Option<Value> {
        match value.get_ref() {
            toml::Value::String(text) => Some(Value::Text(text.clone())),
            _ => self.decimal(value, what).map(|(d, _)| Value::Number(d)),
        }
    }

    fn band_set(&mut self, id: Spanned<String>, spec: BandSetSpec) -> BandSet {
        let location = self.at(&id);
        let basis = match spec.on.as_ref().map(|s| (s.get_ref().as_str(), s)) {
            None | Some(("compliance", _)) => BandBasis::Compliance,
            Some(("value", _)) => BandBasis::Value,
            Some((other, spanned)) => {
                let at = self.at(spanned);
                self.error(
                    DiagnosticCode::InvalidValue,
                    format!("band basis `{other}` is unknown"),
                    at,
                    Some("use `on = \"compliance\"` or `on = \"value\"`"),
                );
                BandBasis::Compliance
            }
        };
        if spec.levels.is_empty() {
            self.error(
                DiagnosticCode::InvalidValue,
                format!("band set `{}` has no levels", id.get_ref()),
                location.clone(),
                None,
            );
        }
        let count = spec.levels.len();
        let mut levels = Vec::new();
        for (i, level) in spec.levels.into_iter().enumerate() {
            let at = self.at(&level);
            let level = level.into_inner();
            let threshold = level
                .threshold
                .as_ref()
                .and_then(|t| self.decimal(t, "band threshold"))
                .map(|(d, _)| d);
            if level.threshold.is_none() && i + 1 < count {
                self.error(
                    DiagnosticCode::BadBandOrder,
                    format!("level `{}` has no threshold but is not the last level", level.label),
                    at,
                    Some("only the last level may omit `threshold`: it catches every remaining score"),
                );
            }
            let colour = level.color.as_ref().and_then(|text| {
                Colour::parse(text.get_ref())
                    .map_err(|message| {
                        let at = self.at(text);
                        self.error(
                            DiagnosticCode::InvalidValue,
                            format!("band level `{}`: {message}", level.label),
                            at,
                            Some("write e.g. `color = \"#2e7d32\"` or `color = \"green\"`"),
                        );
                    })
                    .ok()
            });
            levels.push(BandLevel {
                label: level.label,
                threshold,
                color: colour.map(|c| c.to_string()),
                colour,
            });
        }
        BandSet {
            id: id.into_inner(),
            basis,
            levels,
            location,
        }
    }

    fn draft(&mut self, id: String, location: Location, spec: IndicatorSpec) -> Draft {
        let unit = spec.unit.as_ref().and_then(|word| self.unit(word));
        let direction = spec
            .direction
            .as_ref()
            .and_then(|word| self.direction(word));
        let formula = match (spec.formula, spec.function) {
            (Some(text), None) => Some(FormulaSource::Inline {
                location: self.at(&text),
                text: text.into_inner(),
            }),
            (None, Some(name)) => Some(FormulaSource::Function {
                location: self.at(&name),
                name: name.into_inner(),
            }),
            (Some(_), Some(function)) => {
                let at = self.at(&function);
                self.error(
                    DiagnosticCode::InvalidValue,
                    format!("indicator `{id}` has both `formula` and `function`"),
                    at,
                    Some("keep one of them"),
                );
                None
            }
            (None, None) => None,
        };
        Draft {
            standard: spec
                .standard
                .as_ref()
                .and_then(|v| self.decimal(v, "standard")),
            standard_min: spec
                .standard_min
                .as_ref()
                .and_then(|v| self.decimal(v, "standard_min")),
            standard_max: spec
                .standard_max
                .as_ref()
                .and_then(|v| self.decimal(v, "standard_max")),
            bands: spec.bands.map(|b| (b.get_ref().clone(), self.at(&b))),
            id,
            location,
            name: spec.name,
            description: spec.description,
            group: spec.group,
            unit,
            direction,
            frequency: spec.frequency,
            decimals: spec.decimals,
            responsible: spec.responsible,
            formula,
            grain: spec.grain.map(Spanned::into_inner),
            overrides: Vec::new(),
        }
    }

    fn apply_defaults(&mut self, draft: &mut Draft, defaults: &IndicatorDefaults) {
        if draft.unit.is_none() {
            draft.unit = defaults.unit.as_ref().and_then(|word| self.unit(word));
        }
        if draft.direction.is_none() {
            draft.direction = defaults
                .direction
                .as_ref()
                .and_then(|word| self.direction(word));
        }
        if draft.bands.is_none() {
            draft.bands = defaults
                .bands
                .as_ref()
                .map(|b| (b.get_ref().clone(), self.at(b)));
        }
        draft.group = draft.group.take().or_else(|| defaults.group.clone());
        draft.frequency = draft
            .frequency
            .take()
            .or_else(|| defaults.frequency.clone());
        draft.decimals = draft.decimals.or(defaults.decimals);
    }

    fn unit(&mut self, word: &Spanned<String>) -> Option<Unit> {
        let unit = Unit::parse(word.get_ref());
        if unit.is_none() {
            let at = self.at(word);
            let all: Vec<_> = Unit::ALL.iter().map(|u| u.as_str()).collect();
            self.error(
                DiagnosticCode::InvalidValue,
                format!("unit `{}` is unknown", word.get_ref()),
                at,
                Some(&format!("use one of: {}", all.join(", "))),
            );
        }
        unit
    }

    fn direction(&mut self, word: &Spanned<String>) -> Option<(Direction, Location)> {
        let at = self.at(word);
        let direction = Direction::parse(word.get_ref());
        if direction.is_none() {
            self.error(
                DiagnosticCode::InvalidValue,
                format!("direction `{}` is unknown", word.get_ref()),
                at.clone(),
                Some("use `higher`, `lower` or `range`"),
            );
        }
        direction.map(|d| (d, at))
    }
}

/// Band sets by id, for merging layers.
pub(crate) type BandSets = BTreeMap<String, BandSet>;
