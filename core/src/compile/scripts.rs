//! The pack's `.rhai` files: parsed once, their functions listed with
//! their arity and place, and checked against the functions of plugins,
//! the engine and parent packs they would shadow (SEM016).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rhai::{AST, Engine, ParseError, ParseErrorType, Position};

use crate::compile::callable::{Callables, Origin};
use crate::compile::inputs::InputFunction;
use crate::compile::scan::scan_functions;
use crate::diagnostic::{Diagnostic, DiagnosticCode};
use crate::pack::RulePack;
use crate::source::{Location, SourceFile};

pub(super) type Signatures = BTreeMap<String, Vec<String>>;

/// The pack's helper functions, compiled.
pub(super) struct Scripts {
    /// Every helper function, later files over earlier ones.
    pub(super) helpers: AST,
    /// The file defining each function (the last one).
    pub(super) files: BTreeMap<String, Arc<SourceFile>>,
    /// Each function's parameter names.
    pub(super) signatures: Signatures,
}

/// One `fn` of a helper file.
pub(super) struct Definition {
    pub(super) name: String,
    pub(super) arity: usize,
    pub(super) file: Arc<SourceFile>,
    /// Byte span of `fn name` in the file.
    pub(super) span: std::ops::Range<usize>,
}

/// Compiles the pack's `.rhai` files, adds their functions to `callables`,
/// and checks them: calls inside helper bodies resolve, input functions are
/// not called there, and no helper replaces a function of a plugin, the
/// engine or a parent pack unless its pack declares it in `[helpers] overrides`.
pub(super) fn compile_scripts(
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
pub(super) fn file_name(file: &SourceFile) -> String {
    file.path().file_name().map_or_else(
        || file.path().display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Every named `fn` a helper file defines (closures excluded), located at
/// `fn name` by the file's tokens (rhai keeps no position for a definition).
pub(super) fn definitions(engine: &Engine, file: &Arc<SourceFile>, ast: &AST) -> Vec<Definition> {
    let tokens = crate::compile::inputs::tokens(engine, file.text());
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
                let from = crate::compile::inputs::offset(file.text(), start);
                let to = crate::compile::inputs::offset(file.text(), end) + f.name.len();
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
pub(super) fn declared_arity(
    tokens: &[(rhai::Token, Position)],
    name_at: Position,
) -> Option<usize> {
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
pub(super) fn check_shadowing(
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

pub(super) fn parse_error_diagnostic(
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
