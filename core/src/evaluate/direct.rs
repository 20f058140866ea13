//! Direct reads for native formulas: each input of a formula on the native
//! path bound, once per table, to a number column's values, an earlier
//! indicator's cells or a number parameter, and evaluated over a chunk of
//! rows at once ([`Lanes`]) without a `Dynamic`, a scope or a heap
//! allocation per cell.
//!
//! Only the common case is taken here: every input holds a number (a
//! non-empty cell, or an empty cell the field fills with its `when_missing`
//! number). A row with anything else — an unreadable or unavailable cell, a
//! failed dependency — is skipped and evaluated on the general path, which
//! gives its error. Both paths read the inputs in the same order and gather
//! flags in the same order, so a cell is the same whichever path computed it.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::{Binding, RowInputs, add_flag, assess_into, classify, failed};
use crate::compile::binding::InputSource;
use crate::compile::native::{Lanes, NativeFormula};
use crate::compile::set::CompiledRuleSet;
use crate::data::shape::Value;
use crate::data::table::CellProblem;
use crate::evaluate::result::Cell;

/// A native formula whose every input can be read directly.
pub(super) struct Direct<'a> {
    indicator: usize,
    native: &'a NativeFormula,
    /// One per formula input, in the formula's input order.
    sources: Vec<Source<'a>>,
}

/// Where one input's number comes from.
enum Source<'a> {
    /// A number column.
    Column {
        values: &'a [Option<Decimal>],
        problems: &'a BTreeMap<usize, CellProblem>,
        /// The field's `when_missing` number and its flag, for an empty cell.
        missing: Option<(Decimal, Option<&'a str>)>,
    },
    /// An earlier indicator of the same row.
    Indicator(usize),
    /// A number parameter.
    Constant(Decimal),
}

/// Working space of [`Direct::fill`], reused from chunk to chunk.
#[derive(Default)]
pub(super) struct Scratch {
    lanes: Lanes,
    /// Per row of the chunk, the flags of its inputs (taken by its cell).
    flags: Vec<Vec<String>>,
    /// Rows of the chunk whose cell in a column is empty or not a number.
    empty: Vec<usize>,
}

impl<'a> Direct<'a> {
    /// The direct reads of indicator `indicator`, or `None` when its formula
    /// is not native or some input may not be a number (a text field or
    /// parameter, a column absent from the table).
    pub(super) fn plan(
        rules: &'a CompiledRuleSet,
        inputs: &RowInputs<'a>,
        indicator: usize,
    ) -> Option<Self> {
        let formula = &rules.formulas[indicator];
        let native = formula.native.as_ref()?;
        let sources = formula
            .inputs
            .iter()
            .map(|input| match input.source {
                InputSource::Field(f) => {
                    let Binding::Number(at) = inputs.bindings[f] else {
                        return None;
                    };
                    let column = &inputs.table.columns[at];
                    let spec = &rules.fields[f];
                    let missing = match &spec.when_missing {
                        Some(Value::Number(n)) => Some((*n, spec.flag.as_deref())),
                        Some(Value::Text(_)) | None => None,
                    };
                    Some(Source::Column {
                        values: &column.values,
                        problems: &column.problems,
                        missing,
                    })
                }
                InputSource::Indicator(j) => Some(Source::Indicator(j)),
                InputSource::Parameter(p) => match &rules.pack.parameters[p].value {
                    Value::Number(n) => Some(Source::Constant(*n)),
                    Value::Text(_) => None,
                },
                InputSource::Aggregate(_) => None,
            })
            .collect::<Option<_>>()?;
        Some(Self {
            indicator,
            native,
            sources,
        })
    }

    /// Computes the indicator's cell of every row of a chunk: `cells` holds
    /// the rows from `first` on, `width` cells each, with the indicators
    /// this one reads already computed. A row with an input that is not a
    /// number gets `general(row in the chunk, its cells)` instead.
    pub(super) fn fill(
        &self,
        rules: &CompiledRuleSet,
        first: usize,
        width: usize,
        cells: &mut [Cell],
        scratch: &mut Scratch,
        mut general: impl FnMut(usize, &[Cell]) -> Cell,
    ) {
        let rows = cells.len() / width;
        let Scratch {
            lanes,
            flags,
            empty,
        } = scratch;
        if flags.len() < rows {
            flags.resize_with(rows, Vec::new);
        }
        self.native.prepare(lanes, rows);
        for (k, source) in self.sources.iter().enumerate() {
            match *source {
                Source::Column {
                    values,
                    problems,
                    missing,
                } => {
                    empty.clear();
                    let column = &values[first.min(values.len())..(first + rows).min(values.len())];
                    for (r, (lane, value)) in lanes.input(k).iter_mut().zip(column).enumerate() {
                        match value {
                            Some(v) => *lane = *v,
                            None => empty.push(r),
                        }
                    }
                    // A table whose column is shorter than its rows: the rest are empty.
                    empty.extend(column.len()..rows);
                    for &r in empty.iter() {
                        // An empty cell (no problem recorded) takes `when_missing`.
                        match missing.filter(|_| !problems.contains_key(&(first + r))) {
                            Some((n, flag)) => {
                                lanes.set_input(k, r, n);
                                if let Some(flag) = flag {
                                    add_flag(&mut flags[r], flag);
                                }
                            }
                            None => lanes.skip(r),
                        }
                    }
                }
                Source::Indicator(j) => {
                    for r in 0..rows {
                        let cell = &cells[r * width + j];
                        match cell.value {
                            Some(v) => {
                                lanes.set_input(k, r, v);
                                for flag in &cell.flags {
                                    add_flag(&mut flags[r], flag);
                                }
                            }
                            None => lanes.skip(r),
                        }
                    }
                }
                Source::Constant(n) => lanes.input(k).fill(n),
            }
        }
        self.native.run(lanes);
        let formula = &rules.pack.indicators[self.indicator].formula;
        for (r, flags) in flags.iter_mut().enumerate().take(rows) {
            let flags = std::mem::take(flags);
            let at = r * width + self.indicator;
            match lanes.outcome(r) {
                Some(Ok(value)) => assess_into(&mut cells[at], rules, self.indicator, value, flags),
                Some(Err(error)) => cells[at] = failed(classify(rules, formula, &error)),
                None => cells[at] = general(r, &cells[r * width..(r + 1) * width]),
            }
        }
    }
}
