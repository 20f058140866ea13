//! Exact decimal parsing of input cells and rounding for display.

use rust_decimal::{Decimal, RoundingStrategy};

/// Parses a data cell as an exact decimal: digits, an optional sign, `.` as
/// the decimal point, optionally an exponent (`1.5e3`). Never goes through
/// `f64`; a value with more digits than a decimal holds is refused, not rounded.
///
/// ```
/// use semaforo_core::parse_decimal;
/// assert_eq!(parse_decimal(" 1084203.65 ").unwrap().to_string(), "1084203.65");
/// assert!(parse_decimal("1,084,203.65").is_none());
/// ```
#[must_use]
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    let text = text.strip_prefix('+').unwrap_or(text);
    if text.is_empty() {
        return None;
    }
    if text.contains(['e', 'E']) {
        return Decimal::from_scientific(text).ok();
    }
    if !text
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return None;
    }
    Decimal::from_str_exact(text).ok()
}

/// Rounds for display: half away from zero (Excel's `ROUND`), to `decimals` places,
/// always showing that many places.
///
/// ```
/// use rust_decimal::Decimal;
/// use semaforo_core::round_for_display;
/// // DOMAIN.md §0: (1.11 − 1.60) / 1.60 = −30.625 % shows as −30.63 %.
/// let v: Decimal = "-30.625".parse().unwrap();
/// assert_eq!(round_for_display(v, 2), "-30.63");
/// assert_eq!(round_for_display(Decimal::from(4), 2), "4.00");
/// ```
#[must_use]
pub fn round_for_display(value: Decimal, decimals: u32) -> String {
    let mut rounded =
        value.round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(decimals);
    rounded.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_signed_decimals() {
        for (text, expected) in [
            ("0", "0"),
            ("-372158", "-372158"),
            ("+3.5", "3.5"),
            ("2.50", "2.50"),
            ("1e3", "1000"),
        ] {
            assert_eq!(parse_decimal(text).unwrap().to_string(), expected, "{text}");
        }
    }

    #[test]
    fn refuses_locale_formats_and_garbage() {
        for text in [
            "", " ", "1,5", "1.234,56", "12a", "--1", "1.2.3", "N/A", ".",
        ] {
            assert_eq!(parse_decimal(text), None, "{text}");
        }
    }

    #[test]
    fn refuses_more_digits_than_fit_instead_of_rounding() {
        assert_eq!(parse_decimal("0.12345678901234567890123456789012"), None);
    }

    #[test]
    fn display_rounds_half_away_from_zero() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(round_for_display(d("2.345"), 2), "2.35");
        assert_eq!(round_for_display(d("-2.345"), 2), "-2.35");
        assert_eq!(round_for_display(d("94.3333"), 0), "94");
        assert_eq!(round_for_display(d("22.5"), 1), "22.5");
    }
}
