//! Indicators with a grain: computed once per group of rows (department,
//! month, the whole table…) from aggregates over the group's rows —
//! `sum(x)`, `mean(x)`, `weighted_mean(x, w)`, `minimum(x)`, `maximum(x)`,
//! `count()`. Each aggregate call is rewritten into a variable (as input
//! functions are), computed from the group's rows before the formula runs.

use std::collections::BTreeMap;

use rhai::{Dynamic, Engine, Position, Scope, Token};
use rust_decimal::Decimal;

use crate::compile::inputs::{offset, replace_spans, tokens};
use crate::compile::{Aggregate, CompiledRuleSet, InputSource, Operand};
use crate::data::shape::DataShape;
use crate::data::table::Table;
use crate::evaluate::result::{Cell, CellError, GroupResult};
use crate::evaluate::{RowInputs, add_flag, failed, indicator_value, row_label, run};

/// An aggregate over a group's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AggregateFn {
    Sum,
    Mean,
    WeightedMean,
    Minimum,
    Maximum,
    Count,
}

impl AggregateFn {
    const ALL: [(&'static str, AggregateFn, usize); 6] = [
        ("sum", Self::Sum, 1),
        ("mean", Self::Mean, 1),
        ("weighted_mean", Self::WeightedMean, 2),
        ("minimum", Self::Minimum, 1),
        ("maximum", Self::Maximum, 1),
        ("count", Self::Count, 0),
    ];

    fn named(name: &str) -> Option<(Self, usize)> {
        Self::ALL
            .iter()
            .find(|(n, ..)| *n == name)
            .map(|&(_, f, arity)| (f, arity))
    }

    /// The name used in formulas.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, f, _)| *f == self)
            .map_or("", |(n, ..)| n)
    }
}

/// One aggregate call of a grain formula, rewritten into `variable`.
#[derive(Debug, Clone)]
pub(crate) struct AggregateCall {
    pub variable: String,
    pub function: AggregateFn,
    /// The names it aggregates (none for `count()`; value then weight).
    pub arguments: Vec<String>,
    pub position: Position,
}

/// A grain formula with its aggregate calls replaced by variables `_agN`.
#[derive(Debug, Default)]
pub(crate) struct Aggregated {
    pub text: String,
    pub calls: Vec<AggregateCall>,
    pub problems: Vec<(String, Position)>,
}

/// Rewrites every aggregate call of `text`; a call whose arguments are not
/// plain names is a problem at its position.
pub(crate) fn rewrite_aggregates(engine: &Engine, text: &str, first_index: usize) -> Aggregated {
    let tokens = tokens(engine, text);
    let mut out = Aggregated::default();
    let mut replacements = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let named = match &tokens[i].0 {
            Token::Identifier(name)
                if matches!(tokens.get(i + 1), Some((Token::LeftParen | Token::Unit, _))) =>
            {
                AggregateFn::named(name)
            }
            _ => None,
        };
        let Some((function, arity)) = named else {
            i += 1;
            continue;
        };
        let at = tokens[i].1;
        // rhai reads `()` as one token, the unit value: `count()`.
        if let Some((Token::Unit, unit)) = tokens.get(i + 1) {
            if arity == 0 {
                let variable = format!("_ag{}", first_index + out.calls.len());
                replacements.push((offset(text, at), offset(text, *unit) + 2, variable.clone()));
                out.calls.push(AggregateCall {
                    variable,
                    function,
                    arguments: Vec::new(),
                    position: at,
                });
            } else {
                out.problems.push((format!("write `{}(x)` with a field or indicator name: aggregates read the group's rows", function.name()), at));
            }
            i += 2;
            continue;
        }
        let mut arguments = Vec::new();
        let mut j = i + 2;
        let mut well_formed = true;
        loop {
            match tokens.get(j) {
                Some((Token::RightParen, _)) => break,
                Some((Token::Identifier(name), _)) if arguments.len() < arity => {
                    arguments.push(name.to_string());
                    j += 1;
                    match tokens.get(j) {
                        Some((Token::Comma, _)) => j += 1,
                        Some((Token::RightParen, _)) => {}
                        _ => well_formed = false,
                    }
                }
                _ => well_formed = false,
            }
            if !well_formed {
                break;
            }
        }
        if !well_formed || arguments.len() != arity {
            let shape = match arity {
                0 => format!("{}()", function.name()),
                1 => format!("{}(x)", function.name()),
                _ => format!("{}(x, w)", function.name()),
            };
            out.problems.push((format!("write `{shape}` with field or indicator names: aggregates read the group's rows"), at));
            i += 1;
            continue;
        }
        let variable = format!("_ag{}", first_index + out.calls.len());
        let (start, end) = (offset(text, at), offset(text, tokens[j].1) + 1);
        replacements.push((start, end, variable.clone()));
        out.calls.push(AggregateCall {
            variable,
            function,
            arguments,
            position: at,
        });
        i = j + 1;
    }
    out.text = replace_spans(text, replacements);
    out
}

/// Evaluates every indicator with a grain, once per group of rows.
pub(crate) fn evaluate_groups(
    rules: &CompiledRuleSet,
    inputs: &RowInputs<'_>,
    cells: &[Cell],
) -> Vec<GroupResult> {
    let pack = &rules.pack;
    let width = pack.indicators.len();
    let mut grains: Vec<&Vec<String>> = Vec::new();
    for grain in pack.indicators.iter().filter_map(|i| i.grain.as_ref()) {
        if !grains.contains(&grain) {
            grains.push(grain);
        }
    }
    let mut results: Vec<GroupResult> = Vec::new();
    let mut scope = Scope::new();
    for grain in grains {
        let order: Vec<usize> = rules
            .order
            .iter()
            .copied()
            .filter(|&i| pack.indicators[i].grain.as_ref() == Some(grain))
            .collect();
        let groups = group_rows(inputs.table, pack.data_shape(), grain);
        let level = if grain.is_empty() {
            "all".to_owned()
        } else {
            grain.join("+")
        };
        let mut by_indicator: Vec<Vec<GroupResult>> = vec![Vec::new(); width];
        for group in &groups {
            let mut done = vec![Cell::default(); width];
            for &i in &order {
                let cell =
                    evaluate_group_cell(rules, inputs, cells, &group.rows, i, &done, &mut scope);
                done[i] = cell.clone();
                by_indicator[i].push(GroupResult {
                    indicator: i,
                    level: level.clone(),
                    entity: group.label.clone(),
                    period: group.period.clone(),
                    rows: group.rows.len(),
                    cell,
                });
            }
        }
        results.extend(by_indicator.into_iter().flatten());
    }
    results.sort_by_key(|g| g.indicator);
    results
}

struct Group {
    label: String,
    period: Option<String>,
    rows: Vec<usize>,
}

/// Rows grouped by the grain columns' values, groups in order of first appearance.
fn group_rows(table: &Table, shape: &DataShape, grain: &[String]) -> Vec<Group> {
    let value = |column: &str, row: usize| -> String {
        if column == shape.entity {
            table.entity(row).to_owned()
        } else if Some(column) == shape.period.as_deref() {
            table.period(row).unwrap_or_default().to_owned()
        } else {
            table
                .dimensions()
                .iter()
                .find(|d| d.name == column)
                .map(|d| d.values[row].clone())
                .unwrap_or_default()
        }
    };
    let mut index: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    let mut groups: Vec<Group> = Vec::new();
    for row in 0..table.len() {
        let key: Vec<String> = grain.iter().map(|c| value(c, row)).collect();
        let at = *index.entry(key.clone()).or_insert_with(|| {
            let period = grain
                .iter()
                .position(|c| Some(c.as_str()) == shape.period.as_deref())
                .map(|i| key[i].clone());
            let others: Vec<&str> = grain
                .iter()
                .zip(&key)
                .filter(|(c, _)| Some(c.as_str()) != shape.period.as_deref())
                .map(|(_, v)| v.as_str())
                .collect();
            let label = if others.is_empty() {
                "*".to_owned()
            } else {
                others.join(" / ")
            };
            groups.push(Group {
                label,
                period,
                rows: Vec::new(),
            });
            groups.len() - 1
        });
        groups[at].rows.push(row);
    }
    groups
}

fn evaluate_group_cell(
    rules: &CompiledRuleSet,
    inputs: &RowInputs<'_>,
    cells: &[Cell],
    rows: &[usize],
    indicator: usize,
    done: &[Cell],
    scope: &mut Scope<'_>,
) -> Cell {
    let formula = &rules.formulas[indicator];
    let width = rules.pack.indicators.len();
    scope.clear();
    let mut flags = Vec::new();
    for input in &formula.inputs {
        let value = match input.source {
            InputSource::Parameter(p) => Ok(Dynamic::from(inputs.parameters[p].clone())),
            InputSource::Indicator(j) => {
                indicator_value(&rules.pack, done, j, &mut flags).map(|(v, _)| v)
            }
            InputSource::Aggregate(k) => aggregate(
                &formula.aggregates[k],
                inputs,
                cells,
                width,
                rows,
                &mut flags,
            )
            .map(Dynamic::from_decimal),
            InputSource::Field(_) => unreachable!("grain formulas read fields through aggregates"),
        };
        match value {
            Ok(v) => {
                scope.push_constant_dynamic(input.name.clone(), v);
            }
            Err(error) => return failed(error),
        }
    }
    run(rules, indicator, scope, flags)
}

fn aggregate(
    aggregate: &Aggregate,
    inputs: &RowInputs<'_>,
    cells: &[Cell],
    width: usize,
    rows: &[usize],
    flags: &mut Vec<String>,
) -> Result<Decimal, CellError> {
    let read =
        |operand: Operand, row: usize, flags: &mut Vec<String>| -> Result<Decimal, CellError> {
            match operand {
                Operand::Field(f) => {
                    let (value, flag) = inputs.field(f, row)?;
                    if let Some(flag) = flag {
                        add_flag(flags, flag);
                    }
                    value
                        .as_decimal()
                        .map_err(|type_name| CellError::NotANumber {
                            type_name: type_name.to_owned(),
                        })
                }
                Operand::Indicator(j) => {
                    let cell = &cells[row * width + j];
                    for flag in &cell.flags {
                        add_flag(flags, flag);
                    }
                    cell.value.ok_or_else(|| {
                        *cell.error.clone().unwrap_or_else(|| {
                            Box::new(CellError::MissingValue {
                                field: j.to_string(),
                                row: row_label(inputs.table, row),
                                detail: String::new(),
                            })
                        })
                    })
                }
            }
        };
    let mut values: Vec<(Decimal, Decimal)> = Vec::with_capacity(rows.len());
    let mut failures = 0;
    let mut first = None;
    for &row in rows {
        let value = aggregate
            .operands
            .first()
            .map(|&o| read(o, row, flags))
            .transpose();
        let weight = aggregate
            .operands
            .get(1)
            .map(|&o| read(o, row, flags))
            .transpose();
        match (value, weight) {
            (Ok(v), Ok(w)) => values.push((v.unwrap_or_default(), w.unwrap_or(Decimal::ONE))),
            (Err(e), _) | (_, Err(e)) => {
                failures += 1;
                first.get_or_insert_with(|| format!("{}: {e}", row_label(inputs.table, row)));
            }
        }
    }
    if let Some(first) = first {
        return Err(CellError::AggregateInput {
            aggregate: aggregate.text.clone(),
            failed: failures,
            rows: rows.len(),
            first,
        });
    }
    let overflow = || CellError::Overflow {
        detail: format!("{} is too large for a decimal", aggregate.text),
        at: None,
    };
    let sum = |values: &[(Decimal, Decimal)]| {
        values
            .iter()
            .try_fold(Decimal::ZERO, |acc, (v, _)| acc.checked_add(*v))
            .ok_or_else(overflow)
    };
    let empty = || CellError::DivisionByZero {
        detail: format!("{} over a group without rows", aggregate.text),
        at: None,
    };
    match aggregate.function {
        AggregateFn::Count => Ok(Decimal::from(rows.len())),
        AggregateFn::Sum => sum(&values),
        AggregateFn::Mean if values.is_empty() => Err(empty()),
        AggregateFn::Mean => sum(&values)?
            .checked_div(Decimal::from(values.len()))
            .ok_or_else(overflow),
        AggregateFn::WeightedMean => {
            let total_weight = values
                .iter()
                .try_fold(Decimal::ZERO, |acc, (_, w)| acc.checked_add(*w))
                .ok_or_else(overflow)?;
            if total_weight.is_zero() {
                return Err(CellError::DivisionByZero {
                    detail: format!("{}: the weights add up to 0", aggregate.text),
                    at: None,
                });
            }
            let weighted = values
                .iter()
                .try_fold(Decimal::ZERO, |acc, (v, w)| {
                    acc.checked_add(v.checked_mul(*w)?)
                })
                .ok_or_else(overflow)?;
            weighted.checked_div(total_weight).ok_or_else(overflow)
        }
        AggregateFn::Minimum => values.iter().map(|(v, _)| *v).min().ok_or_else(empty),
        AggregateFn::Maximum => values.iter().map(|(v, _)| *v).max().ok_or_else(empty),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::engine::build_engine;
    use crate::pack::limits::Limits;

    #[test]
    fn aggregate_calls_become_variables() {
        let (engine, _) = build_engine(&Limits::default(), &[]);
        let out = rewrite_aggregates(
            &engine,
            "sum(ejecutado) / sum(programado) * 100 + count() + weighted_mean(c, w)",
            0,
        );
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(
            out.text,
            "_ag0           / _ag1            * 100 + _ag2    + _ag3               "
        );
        let calls: Vec<(&str, AggregateFn, Vec<String>)> = out
            .calls
            .iter()
            .map(|c| (c.variable.as_str(), c.function, c.arguments.clone()))
            .collect();
        assert_eq!(
            calls[1],
            ("_ag1", AggregateFn::Sum, vec!["programado".to_owned()])
        );
        assert_eq!(calls[3].2, ["c", "w"]);
    }

    #[test]
    fn aggregates_need_plain_names() {
        let (engine, _) = build_engine(&Limits::default(), &[]);
        let out = rewrite_aggregates(&engine, "sum(a + b) + mean()", 0);
        let messages: Vec<&str> = out.problems.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(
            messages,
            [
                "write `sum(x)` with field or indicator names: aggregates read the group's rows",
                "write `mean(x)` with a field or indicator name: aggregates read the group's rows"
            ]
        );
    }
}
