//! # semaforo-matrix
//!
//! The scale functions of prioritisation matrices. A pack's `[[matrix]]`
//! turns each criterion into an indicator whose formula the core writes with
//! these two functions; a formula may also call them directly.
//!
//! | function | computes | outside the scale |
//! |---|---|---|
//! | `on_scale(x, min, max)` | `x`, unchanged | error, never clamped |
//! | `invert(x, min, max)` | `min + max - x` | error, never clamped |
//!
//! On the 1–5 scale of the Santa Ana de Nayón matrix (DOMAIN.md §3),
//! `invert` maps 5 → 1, 4 → 2, 3 → 3, … : a satisfaction scored naturally
//! (5 = satisfied) becomes the matrix's "5 = most dissatisfied", the
//! `6 − s` DOMAIN.md asks for. A score of 7 there is a data error, and the
//! cell says so ("value 7 is outside the scale 1–5") instead of quietly
//! counting it as 5.
//!
//! Ranking, the cut and the tie rule are not here: the core selects.
#![forbid(unsafe_code)]

use rust_decimal::Decimal;
use semaforo_core::rhai::EvalAltResult;
use semaforo_core::{FormulaFailure, Plugin, Registry};

/// The `matrix` plugin. List it in a pack as `plugins = ["matrix"]`; a pack
/// with a `[[matrix]]` needs it.
///
/// ```
/// use semaforo_core::{compile, evaluate, RulePack, SourceFile, Table};
/// let pack = RulePack::from_sources(SourceFile::new("pack.toml", r#"
/// [pack]
/// id = "demo"
/// version = "1"
/// plugins = ["matrix"]
/// [fields]
/// satisfaccion = "client satisfaction, 5 = satisfied"
/// [[indicator]]
/// id = "insatisfaccion"
/// unit = "score"
/// formula = "invert(satisfaccion, 1, 5)"
/// "#), vec![]).unwrap();
/// let rules = compile(pack, &[&semaforo_matrix::MatrixPlugin]).unwrap();
/// let table = Table::from_csv_reader("entity,satisfaccion\nB.1,1\nB.9,7\n".as_bytes(), "inline", rules.pack().data_shape()).unwrap();
/// let results = evaluate(&rules, &table);
/// assert_eq!(results.cell(0, 0).value.unwrap().to_string(), "5");
/// let error = results.cell(1, 0).error.as_ref().unwrap();
/// assert!(error.to_string().contains("value 7 is outside the scale 1–5"), "{error}");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct MatrixPlugin;

type Outcome = Result<Decimal, Box<EvalAltResult>>;

/// A refusal carrying `message`: a cell error of kind `script_error` whose
/// text is the message, located at the formula by the core.
fn refuse(message: String) -> Box<EvalAltResult> {
    FormulaFailure::refused(message).into_error()
}

/// `x` when `min ≤ x ≤ max` (bounds included).
///
/// A criterion scored on a scale must be on it: a 7 on a 1–5 scale is a
/// mistake in the data, and clamping it to 5 would hide it and move the item
/// up the ranking. So the value passes unchanged or the cell fails.
///
/// ```
/// use rust_decimal::Decimal;
/// use semaforo_matrix::on_scale;
/// let (one, five) = (Decimal::ONE, Decimal::from(5));
/// assert_eq!(on_scale(Decimal::from(3), one, five).unwrap(), Decimal::from(3));
/// let error = on_scale(Decimal::from(7), one, five).unwrap_err();
/// let failure = semaforo_core::FormulaFailure::of(&error).unwrap();
/// assert_eq!(failure.kind(), "script_error");
/// assert_eq!(failure.to_string(), "value 7 is outside the scale 1–5");
/// ```
///
/// # Errors
/// `x` below `min` or above `max` ("value 7 is outside the scale 1–5"), or
/// `min` above `max` (an empty scale).
pub fn on_scale(x: Decimal, min: Decimal, max: Decimal) -> Outcome {
    if min > max {
        return Err(refuse(format!(
            "the scale {min}–{max} is empty: its minimum is above its maximum"
        )));
    }
    if x < min || x > max {
        return Err(refuse(format!(
            "value {x} is outside the scale {min}–{max}"
        )));
    }
    Ok(x)
}

/// `min + max - x`: the same score read the other way round, on the same
/// scale.
///
/// For a criterion where a higher raw value means a lower priority, e.g. a
/// satisfaction scored 5 = satisfied in a matrix that ranks the most
/// dissatisfying processes first. On 1–5: 5 → 1, 4 → 2, 3 → 3, 1 → 5 (the
/// `6 − s` of DOMAIN.md §3). Applying it twice gives `x` back.
///
/// ```
/// use rust_decimal::Decimal;
/// use semaforo_matrix::invert;
/// let (one, five) = (Decimal::ONE, Decimal::from(5));
/// assert_eq!(invert(Decimal::from(5), one, five).unwrap(), Decimal::ONE);
/// assert_eq!(invert(Decimal::from(2), one, five).unwrap(), Decimal::from(4));
/// assert!(invert(Decimal::ZERO, one, five).is_err());
/// ```
///
/// # Errors
/// The same as [`on_scale`]: `x` off the scale, or an empty scale. Checked
/// before inverting, so an off-scale 7 is never turned into a plausible −1.
pub fn invert(x: Decimal, min: Decimal, max: Decimal) -> Outcome {
    let x = on_scale(x, min, max)?;
    min.checked_add(max)
        .and_then(|sum| sum.checked_sub(x))
        .ok_or_else(|| {
            FormulaFailure::overflow(format!("Arithmetic overflow in invert({x}, {min}, {max})"))
                .into_error()
        })
}

impl Plugin for MatrixPlugin {
    fn name(&self) -> &'static str {
        "matrix"
    }

    fn description(&self) -> &'static str {
        "on_scale and invert for prioritisation matrices; a value off its scale is an error, never clamped"
    }

    fn register(&self, registry: &mut Registry<'_>) {
        let engine = registry.engine();
        engine.register_fn("on_scale", on_scale);
        engine.register_fn("invert", invert);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// The refusal's message; panics on any other error.
    fn message(error: &EvalAltResult) -> String {
        match FormulaFailure::of(error) {
            Some(FormulaFailure::Refused(message)) => message,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn on_scale_keeps_values_on_the_scale_bounds_included() {
        for x in ["1", "2", "3", "4", "5", "2.5"] {
            assert_eq!(on_scale(d(x), d("1"), d("5")).unwrap(), d(x));
        }
    }

    #[test]
    fn on_scale_refuses_instead_of_clamping() {
        let above = on_scale(d("7"), d("1"), d("5")).unwrap_err();
        assert_eq!(message(&above), "value 7 is outside the scale 1–5");
        let below = on_scale(d("0"), d("1"), d("5")).unwrap_err();
        assert_eq!(message(&below), "value 0 is outside the scale 1–5");
        let just_above = on_scale(d("5.01"), d("1"), d("5")).unwrap_err();
        assert_eq!(message(&just_above), "value 5.01 is outside the scale 1–5");
    }

    #[test]
    fn an_empty_scale_is_an_error() {
        let error = on_scale(d("3"), d("5"), d("1")).unwrap_err();
        assert_eq!(
            message(&error),
            "the scale 5–1 is empty: its minimum is above its maximum"
        );
        assert!(invert(d("3"), d("5"), d("1")).is_err());
    }

    #[test]
    fn invert_is_six_minus_s_on_one_to_five() {
        // DOMAIN.md §3: a satisfaction scored naturally is stored as 6 − s.
        for (s, inverted) in [("5", "1"), ("4", "2"), ("3", "3"), ("2", "4"), ("1", "5")] {
            assert_eq!(invert(d(s), d("1"), d("5")).unwrap(), d(inverted));
            assert_eq!(d("6") - d(s), d(inverted));
        }
    }

    #[test]
    fn invert_works_on_any_scale_and_twice_is_identity() {
        assert_eq!(invert(d("0"), d("0"), d("10")).unwrap(), d("10"));
        assert_eq!(invert(d("2.5"), d("1"), d("4")).unwrap(), d("2.5"));
        for x in ["1", "1.5", "3", "4.75", "5"] {
            let twice = invert(invert(d(x), d("1"), d("5")).unwrap(), d("1"), d("5")).unwrap();
            assert_eq!(twice, d(x));
        }
    }

    #[test]
    fn invert_checks_the_scale_before_inverting() {
        let error = invert(d("7"), d("1"), d("5")).unwrap_err();
        assert_eq!(message(&error), "value 7 is outside the scale 1–5");
    }

    #[test]
    fn invert_overflow_is_an_arithmetic_error() {
        let error = invert(Decimal::MAX, Decimal::MAX, Decimal::MAX).unwrap_err();
        assert!(
            matches!(FormulaFailure::of(&error), Some(FormulaFailure::Overflow(ref m)) if m.starts_with("Arithmetic overflow in invert")),
            "{error:?}"
        );
    }
}
