//! Compiling a [`RulePack`] into a [`CompiledRuleSet`]: every formula is
//! parsed once, its names resolved to field or indicator indices, and the
//! indicators put in dependency order.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use rhai::{AST, Engine, ParseError, ParseErrorType, Position};

use crate::callable::{Callables, Origin};
use crate::diagnostic::{Diagnostic, DiagnosticCode, Diagnostics};
use crate::engine::build_engine;
use crate::grain::{AggregateCall, AggregateFn, rewrite_aggregates};
use crate::inputs::{InputFunction, rewrite};
use crate::native::{Lowering, NativeFormula, lower};
use crate::pack::{Field, FieldKind, Indicator};
use crate::pack::{FormulaSource, RulePack};
use crate::plugin::Plugin;
use crate::reader::{DataReader, WIDE_FORMAT};
use crate::scan::{Call, Kind, scan_functions, scan_statements};
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
    let (mut engine, input_functions) = build_engine(&pack.limits, &plugins);
    let mut callables = Callables::native(&engine, &plugins);
    let scripts = compile_scripts(
        &engine,
        &pack,
        &input_functions,
        &mut callables,
        &mut problems,
    );

    // Formulas are parsed without strict variables: every read of the
    // evaluation scope is then resolved here, by name, in one index of the
    // pack's names (a rhai scope of thousands of names would be searched
    // linearly by every formula). Evaluation does not parse.
    engine.set_strict_variables(false);
    let mut compiler = FormulaCompiler {
        pack: &pack,
        engine: &engine,
        helpers: &scripts.helpers,
        callables: &callables,
        input_functions: &input_functions,
        signatures: &scripts.signatures,
        lowering: Lowering::for_engine(&engine, pack.limits.max_operations),
        names: pack_names(&pack),
        fields: pack.fields.clone(),
        columns: pack
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.column.clone(), i))
            .collect(),
        call_count: 0,
        problems: &mut problems,
    };
    let formulas: Vec<Option<CompiledFormula>> = pack
        .indicators
        .iter()
        .map(|indicator| compiler.compile(indicator))
        .collect();
    let fields = compiler.fields;
    engine.set_strict_variables(true);
    if !problems.is_empty() {
        return Err(Diagnostics(problems));
    }
    let formulas: Vec<CompiledFormula> = formulas.into_iter().flatten().collect();
    let order = dependency_order(&pack, &formulas)?;
    Ok(CompiledRuleSet {
        pack: Arc::new(pack),
        engine,
        fields,
        formulas,
        order,
        script_functions: scripts.files,
        plugins,
    })
}

/// Every name a formula may read, once for the whole pack: parameters,
/// fields (which shadow nothing: ids are unique, checked at load) and indicators.
fn pack_names(pack: &RulePack) -> HashMap<String, InputSource> {
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
struct FormulaCompiler<'a> {
    pack: &'a RulePack,
    engine: &'a Engine,
    helpers: &'a AST,
    callables: &'a Callables,
    input_functions: &'a [InputFunction],
    signatures: &'a Signatures,
    lowering: Lowering,
    /// The pack's parameters, fields and indicators by name.
    names: HashMap<String, InputSource>,
    /// The pack's fields, then one per distinct input-function call.
    fields: Vec<Field>,
    /// Index into `fields` by column, for input-function calls.
    columns: HashMap<String, usize>,
    call_count: usize,
    problems: &'a mut Vec<Diagnostic>,
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
                crate::pack::Value::Number(_) => Kind::Number,
                crate::pack::Value::Text(_) => Kind::Text,
            },
        }
    }

    fn compile(&mut self, indicator: &Indicator) -> Option<CompiledFormula> {
        let mut names: BTreeMap<String, InputSource> = BTreeMap::new();
        let (text, origin) = self.formula_text(indicator)?;
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
            match crate::callable::nearest(name, known) {
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
    fn formula_text(&mut self, indicator: &Indicator) -> Option<(String, FormulaOrigin)> {
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

/// The pack's helper functions, compiled.
struct Scripts {
    /// Every helper function, later files over earlier ones.
    helpers: AST,
    /// The file defining each function (the last one).
    files: BTreeMap<String, Arc<SourceFile>>,
    /// Each function's parameter names.
    signatures: Signatures,
}

/// One `fn` of a helper file.
struct Definition {
    name: String,
    arity: usize,
    file: Arc<SourceFile>,
    /// Byte span of `fn name` in the file.
    span: std::ops::Range<usize>,
}

/// Compiles the pack's `.rhai` files, adds their functions to `callables`,
/// and checks them: calls inside helper bodies resolve, input functions are
/// not called there, and no helper replaces a function of a plugin, the
/// engine or a parent pack unless its pack declares it in `[helpers] overrides`.
fn compile_scripts(
    engine: &Engine,
    pack: &RulePack,
    input_functions: &[InputFunction],
    callables: &mut Callables,
    problems: &mut Vec<Diagnostic>,
) -> Scripts {
    let mut helpers = AST::empty();
    let mut files = BTreeMap::new();
    let mut signatures = BTreeMap::new();
    let mut compiled: Vec<(Arc<SourceFile>, AST)> = Vec::new();
    let inputs: BTreeSet<&str> = input_functions.iter().map(|f| f.name).collect();
    for file in &pack.scripts {
        match engine.compile(file.text()) {
            Ok(ast) => {
                for f in ast.iter_functions() {
                    files.insert(f.name.to_owned(), file.clone());
                    signatures.insert(
                        f.name.to_owned(),
                        f.params.iter().map(|p| (*p).to_owned()).collect(),
                    );
                }
                helpers = helpers.merge(&ast.clone_functions_only());
                compiled.push((file.clone(), ast));
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
    let definitions: Vec<Definition> = compiled
        .iter()
        .flat_map(|(file, ast)| definitions(engine, file, ast))
        .collect();
    check_shadowing(pack, callables, &definitions, problems);
    for definition in &definitions {
        let name = file_name(&definition.file);
        callables.add_script(&definition.name, definition.arity, Origin::Helper(name));
    }
    for (file, ast) in &compiled {
        let locate = |position: Position, length: usize| {
            let offset = file.offset_of(
                position.line().unwrap_or(1),
                position.position().unwrap_or(1),
            );
            Location {
                file: file.clone(),
                span: offset..offset + length,
            }
        };
        let scan = scan_functions(ast);
        for operator in &scan.bad_operators {
            let kinds: Vec<&str> = operator.arguments.iter().map(|k| k.word()).collect();
            problems.push(
                Diagnostic::error(
                    DiagnosticCode::UnknownFunction,
                    format!(
                        "in a helper function: operator `{}` cannot take ({})",
                        operator.name,
                        kinds.join(", ")
                    ),
                    Some(locate(operator.position, operator.name.len())),
                )
                .with_help("arithmetic takes numbers (`+` and `-` also two texts); `&`, `|`, `^` and `!` take true/false"),
            );
        }
        for call in scan.calls {
            let name = call.name.as_str();
            if inputs.contains(name) {
                problems.push(
                    Diagnostic::error(
                        DiagnosticCode::BadInputCall,
                        format!("`{name}(…)` reads an input, which only formulas in pack.toml can do"),
                        Some(locate(call.position, name.len())),
                    )
                    .with_help(format!("pass the value in: call the function from a formula with {name}(\"…\") as an argument")),
                );
            } else if let Some(problem) = callables.check(&call) {
                problems.push(
                    Diagnostic::error(
                        DiagnosticCode::UnknownFunction,
                        format!("in a helper function: {}", problem.message),
                        Some(locate(call.position, name.len())),
                    )
                    .with_help(problem.help),
                );
            }
        }
    }
    Scripts {
        helpers,
        files,
        signatures,
    }
}

/// The file's name, for messages.
fn file_name(file: &SourceFile) -> String {
    file.path().file_name().map_or_else(
        || file.path().display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Every named `fn` a helper file defines (closures excluded), located at
/// `fn name` by the file's tokens (rhai keeps no position for a definition).
fn definitions(engine: &Engine, file: &Arc<SourceFile>, ast: &AST) -> Vec<Definition> {
    let tokens = crate::inputs::tokens(engine, file.text());
    let mut found = Vec::new();
    for f in ast
        .iter_functions()
        .filter(|f| !f.name.starts_with("anon$"))
    {
        let arity = f.params.len();
        let at = tokens.windows(2).find_map(|pair| match pair {
            [
                (rhai::Token::Fn, start),
                (rhai::Token::Identifier(name), end),
            ] if name.as_str() == f.name && declared_arity(&tokens, *end) == Some(arity) => {
                Some((*start, *end))
            }
            _ => None,
        });
        let span = match at {
            Some((start, end)) => {
                let from = crate::inputs::offset(file.text(), start);
                let to = crate::inputs::offset(file.text(), end) + f.name.len();
                from..to
            }
            None => 0..0,
        };
        found.push(Definition {
            name: f.name.to_owned(),
            arity,
            file: file.clone(),
            span,
        });
    }
    found
}

/// The number of parameters of the definition whose name is at `name_at`.
fn declared_arity(tokens: &[(rhai::Token, Position)], name_at: Position) -> Option<usize> {
    let start = tokens.iter().position(|(_, p)| *p == name_at)?;
    let mut arity = 0;
    for (token, _) in tokens.get(start + 2..)? {
        match token {
            rhai::Token::Identifier(_) => arity += 1,
            rhai::Token::RightParen => return Some(arity),
            rhai::Token::Comma => {}
            _ => return None,
        }
    }
    None
}

/// A helper replacing a function of a plugin, the engine or an earlier
/// helper (a parent pack's, or another file's) is an error unless the pack
/// that defines it lists the name in `[helpers] overrides`; a listed name
/// the pack does not define, or that replaces nothing, is an error too.
fn check_shadowing(
    pack: &RulePack,
    callables: &Callables,
    definitions: &[Definition],
    problems: &mut Vec<Diagnostic>,
) {
    let same_pack = |script: &SourceFile, manifest: &SourceFile| {
        script.path().parent() == manifest.path().parent()
    };
    let declared = |definition: &Definition| {
        pack.helper_overrides.iter().any(|(name, location)| {
            *name == definition.name && same_pack(&definition.file, &location.file)
        })
    };
    let mut earlier: BTreeMap<(&str, usize), &Definition> = BTreeMap::new();
    let mut replacing: BTreeSet<(String, std::path::PathBuf)> = BTreeSet::new();
    for definition in definitions {
        let key = (definition.name.as_str(), definition.arity);
        let replaced = match (
            callables.provider(&definition.name, definition.arity),
            earlier.get(&key),
        ) {
            (Some(origin), _) => Some(format!("{}'s `{}`", origin.describe(), definition.name)),
            (None, Some(first)) => {
                let (line, column) = first.file.line_col(first.span.start);
                Some(format!(
                    "`{}` of {}:{line}:{column}",
                    definition.name,
                    first.file.path().display()
                ))
            }
            (None, None) => None,
        };
        let location = Location {
            file: definition.file.clone(),
            span: definition.span.clone(),
        };
        if let Some(replaced) = replaced {
            let manifest_dir = definition
                .file
                .path()
                .parent()
                .map(std::path::Path::to_path_buf)
                .unwrap_or_default();
            replacing.insert((definition.name.clone(), manifest_dir));
            let same_pack_twice = earlier
                .get(&key)
                .is_some_and(|first| first.file.path().parent() == definition.file.path().parent());
            if same_pack_twice || !declared(definition) {
                let help = if same_pack_twice {
                    "a pack defines each function once: remove or rename one of them".to_owned()
                } else {
                    format!(
                        "every formula calling `{0}` would run this one instead: rename it, or, if replacing is the point, declare it in this pack's pack.toml:\n[helpers]\noverrides = [\"{0}\"]",
                        definition.name
                    )
                };
                problems.push(
                    Diagnostic::error(
                        DiagnosticCode::ShadowedFunction,
                        format!(
                            "helper function `{}` ({} parameter(s)) replaces {replaced}",
                            definition.name, definition.arity
                        ),
                        Some(location),
                    )
                    .with_help(help),
                );
            }
        }
        earlier.insert(key, definition);
    }
    for (name, location) in &pack.helper_overrides {
        let defines = definitions
            .iter()
            .any(|d| d.name == *name && same_pack(&d.file, &location.file));
        let dir = location
            .file
            .path()
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let message = if !defines {
            Some(format!(
                "[helpers] overrides names `{name}`, but no .rhai file of this pack defines a function `{name}`"
            ))
        } else if !replacing.contains(&(name.clone(), dir)) {
            Some(format!(
                "[helpers] overrides names `{name}`, but `{name}` replaces nothing: no plugin, engine or parent pack function has its name and number of parameters"
            ))
        } else {
            None
        };
        if let Some(message) = message {
            problems.push(
                Diagnostic::error(
                    DiagnosticCode::ShadowedFunction,
                    message,
                    Some(location.clone()),
                )
                .with_help("list only the functions this pack's helpers replace on purpose"),
            );
        }
    }
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

/// Whether a script function of `arity` parameters takes this call
/// (a method call passes its object as `this`, not as an argument).
fn fits_script(call: &Call, arity: usize) -> bool {
    let count = call.arguments.len();
    if call.method {
        count == arity + 1
    } else {
        count == arity
    }
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
    // Level by level: an indicator's level is one more than the highest of
    // those it reads; the order is by level, then pack order. Kahn's
    // algorithm finds the levels in time linear in indicators and reads.
    let mut waiting: Vec<usize> = deps.iter().map(BTreeSet::len).collect();
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); deps.len()];
    for (i, reads) in deps.iter().enumerate() {
        for &d in reads {
            readers[d].push(i);
        }
    }
    let mut level = vec![0_usize; deps.len()];
    let mut placed = vec![false; deps.len()];
    let mut ready: Vec<usize> = (0..deps.len()).filter(|&i| waiting[i] == 0).collect();
    let mut done = 0;
    while let Some(i) = ready.pop() {
        placed[i] = true;
        done += 1;
        for &reader in &readers[i] {
            level[reader] = level[reader].max(level[i] + 1);
            waiting[reader] -= 1;
            if waiting[reader] == 0 {
                ready.push(reader);
            }
        }
    }
    if done < deps.len() {
        return Err(Diagnostics(vec![cycle_diagnostic(pack, &deps, &placed)]));
    }
    let mut order: Vec<usize> = (0..deps.len()).collect();
    order.sort_by_key(|&i| (level[i], i));
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
