//! Running a [`Program`] over many rows at once ([`Lanes`]): the
//! operations it runs, checked as the rhai path computes them.

use rhai::{EvalAltResult, Position};
use rust_decimal::Decimal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Arith {
    Add,
    Subtract,
    Multiply,
    Divide,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Compare {
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

impl Compare {
    fn holds(self, x: Decimal, y: Decimal) -> bool {
        match self {
            Self::Equal => x == y,
            Self::NotEqual => x != y,
            Self::Greater => x > y,
            Self::GreaterOrEqual => x >= y,
            Self::Less => x < y,
            Self::LessOrEqual => x <= y,
        }
    }
}

pub(super) type Outcome<T> = Result<T, Box<EvalAltResult>>;

/// A register: the formula's inputs come first, then its constants, then
/// temporaries.
pub(super) type Reg = u32;

/// One step of a [`Program`].
#[derive(Debug, Clone, Copy)]
pub(super) enum Op {
    /// `to = x op y`, checked; the position is where rhai reports its errors.
    Arith(Arith, [Reg; 3], Position),
    /// `to = -x`.
    Negate([Reg; 2]),
    /// `to = abs(x)`.
    Abs([Reg; 2]),
    /// `to = min(x, y)`.
    Min([Reg; 3]),
    /// `to = max(x, y)`.
    Max([Reg; 3]),
    /// `to = x` (an `if` branch's value into the `if`'s register).
    Copy([Reg; 2]),
    /// Continue at this step (always a later one).
    Jump(u32),
    /// Continue at step `to` (a later one) when `x compare y` is `when`.
    Branch {
        compare: Compare,
        operands: [Reg; 2],
        when: bool,
        to: u32,
    },
}

/// A formula as steps over registers, with forward jumps for `if`, `&&`
/// and `||`: operands are evaluated in their written order, each operation
/// is the tree's, and no step allocates.
#[derive(Debug, Clone)]
pub(super) struct Program {
    pub(super) steps: Vec<Op>,
    /// How many inputs (the first registers).
    pub(super) inputs: usize,
    /// The constants' values, in their registers' order (after the inputs).
    pub(super) constants: Vec<Decimal>,
    /// Inputs, constants and temporaries.
    pub(super) registers: usize,
    /// The register holding the formula's value at the end.
    pub(super) result: Reg,
}

/// Where a row of [`Lanes`] stands besides its next step.
const SKIPPED: u32 = u32::MAX;
pub(super) const FAILED: u32 = u32::MAX - 1;

/// A native formula's registers over a run of rows, register by register
/// (`values[register × rows + row]`), with each row's next step.
///
/// The program runs one step at a time over every row, each row following
/// its own branches (jumps only go forward, so one pass over the steps
/// serves every path): a step is a tight loop over the rows, and a register
/// is never read right after it was written.
#[derive(Debug, Default)]
pub(crate) struct Lanes {
    rows: usize,
    values: Vec<Decimal>,
    /// Per row: the next step to run, or [`SKIPPED`] or [`FAILED`].
    next: Vec<u32>,
    /// The errors of the rows that failed.
    errors: Vec<(usize, Box<EvalAltResult>)>,
    /// Where the result's register starts in `values`.
    result: usize,
}

impl Lanes {
    /// Sets input `input` (in the compiled formula's input order) of `row`.
    #[inline]
    pub(crate) fn set_input(&mut self, input: usize, row: usize, value: Decimal) {
        self.values[input * self.rows + row] = value;
    }

    /// The lane of input `input`: its value for every row.
    #[inline]
    pub(crate) fn input(&mut self, input: usize) -> &mut [Decimal] {
        &mut self.values[input * self.rows..(input + 1) * self.rows]
    }

    /// Leaves `row` out of the run (one of its inputs is not a number).
    #[inline]
    pub(crate) fn skip(&mut self, row: usize) {
        self.next[row] = SKIPPED;
    }

    /// The formula's value or error for `row` after [`NativeFormula::run`];
    /// `None` for a skipped row. An error is handed out once.
    pub(crate) fn outcome(&mut self, row: usize) -> Option<Outcome<Decimal>> {
        match self.next[row] {
            SKIPPED => None,
            FAILED => {
                let at = self.errors.iter().position(|(r, _)| *r == row)?;
                Some(Err(self.errors.swap_remove(at).1))
            }
            _ => Some(Ok(self.values[self.result + row])),
        }
    }
}

impl Program {
    /// Makes `lanes` ready for `rows` rows of this formula: every row to
    /// run, constants loaded. Set every row's inputs, then [`Program::run`].
    pub(super) fn prepare(&self, lanes: &mut Lanes, rows: usize) {
        let program = self;
        lanes.rows = rows;
        // Temporaries are written before they are read, inputs are set by
        // the caller: only the constants need loading.
        lanes.values.resize(program.registers * rows, Decimal::ZERO);
        for (k, constant) in program.constants.iter().enumerate() {
            let at = (program.inputs + k) * rows;
            lanes.values[at..at + rows].fill(*constant);
        }
        lanes.next.clear();
        lanes.next.resize(rows, 0);
        lanes.errors.clear();
        lanes.result = program.result as usize * rows;
    }

    /// Evaluates the formula for every row of `lanes` not skipped; read
    /// each row's value or error with [`Lanes::outcome`]. Errors are exactly
    /// those rhai raises.
    pub(super) fn run(&self, lanes: &mut Lanes) {
        let rows = lanes.rows;
        let Lanes {
            values,
            next,
            errors,
            ..
        } = lanes;
        let lane = |reg: Reg| reg as usize * rows;
        // The number of steps fits in a u32 below FAILED (checked when assembled).
        for (s, &step) in (0_u32..).zip(&self.steps) {
            match step {
                Op::Arith(op, [x, y, to], at) => {
                    let (x, y, to) = (lane(x), lane(y), lane(to));
                    for r in 0..rows {
                        if next[r] != s {
                            continue;
                        }
                        match arith(op, values[x + r], values[y + r], at) {
                            Ok(value) => {
                                values[to + r] = value;
                                next[r] = s + 1;
                            }
                            Err(error) => {
                                next[r] = FAILED;
                                errors.push((r, error));
                            }
                        }
                    }
                }
                Op::Negate([x, to]) | Op::Abs([x, to]) | Op::Copy([x, to]) => {
                    let (x, to) = (lane(x), lane(to));
                    for r in 0..rows {
                        if next[r] == s {
                            let value = values[x + r];
                            values[to + r] = match step {
                                Op::Negate(_) => -value,
                                Op::Abs(_) => value.abs(),
                                _ => value,
                            };
                            next[r] = s + 1;
                        }
                    }
                }
                Op::Min([x, y, to]) | Op::Max([x, y, to]) => {
                    let (x, y, to) = (lane(x), lane(y), lane(to));
                    let min = matches!(step, Op::Min(_));
                    for r in 0..rows {
                        if next[r] == s {
                            let (x, y) = (values[x + r], values[y + r]);
                            // rhai's `min` is `if x <= y { x } else { y }`, its `max`
                            // `if x >= y { x } else { y }`: ties keep the first (and its scale).
                            let first = if min { x <= y } else { x >= y };
                            values[to + r] = if first { x } else { y };
                            next[r] = s + 1;
                        }
                    }
                }
                Op::Jump(to) => {
                    for n in next.iter_mut().filter(|n| **n == s) {
                        *n = to;
                    }
                }
                Op::Branch {
                    compare,
                    operands: [x, y],
                    when,
                    to,
                } => {
                    let (x, y) = (lane(x), lane(y));
                    for r in 0..rows {
                        if next[r] == s {
                            let holds = compare.holds(values[x + r], values[y + r]);
                            next[r] = if holds == when { to } else { s + 1 };
                        }
                    }
                }
            }
        }
    }
}

/// `x op y` as the rhai path computes it (rhai's checked decimal
/// `+ - * /`): the same result, and on failure the same error in rhai's own
/// words.
#[inline]
fn arith(op: Arith, x: Decimal, y: Decimal, at: Position) -> Outcome<Decimal> {
    let value = match op {
        Arith::Add => x.checked_add(y),
        Arith::Subtract => x.checked_sub(y),
        Arith::Multiply => x.checked_mul(y),
        Arith::Divide if y.is_zero() => None,
        Arith::Divide => x.checked_div(y),
    };
    value.ok_or_else(|| arithmetic_error(op, x, y, at))
}

#[cold]
fn arithmetic_error(op: Arith, x: Decimal, y: Decimal, at: Position) -> Box<EvalAltResult> {
    let message = match op {
        Arith::Add => format!("Addition overflow: {x} + {y}"),
        Arith::Subtract => format!("Subtraction overflow: {x} - {y}"),
        Arith::Multiply => format!("Multiplication overflow: {x} * {y}"),
        Arith::Divide if y.is_zero() => format!("Division by zero: {x} / {y}"),
        Arith::Divide => format!("Division overflow: {x} / {y}"),
    };
    Box::new(EvalAltResult::ErrorArithmetic(message, at))
}
