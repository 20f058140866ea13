//! Problems found while loading and compiling a rule pack or reading data.
//!
//! Every diagnostic has a stable [`DiagnosticCode`] naming the problem and,
//! where one exists, a [`Location`] in a pack file. The binary renders them
//! with source excerpts; the library never prints.

use std::fmt;

use crate::source::Location;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Severity {
    /// The pack cannot be used as it is.
    Error,
    /// The pack works, but something is likely wrong.
    Warning,
}

/// Stable codes for pack problems. A code is never reused for another problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum DiagnosticCode {
    /// A pack file could not be read.
    Io,
    /// `pack.toml` is not valid TOML or does not match the format.
    TomlSyntax,
    /// A formula or `.rhai` file has a syntax error.
    FormulaSyntax,
    /// A formula names a variable that is neither a field nor an indicator.
    UnknownName,
    /// An indicator names a band set the pack does not define.
    UnknownBandSet,
    /// The pack asks for a plugin this build does not have.
    UnknownPlugin,
    /// Band thresholds are not in best-first order for the indicator's direction.
    BadBandOrder,
    /// Indicators depend on each other in a cycle.
    DependencyCycle,
    /// Two indicators (or an indicator and a field) share an id.
    DuplicateId,
    /// A number in the pack is not an exact decimal.
    BadNumber,
    /// A value is not allowed here (e.g. a range without bounds).
    InvalidValue,
    /// An indicator's `function` does not exist in the pack's `.rhai` files,
    /// or a formula calls a function that does not exist.
    UnknownFunction,
    /// An input function (e.g. `saldo`) is called with a bad or non-literal argument.
    BadInputCall,
    /// A pack test failed (reloads that require passing tests).
    TestFailed,
    /// A helper function replaces a function of a plugin, the engine or a
    /// parent pack without `[helpers] overrides` saying so, or the
    /// declaration names nothing the pack replaces.
    ShadowedFunction,
    /// A field, parameter or indicator is named with a keyword or reserved
    /// word of the formula language, so formulas cannot read it.
    ReservedName,
    /// `[data] period_format` names no known way of writing periods.
    BadPeriodFormat,
    /// A `[limits]` value is outside its safe range.
    LimitOutOfRange,
    /// A pack file changed while a reload read it: a save is still in progress.
    SaveInProgress,
    /// A pack file ends mid-line on a value that may be cut short, and its
    /// writer was not seen closing it.
    CutShort,
}

impl DiagnosticCode {
    /// The code as printed, e.g. `SEM004`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Io => "SEM001",
            Self::TomlSyntax => "SEM002",
            Self::FormulaSyntax => "SEM003",
            Self::UnknownName => "SEM004",
            Self::UnknownBandSet => "SEM005",
            Self::UnknownPlugin => "SEM006",
            Self::BadBandOrder => "SEM007",
            Self::DependencyCycle => "SEM008",
            Self::DuplicateId => "SEM009",
            Self::BadNumber => "SEM010",
            Self::InvalidValue => "SEM011",
            Self::UnknownFunction => "SEM012",
            Self::BadInputCall => "SEM013",
            Self::TestFailed => "SEM014",
            Self::ShadowedFunction => "SEM016",
            Self::ReservedName => "SEM017",
            Self::BadPeriodFormat => "SEM022",
            Self::LimitOutOfRange => "SEM015",
            Self::SaveInProgress => "SEM024",
            Self::CutShort => "SEM025",
        }
    }
}

impl fmt::Display for DiagnosticCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem in a pack, with where it is and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code of the problem.
    pub code: DiagnosticCode,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where it is, when it is inside a file.
    pub location: Option<Location>,
    /// What to do about it, if there is something to say.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error at a location.
    #[must_use]
    pub fn error(
        code: DiagnosticCode,
        message: impl Into<String>,
        location: Option<Location>,
    ) -> Self {
        Self {
            code,
            severity: Severity::Error,
            message: message.into(),
            location,
            help: None,
        }
    }

    /// Adds advice on what to do.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    /// `path:line:col: message`, the one-line form scripts can grep.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = &self.location {
            write!(f, "{location}: ")?;
        }
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{severity}[{}]: {}", self.code, self.message)
    }
}

/// Every problem found in a pack; returned instead of a pack that has any error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the rule pack has {} error(s); first: {}", self.error_count(), self.0.first().map(ToString::to_string).unwrap_or_default())]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Number of diagnostics with [`Severity::Error`].
    #[must_use]
    pub fn error_count(&self) -> usize {
        self.0
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// The diagnostics in the order they were found.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
}
