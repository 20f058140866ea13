//! Compiling a [`RulePack`] into a [`CompiledRuleSet`]: every formula is
//! parsed once, its names resolved to field or indicator indices, and the
//! indicators put in dependency order.

pub(crate) mod aggregates;
pub(crate) mod binding;
pub(crate) mod callable;
pub(crate) mod cancel;
pub(crate) mod engine;
pub(crate) mod formula;
pub(crate) mod inputs;
pub(crate) mod math;
pub(crate) mod native;
mod order;
pub(crate) mod plugin;
pub(crate) mod scan;
mod scripts;
pub(crate) mod set;
pub(crate) mod watchdog;

use std::sync::Arc;

use crate::compile::callable::Callables;
use crate::compile::engine::build_engine;
use crate::compile::native::Lowering;
use crate::compile::plugin::Plugin;
use crate::compile::set::{CompiledFormula, CompiledRuleSet};
use crate::data::shape::WIDE_FORMAT;
use crate::diagnostic::{Diagnostic, DiagnosticCode, Diagnostics};
use crate::pack::RulePack;
use formula::{FormulaCompiler, pack_names};
use order::dependency_order;
use scripts::compile_scripts;

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
    crate::pack::limits::with_stack(&limits, || compile_on_stack(pack, available))
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
    load_and_compile_from(&crate::pack::files::DirectorySource, dir, available)
}

/// [`load_and_compile`] of the pack in `dir` of `source`.
pub(crate) fn load_and_compile_from(
    source: &dyn crate::pack::files::PackSource,
    dir: &std::path::Path,
    available: &[&'static dyn Plugin],
) -> Result<CompiledRuleSet, Diagnostics> {
    let (pack, mut problems) = RulePack::load_partial(source, dir);
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
