//! Budget execution: executed over programmed, not capped.

use rust_decimal::Decimal;

use crate::{Outcome, not_applicable, overflow};

/// `ejecutado / programado * 100`, divided first: budget execution. It is
/// **not** capped: over-execution stays visible (UFI's payroll line, 132.15 %).
///
/// Licence renewal, SENAVEX 2020 (DOMAIN.md §5): `ejecucion(169791, 298843)`
/// = 56.82; 12,000 programmed and nothing executed is a real 0.00.
///
/// Totals are ratios of sums (`ejecucion(sum(ejecutado), sum(programado))`
/// at the activity's or the institution's grain: 85.70 % for SENAVEX), never
/// means of the lines' percentages (51.79 %).
///
/// # Errors
/// A zero `programado` is not applicable: nothing was budgeted, so there is
/// no execution rate (the seed prints such cells as 0.00; a pack may show
/// them that way with `[labels] not_applicable`). Signs are kept, so a
/// reversal (negative execution) gives a negative rate.
pub fn ejecucion(ejecutado: Decimal, programado: Decimal) -> Outcome {
    let call = || format!("ejecucion({ejecutado}, {programado})");
    if programado.is_zero() {
        return Err(not_applicable(
            &call(),
            "nothing programmed, so there is no execution rate (not 0 %)",
        ));
    }
    ejecutado
        .checked_div(programado)
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
    fn execution_is_a_ratio_to_two_decimals() {
        // DOMAIN.md §5: 11.01.11 licences, 169,791 / 298,843.
        let v = ejecucion(d("169791"), d("298843")).unwrap();
        assert_eq!(v, d("169791") / d("298843") * Decimal::ONE_HUNDRED);
        assert_eq!(v.round_dp(2), d("56.82"));
        // 11.02.02: 2,386,378.93 / 2,801,829.78.
        assert_eq!(
            ejecucion(d("2386378.93"), d("2801829.78"))
                .unwrap()
                .round_dp(2),
            d("85.17")
        );
        // Institution: a ratio of sums, 9,242,127.55 / 10,784,709.47 = 85.70 % (not the
        // 51.79 % mean of the nine budgeted activities' percentages).
        assert_eq!(
            ejecucion(d("9242127.55"), d("10784709.47"))
                .unwrap()
                .round_dp(2),
            d("85.70")
        );
    }

    #[test]
    fn execution_is_not_capped() {
        // DOMAIN.md §1 rule 4: UFI payroll, 132.15 % of the programmed amount.
        assert_eq!(ejecucion(d("132.15"), d("100")).unwrap(), d("132.15"));
    }

    #[test]
    fn zero_execution_is_real_but_zero_budget_is_not_applicable() {
        // DOMAIN.md §5: 04.01.02, 12,000 programmed, 0 executed → a real 0.00 %.
        assert_eq!(ejecucion(d("0"), d("12000")).unwrap(), Decimal::ZERO);
        // 11.01.01: nothing programmed → not applicable (printed 0.00 by the seed).
        let (kind, err) = failure(&ejecucion(d("0"), d("0")).unwrap_err());
        assert_eq!(kind, "division_by_zero");
        assert!(
            err.starts_with("Division by zero: ejecucion(0, 0)"),
            "{err}"
        );
    }
}
