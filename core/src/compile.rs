//! Compiling a [`RulePack`] into a [`CompiledRuleSet`]: every formula is
//! parsed once, its names resolved to field or indicator indices, and the
//! indicators put in dependency order.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rhai::{AST, ASTNode, Engine, Expr, ParseError, ParseErrorType, Position, Scope};

use crate::diagnostic::{Diagnostic, DiagnosticCode, Diagnostics};
use crate::engine::build_engine;
use crate::grain::{AggregateCall, AggregateFn, rewrite_aggregates};
use crate::inputs::{InputFunction, rewrite};
use crate::native::{Lowering, NativeFormula, lower};
use crate::pack::{Field, FieldKind, Indicator};
use crate::pack::{FormulaSource, RulePack};
use crate::plugin::Plugin;
use crate::reader::{DataReader, WIDE_FORMAT};
use crate::source::{Location, SourceFile};

/// A pack ready to evaluate: one configured engine and one compiled formula
/// per indicator. Cheap to share across threads (`Send + Sync`).
pub struct CompiledRuleSet {
    pub(crate) pack: Arc<RulePack>,
    pub(crate) engine: Engine,
    /// The pack's fields, then one per distinct input-function call.
    pub(crate) fields: Vec<Field>,
    pub(crate) formulas: Vec<CompiledFormula>,
    pub(crate) order: Vec<usize>,
    pub(crate) script_functions: BTreeMap<String, Arc<SourceFile>>,
    pub(crate) plugins: Vec<&'static dyn Plugin>,
}

impl std::fmt::Debug for CompiledRuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledRuleSet")
            .field("pack", &self.pack.identity)
            .field("indicators", &self.formulas.len())
            .finish_non_exhaustive()
    }
}

impl CompiledRuleSet {
    /// The pack this set was compiled from.
    #[must_use]
    pub fn pack(&self) -> &RulePack {
        &self.pack
    }

    /// Every input the formulas read: the pack's fields, then one per
    /// distinct input-function call (e.g. `saldo("14")`), in first-use order.
    #[must_use]
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The plugin reader of the pack's data format, or `None` for `wide`.
    #[must_use]
    pub fn data_reader(&self) -> Option<&dyn DataReader> {
        self.plugins
            .iter()
            .filter_map(|p| p.data_reader())
            .find(|r| r.format() == self.pack.data.format)
    }

    /// Indicator indices in evaluation order (every indicator after those it reads).
    #[must_use]
    pub fn evaluation_order(&self) -> &[usize] {
        &self.order
    }

    /// How indicator `indicator` (pack order) is evaluated for each row:
    /// `"native"` (plain arithmetic lowered to the native decimal evaluator)
    /// or `"rhai"`.
    #[must_use]
    pub fn evaluation_path(&self, indicator: usize) -> &'static str {
        if self.formulas[indicator].native.is_some() {
            "native"
        } else {
            "rhai"
        }
    }

    /// The same rule set with every indicator on the rhai path: for
    /// differential tests and benchmarks of the native path.
    #[doc(hidden)]
    #[must_use]
    pub fn without_native(mut self) -> Self {
        for formula in &mut self.formulas {
            formula.native = None;
        }
        self
    }

    /// The same rules reading data laid out differently: `edit` changes the
    /// pack's [`DataShape`] (e.g. the separators a command-line flag gives).
    /// The pack's identity does not change: how a file is written is not a rule.
    #[must_use]
    pub fn with_data_shape(mut self, edit: impl FnOnce(&mut crate::pack::DataShape)) -> Self {
        edit(&mut Arc::make_mut(&mut self.pack).data);
        self
    }
}

/// Where a formula reads one of its inputs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InputSource {
    /// Index into the compiled set's fields.
    Field(usize),
    /// Index into the pack's indicators.
    Indicator(usize),
    /// Index into the pack's parameters.
    Parameter(usize),
    /// Index into the formula's aggregates (grain formulas only).
    Aggregate(usize),
}

/// What an aggregate reads from each row of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operand {
    Field(usize),
    Indicator(usize),
}

/// One aggregate of a grain formula.
#[derive(Debug, Clone)]
pub(crate) struct Aggregate {
    pub function: AggregateFn,
    /// The value, then the weight for `weighted_mean`; none for `count()`.
    pub operands: Vec<Operand>,
    /// The call as written (normalised), for messages.
    pub text: String,
}

/// A formula's input: the variable name it uses and where the value comes from.
#[derive(Debug, Clone)]
pub(crate) struct Input {
    pub name: rhai::ImmutableString,
    pub source: InputSource,
}

pub(crate) struct CompiledFormula {
    pub ast: AST,
    pub inputs: Vec<Input>,
    pub aggregates: Vec<Aggregate>,
    /// The formula lowered to the native evaluator, when it is plain arithmetic.
    pub native: Option<NativeFormula>,
}

/// Compiles a pack with the plugins it declares, taken from `available`.
///
/// # Errors
/// Every problem found: unknown plugins, formula syntax errors, unknown
/// names, unknown functions and dependency cycles, each with its location.
pub fn compile(
    pack: RulePack,
    available: &[&'static dyn Plugin],
) -> Result<CompiledRuleSet, Diagnostics> {
    // Parsing recurses once per nesting level: on a stack sized for the limits.
    let limits = pack.limits;
    crate::limits::with_stack(&limits, || compile_on_stack(pack, available))
}

fn compile_on_stack(
    pack: RulePack,
    available: &[&'static dyn Plugin],
) -> Result<CompiledRuleSet, Diagnostics> {
    let mut problems = Vec::new();
    let mut plugins: Vec<&'static dyn Plugin> = Vec::new();
    for (name, location) in &pack.plugins {
        match available.iter().find(|p| p.name() == name) {
            Some(p) => plugins.push(*p),
            None => {
                let names: Vec<&str> = available.iter().map(|p| p.name()).collect();
                problems.push(
                    Diagnostic::error(
                        DiagnosticCode::UnknownPlugin,
                        format!("plugin `{name}` is not part of this build"),
                        Some(location.clone()),
                    )
                    .with_help(format!("available plugins: {}", names.join(", "))),
                );
            }
        }
    }
    check_data_format(&pack, &plugins, &mut problems);
    let (engine, input_functions) = build_engine(&pack.limits, &plugins);
    let (helpers, script_functions, signatures) =
        compile_scripts(&engine, &pack.scripts, &input_functions, &mut problems);
    let functions = known_functions(&engine, &signatures);

    let mut compiler = FormulaCompiler {
        pack: &pack,
        engine: &engine,
        helpers: &helpers,
        functions: &functions,
        input_functions: &input_functions,
        signatures: &signatures,
        lowering: Lowering::for_engine(&engine, pack.limits.max_operations),
        fields: pack.fields.clone(),
        call_count: 0,
        problems: &mut problems,
    };
    let formulas: Vec<Option<CompiledFormula>> = pack
        .indicators
        .iter()
        .map(|indicator| compiler.compile(indicator))
        .collect();
    let fields = compiler.fields;
    if !problems.is_empty() {
        return Err(Diagnostics(problems));
    }
    let formulas: Vec<CompiledFormula> = formulas
        .into_iter()
        .map(|f| f.expect("no problems, so every formula compiled"))
        .collect();
    let order = dependency_order(&pack, &formulas)?;
    Ok(CompiledRuleSet {
        pack: Arc::new(pack),
        engine,
        fields,
        formulas,
        order,
        script_functions,
        plugins,
    })
}

/// Compiles formulas one by one, sharing what every formula needs.
struct FormulaCompiler<'a> {
    pack: &'a RulePack,
    engine: &'a Engine,
    helpers: &'a AST,
    functions: &'a BTreeSet<String>,
    input_functions: &'a [InputFunction],
    signatures: &'a Signatures,
    lowering: Lowering,
    /// The pack's fields, then one per distinct input-function call.
    fields: Vec<Field>,
    call_count: usize,
    problems: &'a mut Vec<Diagnostic>,
}

impl FormulaCompiler<'_> {
    /// The names a formula of `indicator` may read, with their sources.
    fn names(&self, indicator: &Indicator) -> BTreeMap<String, InputSource> {
        let parameters = self
            .pack
            .parameters
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.clone(), InputSource::Parameter(i)));
        let indicators = self
            .pack
            .indicators
            .iter()
            .enumerate()
            .filter(|(_, other)| other.grain == indicator.grain)
            .map(|(i, other)| (other.id.clone(), InputSource::Indicator(i)));
        let fields = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), InputSource::Field(i)));
        match indicator.grain {
            // A grain formula reads fields and per-row indicators only through aggregates.
            Some(_) => parameters.chain(indicators).collect(),
            None => parameters.chain(indicators).chain(fields).collect(),
        }
    }

    fn compile(&mut self, indicator: &Indicator) -> Option<CompiledFormula> {
        let mut names = self.names(indicator);
        let (text, origin) = self.formula_text(indicator, &names)?;
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
        let mut scope = Scope::new();
        for name in names.keys() {
            scope.push_dynamic(name.as_str(), rhai::Dynamic::UNIT);
        }
        match self.engine.compile_with_scope(&scope, &text) {
            Ok(ast) => {
                for (name, position) in unknown_calls(&ast, self.functions) {
                    self.problems.push(
                        Diagnostic::error(
                            DiagnosticCode::UnknownFunction,
                            format!("function `{name}` in the formula of `{}` does not exist", indicator.id),
                            Some(origin.locate(position)),
                        )
                        .with_help("check the spelling, and that the pack lists the plugin that provides it under pack.plugins"),
                    );
                }
                let inputs = collect_inputs(&ast, &names);
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
            Err(error) => {
                let mut problem = formula_diagnostic(&error, &origin, &indicator.id);
                if let ParseErrorType::VariableUndefined(name) = error.0.as_ref()
                    && indicator.grain.is_some()
                    && self.fields.iter().any(|f| f.name == *name)
                        | self
                            .pack
                            .indicators
                            .iter()
                            .any(|i| i.id == *name && i.grain.is_none())
                {
                    problem.help = Some(format!(
                        "`{}` has a grain: read `{name}` through an aggregate, e.g. sum({name}) or mean({name})",
                        indicator.id
                    ));
                }
                self.problems.push(problem);
                None
            }
        }
    }

    /// The formula's text, and where its positions point.
    fn formula_text(
        &mut self,
        indicator: &Indicator,
        names: &BTreeMap<String, InputSource>,
    ) -> Option<(String, FormulaOrigin)> {
        match &indicator.formula {
            FormulaSource::Inline { text, location } => {
                Some((text.clone(), FormulaOrigin::Inline(location.clone())))
            }
            FormulaSource::Generated { text, location } => {
                Some((text.clone(), FormulaOrigin::Call(location.clone())))
            }
            FormulaSource::Function { name, location } => match self.signatures.get(name) {
                Some(params) => {
                    for param in params.iter().filter(|p| !names.contains_key(p.as_str())) {
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
        self.fields
            .iter()
            .position(|f| f.column == column)
            .unwrap_or_else(|| {
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
            })
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

/// Loads the pack in `dir` and compiles it, reporting the problems of both
/// stages together: compiling goes ahead on a pack that loaded with
/// problems, so one run shows every problem.
///
/// ```no_run
/// use semaforo_core::load_and_compile;
/// match load_and_compile(std::path::Path::new("rules/sagrario"), &[]) {
///     Ok(rules) => println!("{} indicators", rules.pack().indicators().len()),
///     Err(problems) => problems.iter().for_each(|p| eprintln!("{p}")),
/// }
/// ```
///
/// # Errors
/// Every problem found while loading and compiling, each once.
pub fn load_and_compile(
    dir: &std::path::Path,
    available: &[&'static dyn Plugin],
) -> Result<CompiledRuleSet, Diagnostics> {
    let (pack, mut problems) = RulePack::load_partial(dir);
    let Some(pack) = pack else {
        return Err(Diagnostics(problems));
    };
    match compile(pack, available) {
        Ok(rules) if problems.is_empty() => Ok(rules),
        Ok(_) => Err(Diagnostics(problems)),
        Err(Diagnostics(more)) => {
            problems.extend(more);
            Err(crate::pack::finish(None, problems).expect_err("there are problems"))
        }
    }
}

type Signatures = BTreeMap<String, Vec<String>>;

fn compile_scripts(
    engine: &Engine,
    scripts: &[Arc<SourceFile>],
    input_functions: &[InputFunction],
    problems: &mut Vec<Diagnostic>,
) -> (AST, BTreeMap<String, Arc<SourceFile>>, Signatures) {
    let mut helpers = AST::empty();
    let mut files = BTreeMap::new();
    let mut signatures = BTreeMap::new();
    for file in scripts {
        match engine.compile(file.text()) {
            Ok(ast) => {
                for f in ast.iter_functions() {
                    files.insert(f.name.to_owned(), file.clone());
                    signatures.insert(
                        f.name.to_owned(),
                        f.params.iter().map(|p| (*p).to_owned()).collect(),
                    );
                }
                let inputs: BTreeSet<String> =
                    input_functions.iter().map(|f| f.name.to_owned()).collect();
                for (name, position) in calls_to(&ast, &inputs) {
                    let offset = file.offset_of(
                        position.line().unwrap_or(1),
                        position.position().unwrap_or(1),
                    );
                    problems.push(
                        Diagnostic::error(
                            DiagnosticCode::BadInputCall,
                            format!("`{name}(…)` reads an input, which only formulas in pack.toml can do"),
                            Some(Location { file: file.clone(), span: offset..offset + name.len() }),
                        )
                        .with_help(format!("pass the value in: call the function from a formula with {name}(\"…\") as an argument")),
                    );
                }
                helpers = helpers.merge(&ast.clone_functions_only());
            }
            Err(error) => {
                let offset = error.1.line().map_or(0, |line| {
                    file.offset_of(line, error.1.position().unwrap_or(1))
                });
                let location = Location {
                    file: file.clone(),
                    span: offset..offset,
                };
                problems.push(parse_error_diagnostic(&error, location, None));
            }
        }
    }
    (helpers, files, signatures)
}

/// Where a compiled formula's text came from, to map rhai positions back.
enum FormulaOrigin {
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

fn formula_diagnostic(error: &ParseError, origin: &FormulaOrigin, indicator: &str) -> Diagnostic {
    parse_error_diagnostic(error, origin.locate(error.1), Some(indicator))
}

fn check_data_format(
    pack: &RulePack,
    plugins: &[&'static dyn Plugin],
    problems: &mut Vec<Diagnostic>,
) {
    let format = &pack.data.format;
    if format == WIDE_FORMAT
        || plugins
            .iter()
            .filter_map(|p| p.data_reader())
            .any(|r| r.format() == format)
    {
        return;
    }
    let known: Vec<&str> = std::iter::once(WIDE_FORMAT)
        .chain(
            plugins
                .iter()
                .filter_map(|p| p.data_reader())
                .map(|r| r.format()),
        )
        .collect();
    problems.push(
        Diagnostic::error(DiagnosticCode::InvalidValue, format!("data format `{format}` is unknown"), pack.format_location.clone())
            .with_help(format!("formats of this pack's plugins: {} (a format comes with its plugin: list it under pack.plugins)", known.join(", "))),
    );
}

fn parse_error_diagnostic(
    error: &ParseError,
    location: Location,
    indicator: Option<&str>,
) -> Diagnostic {
    let context = indicator
        .map(|id| format!(" in the formula of `{id}`"))
        .unwrap_or_default();
    match error.0.as_ref() {
        ParseErrorType::VariableUndefined(name) => Diagnostic::error(
            DiagnosticCode::UnknownName,
            format!("`{name}`{context} is neither a field nor an indicator"),
            Some(location),
        )
        .with_help("declare it under [fields], or check the spelling against the data's columns and the indicator ids"),
        other => Diagnostic::error(DiagnosticCode::FormulaSyntax, format!("syntax error{context}: {other}"), Some(location)),
    }
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

/// Names callable from formulas: the engine's functions (core packages and
/// plugins), the pack's script functions, and rhai's built-in keywords.
fn known_functions(engine: &Engine, signatures: &Signatures) -> BTreeSet<String> {
    const KEYWORDS: [&str; 8] = [
        "type_of",
        "is_def_var",
        "is_def_fn",
        "Fn",
        "call",
        "curry",
        "print",
        "debug",
    ];
    let mut known: BTreeSet<String> = engine
        .collect_fn_metadata(None, |f| Some(f.metadata.name.to_string()), true)
        .into_iter()
        .collect();
    known.extend(signatures.keys().cloned());
    known.extend(KEYWORDS.iter().map(|k| (*k).to_owned()));
    known
}

/// Calls (not operators) to functions that do not exist, so a misspelt name
/// is a `check` error rather than a failure in every row.
fn unknown_calls(ast: &AST, known: &BTreeSet<String>) -> Vec<(String, Position)> {
    let mut unknown = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Expr(Expr::FnCall(call, position))) = path.last()
            && call.op_token.is_none()
            && !known.contains(call.name.as_str())
        {
            unknown.push((call.name.to_string(), *position));
        }
        true
    });
    unknown
}

/// Calls to any of `names`, with their positions, function bodies included.
fn calls_to(ast: &AST, names: &BTreeSet<String>) -> Vec<(String, Position)> {
    let mut found = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Expr(Expr::FnCall(call, position))) = path.last()
            && names.contains(call.name.as_str())
        {
            found.push((call.name.to_string(), *position));
        }
        true
    });
    found
}

fn collect_inputs(ast: &AST, names: &BTreeMap<String, InputSource>) -> Vec<Input> {
    let mut inputs: Vec<Input> = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Expr(Expr::Variable(var, ..))) = path.last() {
            let name = &var.1;
            if let Some(&source) = names.get(name.as_str())
                && !inputs.iter().any(|i| i.name == *name)
            {
                inputs.push(Input {
                    name: name.clone(),
                    source,
                });
            }
        }
        true
    });
    inputs
}

fn dependency_order(
    pack: &RulePack,
    formulas: &[CompiledFormula],
) -> Result<Vec<usize>, Diagnostics> {
    let deps: Vec<BTreeSet<usize>> = formulas
        .iter()
        .map(|f| {
            f.inputs
                .iter()
                .filter_map(|i| match i.source {
                    InputSource::Indicator(j) => Some(j),
                    InputSource::Field(_)
                    | InputSource::Parameter(_)
                    | InputSource::Aggregate(_) => None,
                })
                .chain(
                    f.aggregates
                        .iter()
                        .flat_map(|a| &a.operands)
                        .filter_map(|o| match o {
                            Operand::Indicator(j) => Some(*j),
                            Operand::Field(_) => None,
                        }),
                )
                .collect()
        })
        .collect();
    let mut order = Vec::with_capacity(deps.len());
    let mut placed = vec![false; deps.len()];
    while order.len() < deps.len() {
        let ready: Vec<usize> = (0..deps.len())
            .filter(|&i| !placed[i] && deps[i].iter().all(|&d| placed[d]))
            .collect();
        if ready.is_empty() {
            return Err(Diagnostics(vec![cycle_diagnostic(pack, &deps, &placed)]));
        }
        for i in ready {
            placed[i] = true;
            order.push(i);
        }
    }
    Ok(order)
}

fn cycle_diagnostic(pack: &RulePack, deps: &[BTreeSet<usize>], placed: &[bool]) -> Diagnostic {
    // Every unplaced indicator waits on another unplaced one: walk until a node repeats.
    let start = (0..deps.len())
        .find(|&i| !placed[i])
        .expect("some indicator is unplaced");
    let mut path = vec![start];
    let mut current = start;
    loop {
        current = *deps[current]
            .iter()
            .find(|&&d| !placed[d])
            .expect("an unplaced indicator waits on an unplaced one");
        if let Some(at) = path.iter().position(|&p| p == current) {
            path.drain(..at);
            break;
        }
        path.push(current);
    }
    let first = path[0];
    let names: Vec<&str> = path
        .iter()
        .chain(std::iter::once(&first))
        .map(|&i| pack.indicators[i].id.as_str())
        .collect();
    Diagnostic::error(
        DiagnosticCode::DependencyCycle,
        format!(
            "indicators depend on each other in a cycle: {}",
            names.join(" → ")
        ),
        Some(pack.indicators[first].location.clone()),
    )
    .with_help("an indicator may read other indicators' values only if none of them reads it back")
}
