//! # semaforo-ratios
//!
//! Ratio, percentage and period-variation functions for formulas. A zero
//! base is not a zero result: every function here turns it into a
//! division-by-zero cell error that names the function and its arguments,
//! which reports show as "not applicable".
//!
//! | function | computes | zero base |
//! |---|---|---|
//! | `ratio(part, whole)` | `part / whole` | error |
//! | `percent(part, whole)` | `part / whole * 100` (in that order) | error |
//! | `variation(current, previous)` | `current - previous` | — |
//! | `variation_percent(current, previous)` | `(current - previous) / previous * 100` | error |
//!
//! Variations use signed values: provisions −302,552 → −372,158 give
//! `variation` −69,606 and `variation_percent` +23.01 %.
#![forbid(unsafe_code)]

use rust_decimal::Decimal;
use semaforo_core::rhai::EvalAltResult;
use semaforo_core::{FormulaFailure, Plugin, Registry};

/// The `ratios` plugin. List it in a pack as `plugins = ["ratios"]`.
///
/// ```
/// use semaforo_core::{compile, evaluate, RulePack, SourceFile, Table};
/// let pack = RulePack::from_sources(SourceFile::new("pack.toml", r#"
/// [pack]
/// id = "demo"
/// version = "1"
/// plugins = ["ratios"]
/// [fields]
/// npl = "non-performing loans"
/// loans = "gross loans"
/// [[indicator]]
/// id = "delinquency"
/// formula = "percent(npl, loans)"
/// "#), vec![]).unwrap();
/// let rules = compile(pack, &[&semaforo_ratios::RatiosPlugin]).unwrap();
/// let table = Table::from_csv_reader("entity,npl,loans\nA,1,8\nB,1,0\n".as_bytes(), "inline", rules.pack().data_shape()).unwrap();
/// let results = evaluate(&rules, &table);
/// assert_eq!(results.cell(0, 0).value.unwrap().to_string(), "12.500");
/// assert_eq!(results.cell(1, 0).error.as_ref().unwrap().kind(), "division_by_zero");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RatiosPlugin;

type Outcome = Result<Decimal, Box<EvalAltResult>>;

/// A zero base: a `division_by_zero` cell error, "not applicable".
fn zero_base(function: &str, a: Decimal, b: Decimal) -> Box<EvalAltResult> {
    FormulaFailure::division_by_zero(format!(
        "Division by zero: {function}({a}, {b}) has a zero base, so it is not applicable"
    ))
    .into_error()
}

/// A result too large for a decimal: an `overflow` cell error.
fn overflow(function: &str, a: Decimal, b: Decimal) -> Box<EvalAltResult> {
    FormulaFailure::overflow(format!("Arithmetic overflow in {function}({a}, {b})")).into_error()
}

/// `part / whole`.
///
/// # Errors
/// A zero `whole`, or a quotient too large for a decimal.
pub fn ratio(part: Decimal, whole: Decimal) -> Outcome {
    if whole.is_zero() {
        return Err(zero_base("ratio", part, whole));
    }
    part.checked_div(whole)
        .ok_or_else(|| overflow("ratio", part, whole))
}

/// `part / whole * 100`, divided first so it matches a formula written that way.
///
/// # Errors
/// A zero `whole`, or a result too large for a decimal.
pub fn percent(part: Decimal, whole: Decimal) -> Outcome {
    if whole.is_zero() {
        return Err(zero_base("percent", part, whole));
    }
    part.checked_div(whole)
        .and_then(|q| q.checked_mul(Decimal::ONE_HUNDRED))
        .ok_or_else(|| overflow("percent", part, whole))
}

/// `(current - previous) / previous * 100` over signed values.
///
/// # Errors
/// A zero `previous`, or a result too large for a decimal.
pub fn variation_percent(current: Decimal, previous: Decimal) -> Outcome {
    if previous.is_zero() {
        return Err(zero_base("variation_percent", current, previous));
    }
    current
        .checked_sub(previous)
        .and_then(|d| d.checked_div(previous))
        .and_then(|q| q.checked_mul(Decimal::ONE_HUNDRED))
        .ok_or_else(|| overflow("variation_percent", current, previous))
}

impl Plugin for RatiosPlugin {
    fn name(&self) -> &'static str {
        "ratios"
    }

    fn description(&self) -> &'static str {
        "ratio, percent, variation and variation_percent; a zero base is an error, never 0"
    }

    fn register(&self, registry: &mut Registry<'_>) {
        let engine = registry.engine();
        engine.register_fn("ratio", ratio);
        engine.register_fn("percent", percent);
        engine.register_fn("variation_percent", variation_percent);
        engine.register_fn(
            "variation",
            |current: Decimal, previous: Decimal| -> Outcome {
                current
                    .checked_sub(previous)
                    .ok_or_else(|| overflow("variation", current, previous))
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn percent_divides_before_multiplying() {
        // DOMAIN.md §2: delinquency 1,084,203.65 / 37,734,583.53 → 2.87 %. (DOMAIN.md quotes
        // 2.8733 % at four places; the quotient is 2.873236…, so 2.8732.)
        let v = percent(d("1084203.65"), d("37734583.53")).unwrap();
        assert_eq!(v, d("1084203.65") / d("37734583.53") * Decimal::ONE_HUNDRED);
        assert_eq!(v.round_dp(2), d("2.87"));
        assert_eq!(v.round_dp(4), d("2.8732"));
    }

    #[test]
    fn variation_uses_signed_values() {
        // DOMAIN.md §2: provisions −302,552 → −372,158.
        assert_eq!(
            variation_percent(d("-372158"), d("-302552"))
                .unwrap()
                .round_dp(2),
            d("23.01")
        );
        assert_eq!(
            variation_percent(d("-4"), d("-419")).unwrap().round_dp(2),
            d("-99.05")
        );
    }

    #[test]
    fn zero_base_is_an_error_not_zero() {
        let err = percent(d("5"), Decimal::ZERO).unwrap_err();
        let failure = FormulaFailure::of(&err).expect("a typed formula failure");
        assert_eq!(failure.kind(), "division_by_zero");
        assert!(
            failure
                .to_string()
                .starts_with("Division by zero: percent(5, 0)"),
            "{failure}"
        );
        assert!(variation_percent(d("5"), Decimal::ZERO).is_err());
        assert!(ratio(d("0"), Decimal::ZERO).is_err());
    }
}
