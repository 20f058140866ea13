//! What each variable of a compiled formula reads: a field's column, an
//! earlier indicator's cell, a parameter, or an aggregate over a group's
//! rows — resolved to indices once, at compile time.

use crate::compile::aggregates::AggregateFn;

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
