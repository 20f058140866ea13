//! The math functions formulas call, with truthful failures, and the one
//! type of those failures: rhai's own decimal `/`, `%`, `**`, `sqrt`, `ln`,
//! `log`, `exp`, `sin`, `cos` and `tan` report a zero divisor in its own
//! words, a negative square root or a log of zero as an overflow (and
//! `sin`/`cos`/`tan` can panic). These replacements give the exact result
//! when it fits a decimal and otherwise a [`FormulaFailure`] that says which
//! it is — the same type plugins build their errors with — and
//! [`crate::evaluate`] turns it into the cell error of that kind by its
//! variant, never by its message.

use std::fmt;

use rhai::{Dynamic, Engine, EvalAltResult, Position};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, MathematicalOps};

/// Why a formula has no decimal result: the failure of an operator, a math
/// function or a plugin's function, carried to the core as the typed payload
/// of a rhai runtime error ([`FormulaFailure::into_error`]). Each variant is
/// one kind of cell error; its text is what the user reads.
///
/// ```
/// use semaforo_core::FormulaFailure;
/// let error = FormulaFailure::division_by_zero("Division by zero: share(5, 0)").into_error();
/// let failure = FormulaFailure::of(&error).unwrap();
/// assert_eq!(failure.kind(), "division_by_zero");
/// assert_eq!(failure.to_string(), "Division by zero: share(5, 0)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormulaFailure {
    /// A divisor (or the base of a negative power, or a plugin's base) is
    /// zero: the cell error `division_by_zero`, "not applicable".
    DivisionByZero(String),
    /// The argument is outside the function's domain, e.g. `sqrt(-1)`: the
    /// cell error `domain_error`.
    Domain {
        /// The function or operator, e.g. `sqrt`.
        function: &'static str,
        /// The call and why, e.g. `sqrt(-1): the square root of a negative number`.
        detail: String,
    },
    /// The exact result is too large for a decimal: the cell error `overflow`.
    Overflow(String),
    /// A function refuses its arguments for a reason of its own (a value off
    /// its scale, a negative plan, a date that is not one): the cell error
    /// `script_error`, whose message is this text.
    Refused(String),
}

impl FormulaFailure {
    /// A zero divisor or base; `detail` is what was divided, as the user
    /// reads it (e.g. `Division by zero: percent(5, 0)`).
    pub fn division_by_zero(detail: impl Into<String>) -> Self {
        Self::DivisionByZero(detail.into())
    }

    /// An argument outside `function`'s domain; `detail` is the call and why.
    pub fn domain(function: &'static str, detail: impl Into<String>) -> Self {
        Self::Domain {
            function,
            detail: detail.into(),
        }
    }

    /// A result too large for a decimal; `detail` is the operation.
    pub fn overflow(detail: impl Into<String>) -> Self {
        Self::Overflow(detail.into())
    }

    /// A refusal with `message`, e.g. `value 7 is outside the scale 1–5`.
    pub fn refused(message: impl Into<String>) -> Self {
        Self::Refused(message.into())
    }

    /// The rhai error a registered function returns: a runtime error whose
    /// payload is this failure; rhai gives it the call's position.
    #[must_use]
    pub fn into_error(self) -> Box<EvalAltResult> {
        Box::new(EvalAltResult::ErrorRuntime(
            Dynamic::from(self),
            Position::NONE,
        ))
    }

    /// The failure `error` carries, if it is one built by
    /// [`FormulaFailure::into_error`] (looking through script function
    /// calls to the innermost cause).
    #[must_use]
    pub fn of(error: &EvalAltResult) -> Option<Self> {
        match error {
            EvalAltResult::ErrorInFunctionCall(_, _, inner, _) => Self::of(inner),
            EvalAltResult::ErrorRuntime(value, _) => value.clone().try_cast::<Self>(),
            _ => None,
        }
    }

    /// The kind of the cell error this failure becomes, e.g. `division_by_zero`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::DivisionByZero(_) => "division_by_zero",
            Self::Domain { .. } => "domain_error",
            Self::Overflow(_) => "overflow",
            Self::Refused(_) => "script_error",
        }
    }
}

/// The text the user reads: the detail, or the refusal's message.
impl fmt::Display for FormulaFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DivisionByZero(detail)
            | Self::Domain { detail, .. }
            | Self::Overflow(detail)
            | Self::Refused(detail) => f.write_str(detail),
        }
    }
}

type Outcome = Result<Decimal, Box<EvalAltResult>>;

fn fail(failure: FormulaFailure) -> Box<EvalAltResult> {
    failure.into_error()
}

fn domain(function: &'static str, detail: String) -> Box<EvalAltResult> {
    fail(FormulaFailure::domain(function, detail))
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
        return Err(fail(FormulaFailure::DivisionByZero(format!("{x} % {y}"))));
    }
    // A remainder is never larger than its operands: it always fits.
    x.checked_rem(y)
        .ok_or_else(|| fail(FormulaFailure::Overflow(format!("{x} % {y}"))))
}

/// `x ** y`. A whole exponent multiplies (exactly where it fits); a
/// fractional one is `e ** (y × ln x)`, defined for `x > 0` (and 0).
/// A result smaller than the smallest decimal rounds to 0, as every
/// decimal operation rounds.
pub(crate) fn power(x: Decimal, y: Decimal) -> Outcome {
    let call = || format!("{x} ** {y}");
    if x.is_zero() {
        return match y.cmp(&Decimal::ZERO) {
            std::cmp::Ordering::Less => Err(fail(FormulaFailure::DivisionByZero(call()))),
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
                .ok_or_else(|| fail(FormulaFailure::Overflow(call())))
                .or_else(|e| if grows { Err(e) } else { Ok(Decimal::ZERO) }),
            None if grows => Err(fail(FormulaFailure::Overflow(call()))),
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
        None if grows => Err(fail(FormulaFailure::Overflow(call()))),
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
        .ok_or_else(|| fail(FormulaFailure::Overflow(format!("sqrt({x})"))))
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
    f(&x).ok_or_else(|| fail(FormulaFailure::Overflow(format!("{name}({x})"))))
}

/// `exp(x)`: overflows past about `exp(66.5)`; below about `exp(-64.5)`
/// the result rounds to 0.
pub(crate) fn exp(x: Decimal) -> Outcome {
    match x.checked_exp() {
        Some(value) => Ok(value),
        None if x.is_sign_positive() => Err(fail(FormulaFailure::Overflow(format!("exp({x})")))),
        None => Ok(Decimal::ZERO),
    }
}

fn trigonometric(name: &'static str, x: Decimal, f: fn(&Decimal) -> Option<Decimal>) -> Outcome {
    f(&x).ok_or_else(|| fail(FormulaFailure::Overflow(format!("{name}({x})"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(outcome: Outcome) -> FormulaFailure {
        match *outcome.unwrap_err() {
            EvalAltResult::ErrorRuntime(value, _) => value.cast::<FormulaFailure>(),
            other => panic!("{other:?}"),
        }
    }

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn a_failure_is_found_through_script_function_calls() {
        let inner = FormulaFailure::overflow("exp(100)").into_error();
        let wrapped = EvalAltResult::ErrorInFunctionCall(
            "helper".into(),
            "helpers.rhai".into(),
            inner,
            Position::NONE,
        );
        assert_eq!(
            FormulaFailure::of(&wrapped),
            Some(FormulaFailure::overflow("exp(100)"))
        );
        assert_eq!(
            FormulaFailure::of(&EvalAltResult::ErrorRuntime(
                "thrown".into(),
                Position::NONE
            )),
            None
        );
        let refused = FormulaFailure::refused("value 7 is outside the scale 1–5");
        assert_eq!(refused.kind(), "script_error");
        assert_eq!(refused.to_string(), "value 7 is outside the scale 1–5");
    }

    #[test]
    fn remainder_by_zero_is_a_division_by_zero() {
        assert_eq!(
            failure(remainder(d("7"), d("0.00"))),
            FormulaFailure::DivisionByZero("7 % 0.00".into())
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
            FormulaFailure::DivisionByZero(_)
        ));
        assert!(matches!(
            failure(power(d("-8"), d("0.5"))),
            FormulaFailure::Domain { function: "**", .. }
        ));
        assert!(matches!(
            failure(power(d("10"), d("29"))),
            FormulaFailure::Overflow(_)
        ));
        assert!(matches!(
            failure(power(d("2"), d("1000000"))),
            FormulaFailure::Overflow(_)
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
                FormulaFailure::Domain { function: f, .. } => assert_eq!(f, function),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(sqrt(d("-0")).unwrap(), Decimal::ZERO);
        assert_eq!(
            failure(sqrt(d("-1"))),
            FormulaFailure::Domain {
                function: "sqrt",
                detail: "sqrt(-1): the square root of a negative number is not a real number"
                    .into()
            }
        );
    }

    #[test]
    fn exp_overflows_only_upwards() {
        assert!(matches!(
            failure(exp(d("100"))),
            FormulaFailure::Overflow(_)
        ));
        assert_eq!(exp(d("-100")).unwrap(), Decimal::ZERO);
    }
}
