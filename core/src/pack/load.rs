//! Reads a pack directory into a [`RulePack`], collecting every problem.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::sync::Arc;

use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use toml::Spanned;

use super::manifest::{FieldSpec, IndicatorSpec, Manifest};
use super::{
    DataShape, Direction, Field, FormulaSource, Indicator, Labels, PackIdentity, RulePack,
    Standard, Unit,
};
use crate::band::{BandBasis, BandLevel, BandSet};
use crate::diagnostic::{Diagnostic, DiagnosticCode, Diagnostics};
use crate::limits::Limits;
use crate::source::{Location, SourceFile};

/// Name of the manifest file inside a pack directory.
pub const PACK_FILE: &str = "pack.toml";

impl RulePack {
    /// Loads the pack in `dir`: `pack.toml` and every `*.rhai` file beside it.
    ///
    /// # Errors
    /// Every problem found (unreadable files, TOML errors, unknown band sets,
    /// bad numbers, duplicate ids, …), each with its location.
    pub fn load(dir: &Path) -> Result<RulePack, Diagnostics> {
        let (pack, problems) = Self::load_partial(dir);
        finish(pack, problems)
    }

    /// Loads what can be loaded: the pack (unless `pack.toml` is unreadable
    /// or not TOML) and every problem found, so compiling can report its own
    /// problems too.
    pub(crate) fn load_partial(dir: &Path) -> (Option<RulePack>, Vec<Diagnostic>) {
        let manifest_path = dir.join(PACK_FILE);
        let text = match fs::read_to_string(&manifest_path) {
            Ok(text) => text,
            Err(e) => {
                let problem = Diagnostic::error(
                    DiagnosticCode::Io,
                    format!("cannot read {}: {e}", manifest_path.display()),
                    None,
                )
                .with_help("pass the directory that holds the pack's pack.toml");
                return (None, vec![problem]);
            }
        };
        let (scripts, mut problems) = match read_scripts(dir) {
            Ok(found) => (found, Vec::new()),
            Err(d) => (Vec::new(), vec![d]),
        };
        let (pack, more) = Self::check_sources(SourceFile::new(manifest_path, text), scripts);
        problems.extend(more);
        (pack, problems)
    }

    /// Builds a pack from its manifest and script files already in memory.
    ///
    /// ```
    /// use semaforo_core::{RulePack, SourceFile};
    /// let manifest = SourceFile::new("pack.toml", r#"
    /// [pack]
    /// id = "demo"
    /// version = "1"
    /// [fields]
    /// done = "activities done"
    /// planned = "activities planned"
    /// [[indicator]]
    /// id = "progress"
    /// formula = "done / planned * 100"
    /// unit = "percent"
    /// "#);
    /// let pack = RulePack::from_sources(manifest, vec![]).unwrap();
    /// assert_eq!(pack.indicators()[0].id, "progress");
    /// ```
    ///
    /// # Errors
    /// Every problem found, each with its location.
    pub fn from_sources(
        manifest: SourceFile,
        scripts: Vec<SourceFile>,
    ) -> Result<RulePack, Diagnostics> {
        let (pack, problems) = Self::check_sources(manifest, scripts);
        finish(pack, problems)
    }

    fn check_sources(
        manifest: SourceFile,
        scripts: Vec<SourceFile>,
    ) -> (Option<RulePack>, Vec<Diagnostic>) {
        let manifest = Arc::new(manifest);
        let scripts: Vec<Arc<SourceFile>> = scripts.into_iter().map(Arc::new).collect();
        let parsed: Manifest = match toml::from_str(manifest.text()) {
            Ok(parsed) => parsed,
            Err(e) => {
                let location = e.span().map(|span| Location {
                    file: manifest.clone(),
                    span,
                });
                let problem = Diagnostic::error(
                    DiagnosticCode::TomlSyntax,
                    e.message().trim_end().to_owned(),
                    location,
                );
                return (None, vec![problem]);
            }
        };
        let mut checker = Checker {
            file: manifest.clone(),
            problems: Vec::new(),
            checked_orders: BTreeSet::new(),
        };
        let pack = checker.check(parsed, &manifest, scripts);
        (Some(pack), checker.problems)
    }
}

/// The pack if nothing is wrong, else every problem once, in the order found.
pub(crate) fn finish(
    pack: Option<RulePack>,
    mut problems: Vec<Diagnostic>,
) -> Result<RulePack, Diagnostics> {
    let mut seen: Vec<Diagnostic> = Vec::new();
    problems.retain(|p| {
        let fresh = !seen.contains(p);
        if fresh {
            seen.push(p.clone());
        }
        fresh
    });
    match pack {
        Some(pack) if problems.is_empty() => Ok(pack),
        _ => Err(Diagnostics(problems)),
    }
}

fn read_scripts(dir: &Path) -> Result<Vec<SourceFile>, Diagnostic> {
    let io = |e: std::io::Error| {
        Diagnostic::error(
            DiagnosticCode::Io,
            format!("cannot list {}: {e}", dir.display()),
            None,
        )
    };
    let mut paths: Vec<_> = fs::read_dir(dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rhai") && p.is_file())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| match fs::read_to_string(&path) {
            Ok(text) => Ok(SourceFile::new(path, text)),
            Err(e) => Err(Diagnostic::error(
                DiagnosticCode::Io,
                format!("cannot read {}: {e}", path.display()),
                None,
            )),
        })
        .collect()
}

fn content_hash(manifest: &SourceFile, scripts: &[Arc<SourceFile>]) -> String {
    let mut hasher = Sha256::new();
    for file in std::iter::once(manifest).chain(scripts.iter().map(AsRef::as_ref)) {
        let name = file
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        hasher.update((name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
        hasher.update((file.text().len() as u64).to_le_bytes());
        hasher.update(file.text().as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Parses the source text of a TOML number (or quoted number) exactly, never through `f64`.
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

struct Checker {
    file: Arc<SourceFile>,
    problems: Vec<Diagnostic>,
    /// Band sets whose threshold order was already checked for a direction.
    checked_orders: BTreeSet<(usize, Direction)>,
}

impl Checker {
    fn at<T>(&self, spanned: &Spanned<T>) -> Location {
        Location {
            file: self.file.clone(),
            span: spanned.span(),
        }
    }

    fn error(
        &mut self,
        code: DiagnosticCode,
        message: String,
        location: Location,
    ) -> &mut Diagnostic {
        self.problems
            .push(Diagnostic::error(code, message, Some(location)));
        self.problems.last_mut().expect("just pushed")
    }

    fn decimal(&mut self, value: &Spanned<toml::Value>, what: &str) -> Option<Decimal> {
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
                location,
            )
            .help = Some("write a plain number such as 4 or 5.52".into());
        }
        parsed
    }

    fn check(
        &mut self,
        m: Manifest,
        manifest: &SourceFile,
        scripts: Vec<Arc<SourceFile>>,
    ) -> RulePack {
        let format_location = m.data.format.as_ref().map(|f| self.at(f));
        let data = DataShape {
            format: m.data.format.map_or_else(
                || crate::reader::WIDE_FORMAT.to_owned(),
                Spanned::into_inner,
            ),
            entity: m.data.entity,
            period: m.data.period,
            dimensions: m.data.dimensions,
        };
        let fields = m
            .fields
            .into_iter()
            .map(|(name, spec)| {
                let (column, description) = match spec {
                    FieldSpec::Described(d) => (None, d),
                    FieldSpec::Full(table) => (table.column, table.description),
                };
                let location = self.at(&name);
                let name = name.into_inner();
                if !rhai::is_valid_identifier(&name) {
                    self.error(
                        DiagnosticCode::InvalidValue,
                        format!("field name `{name}` cannot be used in formulas"),
                        location,
                    )
                    .help = Some(
                        "use letters, digits and `_`; map an awkward header with `column = \"…\"`"
                            .into(),
                    );
                }
                Field {
                    column: column.unwrap_or_else(|| name.clone()),
                    name,
                    description,
                    call: None,
                }
            })
            .collect::<Vec<_>>();

        let mut units = Vec::new();
        for (word, suffix) in m.labels.units {
            match Unit::parse(&word) {
                Some(unit) => units.push((unit, suffix)),
                None => self.problems.push(Diagnostic::error(
                    DiagnosticCode::InvalidValue,
                    format!("labels.units names unknown unit `{word}`"),
                    None,
                )),
            }
        }
        let labels = Labels {
            not_applicable: m.labels.not_applicable.unwrap_or_else(|| "N/A".into()),
            units,
        };

        let defaults_limits = Limits::default();
        let limits = Limits {
            max_operations: m
                .limits
                .max_operations
                .unwrap_or(defaults_limits.max_operations),
            max_call_levels: m
                .limits
                .max_call_levels
                .unwrap_or(defaults_limits.max_call_levels),
            max_expr_depth: m
                .limits
                .max_expr_depth
                .unwrap_or(defaults_limits.max_expr_depth),
            max_string_size: m
                .limits
                .max_string_size
                .unwrap_or(defaults_limits.max_string_size),
            max_array_size: m
                .limits
                .max_array_size
                .unwrap_or(defaults_limits.max_array_size),
            max_map_size: m
                .limits
                .max_map_size
                .unwrap_or(defaults_limits.max_map_size),
        };

        let band_sets = self.band_sets(m.bands);
        let band_index: BTreeMap<&str, usize> = band_sets
            .iter()
            .enumerate()
            .map(|(i, b)| (b.id.as_str(), i))
            .collect();

        let field_names: BTreeSet<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        let mut seen: BTreeMap<String, Location> = BTreeMap::new();
        let mut indicators = Vec::new();
        for spec in m.indicators {
            let id_location = self.at(&spec.id);
            let id = spec.id.get_ref().clone();
            if let Some(first) = seen.get(&id) {
                self.error(
                    DiagnosticCode::DuplicateId,
                    format!("indicator `{id}` is defined twice (first at {first})"),
                    id_location.clone(),
                );
            } else if field_names.contains(id.as_str()) {
                self.error(
                    DiagnosticCode::DuplicateId,
                    format!("indicator `{id}` has the same name as a field"),
                    id_location.clone(),
                )
                .help = Some("formulas read both by name; rename one of them".into());
            } else if !rhai::is_valid_identifier(&id) {
                self.error(
                    DiagnosticCode::InvalidValue,
                    format!("indicator id `{id}` cannot be used in formulas"),
                    id_location.clone(),
                )
                .help = Some("use letters, digits and `_`, starting with a letter".into());
            }
            seen.insert(id, id_location.clone());
            if let Some(indicator) =
                self.indicator(spec, &m.defaults, &band_index, &band_sets, id_location)
            {
                indicators.push(indicator);
            }
        }

        RulePack {
            identity: PackIdentity {
                id: m.pack.id.into_inner(),
                version: m.pack.version,
                content_hash: content_hash(manifest, &scripts),
            },
            description: m.pack.description,
            plugins: m
                .pack
                .plugins
                .into_iter()
                .map(|p| (p.get_ref().clone(), self.at(&p)))
                .collect(),
            data,
            format_location,
            fields,
            labels,
            limits,
            band_sets,
            indicators,
            scripts,
        }
    }

    fn band_sets(
        &mut self,
        specs: BTreeMap<Spanned<String>, super::manifest::BandSetSpec>,
    ) -> Vec<BandSet> {
        let mut sets = Vec::new();
        for (id, spec) in specs {
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
                    )
                    .help = Some("use `on = \"compliance\"` or `on = \"value\"`".into());
                    BandBasis::Compliance
                }
            };
            if spec.levels.is_empty() {
                self.error(
                    DiagnosticCode::InvalidValue,
                    format!("band set `{}` has no levels", id.get_ref()),
                    location.clone(),
                );
            }
            let mut levels = Vec::new();
            let count = spec.levels.len();
            for (i, level) in spec.levels.into_iter().enumerate() {
                let at = self.at(&level);
                let level = level.into_inner();
                let threshold = level
                    .threshold
                    .as_ref()
                    .and_then(|t| self.decimal(t, "band threshold"));
                if level.threshold.is_none() && i + 1 < count {
                    self.error(
                        DiagnosticCode::BadBandOrder,
                        format!("level `{}` has no threshold but is not the last level", level.label),
                        at,
                    )
                    .help = Some("only the last level may omit `threshold`: it catches every remaining score".into());
                }
                levels.push(BandLevel {
                    label: level.label,
                    threshold,
                    color: level.color,
                });
            }
            sets.push(BandSet {
                id: id.into_inner(),
                basis,
                levels,
                location,
            });
        }
        sets
    }

    fn indicator(
        &mut self,
        spec: IndicatorSpec,
        defaults: &super::manifest::IndicatorDefaults,
        band_index: &BTreeMap<&str, usize>,
        band_sets: &[BandSet],
        location: Location,
    ) -> Option<Indicator> {
        let id = spec.id.get_ref().clone();
        let unit = match spec.unit.as_ref().or(defaults.unit.as_ref()) {
            None => Unit::Ratio,
            Some(word) => Unit::parse(word.get_ref()).unwrap_or_else(|| {
                let at = self.at(word);
                let all: Vec<_> = Unit::ALL.iter().map(|u| u.as_str()).collect();
                self.error(
                    DiagnosticCode::InvalidValue,
                    format!("unit `{}` is unknown", word.get_ref()),
                    at,
                )
                .help = Some(format!("use one of: {}", all.join(", ")));
                Unit::Ratio
            }),
        };
        let direction = match spec.direction.as_ref().or(defaults.direction.as_ref()) {
            None => Direction::HigherIsBetter,
            Some(word) => Direction::parse(word.get_ref()).unwrap_or_else(|| {
                let at = self.at(word);
                self.error(
                    DiagnosticCode::InvalidValue,
                    format!("direction `{}` is unknown", word.get_ref()),
                    at,
                )
                .help = Some("use `higher`, `lower` or `range`".into());
                Direction::HigherIsBetter
            }),
        };
        let standard = self.standard(&spec, direction, &location);
        let band_set = match spec.bands.as_ref().or(defaults.bands.as_ref()) {
            None => None,
            Some(name) => match band_index.get(name.get_ref().as_str()) {
                Some(&i) => {
                    let first_use = self.checked_orders.insert((i, direction));
                    if let Some(problem) =
                        band_sets[i].order_problem(direction).filter(|_| first_use)
                    {
                        let at = band_sets[i].location.clone();
                        self.error(
                            DiagnosticCode::BadBandOrder,
                            format!("band set `{}`: {problem} (used by `{id}`)", name.get_ref()),
                            at,
                        );
                    }
                    Some(i)
                }
                None => {
                    let at = self.at(name);
                    let known: Vec<&str> = band_index.keys().copied().collect();
                    self.error(
                        DiagnosticCode::UnknownBandSet,
                        format!("band set `{}` is not defined", name.get_ref()),
                        at,
                    )
                    .help = Some(if known.is_empty() {
                        "define it under [bands.NAME]".to_owned()
                    } else {
                        format!("defined band sets: {}", known.join(", "))
                    });
                    None
                }
            },
        };
        let formula = match (spec.formula, spec.function) {
            (Some(text), None) => {
                let location = self.at(&text);
                FormulaSource::Inline {
                    text: text.into_inner(),
                    location,
                }
            }
            (None, Some(name)) => {
                let location = self.at(&name);
                FormulaSource::Function {
                    name: name.into_inner(),
                    location,
                }
            }
            (Some(_), Some(function)) => {
                let at = self.at(&function);
                self.error(
                    DiagnosticCode::InvalidValue,
                    format!("indicator `{id}` has both `formula` and `function`"),
                    at,
                )
                .help = Some("keep one of them".into());
                return None;
            }
            (None, None) => {
                self.error(DiagnosticCode::InvalidValue, format!("indicator `{id}` has no formula"), location)
                    .help = Some("add `formula = \"…\"` (a rhai expression) or `function = \"…\"` (a function of a .rhai file)".into());
                return None;
            }
        };
        Some(Indicator {
            name: spec.name.unwrap_or_else(|| id.clone()),
            id,
            description: spec.description.unwrap_or_default(),
            group: spec
                .group
                .or_else(|| defaults.group.clone())
                .unwrap_or_default(),
            unit,
            direction,
            standard,
            band_set,
            frequency: spec
                .frequency
                .or_else(|| defaults.frequency.clone())
                .unwrap_or_default(),
            decimals: spec.decimals.or(defaults.decimals).unwrap_or(2),
            responsible: spec.responsible.unwrap_or_default(),
            formula,
            location,
        })
    }

    fn standard(
        &mut self,
        spec: &IndicatorSpec,
        direction: Direction,
        location: &Location,
    ) -> Option<Standard> {
        let id = spec.id.get_ref();
        if direction == Direction::WithinRange {
            if let Some(single) = &spec.standard {
                let at = self.at(single);
                self.error(
                    DiagnosticCode::InvalidValue,
                    format!("indicator `{id}` is `range` but has a single `standard`"),
                    at,
                )
                .help = Some("give `standard_min` and `standard_max` instead".into());
                return None;
            }
            let min = spec
                .standard_min
                .as_ref()
                .map(|v| self.decimal(v, "standard_min"));
            let max = spec
                .standard_max
                .as_ref()
                .map(|v| self.decimal(v, "standard_max"));
            return match (min, max) {
                (Some(Some(min)), Some(Some(max))) if min <= max => {
                    Some(Standard::Range { min, max })
                }
                (Some(Some(min)), Some(Some(max))) => {
                    self.error(
                        DiagnosticCode::InvalidValue,
                        format!("standard_min {min} is above standard_max {max}"),
                        location.clone(),
                    );
                    None
                }
                (None, None) => None,
                (Some(None), _) | (_, Some(None)) => None,
                _ => {
                    self.error(
                        DiagnosticCode::InvalidValue,
                        format!("indicator `{id}` needs both `standard_min` and `standard_max`"),
                        location.clone(),
                    );
                    None
                }
            };
        }
        if let Some(bound) = spec.standard_min.as_ref().or(spec.standard_max.as_ref()) {
            let at = self.at(bound);
            self.error(
                DiagnosticCode::InvalidValue,
                format!(
                    "`standard_min`/`standard_max` need `direction = \"range\"` (indicator `{id}`)"
                ),
                at,
            );
        }
        spec.standard
            .as_ref()
            .and_then(|v| self.decimal(v, "standard"))
            .map(Standard::Target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_numbers_are_read_from_their_text() {
        assert_eq!(decimal_from_toml("5.52").unwrap().to_string(), "5.52");
        assert_eq!(decimal_from_toml("1_000").unwrap().to_string(), "1000");
        assert_eq!(decimal_from_toml("\"0.1\"").unwrap().to_string(), "0.1");
        assert_eq!(decimal_from_toml("+3").unwrap().to_string(), "3");
        assert_eq!(decimal_from_toml("1e2").unwrap().to_string(), "100");
        // 0.1 through f64 would be 0.1000000000000000055511151231257827.
        assert_eq!(
            decimal_from_toml("0.1000000000000000000000000001")
                .unwrap()
                .to_string(),
            "0.1000000000000000000000000001"
        );
        assert!(decimal_from_toml("nan").is_none());
        assert!(decimal_from_toml("true").is_none());
    }

    fn load(text: &str) -> Result<RulePack, Diagnostics> {
        RulePack::from_sources(SourceFile::new("pack.toml", text), vec![])
    }

    #[test]
    fn toml_error_points_at_its_line() {
        let err = load("[pack]\nid = \"x\"\nversion = 1\n").unwrap_err();
        assert_eq!(err.0.len(), 1);
        let rendered = err.0[0].to_string();
        assert!(
            rendered.starts_with("pack.toml:3:11: error[SEM002]"),
            "{rendered}"
        );
    }

    #[test]
    fn field_tables_refuse_unknown_keys() {
        let err = load("[pack]\nid = \"x\"\nversion = \"1\"\n[fields]\na = { colum = \"A\" }\n")
            .unwrap_err();
        assert_eq!(err.0[0].code, DiagnosticCode::TomlSyntax);
        assert!(
            err.0[0]
                .to_string()
                .starts_with("pack.toml:5:5: error[SEM002]"),
            "{}",
            err.0[0]
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let err = load(
            "[pack]\nid = \"x\"\nversion = \"1\"\n\
             [[indicator]]\nid = \"a\"\nformula = \"1\"\nbands = \"nope\"\n\
             [[indicator]]\nid = \"a\"\nformula = \"2\"\nstandard = \"abc\"\n",
        )
        .unwrap_err();
        let messages: Vec<String> = err.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "pack.toml:7:9: error[SEM005]: band set `nope` is not defined",
                "pack.toml:9:6: error[SEM009]: indicator `a` is defined twice (first at pack.toml:5:6)",
                "pack.toml:11:12: error[SEM010]: standard `\"abc\"` is not a decimal number",
            ]
        );
    }
}
