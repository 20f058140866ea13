//! Targets for one period of the year, derived from the annual target.

use rust_decimal::Decimal;

use crate::{Outcome, invalid};

/// `anual / periodos`: the share of an annual figure that falls in one of
/// `periodos` equal periods (4 quarters, 12 months, 2 semesters).
///
/// The institutional quarterly target is `meta_periodo(90, 4)` = 22.5 %
/// (DOMAIN.md §1 rule 8); annual progress after one quarter at 76.67 % is
/// `meta_periodo(76.67, 4)` = 19.17 % (shown 19 %).
///
/// # Errors
/// `periodos` must be a whole number of periods, at least 1; anything else
/// is a script error (not "not applicable": it is a mistake in the formula).
pub fn meta_periodo(anual: Decimal, periodos: Decimal) -> Outcome {
    if periodos < Decimal::ONE || !periodos.fract().is_zero() {
        return Err(invalid(
            &format!("meta_periodo({anual}, {periodos})"),
            "periodos must be a whole number of periods, at least 1",
        ));
    }
    Ok(anual / periodos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn quarterly_target_is_a_quarter_of_the_annual_one() {
        // DOMAIN.md §1 rule 8: 90 % / 4 = 22.5 %.
        assert_eq!(meta_periodo(d("90"), d("4")).unwrap(), d("22.5"));
        // Annual progress after Q1: mean(78, 73, 79) = 76.67 %, × 1/4 = 19.17 % → 19 %.
        let quarter = (d("78") + d("73") + d("79")) / d("3");
        let progress = meta_periodo(quarter, d("4")).unwrap();
        assert_eq!(progress.round_dp(2), d("19.17"));
        assert_eq!(progress.round_dp(0), d("19"));
    }

    #[test]
    fn periods_must_be_whole_and_positive() {
        for bad in ["0", "-4", "2.5"] {
            let (kind, err) = failure(&meta_periodo(d("90"), d(bad)).unwrap_err());
            assert_eq!(kind, "script_error");
            assert!(
                err.contains("periodos must be a whole number"),
                "{bad}: {err}"
            );
        }
        assert_eq!(meta_periodo(d("90"), d("1")).unwrap(), d("90"));
    }
}
