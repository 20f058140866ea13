//! Evaluating a [`CompiledRuleSet`] over a [`Table`]: every row × indicator,
//! in dependency order, each cell its own value or error.

use rayon::prelude::*;
use rhai::{Dynamic, EvalAltResult, Scope};
use rust_decimal::Decimal;

use crate::compile::binding::InputSource;
use crate::compile::cancel::Cancel;
use crate::compile::formula::locate_in_toml_string;
use crate::compile::math::FormulaFailure;
use crate::compile::set::CompiledRuleSet;
use crate::compile::watchdog::{Stop, watching};
use crate::data::shape::{Field, FieldKind, Value};
use crate::data::table::{CellProblem, Table};
use crate::evaluate::assess::{Assessment, assess};
use crate::evaluate::result::{Cell, CellError, LimitKind, ResultSet, RowKey};
use crate::pack::limits::with_stack;
use crate::pack::{FormulaSource, RulePack};
use crate::source::Location;

pub(crate) mod assess;
mod direct;
pub(crate) mod explain;
pub(crate) mod file;
mod groups;
pub(crate) mod read;
pub(crate) mod result;

use direct::Direct;

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
    evaluate_with(rules, table, &Cancel::default())
}

/// [`evaluate`] that stops when `cancel` fires: cells not computed by then
/// get a `limit_exceeded` error ([`LimitKind::Cancelled`]), and a running
/// formula stops at its next check (every [`crate::TIME_CHECK_EVERY`]
/// operations). Every row is still in the result, with a value or that error.
///
/// ```
/// use std::time::Instant;
/// use semaforo_core::{compile, evaluate_with, Cancel, RulePack, SourceFile, Table};
/// let pack = RulePack::from_sources(SourceFile::new("pack.toml", r#"
/// [pack]
/// id = "demo"
/// version = "1"
/// [fields]
/// x = "x"
/// [[indicator]]
/// id = "double"
/// formula = "x * 2"
/// "#), vec![]).unwrap();
/// let rules = compile(pack, &[]).unwrap();
/// let table = Table::from_csv_reader("entity,x\na,1\n".as_bytes(), "inline", rules.pack().data_shape()).unwrap();
/// let results = evaluate_with(&rules, &table, &Cancel::with_deadline(Instant::now()));
/// assert_eq!(results.cell(0, 0).error.as_ref().unwrap().kind(), "limit_exceeded");
/// ```
pub fn evaluate_with(rules: &CompiledRuleSet, table: &Table, cancel: &Cancel) -> ResultSet {
    let pack = &rules.pack;
    let inputs = RowInputs::bind(rules, table);
    let peer_group = pack
        .data
        .peer_group
        .as_ref()
        .and_then(|g| table.dimensions().iter().find(|d| d.name == *g));
    // The row keys are copied while the cells are computed.
    let (rows, cells) = rayon::join(
        || {
            (0..table.len())
                .into_par_iter()
                .map(|row| RowKey {
                    entity: table.entity(row).to_owned(),
                    period: table.period(row).map(str::to_owned),
                    line: table.line(row),
                    peer_group: peer_group.map(|g| g.values[row].clone()),
                })
                .collect::<Vec<_>>()
        },
        || evaluate_rows(rules, &inputs, cancel),
    );
    let groups = watching(cancel, || {
        with_stack(&pack.limits, || {
            groups::evaluate_groups(rules, &inputs, &cells)
        })
    });
    ResultSet {
        pack: pack.clone(),
        rows,
        cells,
        groups,
    }
}

/// Rows evaluated together: every per-row indicator in turn over a chunk of
/// this many rows (a chunk's cells fit in the L2 cache).
const CHUNK_ROWS: usize = 128;

/// Every row's per-row cells, row by row, indicators in pack order; the
/// cells of indicators with a grain stay empty.
///
/// Rows are independent, so they are evaluated in parallel. The result is
/// collected cell by cell, each written once into its own slot, from chunks
/// of [`CHUNK_ROWS`] rows (a fixed grid, whatever the threads): the job that
/// reaches a chunk evaluates it whole, indicator by indicator, then hands
/// its cells out in order. A chunk split between two jobs is evaluated by
/// both, to the same cells, so the output never depends on the number of
/// threads.
fn evaluate_rows(rules: &CompiledRuleSet, inputs: &RowInputs<'_>, cancel: &Cancel) -> Vec<Cell> {
    let width = rules.pack.indicators.len();
    let plan = RowsPlan {
        rules,
        inputs,
        order: rules
            .order
            .iter()
            .copied()
            .filter(|&i| rules.pack.indicators[i].grain.is_none())
            .map(|i| (i, Direct::plan(rules, inputs, i)))
            .collect(),
        width,
        cancel,
        all_direct: false,
    };
    let plan = RowsPlan {
        all_direct: plan.order.iter().all(|(_, direct)| direct.is_some()),
        ..plan
    };
    (0..inputs.table.len() * width)
        .into_par_iter()
        .with_min_len(CHUNK_ROWS * width)
        .map_init(Chunk::default, |chunk, k| chunk.take(&plan, k))
        .collect()
}

/// What every chunk of rows evaluates: the per-row indicators in
/// dependency order, each with its direct reads when it has them.
struct RowsPlan<'a> {
    rules: &'a CompiledRuleSet,
    inputs: &'a RowInputs<'a>,
    order: Vec<(usize, Option<Direct<'a>>)>,
    width: usize,
    cancel: &'a Cancel,
    /// Every indicator is native with direct reads: rhai runs only for the
    /// odd cell (see [`run`], which then finds its own stack).
    all_direct: bool,
}

impl RowsPlan<'_> {
    /// Evaluates the rows from `first` on into `cells` (`width` per row),
    /// indicator by indicator. Only the per-row indicators' cells are
    /// written, each before any indicator reads it. Once the evaluation
    /// is cancelled, the indicators not yet evaluated are cancelled cells.
    ///
    /// Runs on a stack sized for the pack's limits, watched by the
    /// evaluation's cancel.
    fn fill(&self, first: usize, cells: &mut [Cell], scratch: &mut Scratch) {
        watching(self.cancel, || {
            if self.all_direct {
                // Native programs do not recurse: no stack to reserve.
                self.fill_watched(first, cells, scratch);
            } else {
                with_stack(&self.rules.pack.limits, || {
                    self.fill_watched(first, cells, scratch);
                });
            }
        });
    }

    fn fill_watched(&self, first: usize, cells: &mut [Cell], scratch: &mut Scratch) {
        let (rules, inputs, width) = (self.rules, self.inputs, self.width);
        let Scratch { direct, scope } = scratch;
        for &(i, ref plan) in &self.order {
            if self.cancel.is_cancelled() {
                for r in 0..cells.len() / width {
                    cells[r * width + i] = failed(CellError::LimitExceeded {
                        limit: LimitKind::Cancelled,
                        at: None,
                    });
                }
                continue;
            }
            let mut general = |r: usize, done: &[Cell]| {
                evaluate_row_cell(rules, inputs, first + r, i, done, scope)
            };
            match plan {
                Some(plan) => plan.fill(rules, first, width, cells, direct, general),
                None => {
                    for r in 0..cells.len() / width {
                        cells[r * width + i] = general(r, &cells[r * width..(r + 1) * width]);
                    }
                }
            }
        }
    }
}

/// Working space of a chunk's evaluation, reused from chunk to chunk.
#[derive(Default)]
struct Scratch {
    direct: direct::Scratch,
    scope: Scope<'static>,
}

/// The chunk of rows a job is handing out.
#[derive(Default)]
struct Chunk {
    /// Index in the result of `cells[0]` (the chunk's first row, first indicator).
    start: usize,
    /// Row by row, indicators in pack order.
    cells: Vec<Cell>,
    scratch: Scratch,
}

impl Chunk {
    /// Cell `k` of the result (row `k / width`, indicator `k % width`),
    /// evaluating its chunk first when it is not the current one.
    fn take(&mut self, plan: &RowsPlan<'_>, k: usize) -> Cell {
        if !(self.start..self.start + self.cells.len()).contains(&k) {
            let first = k / plan.width / CHUNK_ROWS * CHUNK_ROWS;
            let rows = CHUNK_ROWS.min(plan.inputs.table.len() - first);
            self.start = first * plan.width;
            // Cells left from the previous chunk are overwritten before they
            // are read; grain indicators' cells are never written (default).
            self.cells.resize(rows * plan.width, Cell::default());
            plan.fill(first, &mut self.cells, &mut self.scratch);
        }
        std::mem::take(&mut self.cells[k - self.start])
    }
}

pub(crate) fn row_label(table: &Table, row: usize) -> String {
    match table.period(row) {
        Some(period) => format!("entity `{}` period `{period}`", table.entity(row)),
        None => format!("entity `{}`", table.entity(row)),
    }
}

/// Where each field's values are in a table, and the parameters' values.
pub(crate) struct RowInputs<'a> {
    pub table: &'a Table,
    fields: &'a [Field],
    bindings: Vec<Binding>,
    pub parameters: Vec<Dynamic>,
}

/// Where a field's column is in the table.
#[derive(Debug, Clone, Copy)]
enum Binding {
    Number(usize),
    Text(usize),
    Absent,
}

/// A value read for a formula, with the flag it carries if it stood in for an empty cell.
pub(crate) type Read<'a> = Result<(Dynamic, Option<&'a str>), CellError>;

impl<'a> RowInputs<'a> {
    pub(crate) fn bind(rules: &'a CompiledRuleSet, table: &'a Table) -> Self {
        let bindings = rules
            .fields
            .iter()
            .map(|f| match f.kind {
                FieldKind::Text => table
                    .dimensions
                    .iter()
                    .position(|c| c.name == f.column)
                    .map_or(Binding::Absent, Binding::Text),
                _ => table
                    .columns
                    .iter()
                    .position(|c| c.name == f.column)
                    .map_or(Binding::Absent, Binding::Number),
            })
            .collect();
        let parameters = rules
            .pack
            .parameters
            .iter()
            .map(|p| match &p.value {
                Value::Number(n) => Dynamic::from_decimal(*n),
                Value::Text(t) => Dynamic::from(t.clone()),
            })
            .collect();
        Self {
            table,
            fields: &rules.fields,
            bindings,
            parameters,
        }
    }

    /// The value of field `field` in `row`.
    pub(crate) fn field(&self, field: usize, row: usize) -> Read<'a> {
        let spec = &self.fields[field];
        let table = self.table;
        let missing = |error: CellError| match &spec.when_missing {
            Some(Value::Number(n)) => Ok((Dynamic::from_decimal(*n), spec.flag.as_deref())),
            Some(Value::Text(t)) => Ok((Dynamic::from(t.clone()), spec.flag.as_deref())),
            None => Err(error),
        };
        let missing_value = || CellError::MissingValue {
            field: spec.name.clone(),
            row: row_label(table, row),
            detail: String::new(),
        };
        match self.bindings[field] {
            Binding::Absent => Err(CellError::ColumnAbsent {
                field: spec.name.clone(),
                column: spec.column.clone(),
            }),
            Binding::Text(at) => match table.dimensions[at].values[row].as_str() {
                "" => missing(missing_value()),
                text => Ok((Dynamic::from(text.to_owned()), None)),
            },
            Binding::Number(at) => {
                let column = &table.columns[at];
                if let Some(v) = column.value(row) {
                    return Ok((Dynamic::from_decimal(v), None));
                }
                match column.problem(row) {
                    Some(CellProblem::Unparsable(text)) => Err(CellError::InvalidValue {
                        field: spec.name.clone(),
                        row: row_label(table, row),
                        text: text.clone(),
                        source_name: table.source.clone(),
                        line: table.line(row),
                        column: column.position,
                    }),
                    Some(CellProblem::ShortRow { fields }) => missing(CellError::MissingValue {
                        field: spec.name.clone(),
                        row: row_label(table, row),
                        detail: format!(
                            " ({}:{}: the row has {fields} fields, column `{}` is field {})",
                            table.source,
                            table.line(row),
                            column.name,
                            column.position
                        ),
                    }),
                    Some(CellProblem::Unavailable(reason)) => Err(CellError::InputUnavailable {
                        field: spec.name.clone(),
                        row: row_label(table, row),
                        reason: reason.clone(),
                    }),
                    None => missing(missing_value()),
                }
            }
        }
    }
}

fn evaluate_row_cell(
    rules: &CompiledRuleSet,
    inputs: &RowInputs<'_>,
    row: usize,
    indicator: usize,
    done: &[Cell],
    scope: &mut Scope<'_>,
) -> Cell {
    let formula = &rules.formulas[indicator];
    let pack = &rules.pack;
    scope.clear();
    let mut flags: Vec<String> = Vec::new();
    // Native formulas read decimals; a non-number input sends the cell to rhai.
    let mut native = formula.native.as_ref();
    let mut numbers: Vec<Decimal> = Vec::new();
    for input in &formula.inputs {
        let value = match input.source {
            InputSource::Field(f) => inputs.field(f, row),
            InputSource::Indicator(j) => indicator_value(pack, done, j, &mut flags),
            InputSource::Parameter(p) => Ok((inputs.parameters[p].clone(), None)),
            InputSource::Aggregate(_) => unreachable!("per-row formulas have no aggregates"),
        };
        match value {
            Ok((v, flag)) => {
                if let Some(flag) = flag {
                    add_flag(&mut flags, flag);
                }
                if native.is_some() {
                    if let Ok(number) = v.as_decimal() {
                        numbers.push(number);
                        continue;
                    }
                    native = None;
                    for (read, number) in formula.inputs.iter().zip(numbers.drain(..)) {
                        scope.push_constant_dynamic(
                            read.name.clone(),
                            Dynamic::from_decimal(number),
                        );
                    }
                }
                scope.push_constant_dynamic(input.name.clone(), v);
            }
            Err(error) => return failed(error),
        }
    }
    match native {
        Some(native) => match native.eval(&numbers) {
            Ok(value) => assessed(rules, indicator, value, flags),
            Err(error) => failed(classify(rules, &pack.indicators[indicator].formula, &error)),
        },
        None => run(rules, indicator, scope, flags),
    }
}

/// A computed indicator's value for a formula, carrying its flags along.
pub(crate) fn indicator_value<'a>(
    pack: &RulePack,
    done: &[Cell],
    j: usize,
    flags: &mut Vec<String>,
) -> Read<'a> {
    let cell = &done[j];
    for flag in &cell.flags {
        add_flag(flags, flag);
    }
    cell.value
        .map(|v| (Dynamic::from_decimal(v), None))
        .ok_or_else(|| CellError::DependencyFailed {
            indicator: pack.indicators[j].id.clone(),
        })
}

pub(crate) fn add_flag(flags: &mut Vec<String>, flag: &str) {
    if !flags.iter().any(|f| f == flag) {
        flags.push(flag.to_owned());
    }
}

/// Runs an indicator's formula over a filled scope and assesses the value.
pub(crate) fn run(
    rules: &CompiledRuleSet,
    indicator: usize,
    scope: &mut Scope<'_>,
    flags: Vec<String>,
) -> Cell {
    let ind = &rules.pack.indicators[indicator];
    // Already on a sized stack when the chunk reserved one (a cheap check).
    let value = match with_stack(&rules.pack.limits, || {
        rules
            .engine
            .eval_ast_with_scope::<Dynamic>(scope, &rules.formulas[indicator].ast)
    }) {
        Ok(result) => match to_decimal(result) {
            Ok(v) => v,
            Err(type_name) => {
                return failed(CellError::NotANumber {
                    type_name: rules.engine.map_type_name(&type_name).to_owned(),
                });
            }
        },
        Err(error) => return failed(classify(rules, &ind.formula, &error)),
    };
    assessed(rules, indicator, value, flags)
}

/// An indicator's computed value, assessed against its standard and bands.
fn assessed(rules: &CompiledRuleSet, indicator: usize, value: Decimal, flags: Vec<String>) -> Cell {
    let mut cell = Cell::default();
    assess_into(&mut cell, rules, indicator, value, flags);
    cell
}

/// Makes `cell` the indicator's computed value, assessed against its
/// standard and bands (field by field, in place).
fn assess_into(
    cell: &mut Cell,
    rules: &CompiledRuleSet,
    indicator: usize,
    value: Decimal,
    flags: Vec<String>,
) {
    let ind = &rules.pack.indicators[indicator];
    let set = ind.band_set.map(|b| &rules.pack.band_sets[b]);
    // Without a standard or bands there is nothing to assess.
    let assessment = if ind.standard.is_none() && set.is_none() {
        Assessment::default()
    } else {
        assess(value, ind.direction, ind.standard, set)
    };
    cell.value = Some(value);
    cell.compliance = assessment.compliance;
    cell.met = assessment.met;
    cell.band = assessment.band;
    cell.error = None;
    cell.flags = flags;
}

pub(crate) fn failed(error: CellError) -> Cell {
    Cell {
        error: Some(Box::new(error)),
        ..Cell::default()
    }
}

/// The formula's result as a decimal, or the name of the type it returned.
fn to_decimal(result: Dynamic) -> Result<Decimal, String> {
    if let Ok(d) = result.as_decimal() {
        return Ok(d);
    }
    if let Ok(i) = result.as_int() {
        return Ok(Decimal::from(i));
    }
    Err(result.type_name().to_owned())
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
        // rhai's built-in `/`: the one failure of rhai's own operators that is
        // not an overflow, told by the wording of the rhai version core pins
        // (`tests` in compile/engine.rs hold it). Core does not register its
        // own `/` as it does `%` and `**`: on the rhai path a registered
        // operator costs a general function call per cell (+8–10 % on the
        // cooperative library end to end, measured for issue #14). Plugins'
        // and core's own failures are typed (`FormulaFailure`), never read
        // from a message.
        EvalAltResult::ErrorArithmetic(message, _) if message.starts_with("Division by zero") => {
            CellError::DivisionByZero {
                detail: message.clone(),
                at,
            }
        }
        // rhai's built-in `+`, `-` and `*` (and the native path, which copies
        // them word for word).
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
        EvalAltResult::ErrorRuntime(value, _) if value.is::<FormulaFailure>() => {
            match value.clone().cast::<FormulaFailure>() {
                FormulaFailure::DivisionByZero(detail) => CellError::DivisionByZero { detail, at },
                FormulaFailure::Domain { function, detail } => CellError::DomainError {
                    function: function.to_owned(),
                    detail,
                    at,
                },
                FormulaFailure::Overflow(detail) => CellError::Overflow { detail, at },
                FormulaFailure::Refused(message) => CellError::Script { message, at },
            }
        }
        EvalAltResult::ErrorTerminated(token, _) if token.is::<Stop>() => {
            CellError::LimitExceeded {
                limit: match token.clone().cast::<Stop>() {
                    Stop::Time => LimitKind::Time(rules.pack.limits.max_cell_time_ms),
                    Stop::Cancelled => LimitKind::Cancelled,
                    Stop::Stack => LimitKind::Stack,
                },
                at,
            }
        }
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
        FormulaSource::Inline { location, .. }
        | FormulaSource::Function { location, .. }
        | FormulaSource::Generated { location, .. } => location.clone(),
    })
}
