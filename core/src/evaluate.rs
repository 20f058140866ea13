//! Evaluating a [`CompiledRuleSet`] over a [`Table`]: every row × indicator,
//! in dependency order, each cell its own value or error.

use rhai::{Dynamic, EvalAltResult, Scope};
use rust_decimal::Decimal;

use crate::band::assess;
use crate::compile::{CompiledRuleSet, InputSource, locate_in_toml_string};
use crate::pack::{Field, FormulaSource};
use crate::result::{Cell, CellError, LimitKind, ResultSet, RowKey};
use crate::source::Location;
use crate::table::{CellProblem, Table};

/// Evaluates every indicator for every row of `table`.
///
/// A bad cell never stops the batch: it becomes an error on that cell, and
/// the indicators that read it report which input failed.
///
/// ```
/// use semaforo_core::{compile, evaluate, RulePack, SourceFile, Table};
/// let pack = RulePack::from_sources(SourceFile::new("pack.toml", r#"
/// [pack]
/// id = "demo"
/// version = "1"
/// [fields]
/// done = "activities done"
/// planned = "activities planned"
/// [[indicator]]
/// id = "progress"
/// unit = "percent"
/// formula = "min(done, planned) / planned * 100"
/// standard = 90
/// "#), vec![]).unwrap();
/// let rules = compile(pack, &[]).unwrap();
/// let data = "entity,done,planned\nTransport,51,75\nRegistry,185,101\n";
/// let table = Table::from_csv_reader(data.as_bytes(), "inline", rules.pack().data_shape()).unwrap();
/// let results = evaluate(&rules, &table);
/// assert_eq!(results.cell(0, 0).value.unwrap().to_string(), "68.00");
/// assert_eq!(results.cell(1, 0).met, Some(true));
/// ```
pub fn evaluate(rules: &CompiledRuleSet, table: &Table) -> ResultSet {
    let pack = &rules.pack;
    let bindings: Vec<Option<usize>> = rules
        .fields
        .iter()
        .map(|f| table.columns.iter().position(|c| c.name == f.column))
        .collect();
    let width = pack.indicators.len();
    let mut cells = Vec::with_capacity(table.len() * width);
    let mut rows = Vec::with_capacity(table.len());
    let mut scope = Scope::new();
    let peer_group = pack
        .data
        .peer_group
        .as_ref()
        .and_then(|g| table.dimensions().iter().find(|d| d.name == *g));
    for row in 0..table.len() {
        let key = RowKey {
            entity: table.entity(row).to_owned(),
            period: table.period(row).map(str::to_owned),
            line: table.line(row),
            peer_group: peer_group.map(|g| g.values[row].clone()),
        };
        let start = cells.len();
        cells.resize(start + width, Cell::default());
        for &i in &rules.order {
            let cell = evaluate_cell(
                rules,
                table,
                &bindings,
                row,
                i,
                &cells[start..start + width],
                &mut scope,
            );
            cells[start + i] = cell;
        }
        rows.push(key);
    }
    ResultSet {
        pack: pack.clone(),
        rows,
        cells,
    }
}

fn row_label(table: &Table, row: usize) -> String {
    match table.period(row) {
        Some(period) => format!("entity `{}` period `{period}`", table.entity(row)),
        None => format!("entity `{}`", table.entity(row)),
    }
}

fn evaluate_cell(
    rules: &CompiledRuleSet,
    table: &Table,
    bindings: &[Option<usize>],
    row: usize,
    indicator: usize,
    done: &[Cell],
    scope: &mut Scope<'_>,
) -> Cell {
    let formula = &rules.formulas[indicator];
    let pack = &rules.pack;
    scope.clear();
    for input in &formula.inputs {
        let value = match input.source {
            InputSource::Field(f) => field_value(table, &rules.fields[f], bindings[f], row),
            InputSource::Indicator(j) => done[j].value.ok_or_else(|| CellError::DependencyFailed {
                indicator: pack.indicators[j].id.clone(),
            }),
        };
        match value {
            Ok(v) => {
                scope.push_constant_dynamic(input.name.clone(), Dynamic::from_decimal(v));
            }
            Err(error) => return failed(error),
        }
    }
    let ind = &pack.indicators[indicator];
    let value = match rules
        .engine
        .eval_ast_with_scope::<Dynamic>(scope, &formula.ast)
    {
        Ok(result) => match to_decimal(result) {
            Ok(v) => v,
            Err(error) => return failed(error),
        },
        Err(error) => return failed(classify(rules, &ind.formula, &error)),
    };
    let set = ind.band_set.map(|b| &pack.band_sets[b]);
    let assessment = assess(value, ind.direction, ind.standard, set);
    Cell {
        value: Some(value),
        compliance: assessment.compliance,
        met: assessment.met,
        band: assessment.band,
        error: None,
    }
}

fn failed(error: CellError) -> Cell {
    Cell {
        error: Some(Box::new(error)),
        ..Cell::default()
    }
}

fn field_value(
    table: &Table,
    spec: &Field,
    binding: Option<usize>,
    row: usize,
) -> Result<Decimal, CellError> {
    let Some(at) = binding else {
        return Err(CellError::ColumnAbsent {
            field: spec.name.clone(),
            column: spec.column.clone(),
        });
    };
    let column = &table.columns[at];
    if let Some(v) = column.value(row) {
        return Ok(v);
    }
    Err(match column.problem(row) {
        Some(CellProblem::Unparsable(text)) => CellError::InvalidValue {
            field: spec.name.clone(),
            row: row_label(table, row),
            text: text.clone(),
            source_name: table.source.clone(),
            line: table.line(row),
            column: column.position,
        },
        Some(CellProblem::ShortRow { fields }) => CellError::MissingValue {
            field: spec.name.clone(),
            row: row_label(table, row),
            detail: format!(
                " ({}:{}: the row has {fields} fields, column `{}` is field {})",
                table.source,
                table.line(row),
                column.name,
                column.position
            ),
        },
        Some(CellProblem::Unavailable(reason)) => CellError::InputUnavailable {
            field: spec.name.clone(),
            row: row_label(table, row),
            reason: reason.clone(),
        },
        None => CellError::MissingValue {
            field: spec.name.clone(),
            row: row_label(table, row),
            detail: String::new(),
        },
    })
}

fn to_decimal(result: Dynamic) -> Result<Decimal, CellError> {
    if let Some(d) = result.clone().try_cast::<Decimal>() {
        return Ok(d);
    }
    if let Ok(i) = result.as_int() {
        return Ok(Decimal::from(i));
    }
    Err(CellError::NotANumber {
        type_name: result.type_name().to_owned(),
    })
}

/// Turns a rhai error into a cell error, located in the pack's files.
fn classify(rules: &CompiledRuleSet, formula: &FormulaSource, error: &EvalAltResult) -> CellError {
    let at = locate(formula, error.position());
    // Errors inside a script function: report the innermost cause, located in its .rhai file.
    let mut root = error;
    let mut in_function = None;
    while let EvalAltResult::ErrorInFunctionCall(name, _, inner, _) = root {
        in_function = Some(name.as_str());
        root = inner;
    }
    let at = match in_function.and_then(|f| rules.script_functions.get(f)) {
        Some(file) => root.position().line().map_or(at.clone(), |line| {
            let offset = file.offset_of(line, root.position().position().unwrap_or(1));
            Some(Location {
                file: file.clone(),
                span: offset..offset + 1,
            })
        }),
        None => at,
    };
    match root {
        EvalAltResult::ErrorArithmetic(message, _) if message.starts_with("Division by zero") => {
            CellError::DivisionByZero {
                detail: message.clone(),
                at,
            }
        }
        EvalAltResult::ErrorArithmetic(message, _) => CellError::Overflow {
            detail: message.clone(),
            at,
        },
        EvalAltResult::ErrorTooManyOperations(_) => CellError::LimitExceeded {
            limit: LimitKind::Operations,
            at,
        },
        EvalAltResult::ErrorStackOverflow(_) => CellError::LimitExceeded {
            limit: LimitKind::CallLevels,
            at,
        },
        EvalAltResult::ErrorDataTooLarge(what, _) => CellError::LimitExceeded {
            limit: LimitKind::DataSize(what.clone()),
            at,
        },
        EvalAltResult::ErrorRuntime(value, _) => CellError::Script {
            message: value.to_string(),
            at,
        },
        other => CellError::Script {
            message: strip_position(&other.to_string()),
            at,
        },
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" (line ") {
        Some(i) if message.ends_with(')') => message[..i].to_owned(),
        _ => message.to_owned(),
    }
}

fn locate(formula: &FormulaSource, position: rhai::Position) -> Option<Location> {
    Some(match formula {
        FormulaSource::Inline { location, .. } if !position.is_none() => {
            locate_in_toml_string(location, position)
        }
        FormulaSource::Inline { location, .. } | FormulaSource::Function { location, .. } => {
            location.clone()
        }
    })
}
