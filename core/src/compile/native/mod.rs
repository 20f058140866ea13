//! The native fast path: formulas that are plain arithmetic over their
//! inputs are lowered, once at compile time, from rhai's AST into a small
//! tree (`lower.rs`), assembled into a program of steps over registers
//! (`assemble.rs`) and evaluated directly over decimals, without a scope or
//! `Dynamic`s — many rows at a time ([`Lanes`], `run.rs`): each step runs
//! over every row before the next step. Imports go one way:
//! `lower` → `run`, `assemble` → `lower`, `run`.
//!
//! The subset: decimal literals, variables bound to inputs, unary minus,
//! `+ - * /`, `min(a, b)`, `max(a, b)`, `abs(a)`, and `if c { a } else { b }`
//! whose condition is built from `< <= > >= == !=`, `&&` and `||`. Anything
//! else (and any formula whose `min`/`max`/`abs` a plugin or script
//! function may redefine) stays on the rhai path.
//!
//! The program keeps the written order of every operation and reproduces
//! the rhai path's arithmetic exactly (rhai's checked decimal `+ - *`,
//! core's `/`): an error is the same `EvalAltResult` the rhai path raises —
//! same message or typed failure, same position — so it becomes the same
//! `CellError` through the same classification.

use rust_decimal::Decimal;

use crate::compile::binding::Input;

mod assemble;
mod lower;
mod run;

pub(crate) use lower::Lowering;
pub(crate) use run::Lanes;
use run::{Outcome, Program};

/// A formula lowered to the native subset, as a short program over
/// registers (see [`Program`]).
#[derive(Debug, Clone)]
pub(crate) struct NativeFormula {
    program: Program,
}

/// Lowers a compiled formula to the native subset, or `None` when it uses
/// anything outside it. `inputs` are the formula's inputs in the order their
/// values will be passed to [`NativeFormula::eval`].
pub(crate) fn lower(ast: &rhai::AST, inputs: &[Input], options: Lowering) -> Option<NativeFormula> {
    let root = lower::tree(ast, inputs, options)?;
    let program = assemble::assemble(&root, inputs.len())?;
    Some(NativeFormula { program })
}

impl NativeFormula {
    /// Makes `lanes` ready for `rows` rows of this formula: every row to
    /// run, constants loaded. Set every row's inputs, then [`NativeFormula::run`].
    pub(crate) fn prepare(&self, lanes: &mut Lanes, rows: usize) {
        self.program.prepare(lanes, rows);
    }

    /// Evaluates the formula for every row of `lanes` not skipped; read
    /// each row's value or error with [`Lanes::outcome`]. Errors are exactly
    /// those rhai raises.
    pub(crate) fn run(&self, lanes: &mut Lanes) {
        self.program.run(lanes);
    }

    /// Evaluates the formula over its inputs' values, in the order of the
    /// compiled formula's inputs. Errors are exactly those rhai raises.
    pub(crate) fn eval(&self, inputs: &[Decimal]) -> Outcome<Decimal> {
        let mut lanes = Lanes::default();
        self.prepare(&mut lanes, 1);
        for (k, value) in inputs.iter().enumerate() {
            lanes.set_input(k, 0, *value);
        }
        self.run(&mut lanes);
        lanes
            .outcome(0)
            .expect("a row with every input set is not skipped")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::binding::InputSource;
    use crate::compile::engine::build_engine;
    use crate::compile::math::FormulaFailure;
    use crate::pack::limits::Limits;
    use rhai::{AST, Engine, EvalAltResult, Scope};

    /// The inputs of the test formulas, in this order.
    const NAMES: [&str; 3] = ["a", "b", "c"];

    /// An error as the classification sees it: the typed failure it
    /// carries, or rhai's message.
    fn described(error: &EvalAltResult) -> String {
        FormulaFailure::of(error).map_or_else(|| error.to_string(), |f| format!("{f:?}"))
    }

    /// rhai as `evaluate` runs it: on a stack sized for the limits.
    fn on_stack<T>(work: impl FnOnce() -> T) -> T {
        crate::pack::limits::with_stack(&Limits::default(), work)
    }

    /// [`NAMES`] as fields 0, 1 and 2.
    pub(super) fn inputs() -> Vec<Input> {
        NAMES
            .iter()
            .enumerate()
            .map(|(i, n)| Input {
                name: (*n).into(),
                source: InputSource::Field(i),
            })
            .collect()
    }

    /// `formula` compiled with [`NAMES`] in scope.
    pub(super) fn compile(engine: &Engine, formula: &str) -> AST {
        let mut scope = Scope::new();
        for name in NAMES {
            scope.push_dynamic(name, rhai::Dynamic::UNIT);
        }
        engine.compile_with_scope(&scope, formula).unwrap()
    }

    #[test]
    fn errors_match_rhai_word_for_word() {
        let (engine, _) = build_engine(&Limits::default(), &[]);
        let options = Lowering::for_engine(&engine, 0);
        let values = [Decimal::ONE, Decimal::ZERO, Decimal::MAX];
        for formula in ["a / b", "c + a", "c * c", "-c - c", "c / 0.1"] {
            let ast = compile(&engine, formula);
            let native = lower(&ast, &inputs(), options).unwrap();
            let mut scope = Scope::new();
            for (name, value) in NAMES.iter().zip(values) {
                scope.push_constant(*name, value);
            }
            let expected =
                on_stack(|| engine.eval_ast_with_scope::<rhai::Dynamic>(&mut scope, &ast))
                    .unwrap_err();
            let actual = native.eval(&values).unwrap_err();
            assert_eq!(described(&actual), described(&expected), "{formula}");
            assert_eq!(actual.position(), expected.position(), "{formula}");
        }
    }

    /// Rows run together each take their own branches and fail on their
    /// own, as rhai row by row; a skipped row gives no outcome.
    #[test]
    fn rows_in_lanes_match_rhai_row_by_row() {
        let (engine, _) = build_engine(&Limits::default(), &[]);
        let options = Lowering::for_engine(&engine, 0);
        let numbers = ["0", "1", "-2", "0.5", "79228162514264337593543950335"];
        let rows: Vec<[Decimal; 3]> = (0..numbers.len().pow(3))
            .map(|k| {
                let at = [k % 5, k / 5 % 5, k / 25];
                at.map(|i| numbers[i].parse().unwrap())
            })
            .collect();
        for formula in [
            "if a > b && (c != 0 || a < 0) { a / c } else { b - c * 2 }",
            "max(a / b, c) + min(-a, abs(c))",
            "if a == 0 || b / a > 1 { c } else if b <= c { a * b } else { 7 }",
        ] {
            let ast = compile(&engine, formula);
            let native = lower(&ast, &inputs(), options).unwrap();
            let mut lanes = Lanes::default();
            native.prepare(&mut lanes, rows.len() + 1);
            for (r, row) in rows.iter().enumerate() {
                for (k, value) in row.iter().enumerate() {
                    lanes.set_input(k, r, *value);
                }
            }
            lanes.skip(rows.len());
            native.run(&mut lanes);
            assert!(lanes.outcome(rows.len()).is_none());
            for (r, row) in rows.iter().enumerate() {
                let mut scope = Scope::new();
                for (name, value) in NAMES.iter().zip(row) {
                    scope.push_constant(*name, *value);
                }
                let expected =
                    on_stack(|| engine.eval_ast_with_scope::<rhai::Dynamic>(&mut scope, &ast))
                        .map(|v| v.as_decimal().unwrap().to_string())
                        .map_err(|e| (described(&e), e.position()));
                let actual = lanes
                    .outcome(r)
                    .unwrap()
                    .map(|v| v.to_string())
                    .map_err(|e| (described(&e), e.position()));
                assert_eq!(actual, expected, "{formula} over {row:?}");
            }
        }
    }
}
