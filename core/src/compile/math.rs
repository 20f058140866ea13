//! The math functions formulas call, with truthful failures: rhai's own
//! decimal `%`, `**`, `sqrt`, `ln`, `log`, `exp`, `sin`, `cos` and `tan`
//! report a zero divisor, a negative square root or a log of zero as an
//! overflow (and `sin`/`cos`/`tan` can panic). These replacements give the
//! exact result when it fits a decimal and otherwise a [`MathFailure`] that
//! says which it is; [`crate::evaluate`] turns it into the cell error of
//! that kind by its variant, not by its message.

use rhai::{Dynamic, Engine, EvalAltResult, Position};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, MathematicalOps};

/// Why a math function has no decimal result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MathFailure {
    /// A divisor (or the base of a negative power) is zero.
    DivisionByZero(String),
    /// The argument is outside the function's domain, e.g. `sqrt(-1)`.
    Domain {
        /// The function or operator, e.g. `sqrt`.
        function: &'static str,
        /// The call and why, e.g. `sqrt(-1): the square root of a negative number`.
        detail: String,
    },
    /// The exact result is too large for a decimal.
    Overflow(String),
}

type Outcome = Result<Decimal, Box<EvalAltResult>>;

fn fail(failure: MathFailure) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from(failure),
        Position::NONE,
    ))
}

fn domain(function: &'static str, detail: String) -> Box<EvalAltResult> {
    fail(MathFailure::Domain { function, detail })
}

/// Registers the checked functions over rhai's, for decimals.
pub(crate) fn register(engine: &mut Engine) {
    engine
        .register_fn("%", remainder)
        .register_fn("**", power)
        .register_fn("sqrt", sqrt)
        .register_fn("ln", ln)
        .register_fn("log", log10)
        .register_fn("exp", exp)
        .register_fn("sin", |x: Decimal| {
            trigonometric("sin", x, Decimal::checked_sin)
        })
        .register_fn("cos", |x: Decimal| {
            trigonometric("cos", x, Decimal::checked_cos)
        })
        .register_fn("tan", |x: Decimal| {
            trigonometric("tan", x, Decimal::checked_tan)
        });
}

/// `x % y`: the remainder, with the sign of `x`.
pub(crate) fn remainder(x: Decimal, y: Decimal) -> Outcome {
    if y.is_zero() {
        return Err(fail(MathFailure::DivisionByZero(format!("{x} % {y}"))));
    }
    // A remainder is never larger than its operands: it always fits.
    x.checked_rem(y)
        .ok_or_else(|| fail(MathFailure::Overflow(format!("{x} % {y}"))))
}

/// `x ** y`. A whole exponent multiplies (exactly where it fits); a
/// fractional one is `e ** (y × ln x)`, defined for `x > 0` (and 0).
/// A result smaller than the smallest decimal rounds to 0, as every
/// decimal operation rounds.
pub(crate) fn power(x: Decimal, y: Decimal) -> Outcome {
    let call = || format!("{x} ** {y}");
    if x.is_zero() {
        return match y.cmp(&Decimal::ZERO) {
            std::cmp::Ordering::Less => Err(fail(MathFailure::DivisionByZero(call()))),
            std::cmp::Ordering::Equal => Ok(Decimal::ONE),
            std::cmp::Ordering::Greater => Ok(Decimal::ZERO),
        };
    }
    let magnitude = x.abs();
    // |x| > 1 with y > 0, or |x| < 1 with y < 0: the result grows.
    let grows = (magnitude > Decimal::ONE) == y.is_sign_positive();
    if y.fract().is_zero() {
        if magnitude == Decimal::ONE {
            let odd = (y % Decimal::TWO).abs() == Decimal::ONE;
            return Ok(if x.is_sign_negative() && odd {
                -Decimal::ONE
            } else {
                Decimal::ONE
            });
        }
        // Beyond 200 the magnitude is past every decimal (2 ** 97 already
        // is) or below the smallest one (0.5 ** 94 rounds to 0).
        let whole = y.to_i64().filter(|n| n.abs() <= 200);
        return match whole {
            Some(n) => x
                .checked_powi(n)
                .ok_or_else(|| fail(MathFailure::Overflow(call())))
                .or_else(|e| if grows { Err(e) } else { Ok(Decimal::ZERO) }),
            None if grows => Err(fail(MathFailure::Overflow(call()))),
            None => Ok(Decimal::ZERO),
        };
    }
    if x.is_sign_negative() {
        return Err(domain(
            "**",
            format!(
                "{}: a negative number to a fractional power is not a real number",
                call()
            ),
        ));
    }
    match x.checked_powd(y) {
        Some(value) => Ok(value),
        None if grows => Err(fail(MathFailure::Overflow(call()))),
        None => Ok(Decimal::ZERO),
    }
}

/// `sqrt(x)`, for `x ≥ 0`.
pub(crate) fn sqrt(x: Decimal) -> Outcome {
    if x.is_sign_negative() && !x.is_zero() {
        return Err(domain(
            "sqrt",
            format!("sqrt({x}): the square root of a negative number is not a real number"),
        ));
    }
    x.sqrt()
        .ok_or_else(|| fail(MathFailure::Overflow(format!("sqrt({x})"))))
}

/// `ln(x)`, for `x > 0`.
pub(crate) fn ln(x: Decimal) -> Outcome {
    logarithm("ln", x, Decimal::checked_ln)
}

/// `log(x)`, base 10, for `x > 0`.
pub(crate) fn log10(x: Decimal) -> Outcome {
    logarithm("log", x, Decimal::checked_log10)
}

fn logarithm(name: &'static str, x: Decimal, f: fn(&Decimal) -> Option<Decimal>) -> Outcome {
    if x <= Decimal::ZERO {
        let what = if x.is_zero() {
            "zero"
        } else {
            "a negative number"
        };
        return Err(domain(
            name,
            format!("{name}({x}): the logarithm of {what} is not defined"),
        ));
    }
    // The log of a positive decimal is always within range.
    f(&x).ok_or_else(|| fail(MathFailure::Overflow(format!("{name}({x})"))))
}

/// `exp(x)`: overflows past about `exp(66.5)`; below about `exp(-64.5)`
/// the result rounds to 0.
pub(crate) fn exp(x: Decimal) -> Outcome {
    match x.checked_exp() {
        Some(value) => Ok(value),
        None if x.is_sign_positive() => Err(fail(MathFailure::Overflow(format!("exp({x})")))),
        None => Ok(Decimal::ZERO),
    }
}

fn trigonometric(name: &'static str, x: Decimal, f: fn(&Decimal) -> Option<Decimal>) -> Outcome {
    f(&x).ok_or_else(|| fail(MathFailure::Overflow(format!("{name}({x})"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(outcome: Outcome) -> MathFailure {
        match *outcome.unwrap_err() {
            EvalAltResult::ErrorRuntime(value, _) => value.cast::<MathFailure>(),
            other => panic!("{other:?}"),
        }
    }

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn remainder_by_zero_is_a_division_by_zero() {
        assert_eq!(
            failure(remainder(d("7"), d("0.00"))),
            MathFailure::DivisionByZero("7 % 0.00".into())
        );
        assert_eq!(remainder(d("-7"), d("2")).unwrap(), d("-1"));
    }

    #[test]
    fn powers_are_exact_or_say_why_not() {
        assert_eq!(power(d("2"), d("-1")).unwrap(), d("0.5"));
        assert_eq!(power(d("2"), d("10")).unwrap(), d("1024"));
        assert_eq!(power(d("4"), d("0.5")).unwrap().round_dp(20), d("2"));
        assert_eq!(power(d("-1"), d("1000001")).unwrap(), d("-1"));
        assert_eq!(power(d("0.5"), d("1000000")).unwrap(), Decimal::ZERO);
        assert!(matches!(
            failure(power(d("0"), d("-2"))),
            MathFailure::DivisionByZero(_)
        ));
        assert!(matches!(
            failure(power(d("-8"), d("0.5"))),
            MathFailure::Domain { function: "**", .. }
        ));
        assert!(matches!(
            failure(power(d("10"), d("29"))),
            MathFailure::Overflow(_)
        ));
        assert!(matches!(
            failure(power(d("2"), d("1000000"))),
            MathFailure::Overflow(_)
        ));
    }

    #[test]
    fn roots_and_logs_of_the_wrong_numbers_are_domain_errors() {
        for (outcome, function) in [
            (sqrt(d("-1")), "sqrt"),
            (ln(d("0")), "ln"),
            (ln(d("-2")), "ln"),
            (log10(d("0.0")), "log"),
        ] {
            match failure(outcome) {
                MathFailure::Domain { function: f, .. } => assert_eq!(f, function),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(sqrt(d("-0")).unwrap(), Decimal::ZERO);
        assert_eq!(
            failure(sqrt(d("-1"))),
            MathFailure::Domain {
                function: "sqrt",
                detail: "sqrt(-1): the square root of a negative number is not a real number"
                    .into()
            }
        );
    }

    #[test]
    fn exp_overflows_only_upwards() {
        assert!(matches!(failure(exp(d("100"))), MathFailure::Overflow(_)));
        assert_eq!(exp(d("-100")).unwrap(), Decimal::ZERO);
    }
}
