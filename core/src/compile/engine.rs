//! The one rhai [`Engine`] configuration every pack uses: a raw engine with
//! only the packages formulas need, the sandbox limits, strict variables,
//! and integer literals read as decimals.

use rhai::packages::{BasicMathPackage, CorePackage, LogicPackage, Package};
use rhai::{Engine, EvalAltResult, Identifier, Position, Token};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::compile::inputs::InputFunction;
use crate::compile::math::FormulaFailure;
use crate::compile::plugin::{Plugin, Registry};
use crate::pack::limits::Limits;

/// Builds the engine for a pack, configured once and then shared by every
/// evaluation of that pack on every thread, with the input functions the
/// plugins declared.
pub(crate) fn build_engine(
    limits: &Limits,
    plugins: &[&dyn Plugin],
) -> (Engine, Vec<InputFunction>) {
    let mut engine = Engine::new_raw();
    engine.register_global_module(CorePackage::new().as_shared_module());
    engine.register_global_module(LogicPackage::new().as_shared_module());
    engine.register_global_module(BasicMathPackage::new().as_shared_module());
    // Scripts do no I/O and cannot run code built from strings.
    engine.on_print(|_| {});
    engine.on_debug(|_, _, _| {});
    engine.disable_symbol("eval");
    engine.set_strict_variables(true);
    engine.set_fail_on_invalid_map_property(true);
    #[expect(
        deprecated,
        reason = "rhai marks on_parse_token volatile, not deprecated; it is the documented way to map tokens"
    )]
    engine.on_parse_token(integer_literals_as_decimals);
    limits.apply(&mut engine);
    // Time, cancellation and stack are watched while formulas run.
    let (budget, red_zone) = (limits.cell_time(), limits.red_zone());
    engine.on_progress(move |operations| {
        crate::compile::watchdog::progress(operations, budget, red_zone)
    });
    // Typed errors for `/`, `%`, `**` and the math functions; operators look
    // registered functions up first (rhai's fast mode would skip them).
    crate::compile::math::register(&mut engine);
    engine.set_fast_operators(false);
    // Rounding as the users do it (Excel's ROUND), with decimal digits.
    engine.register_fn("round", |x: Decimal| {
        x.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
    });
    engine.register_fn("round", round_half_away);
    let mut input_functions = Vec::new();
    let mut registry = Registry::new(&mut engine, &mut input_functions);
    for plugin in plugins {
        plugin.register(&mut registry);
    }
    (engine, input_functions)
}

/// `round(x, digits)`: half away from zero; `digits` a whole number 0–28.
fn round_half_away(x: Decimal, digits: Decimal) -> Result<Decimal, Box<EvalAltResult>> {
    let places = u32::try_from(digits.mantissa())
        .ok()
        .filter(|&d| digits.scale() == 0 && d <= 28)
        .ok_or_else(|| {
            FormulaFailure::domain(
                "round",
                format!("round(…, {digits}): digits must be a whole number from 0 to 28"),
            )
            .into_error()
        })?;
    Ok(x.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero))
}

/// `1 / 3` must not be integer division: every integer literal in a formula
/// becomes a decimal literal.
fn integer_literals_as_decimals(token: Token, _: Position, _: &rhai::TokenizeState) -> Token {
    match token {
        Token::IntegerConstant(n) => Token::DecimalConstant(Box::new((
            Decimal::from(n),
            Identifier::from(n.to_string()),
        ))),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhai::Dynamic;

    /// Evaluates on a stack sized for the limits, as `evaluate` does (the
    /// watchdog stops a formula whose thread has less).
    fn eval(script: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        let limits = Limits::default();
        crate::pack::limits::with_stack(&limits, || {
            build_engine(&limits, &[]).0.eval::<Dynamic>(script)
        })
    }

    #[test]
    fn integer_literals_divide_as_decimals() {
        let third = eval("1 / 3").unwrap().as_decimal().unwrap();
        assert_eq!(third.to_string(), "0.3333333333333333333333333333");
        assert_eq!(
            eval("7 / 2").unwrap().as_decimal().unwrap(),
            Decimal::new(35, 1)
        );
    }

    #[test]
    fn decimal_literals_stay_exact() {
        assert_eq!(
            eval("0.1 + 0.2").unwrap().as_decimal().unwrap().to_string(),
            "0.3"
        );
    }

    #[test]
    fn round_is_half_away_from_zero_with_decimal_digits() {
        let round = |script: &str| eval(script).unwrap().as_decimal().unwrap().to_string();
        assert_eq!(round("round(2.5)"), "3");
        assert_eq!(round("round(-2.5)"), "-3");
        assert_eq!(round("round(-30.625, 2)"), "-30.63");
        assert_eq!(round("round(94.3333, 0)"), "94");
        assert!(eval("round(1.5, 1.5)").is_err());
        assert!(eval("round(1.5, -1)").is_err());
    }

    #[test]
    fn scripts_cannot_eval_strings() {
        assert!(
            build_engine(&Limits::default(), &[])
                .0
                .compile("eval(\"1\")")
                .is_err()
        );
    }

    #[test]
    fn operators_and_functions_give_typed_math_failures() {
        for (script, expected) in [
            // rhai's own `/` (not re-registered: see `evaluate::classify`),
            // on decimals and on the integers a string's loop counter makes.
            ("7 / 0", "ErrorArithmetic(\"Division by zero: 7 / 0\""),
            (
                "let x = 0.00; 7 / x",
                "ErrorArithmetic(\"Division by zero: 7 / 0.00\"",
            ),
            (
                "let n = 1; for (c, i) in \"a\" { n = i }; 7 / n",
                "ErrorArithmetic(\"Division by zero: 7 / 0\"",
            ),
            ("7 % 0", "DivisionByZero"),
            ("let x = 0; 7 % x", "DivisionByZero"),
            ("2 ** 0.5 - 2 ** 0.5", ""),
            ("(-8) ** 0.5", "Domain"),
            ("let x = -8; x ** 0.5", "Domain"),
            ("sqrt(-1)", "Domain"),
            ("ln(0)", "Domain"),
            ("log(-1)", "Domain"),
            ("round(1, 0.5)", "Domain"),
            ("exp(1000)", "Overflow"),
        ] {
            let got = match eval(script) {
                Ok(_) => String::new(),
                Err(e) => match *e {
                    EvalAltResult::ErrorRuntime(v, _) => {
                        format!("{:?}", v.cast::<FormulaFailure>())
                    }
                    other => format!("{other:?}"),
                },
            };
            assert!(got.starts_with(expected), "{script}: {got}");
        }
    }

    #[test]
    fn runaway_loop_is_stopped_by_the_operation_limit() {
        let err = eval("loop {}").unwrap_err();
        assert!(
            matches!(*err, EvalAltResult::ErrorTooManyOperations(_)),
            "{err:?}"
        );
    }
}
