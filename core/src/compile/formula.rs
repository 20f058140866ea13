//! One indicator's formula compiled: its text rewritten (input functions,
//! aggregates), parsed once, every name resolved to a field, indicator or
//! parameter, every call checked, and plain arithmetic lowered to native
//! code; parse errors located in the TOML string or `.rhai` file.

use std::collections::{BTreeMap, HashMap};

use rhai::{AST, Engine, ParseError, Position};

use crate::compile::aggregates::{AggregateCall, rewrite_aggregates};
use crate::compile::binding::{Aggregate, Input, InputSource, Operand};
use crate::compile::callable::Callables;
use crate::compile::inputs::{InputFunction, rewrite};
use crate::compile::native::{Lowering, lower};
use crate::compile::scan::{Call, Kind, scan_functions, scan_statements};
use crate::compile::scripts::{Signatures, parse_error_diagnostic};
use crate::compile::set::CompiledFormula;
use crate::data::shape::{Field, FieldKind};
use crate::diagnostic::{Diagnostic, DiagnosticCode};
use crate::pack::Indicator;
use crate::pack::{FormulaSource, RulePack};
use crate::source::{Location, SourceFile};

/// Every name a formula may read, once for the whole pack: parameters,
/// fields (which shadow nothing: ids are unique, checked at load) and indicators.
pub(super) fn pack_names(pack: &RulePack) -> HashMap<String, InputSource> {
    let mut names =
        HashMap::with_capacity(pack.parameters.len() + pack.fields.len() + pack.indicators.len());
    for (i, indicator) in pack.indicators.iter().enumerate() {
        names.insert(indicator.id.clone(), InputSource::Indicator(i));
    }
    for (i, field) in pack.fields.iter().enumerate() {
        names.insert(field.name.clone(), InputSource::Field(i));
    }
    for (i, parameter) in pack.parameters.iter().enumerate() {
        names.insert(parameter.name.clone(), InputSource::Parameter(i));
    }
    names
}

/// Compiles formulas one by one, sharing what every formula needs.
pub(super) struct FormulaCompiler<'a> {
    pub(super) pack: &'a RulePack,
    pub(super) engine: &'a Engine,
    pub(super) helpers: &'a AST,
    pub(super) callables: &'a Callables,
    pub(super) input_functions: &'a [InputFunction],
    pub(super) signatures: &'a Signatures,
    pub(super) lowering: Lowering,
    /// The pack's parameters, fields and indicators by name.
    pub(super) names: HashMap<String, InputSource>,
    /// The pack's fields, then one per distinct input-function call.
    pub(super) fields: Vec<Field>,
    /// Index into `fields` by column, for input-function calls.
    pub(super) columns: HashMap<String, usize>,
    pub(super) call_count: usize,
    pub(super) problems: &'a mut Vec<Diagnostic>,
}

impl FormulaCompiler<'_> {
    /// What `name` reads in a formula of `indicator`: the formula's own
    /// rewritten calls first, then the pack's names it may see.
    fn resolve(
        &self,
        indicator: &Indicator,
        local: &BTreeMap<String, InputSource>,
        name: &str,
    ) -> Option<InputSource> {
        if let Some(&source) = local.get(name) {
            return Some(source);
        }
        let source = *self.names.get(name)?;
        match source {
            InputSource::Parameter(_) | InputSource::Aggregate(_) => Some(source),
            // A grain formula reads fields and per-row indicators only through aggregates.
            InputSource::Field(_) => indicator.grain.is_none().then_some(source),
            InputSource::Indicator(i) => {
                (self.pack.indicators[i].grain == indicator.grain).then_some(source)
            }
        }
    }

    /// The kind of value an input gives a formula, for checking calls.
    fn kind(&self, source: InputSource) -> Kind {
        match source {
            // A text field's cells are not held against the functions it is
            // passed to: formulas may hand them on (the native path's
            // differential test does), and rhai then says per cell what fails.
            InputSource::Field(i) => match self.fields[i].kind {
                FieldKind::Number => Kind::Number,
                FieldKind::Text => Kind::Unknown,
            },
            InputSource::Indicator(_) | InputSource::Aggregate(_) => Kind::Number,
            InputSource::Parameter(i) => match self.pack.parameters[i].value {
                crate::data::shape::Value::Number(_) => Kind::Number,
                crate::data::shape::Value::Text(_) => Kind::Text,
            },
        }
    }

    pub(super) fn compile(&mut self, indicator: &Indicator) -> Option<CompiledFormula> {
        let mut names: BTreeMap<String, InputSource> = BTreeMap::new();
        let (text, origin) = self.text_to_compile(indicator)?;
        let rewritten = rewrite(self.engine, &text, self.input_functions, self.call_count);
        self.call_count += rewritten.calls.len();
        for (message, position) in &rewritten.problems {
            self.problems.push(
                Diagnostic::error(DiagnosticCode::BadInputCall, message.clone(), Some(origin.locate(*position)))
                    .with_help("input functions such as saldo take one literal text argument, checked when the pack loads"),
            );
        }
        for (variable, function, canonical) in &rewritten.calls {
            let index = self.input_field(*function, canonical);
            names.insert(variable.clone(), InputSource::Field(index));
        }
        let mut text = rewritten.text;
        let mut aggregates = Vec::new();
        if indicator.grain.is_some() {
            let aggregated = rewrite_aggregates(self.engine, &text, 0);
            for (message, position) in &aggregated.problems {
                self.problems.push(Diagnostic::error(
                    DiagnosticCode::FormulaSyntax,
                    message.clone(),
                    Some(origin.locate(*position)),
                ));
            }
            for call in &aggregated.calls {
                if let Some(aggregate) = self.aggregate(indicator, call, &origin) {
                    names.insert(
                        call.variable.clone(),
                        InputSource::Aggregate(aggregates.len()),
                    );
                    aggregates.push(aggregate);
                }
            }
            text = aggregated.text;
        }
        let ast = match self.engine.compile(&text) {
            Ok(ast) => ast,
            Err(error) => {
                self.problems
                    .push(formula_diagnostic(&error, &origin, &indicator.id));
                return None;
            }
        };
        let kind_of = |name: &str| {
            self.resolve(indicator, &names, name)
                .map_or(Kind::Unknown, |source| self.kind(source))
        };
        let scan = scan_statements(&ast, &kind_of);
        let mut inputs: Vec<Input> = Vec::new();
        let mut failed = false;
        for (name, position) in &scan.reads {
            match self.resolve(indicator, &names, name) {
                Some(source) => {
                    if !inputs.iter().any(|i| i.name == *name) {
                        inputs.push(Input {
                            name: name.clone(),
                            source,
                        });
                    }
                }
                None => {
                    failed = true;
                    self.problems.push(self.unknown_name(
                        indicator,
                        name,
                        origin.locate(*position),
                    ));
                }
            }
        }
        // Functions the formula defines itself (closures): callable from it.
        let own: Vec<(String, usize)> = ast
            .iter_functions()
            .map(|f| (f.name.to_owned(), f.params.len()))
            .collect();
        let closures = scan_functions(&ast);
        for call in scan.calls.iter().chain(&closures.calls) {
            // A call of an input function left in the text was not literal:
            // the rewrite has already said so (SEM013).
            if self
                .input_functions
                .iter()
                .any(|f| f.name == call.name.as_str())
            {
                continue;
            }
            if own.iter().any(|(name, arity)| {
                name == call.name.as_str() && (call.pointer || fits_script(call, *arity))
            }) {
                continue;
            }
            if let Some(problem) = self.callables.check(call) {
                failed = true;
                self.problems.push(
                    Diagnostic::error(
                        DiagnosticCode::UnknownFunction,
                        format!("in the formula of `{}`: {}", indicator.id, problem.message),
                        Some(origin.locate(call.position)),
                    )
                    .with_help(problem.help),
                );
            }
        }
        for operator in scan.bad_operators.iter().chain(&closures.bad_operators) {
            failed = true;
            let kinds: Vec<&str> = operator.arguments.iter().map(|k| k.word()).collect();
            self.problems.push(
                Diagnostic::error(
                    DiagnosticCode::UnknownFunction,
                    format!(
                        "in the formula of `{}`: operator `{}` cannot take ({})",
                        indicator.id,
                        operator.name,
                        kinds.join(", ")
                    ),
                    Some(origin.locate(operator.position)),
                )
                .with_help("arithmetic takes numbers (`+` and `-` also two texts); `&`, `|`, `^` and `!` take true/false"),
            );
        }
        if failed {
            return None;
        }
        let ast = self.helpers.merge(&ast);
        let native = indicator
            .grain
            .is_none()
            .then(|| lower(&ast, &inputs, self.lowering))
            .flatten();
        Some(CompiledFormula {
            ast,
            inputs,
            aggregates,
            native,
        })
    }

    /// A read of a name the formula cannot see, said as rhai's strict mode did.
    fn unknown_name(&self, indicator: &Indicator, name: &str, location: Location) -> Diagnostic {
        let grain_reads_row = indicator.grain.is_some()
            && (self.fields.iter().any(|f| f.name == name)
                || self
                    .pack
                    .indicators
                    .iter()
                    .any(|i| i.id == name && i.grain.is_none()));
        let help = if grain_reads_row {
            format!(
                "`{}` has a grain: read `{name}` through an aggregate, e.g. sum({name}) or mean({name})",
                indicator.id
            )
        } else {
            let known = self
                .names
                .keys()
                .map(String::as_str)
                .filter(|n| self.resolve(indicator, &BTreeMap::new(), n).is_some());
            match crate::compile::callable::nearest(name, known) {
                Some(near) => format!("did you mean `{near}`? Otherwise declare it under [fields]"),
                None => "declare it under [fields], or check the spelling against the data's columns and the indicator ids".to_owned(),
            }
        };
        Diagnostic::error(
            DiagnosticCode::UnknownName,
            format!(
                "`{name}` in the formula of `{}` is neither a field nor an indicator",
                indicator.id
            ),
            Some(location),
        )
        .with_help(help)
    }

    /// The formula's text, and where its positions point.
    fn text_to_compile(&mut self, indicator: &Indicator) -> Option<(String, FormulaOrigin)> {
        match &indicator.formula {
            FormulaSource::Inline { text, location } => {
                Some((text.clone(), FormulaOrigin::Inline(location.clone())))
            }
            FormulaSource::Generated { text, location } => {
                Some((text.clone(), FormulaOrigin::Call(location.clone())))
            }
            FormulaSource::Function { name, location } => match self.signatures.get(name) {
                Some(params) => {
                    let unknown: Vec<&String> = params
                        .iter()
                        .filter(|p| self.resolve(indicator, &BTreeMap::new(), p).is_none())
                        .collect();
                    for param in unknown {
                        self.problems.push(
                            Diagnostic::error(
                                DiagnosticCode::UnknownName,
                                format!("parameter `{param}` of function `{name}` is neither a field nor an indicator"),
                                Some(location.clone()),
                            )
                            .with_help("a function used as a formula receives the fields and indicators its parameters name"),
                        );
                    }
                    Some((
                        format!("{name}({})", params.join(", ")),
                        FormulaOrigin::Call(location.clone()),
                    ))
                }
                None => {
                    let known: Vec<&str> = self.signatures.keys().map(String::as_str).collect();
                    self.problems.push(
                        Diagnostic::error(
                            DiagnosticCode::UnknownFunction,
                            format!("function `{name}` is not defined in the pack's .rhai files"),
                            Some(location.clone()),
                        )
                        .with_help(if known.is_empty() {
                            "the pack has no functions".to_owned()
                        } else {
                            format!("defined functions: {}", known.join(", "))
                        }),
                    );
                    None
                }
            },
        }
    }

    /// The field an input-function call reads, added on first use.
    fn input_field(&mut self, function: InputFunction, canonical: &str) -> usize {
        let column = function.column(canonical);
        if let Some(&index) = self.columns.get(&column) {
            return index;
        }
        self.columns.insert(column.clone(), self.fields.len());
        self.fields.push(Field {
            name: column.clone(),
            column,
            description: String::new(),
            call: Some((function.name, canonical.to_owned())),
            kind: FieldKind::Number,
            when_missing: None,
            flag: None,
        });
        self.fields.len() - 1
    }

    /// Resolves an aggregate's arguments to fields or per-row indicators.
    fn aggregate(
        &mut self,
        indicator: &Indicator,
        call: &AggregateCall,
        origin: &FormulaOrigin,
    ) -> Option<Aggregate> {
        let mut operands = Vec::new();
        for name in &call.arguments {
            let field = self
                .fields
                .iter()
                .position(|f| f.name == *name && f.kind == FieldKind::Number)
                .map(Operand::Field);
            let row_indicator = self
                .pack
                .indicators
                .iter()
                .position(|i| i.id == *name && i.grain.is_none())
                .map(Operand::Indicator);
            match field.or(row_indicator) {
                Some(operand) => operands.push(operand),
                None => {
                    self.problems.push(
                        Diagnostic::error(
                            DiagnosticCode::UnknownName,
                            format!("`{name}` in {}(…) of `{}` is neither a number field nor a per-row indicator", call.function.name(), indicator.id),
                            Some(origin.locate(call.position)),
                        )
                        .with_help("aggregates read the group's rows: number fields and indicators without a grain"),
                    );
                    return None;
                }
            }
        }
        Some(Aggregate {
            function: call.function,
            operands,
            text: format!("{}({})", call.function.name(), call.arguments.join(", ")),
        })
    }
}

/// Where a compiled formula's text came from, to map rhai positions back.
pub(super) enum FormulaOrigin {
    Inline(Location),
    Call(Location),
}

impl FormulaOrigin {
    /// The pack location of a position inside the formula.
    fn locate(&self, position: Position) -> Location {
        match self {
            Self::Inline(location) => locate_in_toml_string(location, position),
            Self::Call(location) => location.clone(),
        }
    }
}

pub(super) fn formula_diagnostic(
    error: &ParseError,
    origin: &FormulaOrigin,
    indicator: &str,
) -> Diagnostic {
    parse_error_diagnostic(error, origin.locate(error.1), Some(indicator))
}

/// Maps a position inside a formula to the pack file: the formula is a TOML
/// string, so skip its opening delimiter (and the newline TOML trims after
/// `"""`). Escape sequences inside the string are not expanded back.
pub(crate) fn locate_in_toml_string(string: &Location, position: Position) -> Location {
    let raw = &string.file.text()[string.span.clone()];
    let mut start = string.span.start;
    if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
        start += 3;
        let rest = &string.file.text()[start..];
        if rest.starts_with("\r\n") {
            start += 2;
        } else if rest.starts_with('\n') {
            start += 1;
        }
    } else if raw.starts_with('"') || raw.starts_with('\'') {
        start += 1;
    }
    let (Some(line), column) = (position.line(), position.position().unwrap_or(1)) else {
        return string.clone();
    };
    let inner = SourceFile::new("", &string.file.text()[start..string.span.end]);
    let offset = start + inner.offset_of(line, column);
    Location {
        file: string.file.clone(),
        span: offset..offset + 1,
    }
}

/// Whether a script function of `arity` parameters takes this call
/// (a method call passes its object as `this`, not as an argument).
pub(super) fn fits_script(call: &Call, arity: usize) -> bool {
    let count = call.arguments.len();
    if call.method {
        count == arity + 1
    } else {
        count == arity
    }
}
