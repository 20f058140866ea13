//! Plan-versus-actual compliance: the capped figure, the additional
//! compliance over-execution earns, the extra count itself, and compliance
//! with a percentage target.
//!
//! The capped figure "weights only the activities in the initial plan"
//! (seed 000): doing more than planned never lifts it above 100 %. What was
//! done beyond the plan is reported apart, by [`adicional`] and [`exceso`],
//! and never added to it.

use rust_decimal::Decimal;

use semaforo_core::rhai::EvalAltResult;

use crate::{Outcome, invalid, not_applicable, overflow};

/// Refuses a negative plan or result: counts of activities and executed
/// percentages are never below zero.
fn non_negative(
    call: &str,
    realizado: Decimal,
    planificado: Decimal,
) -> Result<(), Box<EvalAltResult>> {
    if planificado.is_sign_negative() && !planificado.is_zero() {
        return Err(invalid(call, "a plan or target cannot be negative"));
    }
    if realizado.is_sign_negative() && !realizado.is_zero() {
        return Err(invalid(call, "a result cannot be negative"));
    }
    Ok(())
}

/// The checks of a ratio to the plan: no negatives, and a zero plan is
/// unplanned work, not applicable.
fn planned(
    function: &str,
    realizado: Decimal,
    planificado: Decimal,
) -> Result<(), Box<EvalAltResult>> {
    let call = format!("{function}({realizado}, {planificado})");
    non_negative(&call, realizado, planificado)?;
    if planificado.is_zero() {
        return Err(not_applicable(
            &call,
            "unplanned: no ratio of its own plan; count it at the roll-up level (unplanned count / total planned)",
        ));
    }
    Ok(())
}

/// `min(realizado, planificado) / planificado * 100`: compliance with the
/// plan, capped at 100 %.
///
/// Technical assistance, Q1 2024 (DOMAIN.md §1): 995 done of 547 planned →
/// 100; transport coordination, 51 of 75 → 68.00.
///
/// Cap where the target is set: when several offices share one target, add
/// their results and plans first (`cumplimiento(sum(realizado),
/// sum(planificado))` at the target's grain), then cap; averaging capped
/// office figures is wrong.
///
/// # Errors
/// A zero `planificado` is not applicable ("unplanned: no ratio of its own
/// plan"); a negative argument is a script error.
pub fn cumplimiento(realizado: Decimal, planificado: Decimal) -> Outcome {
    planned("cumplimiento", realizado, planificado)?;
    realizado
        .min(planificado)
        .checked_div(planificado)
        .and_then(|q| q.checked_mul(Decimal::ONE_HUNDRED))
        .ok_or_else(|| overflow(&format!("cumplimiento({realizado}, {planificado})")))
}

/// `max(realizado - planificado, 0) / planificado * 100`: the additional
/// compliance of over-execution, reported beside [`cumplimiento`], never
/// added to it.
///
/// 995 done of 547 planned → 448 / 547 = 81.90 % (the seed prints 82 %);
/// 185 of 101 → 83.17 %; 51 of 75 → 0.
///
/// # Errors
/// A zero `planificado` is not applicable: unplanned activities count at
/// the roll-up level, as `unplanned count / total planned`. A negative
/// argument is a script error.
pub fn adicional(realizado: Decimal, planificado: Decimal) -> Outcome {
    planned("adicional", realizado, planificado)?;
    let call = || format!("adicional({realizado}, {planificado})");
    let extra = realizado
        .checked_sub(planificado)
        .ok_or_else(|| overflow(&call()))?
        .max(Decimal::ZERO);
    extra
        .checked_div(planificado)
        .and_then(|q| q.checked_mul(Decimal::ONE_HUNDRED))
        .ok_or_else(|| overflow(&call()))
}

/// `max(realizado - planificado, 0)`: how many activities were done beyond
/// the plan.
///
/// 995 done of 547 planned → 448; 51 of 75 → 0; an unplanned line (0
/// planned, 5 done) → 5.
///
/// # Errors
/// A negative argument is a script error; a difference too large for a
/// decimal is an overflow.
pub fn exceso(realizado: Decimal, planificado: Decimal) -> Outcome {
    let call = || format!("exceso({realizado}, {planificado})");
    non_negative(&call(), realizado, planificado)?;
    realizado
        .checked_sub(planificado)
        .map(|d| d.max(Decimal::ZERO))
        .ok_or_else(|| overflow(&call()))
}

/// `min(real_pct / meta_pct, 1) * 100`: compliance with a percentage target
/// such as "execute 90 % of the programmed budget".
///
/// 132.15 % executed against a 90 % target → 100; 20.52 % → 22.80; 0 % → 0.
/// The execution itself (132.15 %) is not capped: see [`crate::ejecucion`].
///
/// # Errors
/// A zero `meta_pct` is not applicable; a negative argument is a script
/// error.
pub fn cumplimiento_meta(real_pct: Decimal, meta_pct: Decimal) -> Outcome {
    let call = || format!("cumplimiento_meta({real_pct}, {meta_pct})");
    non_negative(&call(), real_pct, meta_pct)?;
    if meta_pct.is_zero() {
        return Err(not_applicable(&call(), "a zero target has no compliance"));
    }
    real_pct
        .checked_div(meta_pct)
        .map(|q| q.min(Decimal::ONE))
        .and_then(|q| q.checked_mul(Decimal::ONE_HUNDRED))
        .ok_or_else(|| overflow(&call()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn over_execution_is_capped_and_reported_apart() {
        // DOMAIN.md §1: technical assistance, Q1 2024, planned 547, done 995.
        assert_eq!(cumplimiento(d("995"), d("547")).unwrap(), d("100"));
        let extra = adicional(d("995"), d("547")).unwrap();
        assert_eq!(extra, d("448") / d("547") * Decimal::ONE_HUNDRED);
        assert_eq!(extra.round_dp(2), d("81.90"));
        assert_eq!(extra.round_dp(0), d("82"));
        assert_eq!(exceso(d("995"), d("547")).unwrap(), d("448"));
    }

    #[test]
    fn assemblies_additional() {
        // DOMAIN.md §1: Registro, assemblies, planned 101, done 185 → extra 84, 83.17 %.
        assert_eq!(cumplimiento(d("185"), d("101")).unwrap(), d("100"));
        assert_eq!(exceso(d("185"), d("101")).unwrap(), d("84"));
        assert_eq!(
            adicional(d("185"), d("101")).unwrap().round_dp(2),
            d("83.17")
        );
    }

    #[test]
    fn under_execution_has_no_additional() {
        // DOMAIN.md §1: transport coordination, planned 75, done 51 → 68.00 %.
        assert_eq!(cumplimiento(d("51"), d("75")).unwrap(), d("68"));
        assert_eq!(adicional(d("51"), d("75")).unwrap(), Decimal::ZERO);
        assert_eq!(exceso(d("51"), d("75")).unwrap(), Decimal::ZERO);
        // OIR: 2 of 3 expected requests → 66.67 (the seed prints 67 %).
        assert_eq!(
            cumplimiento(d("2"), d("3")).unwrap().round_dp(2),
            d("66.67")
        );
    }

    #[test]
    fn seed_rounding_of_advisory_additional() {
        // Seed 000 says "más de 42%" for advisory services; 32 / 77 = 41.56 %.
        assert_eq!(
            adicional(d("109"), d("77")).unwrap().round_dp(2),
            d("41.56")
        );
    }

    #[test]
    fn unplanned_work_is_not_a_ratio_of_its_own_plan() {
        let (kind, err) = failure(&cumplimiento(d("5"), Decimal::ZERO).unwrap_err());
        assert_eq!(kind, "division_by_zero");
        assert!(
            err.starts_with("Division by zero: cumplimiento(5, 0)"),
            "{err}"
        );
        assert!(err.contains("unplanned: no ratio of its own plan"), "{err}");
        let (kind, err) = failure(&adicional(d("5"), Decimal::ZERO).unwrap_err());
        assert_eq!(kind, "division_by_zero");
        assert!(
            err.starts_with("Division by zero: adicional(5, 0)"),
            "{err}"
        );
        // The extra count of unplanned work is all of it.
        assert_eq!(exceso(d("5"), Decimal::ZERO).unwrap(), d("5"));
    }

    #[test]
    fn negative_counts_are_refused() {
        let (kind, err) = failure(&cumplimiento(d("5"), d("-1")).unwrap_err());
        assert_eq!(kind, "script_error");
        assert!(err.contains("a plan or target cannot be negative"), "{err}");
        assert!(adicional(d("-5"), d("10")).is_err());
        assert!(exceso(d("-5"), d("10")).is_err());
        assert!(cumplimiento_meta(d("-5"), d("90")).is_err());
    }

    #[test]
    fn percentage_targets_are_capped_at_the_target() {
        // DOMAIN.md §1 rule 4: "execute 90 % of the programmed budget".
        assert_eq!(cumplimiento_meta(d("132.15"), d("90")).unwrap(), d("100"));
        assert_eq!(
            cumplimiento_meta(d("20.52"), d("90")).unwrap().round_dp(2),
            d("22.80")
        );
        assert_eq!(cumplimiento_meta(d("0"), d("90")).unwrap(), Decimal::ZERO);
        let (kind, err) = failure(&cumplimiento_meta(d("50"), Decimal::ZERO).unwrap_err());
        assert_eq!(kind, "division_by_zero");
        assert!(
            err.starts_with("Division by zero: cumplimiento_meta(50, 0)"),
            "{err}"
        );
    }

    #[test]
    fn capping_belongs_where_the_target_is_set() {
        // DOMAIN.md §1 rule 3: an institutional target of 4, two offices short,
        // two over (an illustrative split: the seed gives only the total, 4 of 4).
        let (done, planned) = ([0, 0, 2, 2], [1, 1, 1, 1]);
        let institution = cumplimiento(
            Decimal::from(done.iter().sum::<i64>()),
            Decimal::from(planned.iter().sum::<i64>()),
        )
        .unwrap();
        assert_eq!(institution, d("100"));
        let mean_of_capped_offices = done
            .iter()
            .zip(planned)
            .map(|(&r, p)| cumplimiento(Decimal::from(r), Decimal::from(p)).unwrap())
            .sum::<Decimal>()
            / d("4");
        assert_eq!(mean_of_capped_offices, d("50"));
    }
}
