//! Exact decimal parsing of input cells and rounding for display.

use rust_decimal::{Decimal, RoundingStrategy};

/// The largest mantissa a [`Decimal`] holds: 2⁹⁶ − 1.
const MAX_MANTISSA: u128 = (1 << 96) - 1;
/// The most decimal places a [`Decimal`] holds.
const MAX_SCALE: u32 = 28;

/// Parses a data cell as an exact decimal in the default [`NumberFormat`]
/// (`.` decimals, no thousands separator, no exponent). Never goes through
/// `f64`; a value a decimal cannot hold exactly is refused, never rounded.
///
/// The accepted grammar (the same for every format, see [`NumberFormat`]):
///
/// ```text
/// cell      = space* sign? magnitude exponent? space*
/// sign      = "-" | "+"                       (one, right before the digits)
/// magnitude = integer (DECIMAL digit*)? | DECIMAL digit+
/// integer   = digit+                          (no THOUSANDS declared, or none used)
///           | digit{1,3} (THOUSANDS digit{3})+
/// exponent  = ("e" | "E") sign? digit+       (only when the format declares exponents)
/// digit     = "0" … "9"                       (ASCII only)
/// space     = white space (Unicode White_Space, as `str::trim`)
/// ```
///
/// So `+-1`, `--1`, `+ 1`, `1-`, `−1` (unicode minus), `.`, `-`, `1..2`,
/// `١٢` (non-ASCII digits) and, by default, `1e5` are not numbers. Trailing
/// zeros keep their places (`2.50` is 2.50) as far as a decimal holds them.
///
/// ```
/// use semaforo_core::parse_decimal;
/// assert_eq!(parse_decimal(" 1084203.65 ").unwrap().to_string(), "1084203.65");
/// assert_eq!(parse_decimal("-.5").unwrap().to_string(), "-0.5");
/// for text in ["1,084,203.65", "+-1", "- 1", "1e5", ".", "1..2", "\u{2212}1"] {
///     assert!(parse_decimal(text).is_none(), "{text}");
/// }
/// ```
#[must_use]
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    NumberFormat::default().parse(text)
}

/// How numbers are written in a data file: the decimal separator,
/// optionally a thousands separator, and whether an exponent may follow.
/// Declared in the pack's `[data]` section (`decimal = ","`,
/// `thousands = "."`, `exponent = true`) or by flag; never guessed. The
/// grammar is in [`parse_decimal`]'s documentation, with `DECIMAL` and
/// `THOUSANDS` this format's separators (ASCII characters).
///
/// ```
/// use semaforo_core::NumberFormat;
/// let es = NumberFormat { decimal: ',', thousands: Some('.'), exponent: false };
/// assert_eq!(es.parse("1.234,56").unwrap().to_string(), "1234.56");
/// assert_eq!(es.parse("-0,5").unwrap().to_string(), "-0.5");
/// assert!(es.parse("1,234.56").is_none()); // not this file's format
/// assert!(es.parse("12.34").is_none()); // a thousands group has 3 digits
/// let scientific = NumberFormat { exponent: true, ..NumberFormat::default() };
/// assert_eq!(scientific.parse("1.5e3").unwrap().to_string(), "1500");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberFormat {
    /// The decimal separator: `.` or `,`.
    pub decimal: char,
    /// The thousands separator, if the file uses one (`.`, `,`, space, `'`).
    pub thousands: Option<char>,
    /// Whether a number may end in an exponent (`1.5e3`, `2E-4`).
    pub exponent: bool,
}

impl Default for NumberFormat {
    fn default() -> Self {
        Self {
            decimal: '.',
            thousands: None,
            exponent: false,
        }
    }
}

impl NumberFormat {
    /// Whether this is the default format (`.` decimals, no thousands
    /// separator, no exponent).
    #[must_use]
    pub fn is_plain(&self) -> bool {
        *self == Self::default()
    }

    /// Parses a cell written in this format exactly (grammar in
    /// [`parse_decimal`]); `None` when the text is not a number in it or
    /// its value does not fit a decimal exactly.
    #[must_use]
    pub fn parse(&self, text: &str) -> Option<Decimal> {
        self.parse_trimmed(text.trim().as_bytes())
    }

    /// [`NumberFormat::parse`] of a cell's bytes, without decoding them:
    /// the grammar is ASCII, and every supported encoding agrees on ASCII,
    /// so a number reads the same whatever the file's encoding. `None` for
    /// anything else — bytes that are not a number, and any byte outside
    /// ASCII — which a caller that needs the text (for a message) decodes.
    ///
    /// ```
    /// use semaforo_core::NumberFormat;
    /// let plain = NumberFormat::default();
    /// assert_eq!(plain.parse_ascii(b" -1084203.65\t").unwrap().to_string(), "-1084203.65");
    /// assert_eq!(plain.parse_ascii(b"12x"), None);
    /// // Not ASCII: U+00A0 (no-break space) is trimmed as text, not as bytes.
    /// assert_eq!(plain.parse_ascii("\u{a0}1".as_bytes()), None);
    /// assert_eq!(plain.parse("\u{a0}1").unwrap().to_string(), "1");
    /// ```
    #[must_use]
    #[inline]
    pub fn parse_ascii(&self, bytes: &[u8]) -> Option<Decimal> {
        // What `str::trim` trims of ASCII: its White_Space characters.
        let space = |b: &u8| matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ');
        let mut trimmed = bytes;
        // Most cells have nothing to trim: two tests, no scan.
        if trimmed.first().is_some_and(space) || trimmed.last().is_some_and(space) {
            let start = trimmed
                .iter()
                .position(|b| !space(b))
                .unwrap_or(trimmed.len());
            let end = trimmed
                .iter()
                .rposition(|b| !space(b))
                .map_or(start, |e| e + 1);
            trimmed = &trimmed[start..end];
        }
        self.parse_trimmed(trimmed)
    }

    #[inline]
    fn parse_trimmed(&self, bytes: &[u8]) -> Option<Decimal> {
        let ascii = |c: char| u8::try_from(c).ok().filter(u8::is_ascii);
        let decimal = ascii(self.decimal)?;
        let thousands = match self.thousands {
            Some(t) => Some(ascii(t)?),
            None => None,
        };
        let (negative, bytes) = match bytes.first() {
            Some(b'-') => (true, &bytes[1..]),
            Some(b'+') => (false, &bytes[1..]),
            _ => (false, bytes),
        };
        if let Some(value) = plain(bytes, decimal, negative) {
            return Some(value);
        }
        self.parse_general(bytes, decimal, thousands, negative)
    }

    /// Whatever [`plain`] leaves: separators, exponents, long mantissas,
    /// and everything that is not a number.
    #[inline(never)]
    fn parse_general(
        &self,
        bytes: &[u8],
        decimal: u8,
        thousands: Option<u8>,
        negative: bool,
    ) -> Option<Decimal> {
        Number::read(bytes, decimal, thousands, self.exponent)?.value(negative)
    }
}

/// The common case, quickly: at most 18 digits with an optional decimal
/// separator and nothing else. `None` leaves anything else (separators,
/// exponents, more digits, no digit) to [`Number::read`].
#[inline]
fn plain(bytes: &[u8], decimal: u8, negative: bool) -> Option<Decimal> {
    if bytes.is_empty() || bytes.len() > 19 {
        return None;
    }
    // Integer digits, then at most one separator and fraction digits:
    // fewer than 20 bytes, so at most 19 digits — checked below against 18.
    let mut mantissa: u64 = 0;
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        mantissa = mantissa * 10 + u64::from(d);
        at += 1;
    }
    let mut digits = at;
    let mut scale = 0;
    if at < bytes.len() {
        if bytes[at] != decimal {
            return None;
        }
        at += 1;
        let start = at;
        while let Some(&b) = bytes.get(at) {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            mantissa = mantissa * 10 + u64::from(d);
            at += 1;
        }
        scale = at - start;
        digits += scale;
    }
    if digits == 0 || digits > 18 {
        return None;
    }
    // Below 10¹⁸: the low 64 bits hold it (split into the low and middle
    // words, truncating on purpose); a scale below 19 always fits.
    let scale = u32::try_from(scale).ok()?;
    Some(Decimal::from_parts(
        mantissa as u32,
        (mantissa >> 32) as u32,
        0,
        negative,
        scale,
    ))
}

/// An unsigned number as read: its digits as a mantissa, its decimal
/// places, trailing zeros of the fraction not yet applied, and its exponent.
struct Number {
    mantissa: u128,
    places: u32,
    /// Fraction zeros after the last non-zero digit, kept out of the
    /// mantissa so that `1.000…` of any length reads.
    zeros: u32,
    exponent: i64,
}

impl Number {
    /// Reads `bytes` (no sign, no surrounding space) or `None` when they
    /// are not a magnitude with an optional exponent.
    fn read(bytes: &[u8], decimal: u8, thousands: Option<u8>, exponent: bool) -> Option<Self> {
        let mut n = Self {
            mantissa: 0,
            places: 0,
            zeros: 0,
            exponent: 0,
        };
        let mut at = 0;
        // Integer part: digits, or 1–3 digits then groups of exactly 3.
        let mut group = 0_usize;
        let mut grouped = false;
        let mut integer_digits = 0_usize;
        while let Some(&b) = bytes.get(at) {
            if b.is_ascii_digit() {
                n.push(b, false)?;
                group += 1;
                integer_digits += 1;
            } else if Some(b) == thousands {
                let first_ok = (1..=3).contains(&group);
                if (grouped && group != 3) || (!grouped && !first_ok) {
                    return None;
                }
                grouped = true;
                group = 0;
            } else {
                break;
            }
            at += 1;
        }
        if grouped && group != 3 {
            return None;
        }
        let mut fraction_digits = 0_usize;
        if bytes.get(at) == Some(&decimal) {
            at += 1;
            while let Some(&b) = bytes.get(at).filter(|b| b.is_ascii_digit()) {
                n.push(b, true)?;
                fraction_digits += 1;
                at += 1;
            }
        }
        if integer_digits + fraction_digits == 0 {
            return None;
        }
        if exponent && matches!(bytes.get(at), Some(b'e' | b'E')) {
            at += 1;
            let negative = match bytes.get(at) {
                Some(b'-') => {
                    at += 1;
                    true
                }
                Some(b'+') => {
                    at += 1;
                    false
                }
                _ => false,
            };
            let start = at;
            let mut value: i64 = 0;
            while let Some(&b) = bytes.get(at).filter(|b| b.is_ascii_digit()) {
                // Saturates: past ±10¹⁸ only a zero mantissa can still fit.
                value = value.saturating_mul(10).saturating_add(i64::from(b - b'0'));
                at += 1;
            }
            if at == start {
                return None;
            }
            n.exponent = if negative { -value } else { value };
        }
        (at == bytes.len()).then_some(n)
    }

    /// Appends one digit; fraction zeros wait in `zeros` until a non-zero
    /// digit follows. `None` once the mantissa outgrows any decimal.
    fn push(&mut self, digit: u8, fraction: bool) -> Option<()> {
        let d = u128::from(digit - b'0');
        if fraction {
            self.places = self.places.checked_add(1)?;
            if d == 0 {
                self.zeros = self.zeros.checked_add(1)?;
                return Some(());
            }
            // The mantissa stays at most 2⁹⁶ − 1, so ×10 + 9 fits a u128.
            for _ in 0..self.zeros {
                self.mantissa *= 10;
                if self.mantissa > MAX_MANTISSA {
                    return None;
                }
            }
            self.zeros = 0;
        }
        if self.mantissa == 0 && d == 0 {
            return Some(());
        }
        self.mantissa = self.mantissa * 10 + d;
        (self.mantissa <= MAX_MANTISSA).then_some(())
    }

    /// The exact value, or `None` when a decimal cannot hold it.
    fn value(self, negative: bool) -> Option<Decimal> {
        let Self {
            mut mantissa,
            places,
            zeros,
            exponent,
        } = self;
        if mantissa == 0 {
            // Zero keeps its written places, as far as a decimal holds them.
            let scale = i64::from(places).saturating_sub(exponent);
            let scale = u32::try_from(scale.clamp(0, i64::from(MAX_SCALE))).ok()?;
            return Decimal::try_from_i128_with_scale(0, scale).ok();
        }
        // Places as written, and of the mantissa as held (without the
        // pending zeros).
        let written = i64::from(places).saturating_sub(exponent);
        let mut scale = written.saturating_sub(i64::from(zeros));
        if scale < -i64::from(MAX_SCALE) - 1 {
            // 10²⁹ is past the largest mantissa already.
            return None;
        }
        while scale < 0 {
            mantissa = mantissa.checked_mul(10).filter(|m| *m <= MAX_MANTISSA)?;
            scale += 1;
        }
        while scale > i64::from(MAX_SCALE) && mantissa % 10 == 0 {
            mantissa /= 10;
            scale -= 1;
        }
        let mut scale = u32::try_from(scale).ok().filter(|s| *s <= MAX_SCALE)?;
        // Put back the written places (trailing zeros) while they fit.
        let mut back = written.saturating_sub(i64::from(scale));
        while back > 0 && scale < MAX_SCALE {
            match mantissa.checked_mul(10).filter(|m| *m <= MAX_MANTISSA) {
                Some(m) => mantissa = m,
                None => break,
            }
            scale += 1;
            back -= 1;
        }
        let signed = i128::try_from(mantissa).ok()?;
        let signed = if negative { -signed } else { signed };
        Decimal::try_from_i128_with_scale(signed, scale).ok()
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
    fn parses_plain_and_signed_decimals() {
        for (text, expected) in [
            ("0", "0"),
            ("-372158", "-372158"),
            ("+3.5", "3.5"),
            ("2.50", "2.50"),
            ("-.5", "-0.5"),
            ("5.", "5"),
            ("007", "7"),
            (" \t12 ", "12"),
            (
                "79228162514264337593543950335",
                "79228162514264337593543950335",
            ),
            (
                "0.0000000000000000000000000001",
                "0.0000000000000000000000000001",
            ),
        ] {
            assert_eq!(parse_decimal(text).unwrap().to_string(), expected, "{text}");
        }
    }

    #[test]
    fn ascii_bytes_parse_as_their_text_does() {
        let es = NumberFormat {
            decimal: ',',
            thousands: Some(' '),
            exponent: false,
        };
        for text in [
            "",
            " 12 ",
            "\t-1 234,5\x0b",
            "1 2",
            "+-1",
            "\r\n7\n",
            " ",
            "1e5",
            "0,10",
        ] {
            assert_eq!(es.parse_ascii(text.as_bytes()), es.parse(text), "{text:?}");
        }
    }

    #[test]
    fn signs_are_strict() {
        for text in [
            "+-1",
            "-+1",
            "--1",
            "++1",
            "+ 1",
            "- 1",
            "1-",
            "1+",
            "-",
            "+",
            "\u{2212}1",
            "1-2",
            "(1)",
            "-1-",
        ] {
            assert_eq!(parse_decimal(text), None, "{text}");
        }
    }

    #[test]
    fn exponents_only_when_declared() {
        let scientific = NumberFormat {
            exponent: true,
            ..NumberFormat::default()
        };
        for text in ["1e5", "1E5", "1.5e3", "2e-4"] {
            assert_eq!(parse_decimal(text), None, "{text}");
        }
        let parse = |t: &str| scientific.parse(t).map(|d| d.to_string());
        assert_eq!(parse("1.5e3"), Some("1500".into()));
        assert_eq!(parse("-2E-4"), Some("-0.0002".into()));
        assert_eq!(
            parse("0e-99"),
            Some("0.0000000000000000000000000000".into())
        );
        assert_eq!(parse("1e28"), Some("10000000000000000000000000000".into()));
        assert_eq!(parse("0e99999999999999999999"), Some("0".into()));
        assert_eq!(parse("1e-99999999999999999999"), None);
        assert_eq!(parse("1e99999999999999999999"), None);
        for text in [
            "1e29", "1e-29", "e5", "1e", "1e+", "1e5.5", "1e 5", "1e--5", ".e1",
        ] {
            assert_eq!(scientific.parse(text), None, "{text}");
        }
    }

    #[test]
    fn refuses_locale_formats_and_garbage() {
        for text in [
            "",
            " ",
            "1,5",
            "1.234,56",
            "12a",
            "--1",
            "1.2.3",
            "N/A",
            ".",
            "1..2",
            "..5",
            "1 000",
            "\u{661}\u{662}",
            "\u{ff11}",
            "0x10",
            "1_000",
            "inf",
            "NaN",
            "1.5.",
        ] {
            assert_eq!(parse_decimal(text), None, "{text}");
        }
    }

    #[test]
    fn declared_formats_parse_exactly_and_nothing_else() {
        let comma = NumberFormat {
            decimal: ',',
            thousands: None,
            exponent: false,
        };
        let es = NumberFormat {
            decimal: ',',
            thousands: Some('.'),
            exponent: false,
        };
        let us = NumberFormat {
            decimal: '.',
            thousands: Some(','),
            exponent: false,
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
        assert_eq!(parse_decimal("79228162514264337593543950336"), None);
        // Trailing zeros past what a decimal holds do not change the value.
        let long = format!("1.{}", "0".repeat(40));
        assert_eq!(
            parse_decimal(&long).unwrap().to_string(),
            format!("1.{}", "0".repeat(28))
        );
    }

    /// Today's general reader, which the fast path must agree with.
    fn general(text: &str, decimal: u8) -> Option<Decimal> {
        let bytes = text.as_bytes();
        let (negative, bytes) = match bytes.first() {
            Some(b'-') => (true, &bytes[1..]),
            Some(b'+') => (false, &bytes[1..]),
            _ => (false, bytes),
        };
        Number::read(bytes, decimal, None, false)?.value(negative)
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        })]
        /// The fast path reads exactly what the general reader reads,
        /// value and places, over strings of digits, separators, signs and
        /// other bytes, short and long; and what it leaves (`None`) the
        /// general reader reads or refuses as before.
        #[test]
        fn the_fast_path_agrees_with_the_general_reader(
            text in "[-+]?[0-9]{0,12}[.,]?[0-9]{0,12}|[-+0-9.,a e]{0,22}",
            comma in proptest::bool::ANY,
        ) {
            let decimal = if comma { b',' } else { b'.' };
            let (negative, body) = match text.as_bytes().first() {
                Some(b'-') => (true, &text.as_bytes()[1..]),
                Some(b'+') => (false, &text.as_bytes()[1..]),
                _ => (false, text.as_bytes()),
            };
            let want = general(text.trim(), decimal);
            if let Some(fast) = plain(body, decimal, negative) {
                proptest::prop_assert_eq!(Some(fast.to_string()), want.map(|d| d.to_string()));
            }
            let format = NumberFormat { decimal: char::from(decimal), ..NumberFormat::default() };
            proptest::prop_assert_eq!(format.parse(&text), want);
            proptest::prop_assert_eq!(format.parse_ascii(text.as_bytes()), want);
        }
    }

    #[test]
    fn the_fast_path_stops_at_eighteen_digits() {
        let d = |t: &str| plain(t.as_bytes(), b'.', false).map(|d| d.to_string());
        assert_eq!(d("999999999999999999"), Some("999999999999999999".into()));
        assert_eq!(d("99999999999999999.9"), Some("99999999999999999.9".into()));
        assert_eq!(d("9999999999999999999"), None);
        assert_eq!(d("0.00000000000000001"), Some("0.00000000000000001".into()));
        assert_eq!(d("0.000000000000000001"), None);
        assert_eq!(d("5."), Some("5".into()));
        assert_eq!(d(".5"), Some("0.5".into()));
        for text in ["", ".", "1..2", "1.2.", "-1", "1e5", "12345678901234567890"] {
            assert_eq!(d(text), None, "{text}");
        }
        assert_eq!(parse_decimal("-0.00").unwrap().to_string(), "0.00");
        assert_eq!(
            parse_decimal("9999999999999999999").unwrap().to_string(),
            "9999999999999999999"
        );
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
