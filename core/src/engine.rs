//! The one rhai [`Engine`] configuration every pack uses: a raw engine with
//! only the packages formulas need, the sandbox limits, strict variables,
//! and integer literals read as decimals.

use rhai::packages::{BasicMathPackage, CorePackage, LogicPackage, Package};
use rhai::{Engine, Identifier, Token};
use rust_decimal::Decimal;

use crate::limits::Limits;
use crate::plugin::{Plugin, Registry};

/// Builds the engine for a pack: configured once, then shared by every
/// evaluation of that pack on every thread.
pub(crate) fn build_engine(limits: &Limits, plugins: &[&dyn Plugin]) -> Engine {
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
    let mut registry = Registry::new(&mut engine);
    for plugin in plugins {
        plugin.register(&mut registry);
    }
    engine
}

/// `1 / 3` must not be integer division: every integer literal in a formula
/// becomes a decimal literal.
fn integer_literals_as_decimals(token: Token, _: rhai::Position, _: &rhai::TokenizeState) -> Token {
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

    fn eval(script: &str) -> Result<Dynamic, Box<rhai::EvalAltResult>> {
        build_engine(&Limits::default(), &[]).eval::<Dynamic>(script)
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
    fn scripts_cannot_eval_strings() {
        assert!(
            build_engine(&Limits::default(), &[])
                .compile("eval(\"1\")")
                .is_err()
        );
    }

    #[test]
    fn runaway_loop_is_stopped_by_the_operation_limit() {
        let err = eval("loop {}").unwrap_err();
        assert!(
            matches!(*err, rhai::EvalAltResult::ErrorTooManyOperations(_)),
            "{err:?}"
        );
    }
}
