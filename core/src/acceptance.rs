//! Pack tests: `tests/*.toml` beside a pack's `pack.toml`, each a data set
//! (a file or inline CSV) and the results it must give. Expected decimals
//! are compared after rounding the actual value, half away from zero, to the
//! places the expectation is written with: `value = "2.87"` checks two places.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;
use toml::Spanned;

use crate::analysis::Analysis;
use crate::compile::set::CompiledRuleSet;
use crate::data::workbook::is_workbook;
use crate::diagnostic::{Diagnostic, DiagnosticCode, Diagnostics};
use crate::evaluate::evaluate;
use crate::evaluate::read::{read_data, read_data_from};
use crate::evaluate::result::ResultSet;
use crate::pack::files::{DirectorySource, PackSource, read_text};
use crate::pack::layer::decimal_from_toml;
use crate::source::{Location, SourceFile};

/// Directory of a pack holding its tests.
pub const TESTS_DIR: &str = "tests";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFileSpec {
    #[serde(default)]
    description: String,
    data: Option<Spanned<String>>,
    csv: Option<Spanned<String>>,
    #[serde(default)]
    expect: Vec<Spanned<ExpectSpec>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectSpec {
    entity: String,
    period: Option<String>,
    level: Option<String>,
    indicator: String,
    value: Option<Spanned<toml::Value>>,
    compliance: Option<Spanned<toml::Value>>,
    band: Option<String>,
    met: Option<bool>,
    error: Option<String>,
    message: Option<String>,
    flags: Option<Vec<String>>,
    rank: Option<usize>,
    selected: Option<bool>,
}

/// Where a test's data comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TestData {
    /// A file on disk, read when the test runs.
    File(PathBuf),
    Inline(String),
    /// A file of a source that is not a directory, read with the test.
    Read(ReadData),
}

/// A data file's bytes and the path they are shown at.
#[derive(Clone, PartialEq, Eq)]
struct ReadData {
    shown: String,
    bytes: Arc<[u8]>,
}

impl fmt::Debug for ReadData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} bytes)", self.shown, self.bytes.len())
    }
}

/// An expected decimal: its value and the places it was written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Expected(Decimal);

impl Expected {
    fn rounded(self, actual: Decimal) -> Decimal {
        actual.round_dp_with_strategy(self.0.scale(), RoundingStrategy::MidpointAwayFromZero)
    }

    fn matches(self, actual: Decimal) -> bool {
        self.rounded(actual) == self.0
    }

    /// `2.75 (2.7459…)`: the actual value at the expected places, then exact.
    fn show(self, actual: Decimal) -> String {
        format!(
            "{} ({})",
            crate::data::decimal::round_for_display(actual, self.0.scale()),
            actual.normalize()
        )
    }
}

/// An `[[expect]]` entry with its expected decimals read exactly.
#[derive(Debug, Clone)]
struct Expectation {
    location: Location,
    value: Option<Expected>,
    compliance: Option<Expected>,
    spec: ExpectSpec,
}

/// One test file of a pack, read and checked.
#[derive(Debug, Clone)]
pub struct PackTest {
    file: Arc<SourceFile>,
    description: String,
    data: TestData,
    expectations: Vec<Expectation>,
}

/// One expectation a test did not meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestFailure {
    /// The `[[expect]]` entry.
    pub location: Location,
    /// Entity, period and indicator.
    pub subject: String,
    /// What was compared: `value`, `compliance`, `band`, `met`, `error`, `message`, `cell` or `data`.
    pub what: &'static str,
    /// What the test expects.
    pub expected: String,
    /// What the pack gave.
    pub actual: String,
}

impl fmt::Display for TestFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {} expected {}, got {}",
            self.location, self.subject, self.what, self.expected, self.actual
        )
    }
}

/// What running one test file found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestOutcome {
    /// Individual comparisons made.
    pub checks: usize,
    /// The comparisons that failed.
    pub failures: Vec<TestFailure>,
}

impl PackTest {
    /// Reads every `tests/*.toml` of the pack in the directory `pack_dir`,
    /// in name order. A pack without a `tests` directory has no tests.
    ///
    /// # Errors
    /// Every problem in the test files, each with its location.
    pub fn load_all(pack_dir: &Path) -> Result<Vec<PackTest>, Diagnostics> {
        Self::load_all_from(&DirectorySource, pack_dir)
    }

    /// Reads every `tests/*.toml` of the pack in `pack_dir` of `source`, in
    /// name order, and, from a source that is not a directory, the data
    /// files they name (which must be in the same source, and not
    /// spreadsheets). A pack without a `tests` directory has no tests.
    ///
    /// # Errors
    /// Every problem in the test files, each with its location.
    pub fn load_all_from(
        source: &dyn PackSource,
        pack_dir: &Path,
    ) -> Result<Vec<PackTest>, Diagnostics> {
        let Ok(paths) = source.list(&pack_dir.join(TESTS_DIR)) else {
            return Ok(Vec::new());
        };
        let mut tests = Vec::new();
        let mut problems = Vec::new();
        for path in paths
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        {
            match read_text(source, &path, DiagnosticCode::TomlSyntax, None) {
                Ok(file) => {
                    if let Some(test) = Self::parse(source, &path, file, &mut problems) {
                        tests.push(test);
                    }
                }
                Err(problem) => problems.push(problem),
            }
        }
        if problems.is_empty() {
            Ok(tests)
        } else {
            Err(Diagnostics(problems))
        }
    }

    /// Reads the test at `path` of `source`, whose text is `file`.
    fn parse(
        source: &dyn PackSource,
        path: &Path,
        file: SourceFile,
        problems: &mut Vec<Diagnostic>,
    ) -> Option<PackTest> {
        let file = Arc::new(file);
        let at = |span: std::ops::Range<usize>| Location {
            file: file.clone(),
            span,
        };
        let spec: TestFileSpec = match toml::from_str(file.text()) {
            Ok(spec) => spec,
            Err(e) => {
                problems.push(Diagnostic::error(
                    DiagnosticCode::TomlSyntax,
                    e.message().trim_end().to_owned(),
                    e.span().map(at),
                ));
                return None;
            }
        };
        let data = match (spec.data, spec.csv) {
            (Some(data), None) => {
                let base = path.parent().unwrap_or(Path::new(""));
                match source.on_disk(base) {
                    Some(base) => TestData::File(base.join(data.get_ref())),
                    None => match read_data_file(source, base, data.get_ref()) {
                        Ok(data) => TestData::Read(data),
                        Err((message, help)) => {
                            problems.push(
                                Diagnostic::error(
                                    DiagnosticCode::InvalidValue,
                                    message,
                                    Some(at(data.span())),
                                )
                                .with_help(help),
                            );
                            return None;
                        }
                    },
                }
            }
            (None, Some(csv)) => TestData::Inline(csv.into_inner()),
            (Some(_), Some(csv)) => {
                problems.push(
                    Diagnostic::error(
                        DiagnosticCode::InvalidValue,
                        "a test has both `data` and `csv`",
                        Some(at(csv.span())),
                    )
                    .with_help("keep one"),
                );
                return None;
            }
            (None, None) => {
                problems.push(
                    Diagnostic::error(
                        DiagnosticCode::InvalidValue,
                        "a test needs `data = \"file\"` or `csv = \"\"\"…\"\"\"`",
                        Some(at(0..0)),
                    )
                    .with_help("`data` is a path relative to the test file"),
                );
                return None;
            }
        };
        let mut expectations = Vec::new();
        for entry in spec.expect {
            let location = at(entry.span());
            let entry = entry.into_inner();
            let mut decimal = |value: &Option<Spanned<toml::Value>>, what: &str| {
                let value = value.as_ref()?;
                let raw = &file.text()[value.span()];
                let parsed = decimal_from_toml(raw);
                if parsed.is_none() {
                    problems.push(Diagnostic::error(
                        DiagnosticCode::BadNumber,
                        format!("expected {what} `{raw}` is not a decimal number"),
                        Some(at(value.span())),
                    ));
                }
                parsed.map(Expected)
            };
            let value = decimal(&entry.value, "value");
            let compliance = decimal(&entry.compliance, "compliance");
            expectations.push(Expectation {
                location,
                value,
                compliance,
                spec: entry,
            });
        }
        Some(PackTest {
            file,
            description: spec.description,
            data,
            expectations,
        })
    }

    /// The test file.
    #[must_use]
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// The test's `description`.
    #[must_use]
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Evaluates the test's data with `rules` and compares every expectation.
    #[must_use]
    pub fn run(&self, rules: &CompiledRuleSet) -> TestOutcome {
        let table = match &self.data {
            TestData::File(path) => read_data(rules, path),
            TestData::Inline(csv) => read_data_from(
                rules,
                &mut csv.as_bytes(),
                &self.file.path().display().to_string(),
            ),
            TestData::Read(data) => read_data_from(rules, &mut &data.bytes[..], &data.shown),
        };
        let table = match table {
            Ok(table) => table,
            Err(error) => {
                let failure = TestFailure {
                    location: Location {
                        file: self.file.clone(),
                        span: 0..0,
                    },
                    subject: "the test data".into(),
                    what: "data",
                    expected: "readable data".into(),
                    actual: error.to_string(),
                };
                return TestOutcome {
                    checks: 1,
                    failures: vec![failure],
                };
            }
        };
        let results = evaluate(rules, &table);
        let mut outcome = TestOutcome::default();
        let index: BTreeMap<(&str, Option<&str>), usize> = results
            .rows()
            .iter()
            .enumerate()
            .map(|(i, r)| ((r.entity.as_str(), r.period.as_deref()), i))
            .collect();
        let analysis = Analysis::of(&results);
        for expectation in &self.expectations {
            check(&results, &analysis, &index, expectation, &mut outcome);
        }
        outcome
    }
}

/// The data file `relative` to `base` of `source`, read; or what is wrong
/// and what to do.
fn read_data_file(
    source: &dyn PackSource,
    base: &Path,
    relative: &str,
) -> Result<ReadData, (String, &'static str)> {
    let path = source.join(base, relative).map_err(|why| {
        (
            format!("cannot read the test's data: {why}"),
            "put the data in the same place as the pack, or inline it with `csv = \"\"\"…\"\"\"`",
        )
    })?;
    let shown = source.shown(&path).display().to_string();
    if is_workbook(&path) {
        return Err((
            format!("{shown} is a spreadsheet: a test reads one only from a pack directory"),
            "save the sheet as CSV, or run the tests of the pack's directory",
        ));
    }
    match source.read(&path) {
        Ok(bytes) => Ok(ReadData {
            shown,
            bytes: bytes.into(),
        }),
        Err(e) => Err((
            format!("cannot read {shown}: {e}"),
            "`data` is a path relative to the test file",
        )),
    }
}

fn check(
    results: &ResultSet,
    analysis: &Analysis,
    rows: &BTreeMap<(&str, Option<&str>), usize>,
    e: &Expectation,
    outcome: &mut TestOutcome,
) {
    let subject = match &e.spec.period {
        Some(period) => format!("`{}` for {} {period}", e.spec.indicator, e.spec.entity),
        None => format!("`{}` for {}", e.spec.indicator, e.spec.entity),
    };
    let mut fail = |what: &'static str, expected: String, actual: String| {
        outcome.failures.push(TestFailure {
            location: e.location.clone(),
            subject: subject.clone(),
            what,
            expected,
            actual,
        });
    };
    let indicator = results
        .pack()
        .indicators()
        .iter()
        .position(|i| i.id == e.spec.indicator);
    let level = e.spec.level.as_deref().unwrap_or("row");
    let found = indicator.and_then(|indicator| {
        if level == "row" {
            if results.pack().indicators()[indicator].grain.is_some() {
                return None;
            }
            let row = *rows.get(&(e.spec.entity.as_str(), e.spec.period.as_deref()))?;
            Some((
                results.cell(row, indicator),
                analysis.ranking(row, indicator).copied(),
            ))
        } else {
            results
                .groups()
                .iter()
                .find(|g| {
                    g.indicator == indicator
                        && g.level == level
                        && g.entity == e.spec.entity
                        && g.period == e.spec.period
                })
                .map(|g| (&g.cell, None))
        }
    });
    let (Some(indicator), Some((cell, ranking))) = (indicator, found) else {
        outcome.checks += 1;
        let missing = if results
            .pack()
            .indicators()
            .iter()
            .all(|i| i.id != e.spec.indicator)
        {
            "no such indicator in the pack".to_owned()
        } else if level == "row"
            && results
                .pack()
                .indicators()
                .iter()
                .any(|i| i.id == e.spec.indicator && i.grain.is_some())
        {
            "an indicator with a grain: give the group's `level` and `entity`".to_owned()
        } else if level == "row" {
            "no such entity and period in the data".to_owned()
        } else {
            format!("no group `{}` at level `{level}`", e.spec.entity)
        };
        fail("cell", "a result".into(), missing);
        return;
    };
    let shown =
        |d: Option<Decimal>| d.map_or_else(|| "nothing".to_owned(), |d| d.normalize().to_string());
    let error_text = || {
        cell.error.as_ref().map_or_else(
            || "no error".to_owned(),
            |err| format!("{} ({err})", err.kind()),
        )
    };
    if let Some(expected) = e.value {
        outcome.checks += 1;
        if !cell.value.is_some_and(|v| expected.matches(v)) {
            let actual = cell.value.map_or_else(error_text, |v| expected.show(v));
            fail("value", expected.0.to_string(), actual);
        }
    }
    if let Some(expected) = e.compliance {
        outcome.checks += 1;
        if !cell.compliance.is_some_and(|v| expected.matches(v)) {
            let actual = cell
                .compliance
                .map_or_else(|| "no compliance".to_owned(), |v| expected.show(v));
            fail("compliance", expected.0.to_string(), actual);
        }
    }
    if let Some(expected) = &e.spec.band {
        outcome.checks += 1;
        let actual = results.band_label(indicator, cell);
        if actual != Some(expected.as_str()) {
            fail(
                "band",
                format!("`{expected}`"),
                actual.map_or_else(|| "no band".to_owned(), |b| format!("`{b}`")),
            );
        }
    }
    if let Some(expected) = e.spec.met {
        outcome.checks += 1;
        if cell.met != Some(expected) {
            fail(
                "met",
                expected.to_string(),
                cell.met
                    .map_or_else(|| "no standard".to_owned(), |m| m.to_string()),
            );
        }
    }
    if let Some(expected) = &e.spec.error {
        outcome.checks += 1;
        if cell.error.as_ref().map(|err| err.kind()) != Some(expected.as_str()) {
            let actual = cell.error.as_ref().map_or_else(
                || format!("value {}", shown(cell.value)),
                |err| format!("{} ({err})", err.kind()),
            );
            fail("error", expected.clone(), actual);
        }
    }
    if let Some(expected) = &e.spec.flags {
        outcome.checks += 1;
        if cell.flags != *expected {
            fail(
                "flags",
                format!("{expected:?}"),
                format!("{:?}", cell.flags),
            );
        }
    }
    if let Some(expected) = e.spec.rank {
        outcome.checks += 1;
        if ranking.map(|r| r.rank) != Some(expected) {
            fail(
                "rank",
                expected.to_string(),
                ranking.map_or_else(|| "no rank".to_owned(), |r| r.rank.to_string()),
            );
        }
    }
    if let Some(expected) = e.spec.selected {
        outcome.checks += 1;
        if ranking.map(|r| r.selected) != Some(expected) {
            fail(
                "selected",
                expected.to_string(),
                ranking.map_or_else(|| "not ranked".to_owned(), |r| r.selected.to_string()),
            );
        }
    }
    if let Some(expected) = &e.spec.message {
        outcome.checks += 1;
        let message = cell
            .error
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        if !message.contains(expected.as_str()) {
            fail(
                "message",
                format!("to contain `{expected}`"),
                if message.is_empty() {
                    "no error".into()
                } else {
                    format!("`{message}`")
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_decimals_compare_at_their_written_places() {
        let e = |s: &str| Expected(decimal_from_toml(s).unwrap());
        let actual: Decimal = "2.873236030650846".parse().unwrap();
        assert!(e("2.87").matches(actual));
        assert!(e("2.873").matches(actual));
        assert!(!e("2.88").matches(actual));
        assert!(
            !e("2.8733").matches(actual),
            "DOMAIN.md's 2.8733 is off in the fourth place"
        );
        assert!(e("3").matches(actual));
        assert!(
            e("-30.63").matches("-30.625".parse().unwrap()),
            "half away from zero"
        );
        assert!(e("100.00").matches(Decimal::ONE_HUNDRED));
    }
}
