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
        return exact_scientific(text);
    }
    if !text
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return None;
    }
    Decimal::from_str_exact(text).ok()
}

/// `Decimal::from_scientific`, refused where it rounds (more significant
/// digits, or a smaller exponent, than a decimal holds): the significant
/// digits and exponent written must be those of the decimal it gives.
fn exact_scientific(text: &str) -> Option<Decimal> {
    let parsed = Decimal::from_scientific(text).ok()?;
    let (mantissa, exponent) = text.split_once(['e', 'E'])?;
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: String = whole
        .chars()
        .chain(fraction.chars())
        .filter(char::is_ascii_digit)
        .collect();
    let exponent = exponent.parse::<i64>().ok()? - fraction.len() as i64;
    let written = significant(&digits, exponent);
    let value = parsed.normalize();
    let kept = significant(
        &value.mantissa().unsigned_abs().to_string(),
        -i64::from(value.scale()),
    );
    (written == kept).then_some(parsed)
}

/// Digits without leading and trailing zeros, and the exponent of the last.
fn significant(digits: &str, exponent: i64) -> (String, i64) {
    let digits = digits.trim_start_matches('0');
    let trimmed = digits.trim_end_matches('0');
    if trimmed.is_empty() {
        return (String::new(), 0);
    }
    (
        trimmed.to_owned(),
        exponent + (digits.len() - trimmed.len()) as i64,
    )
}

/// How numbers are written in a data file: the decimal separator and,
/// optionally, a thousands separator. Declared in the pack's `[data]`
/// section (`decimal = ","`, `thousands = "."`) or by flag; never guessed.
///
/// ```
/// use semaforo_core::NumberFormat;
/// let es = NumberFormat { decimal: ',', thousands: Some('.') };
/// assert_eq!(es.parse("1.234,56").unwrap().to_string(), "1234.56");
/// assert_eq!(es.parse("-0,5").unwrap().to_string(), "-0.5");
/// assert!(es.parse("1,234.56").is_none()); // not this file's format
/// assert!(es.parse("12.34").is_none()); // a thousands group has 3 digits
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberFormat {
    /// The decimal separator: `.` or `,`.
    pub decimal: char,
    /// The thousands separator, if the file uses one (`.`, `,`, space, `'`).
    pub thousands: Option<char>,
}

impl Default for NumberFormat {
    fn default() -> Self {
        Self {
            decimal: '.',
            thousands: None,
        }
    }
}

impl NumberFormat {
    /// Whether this is the default format (`.` decimals, no thousands separator).
    #[must_use]
    pub fn is_plain(&self) -> bool {
        *self == Self::default()
    }

    /// Parses a cell written in this format exactly, like [`parse_decimal`]
    /// does for the default one; `None` when the text is not a number in it.
    #[must_use]
    pub fn parse(&self, text: &str) -> Option<Decimal> {
        if self.is_plain() {
            return parse_decimal(text);
        }
        parse_decimal(&self.to_plain(text.trim())?)
    }

    /// The text rewritten with `.` decimals and no thousands separator, or
    /// `None` when separators are misplaced (a group of thousands that is
    /// not 3 digits, a second decimal separator, a separator the format
    /// does not use).
    #[must_use]
    pub fn to_plain(&self, text: &str) -> Option<String> {
        let (sign, digits) = match text.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", text.strip_prefix('+').unwrap_or(text)),
        };
        let (whole, fraction) = match digits.split_once(self.decimal) {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (digits, None),
        };
        let separators = |t: &str| t.contains(['.', ',', ' ', '\'', '\u{a0}']);
        let mut plain = String::with_capacity(text.len());
        plain.push_str(sign);
        match self.thousands {
            Some(separator) if whole.contains(separator) => {
                for (i, group) in whole.split(separator).enumerate() {
                    let size_ok = if i == 0 {
                        (1..=3).contains(&group.len())
                    } else {
                        group.len() == 3
                    };
                    if !size_ok || !group.bytes().all(|b| b.is_ascii_digit()) {
                        return None;
                    }
                    plain.push_str(group);
                }
            }
            _ if separators(whole) => return None,
            _ => plain.push_str(whole),
        }
        if let Some(fraction) = fraction {
            if separators(fraction) {
                return None;
            }
            plain.push('.');
            plain.push_str(fraction);
        }
        Some(plain)
    }
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
    fn exponents_are_exact_or_refused_never_rounded() {
        assert_eq!(
            parse_decimal("1.50e2").map(|d| d.to_string()),
            Some("150".to_owned())
        );
        assert_eq!(
            parse_decimal("15E-1").map(|d| d.to_string()),
            Some("1.5".to_owned())
        );
        assert_eq!(parse_decimal("-0.0e-5").map(|d| d.is_zero()), Some(true));
        assert_eq!(parse_decimal("10000000000.0000000000000000001E0"), None);
        assert_eq!(parse_decimal("1e-29"), None);
        assert_eq!(parse_decimal("1e400"), None);
    }

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
    fn declared_formats_parse_exactly_and_nothing_else() {
        let comma = NumberFormat {
            decimal: ',',
            thousands: None,
        };
        let es = NumberFormat {
            decimal: ',',
            thousands: Some('.'),
        };
        let us = NumberFormat {
            decimal: '.',
            thousands: Some(','),
        };
        let parse = |f: &NumberFormat, t: &str| f.parse(t).map(|d| d.to_string());
        assert_eq!(parse(&comma, "1084203,65"), Some("1084203.65".into()));
        assert_eq!(parse(&comma, " -2,5 "), Some("-2.5".into()));
        assert_eq!(parse(&comma, "7"), Some("7".into()));
        assert_eq!(parse(&es, "1.084.203,65"), Some("1084203.65".into()));
        assert_eq!(parse(&es, "84.203"), Some("84203".into()));
        assert_eq!(parse(&us, "1,084,203.65"), Some("1084203.65".into()));
        for (format, text) in [
            (&comma, "1.5"),
            (&comma, "1.084,5"),
            (&comma, "1,2,3"),
            (&es, "1.08.203,65"),
            (&es, "1084.20,5"),
            (&es, ".203"),
            (&es, "1,234.56"),
            (&us, "1,08,203.65"),
            (&us, "1.234,56"),
        ] {
            assert_eq!(format.parse(text), None, "{text}");
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
