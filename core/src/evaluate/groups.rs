//! Indicators with a grain: computed once per group of rows (department,
//! month, the whole table…) from the aggregates their formulas call
//! (rewritten at compile time by `compile::aggregates`), over the group's
//! rows.

use std::collections::BTreeMap;

use rhai::{Dynamic, Scope};
use rust_decimal::Decimal;

use crate::compile::aggregates::AggregateFn;
use crate::compile::binding::{Aggregate, InputSource, Operand};
use crate::compile::set::CompiledRuleSet;
use crate::data::shape::DataShape;
use crate::data::table::Table;
use crate::evaluate::result::{Cell, CellError, GroupResult};
use crate::evaluate::{RowInputs, add_flag, failed, indicator_value, row_label, run};

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
