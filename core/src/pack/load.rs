//! Loading a pack into a [`RulePack`]: read its files and the files of
//! every pack it extends through a [`PackSource`] (a directory, memory, an
//! archive), resolve them in order (parents first, later parents over
//! earlier ones, the pack itself last), and check the result, collecting
//! every problem.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::checks;
use super::files::{DirectorySource, MemorySource, PackSource, normalize, read_text};
use super::layer::{BandSets, DataLayer, Draft, Layer, MatrixDraft, read_layer};
use super::manifest::LimitsSection;
use super::{DataShape, Field, FieldKind, Labels, PackIdentity, Parameter, RulePack, Unit};
use crate::diagnostic::{Diagnostic, DiagnosticCode, Diagnostics};
use crate::pack::limits::Limits;
use crate::source::{Location, SourceFile};

/// Name of the manifest file inside a pack directory.
pub const PACK_FILE: &str = "pack.toml";

impl RulePack {
    /// Loads the pack in the directory `dir`: `pack.toml`, every `*.rhai`
    /// file beside it, and the packs it `extends`.
    ///
    /// # Errors
    /// Every problem found (unreadable files, TOML errors, unknown band sets,
    /// bad numbers, duplicate ids, overrides of unknown indicators, …), each
    /// with its location.
    pub fn load(dir: &Path) -> Result<RulePack, Diagnostics> {
        Self::load_from(&DirectorySource, dir)
    }

    /// Loads the pack in `dir` of `source` (a [`DirectorySource`], a
    /// [`MemorySource`], an [`crate::ArchiveSource`]…): its `pack.toml`, every
    /// `*.rhai` file beside it, and the packs it `extends`, which must be in
    /// the same source.
    ///
    /// # Errors
    /// As [`RulePack::load`]; an `extends` that leaves the source is refused
    /// where it is written.
    pub fn load_from(source: &dyn PackSource, dir: &Path) -> Result<RulePack, Diagnostics> {
        let (pack, problems) = Self::load_partial(source, dir);
        finish(pack, problems)
    }

    /// Loads what can be loaded, and every problem found, so compiling can
    /// report its own problems too.
    pub(crate) fn load_partial(
        source: &dyn PackSource,
        dir: &Path,
    ) -> (Option<RulePack>, Vec<Diagnostic>) {
        let mut problems = Vec::new();
        let mut stack = Vec::new();
        let manifest = dir.join(PACK_FILE);
        let resolved = resolve(source, dir, &manifest, &mut stack, None, &mut problems);
        (resolved.map(|r| r.finalize(&mut problems)), problems)
    }

    /// Builds a pack from its manifest and script files already in memory,
    /// at their paths (a [`MemorySource`] of them): the pack reads the
    /// `*.rhai` files beside the manifest, in name order, and a pack it
    /// `extends` from among `files` (`../library/pack.toml` and its
    /// scripts, for a manifest at `mine/pack.toml` that extends
    /// `../library`).
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
    /// Every problem found, each with its location; a file of `files` that
    /// no pack reads (not a `.rhai` file beside a loaded `pack.toml`) is one.
    pub fn from_sources(
        manifest: SourceFile,
        files: Vec<SourceFile>,
    ) -> Result<RulePack, Diagnostics> {
        let mut memory = MemorySource::new();
        memory.insert(manifest.path(), manifest.text());
        for file in &files {
            memory.insert(file.path(), file.text());
        }
        let mut problems = Vec::new();
        let dir = manifest.path().parent().unwrap_or(Path::new(""));
        let resolved = resolve(
            &memory,
            dir,
            manifest.path(),
            &mut Vec::new(),
            None,
            &mut problems,
        );
        if let Some(resolved) = &resolved {
            for file in files {
                let path = normalize(file.path());
                if resolved.files.iter().all(|(_, read)| read.path() != path) {
                    problems.push(
                        Diagnostic::error(
                            DiagnosticCode::InvalidValue,
                            format!("{} is given, but no pack reads it", path.display()),
                            Some(Location {
                                file: Arc::new(file),
                                span: 0..0,
                            }),
                        )
                        .with_help("a pack reads its pack.toml and the .rhai files beside it"),
                    );
                }
            }
        }
        finish(resolved.map(|r| r.finalize(&mut problems)), problems)
    }
}

/// The pack if nothing is wrong, else every problem once, in file order.
pub(crate) fn finish(
    pack: Option<RulePack>,
    mut problems: Vec<Diagnostic>,
) -> Result<RulePack, Diagnostics> {
    // Stable: problems at one place keep the order they were found in.
    problems.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            d.location
                .as_ref()
                .map(|l| (l.file.path().to_path_buf(), l.span.start))
        };
        key(a).cmp(&key(b))
    });
    // Equal problems are at the same place, so among the same key: linear
    // in the number of problems unless many share one place.
    let mut kept: Vec<Diagnostic> = Vec::with_capacity(problems.len());
    let mut run_start = 0;
    for problem in problems {
        let same_place = kept.last().is_some_and(|last| {
            last.location
                .as_ref()
                .map(|l| (l.file.path(), l.span.start))
                == problem
                    .location
                    .as_ref()
                    .map(|l| (l.file.path(), l.span.start))
        });
        if !same_place {
            run_start = kept.len();
        }
        if !kept[run_start..].contains(&problem) {
            kept.push(problem);
        }
    }
    let problems = kept;
    match pack {
        Some(pack) if problems.is_empty() => Ok(pack),
        _ => Err(Diagnostics(problems)),
    }
}

/// The `*.rhai` files directly in `dir`, in name order.
fn read_scripts(source: &dyn PackSource, dir: &Path) -> Result<Vec<Arc<SourceFile>>, Diagnostic> {
    let paths = source.list(dir).map_err(|e| {
        Diagnostic::error(
            DiagnosticCode::Io,
            format!("cannot list {}: {e}", source.shown(dir).display()),
            None,
        )
    })?;
    paths
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rhai"))
        .map(|path| read_text(source, &path, DiagnosticCode::FormulaSyntax, None).map(Arc::new))
        .collect()
}

/// Reads the pack in `dir` of `source` (its manifest at `manifest`) and the
/// packs it extends into one resolved pack. `stack` holds the packs being
/// resolved, to reject cycles.
fn resolve(
    source: &dyn PackSource,
    dir: &Path,
    manifest: &Path,
    stack: &mut Vec<PathBuf>,
    from: Option<&Location>,
    problems: &mut Vec<Diagnostic>,
) -> Option<Resolved> {
    let manifest = match read_text(source, manifest, DiagnosticCode::TomlSyntax, from) {
        Ok(manifest) => manifest,
        Err(problem) => {
            problems.push(if problem.code == DiagnosticCode::Io {
                problem.with_help("pass the directory that holds the pack's pack.toml")
            } else {
                problem
            });
            return None;
        }
    };
    let identity = source.identity(dir);
    if let Some(at) = stack.iter().position(|d| *d == identity) {
        let cycle: Vec<String> = stack[at..]
            .iter()
            .chain(std::iter::once(&identity))
            .map(|d| d.display().to_string())
            .collect();
        problems.push(
            Diagnostic::error(
                DiagnosticCode::DependencyCycle,
                format!("packs extend each other in a cycle: {}", cycle.join(" → ")),
                from.cloned(),
            )
            .with_help("a pack may extend a library, never a pack that extends it back"),
        );
        return None;
    }
    let scripts = match read_scripts(source, dir) {
        Ok(scripts) => scripts,
        Err(problem) => {
            problems.push(problem);
            Vec::new()
        }
    };
    let layer = read_layer(Arc::new(manifest), scripts, problems)?;
    stack.push(identity);
    let mut resolved = Resolved::default();
    for (parent, location) in &layer.extends {
        let parent_dir = match source.join(dir, parent) {
            Ok(parent_dir) => parent_dir,
            Err(why) => {
                problems.push(
                    Diagnostic::error(
                        DiagnosticCode::InvalidValue,
                        format!("cannot extend `{parent}`: {why}"),
                        Some(location.clone()),
                    )
                    .with_help("a pack can extend only packs read from the same place: put them side by side"),
                );
                continue;
            }
        };
        let parent_manifest = parent_dir.join(PACK_FILE);
        if let Some(parent) = resolve(
            source,
            &parent_dir,
            &parent_manifest,
            stack,
            Some(location),
            problems,
        ) {
            resolved.inherit(parent);
        }
    }
    stack.pop();
    resolved.apply(layer, problems);
    Some(resolved)
}

/// What a pack (or a resolved parent) contributes besides its indicators.
struct Settings {
    plugins: Vec<(String, Location)>,
    data: DataLayer,
    fields: Vec<(Field, Location)>,
    not_applicable: Option<String>,
    units: Vec<(Unit, String)>,
    limits: LimitsSection,
    band_sets: Vec<crate::pack::standard::BandSet>,
    parameters: Vec<Parameter>,
    matrices: Vec<MatrixDraft>,
}

/// A pack being resolved, layer over layer.
#[derive(Debug, Default)]
struct Resolved {
    id: String,
    version: String,
    description: String,
    /// `(pack id, file)` of every file that went in, for the content hash.
    files: Vec<(String, Arc<SourceFile>)>,
    scripts: Vec<Arc<SourceFile>>,
    /// `[helpers] overrides` of every pack, each at its own pack.toml.
    helper_overrides: Vec<(String, Location)>,
    plugins: Vec<(String, Location)>,
    data: DataLayer,
    fields: Vec<(Field, Location)>,
    not_applicable: Option<String>,
    units: Vec<(Unit, String)>,
    limits: LimitsSection,
    band_sets: BandSets,
    indicators: Vec<Draft>,
    parameters: Vec<Parameter>,
    matrices: Vec<MatrixDraft>,
}

impl Resolved {
    /// Each indicator's position in `indicators`, by id.
    fn indicator_positions(&self) -> HashMap<String, usize> {
        self.indicators
            .iter()
            .enumerate()
            .map(|(i, d)| (d.id.clone(), i))
            .collect()
    }

    /// Takes in a resolved parent: its indicators come after earlier parents',
    /// replacing any with the same id.
    fn inherit(&mut self, parent: Resolved) {
        self.files.extend(parent.files);
        self.scripts.extend(parent.scripts);
        self.helper_overrides.extend(parent.helper_overrides);
        self.take_over(Settings {
            plugins: parent.plugins,
            data: parent.data,
            fields: parent.fields,
            not_applicable: parent.not_applicable,
            units: parent.units,
            limits: parent.limits,
            band_sets: parent.band_sets.into_values().collect(),
            parameters: parent.parameters,
            matrices: parent.matrices,
        });
        let mut at = self.indicator_positions();
        for indicator in parent.indicators {
            match at.get(&indicator.id) {
                Some(&i) => self.indicators[i] = indicator,
                None => {
                    at.insert(indicator.id.clone(), self.indicators.len());
                    self.indicators.push(indicator);
                }
            }
        }
    }

    /// Takes settings from a pack read after what is here (a later parent,
    /// or the pack itself): what it sets wins.
    fn take_over(&mut self, newer: Settings) {
        for plugin in newer.plugins {
            if !self.plugins.iter().any(|(p, _)| *p == plugin.0) {
                self.plugins.push(plugin);
            }
        }
        let data = newer.data;
        self.data.format = data.format.or(self.data.format.take());
        self.data.entity = data.entity.or(self.data.entity.take());
        self.data.period = data.period.or(self.data.period.take());
        self.data.dimensions = data.dimensions.or(self.data.dimensions.take());
        self.data.peer_group = data.peer_group.or(self.data.peer_group.take());
        self.data.delimiter = data.delimiter.or(self.data.delimiter.take());
        self.data.decimal = data.decimal.or(self.data.decimal.take());
        self.data.thousands = data.thousands.or(self.data.thousands.take());
        self.data.sheet = data.sheet.or(self.data.sheet.take());
        self.data.exponent = data.exponent.or(self.data.exponent.take());
        self.data.encoding = data.encoding.or(self.data.encoding.take());
        self.data.period_format = data.period_format.or(self.data.period_format.take());
        for field in newer.fields {
            self.set_field(field);
        }
        self.not_applicable = newer.not_applicable.or(self.not_applicable.take());
        for (unit, suffix) in newer.units {
            self.set_unit(unit, suffix);
        }
        let mut limits = newer.limits;
        limits.merge_over(&self.limits);
        self.limits = limits;
        for set in newer.band_sets {
            self.band_sets.insert(set.id.clone(), set);
        }
        for parameter in newer.parameters {
            self.set_parameter(parameter);
        }
        for matrix in newer.matrices {
            self.set_matrix(matrix);
        }
    }

    fn set_field(&mut self, field: (Field, Location)) {
        match self.fields.iter_mut().find(|f| f.0.name == field.0.name) {
            Some(existing) => *existing = field,
            None => self.fields.push(field),
        }
    }

    fn set_parameter(&mut self, parameter: Parameter) {
        match self
            .parameters
            .iter_mut()
            .find(|p| p.name == parameter.name)
        {
            Some(existing) => *existing = parameter,
            None => self.parameters.push(parameter),
        }
    }

    fn set_matrix(&mut self, matrix: MatrixDraft) {
        match self.matrices.iter_mut().find(|m| m.id == matrix.id) {
            Some(existing) => *existing = matrix,
            None => self.matrices.push(matrix),
        }
    }

    fn set_unit(&mut self, unit: Unit, suffix: String) {
        self.units.retain(|(u, _)| *u != unit);
        self.units.push((unit, suffix));
    }

    /// Applies a pack's own file over what it inherited.
    fn apply(&mut self, layer: Layer, problems: &mut Vec<Diagnostic>) {
        self.id = layer.id.clone();
        self.version = layer.version;
        self.description = layer.description;
        self.files.push((layer.id.clone(), layer.manifest));
        self.files
            .extend(layer.scripts.iter().map(|s| (layer.id.clone(), s.clone())));
        self.scripts.extend(layer.scripts);
        self.helper_overrides.extend(layer.helper_overrides);
        self.take_over(Settings {
            plugins: layer.plugins,
            data: layer.data,
            fields: layer.fields,
            not_applicable: layer.not_applicable,
            units: layer.units,
            limits: layer.limits,
            band_sets: layer.band_sets,
            parameters: layer.parameters,
            matrices: layer.matrices,
        });
        let inherited = !layer.extends.is_empty();
        for (id, location) in layer.disable {
            let before = self.indicators.len();
            self.indicators.retain(|i| i.id != id);
            if self.indicators.len() == before {
                problems.push(unknown_inherited(&id, location, "disable", inherited));
            }
        }
        let mut at = self.indicator_positions();
        for over in layer.overrides {
            let location = over.location.clone();
            match at.get(&over.id).map(|&i| &mut self.indicators[i]) {
                Some(target) => {
                    let id = over.id.clone();
                    let keys = target.apply(over);
                    if keys.is_empty() {
                        problems.push(
                            Diagnostic::error(
                                DiagnosticCode::InvalidValue,
                                format!("[override.{id}] changes nothing"),
                                Some(location),
                            )
                            .with_help("set the keys to change, e.g. `standard = 5`"),
                        );
                    } else {
                        target.overrides.push((keys, location));
                    }
                }
                None => problems.push(unknown_inherited(&over.id, location, "override", inherited)),
            }
        }
        for indicator in layer.indicators {
            match at.get(&indicator.id).map(|&i| &self.indicators[i]) {
                Some(first) => {
                    let inherited_here = first.location.file != indicator.location.file;
                    let (message, help) = if inherited_here {
                        (
                            format!(
                                "indicator `{}` is inherited (defined at {})",
                                indicator.id, first.location
                            ),
                            format!(
                                "change it with [override.{}], or give the new indicator another id",
                                indicator.id
                            ),
                        )
                    } else {
                        (
                            format!(
                                "indicator `{}` is defined twice (first at {})",
                                indicator.id, first.location
                            ),
                            "give each indicator its own id".to_owned(),
                        )
                    };
                    problems.push(
                        Diagnostic::error(
                            DiagnosticCode::DuplicateId,
                            message,
                            Some(indicator.location),
                        )
                        .with_help(help),
                    );
                }
                None => {
                    at.insert(indicator.id.clone(), self.indicators.len());
                    self.indicators.push(indicator);
                }
            }
        }
    }

    /// Checks what only the whole pack can tell ([`checks`]), and builds it.
    fn finalize(mut self, problems: &mut Vec<Diagnostic>) -> RulePack {
        checks::fields_are_not_keys(&self.fields, &self.data, problems);
        let fields: Vec<Field> = std::mem::take(&mut self.fields)
            .into_iter()
            .map(|(field, _)| field)
            .collect();
        checks::expand_matrices(
            &self.matrices,
            &self.plugins,
            &mut self.indicators,
            &fields,
            problems,
        );
        checks::parameters_have_their_own_names(
            &self.parameters,
            &self.indicators,
            &fields,
            problems,
        );
        let band_sets: Vec<_> = self.band_sets.into_values().collect();
        let indicators = checks::indicators(self.indicators, &fields, &band_sets, problems);
        checks::grain_columns_are_known(&indicators, &self.data, problems);
        let matrices = checks::matrices(&self.matrices, &indicators, problems);
        checks::peer_group_is_a_dimension(&self.data, problems);
        let numbers = checks::number_format(&self.data, problems);
        let data = self.data;
        let dimensions = data.dimensions.unwrap_or_default();
        RulePack {
            identity: PackIdentity {
                id: self.id,
                version: self.version,
                content_hash: content_hash(&self.files),
            },
            description: self.description,
            plugins: self.plugins,
            format_location: data.format.as_ref().map(|(_, l)| l.clone()),
            data: DataShape {
                format: data
                    .format
                    .map_or_else(|| crate::data::shape::WIDE_FORMAT.to_owned(), |(f, _)| f),
                entity: data.entity.unwrap_or_else(|| "entity".to_owned()),
                period: data.period,
                peer_group: data.peer_group.map(|(g, _)| g),
                delimiter: data.delimiter.unwrap_or(b','),
                numbers,
                sheet: data.sheet,
                encoding: data.encoding.unwrap_or_default(),
                period_format: data.period_format.unwrap_or_default(),
                text_columns: fields
                    .iter()
                    .filter(|f| f.kind == FieldKind::Text)
                    .map(|f| f.column.clone())
                    .collect(),
                dimensions,
            },
            fields,
            labels: Labels {
                not_applicable: self.not_applicable.unwrap_or_else(|| "N/A".into()),
                units: self.units,
            },
            limits: self.limits.over(Limits::default()),
            band_sets,
            indicators,
            scripts: self.scripts,
            helper_overrides: self.helper_overrides,
            parameters: self.parameters,
            matrices,
            files: self.files.iter().map(|(_, f)| f.clone()).collect(),
        }
    }
}

fn unknown_inherited(id: &str, location: Location, what: &str, inherited: bool) -> Diagnostic {
    let help = if inherited {
        "check the id against the parent packs' indicators"
    } else {
        "this pack extends no other pack: `disable` and [override.ID] change inherited indicators"
    };
    Diagnostic::error(
        DiagnosticCode::UnknownName,
        format!("cannot {what} `{id}`: no inherited indicator has that id"),
        Some(location),
    )
    .with_help(help)
}

/// SHA-256 over the pack id, name and content of every file that went in.
fn content_hash(files: &[(String, Arc<SourceFile>)]) -> String {
    let mut hasher = Sha256::new();
    for (pack, file) in files {
        let name = file
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = format!("{pack}/{name}");
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::layer::decimal_from_toml;

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
