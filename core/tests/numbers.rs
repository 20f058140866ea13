//! The number grammar of data cells, held by generated cases: strings built
//! around the grammar (signs, each format's separators, spaces, digits,
//! exponents, unicode digits and minus) are accepted exactly when an
//! independent recognizer says they match it, and an accepted value equals
//! one computed independently from its digit string with
//! `Decimal::try_from_i128_with_scale`. Case count: `SEMAFORO_FUZZ_CASES`.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

mod support;

use proptest::prelude::*;
use proptest::sample::select;
use rust_decimal::Decimal;
use semaforo_core::NumberFormat;

/// A runner of 3,000 cases per property; `SEMAFORO_FUZZ_CASES` overrides it.
fn runner() -> proptest::test_runner::TestRunner {
    support::runner(3_000)
}

const MAX_MANTISSA: i128 = (1 << 96) - 1;

/// Every declared format: decimal `.` or `,`, a different thousands
/// separator or none, exponents or not.
fn format() -> impl Strategy<Value = NumberFormat> {
    (
        select(vec!['.', ',']),
        select(vec![None, Some('.'), Some(','), Some(' '), Some('\'')]),
        any::<bool>(),
    )
        .prop_filter("separators differ", |(d, t, _)| Some(*d) != *t)
        .prop_map(|(decimal, thousands, exponent)| NumberFormat {
            decimal,
            thousands,
            exponent,
        })
}

/// The exact value of `digits` (ASCII digits, possibly empty) with
/// `places` decimal places (negative: times a power of ten), or `None`
/// when a decimal cannot hold it: written independently of the parser.
fn reference(negative: bool, digits: &str, places: i64) -> Option<Decimal> {
    let mut m: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().unwrap()
    };
    let mut s = places;
    if m == 0 {
        s = s.clamp(0, 28);
    }
    while s < 0 {
        m = m.checked_mul(10)?;
        s += 1;
    }
    while (s > 28 || m > MAX_MANTISSA) && s > 0 && m % 10 == 0 {
        m /= 10;
        s -= 1;
    }
    if m > MAX_MANTISSA || s > 28 {
        return None;
    }
    let m = if negative { -m } else { m };
    Decimal::try_from_i128_with_scale(m, u32::try_from(s).ok()?).ok()
}

/// An independent recognizer of the grammar (splitting, not scanning):
/// the sign, the digit string and the places, or `None` outside it.
fn recognize(text: &str, f: &NumberFormat) -> Option<(bool, String, i64)> {
    let t = text.trim();
    let (negative, t) = match (t.strip_prefix('-'), t.strip_prefix('+')) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => (false, t),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let (mantissa, exponent) = match t.find(['e', 'E']).filter(|_| f.exponent) {
        Some(i) => {
            let e = &t[i + 1..];
            let body = e.strip_prefix(['+', '-']).unwrap_or(e);
            if body.is_empty() || !all_digits(body) {
                return None;
            }
            (&t[..i], e.parse::<i64>().ok()?)
        }
        None => (t, 0),
    };
    let (integer, fraction) = match mantissa.split_once(f.decimal) {
        Some((i, fr)) => (i, fr),
        None => (mantissa, ""),
    };
    if !all_digits(fraction) {
        return None;
    }
    let integer: String = match f.thousands {
        Some(sep) if integer.contains(sep) => {
            let groups: Vec<&str> = integer.split(sep).collect();
            let sizes_ok =
                (1..=3).contains(&groups[0].len()) && groups[1..].iter().all(|g| g.len() == 3);
            if !sizes_ok || !groups.iter().all(|g| all_digits(g)) {
                return None;
            }
            groups.concat()
        }
        _ if all_digits(integer) => integer.to_owned(),
        _ => return None,
    };
    if integer.is_empty() && fraction.is_empty() {
        return None;
    }
    let places = i64::try_from(fraction.len()).ok()? - exponent;
    Some((negative, format!("{integer}{fraction}"), places))
}

/// What the grammar and the reference say `text` is in `f`.
fn expected(text: &str, f: &NumberFormat) -> Option<Decimal> {
    let (negative, digits, places) = recognize(text, f)?;
    reference(negative, &digits, places)
}

fn show(d: Option<Decimal>) -> Option<String> {
    d.map(|d| d.to_string())
}

/// A number written the way the grammar allows: optional spaces and sign,
/// digits grouped by thousands or not, a fraction, an exponent when declared.
fn well_formed() -> impl Strategy<Value = (NumberFormat, String, bool, String, i64)> {
    (
        format(),
        select(vec!["", " ", "\t", "  "]),
        select(vec!["", "-", "+"]),
        "[0-9]{0,18}",
        proptest::option::of("[0-9]{0,18}"),
        any::<bool>(),
        proptest::option::of((
            select(vec!["e", "E"]),
            select(vec!["", "-", "+"]),
            0_i64..40,
        )),
        select(vec!["", " ", "\t"]),
    )
        .prop_filter("a digit somewhere", |(_, _, _, i, f, ..)| {
            !i.is_empty() || f.as_ref().is_some_and(|f| !f.is_empty())
        })
        .prop_map(|(f, pre, sign, integer, fraction, group, exp, post)| {
            let mut text = format!("{pre}{sign}");
            match f.thousands {
                Some(sep) if group && !integer.is_empty() => {
                    let head = integer.len() % 3;
                    let mut parts = Vec::new();
                    if head > 0 {
                        parts.push(&integer[..head]);
                    }
                    parts.extend((head..integer.len()).step_by(3).map(|i| &integer[i..i + 3]));
                    text.push_str(&parts.join(&sep.to_string()));
                }
                _ => text.push_str(&integer),
            }
            let fraction_text = fraction.clone().unwrap_or_default();
            if let Some(fraction) = &fraction {
                text.push(f.decimal);
                text.push_str(fraction);
            }
            let mut exponent = 0;
            if let (true, Some((e, esign, value))) = (f.exponent, exp) {
                text.push_str(&format!("{e}{esign}{value}"));
                exponent = if esign == "-" { -value } else { value };
            }
            text.push_str(post);
            let places = i64::try_from(fraction_text.len()).unwrap() - exponent;
            (
                f,
                text,
                sign == "-",
                format!("{integer}{fraction_text}"),
                places,
            )
        })
}

#[test]
fn well_formed_numbers_read_as_their_digits_say() {
    runner()
        .run(&well_formed(), |(f, text, negative, digits, places)| {
            let want = reference(negative, &digits, places);
            prop_assert_eq!(show(f.parse(&text)), show(want), "{:?} in {:?}", text, f);
            prop_assert!(recognize(&text, &f).is_some(), "{:?} in {:?}", text, f);
            Ok(())
        })
        .unwrap();
}

/// Pieces of text around the grammar: ASCII digits, signs, every
/// separator, spaces, exponent letters, unicode minus, digits and spaces.
const PIECES: [&str; 27] = [
    "0", "1", "5", "9", "00", "123", "-", "+", ".", ",", " ", "'", "e", "E", "\t", "\u{2212}",
    "\u{a0}", "\u{661}", "\u{ff11}", "x", "..", "--", "+-", "1,234", "1.234", "1 234", "e-",
];

#[test]
fn any_text_is_a_number_exactly_when_the_grammar_says_so() {
    let soup = proptest::collection::vec(select(&PIECES[..]), 0..10).prop_map(|p| p.concat());
    runner()
        .run(&(format(), soup), |(f, text)| {
            prop_assert_eq!(
                show(f.parse(&text)),
                show(expected(&text, &f)),
                "{:?} in {:?}",
                text,
                f
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_strings_never_panic_and_never_read_outside_the_grammar() {
    runner()
        .run(&(format(), any::<String>()), |(f, text)| {
            prop_assert_eq!(
                show(f.parse(&text)),
                show(expected(&text, &f)),
                "{:?}",
                text
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_cases_the_issue_names() {
    let plain = NumberFormat::default();
    for text in [
        "+-1",
        "-+1",
        "--1",
        "+ 1",
        "1-",
        "1e5",
        ".",
        "-",
        "1..2",
        "\u{2212}1",
        "1,5",
        "\u{661}",
    ] {
        assert_eq!(plain.parse(text), None, "{text}");
        assert_eq!(expected(text, &plain), None, "{text}");
    }
}

/// Bytes of any kind, valid UTF-8 or not, around the grammar's pieces.
fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        select(&PIECES[..]).prop_map(|p| p.as_bytes().to_vec()),
        select(vec![
            b"\xff".to_vec(),
            b"\xe9".to_vec(),
            b"\x0b".to_vec(),
            b"\r\n".to_vec()
        ]),
        any::<u8>().prop_map(|b| vec![b]),
    ];
    proptest::collection::vec(piece, 0..10).prop_map(|p| p.concat())
}

#[test]
fn bytes_read_without_decoding_as_their_text_does() {
    runner()
        .run(&(format(), any_bytes()), |(f, bytes)| {
            let fast = f.parse_ascii(&bytes);
            // ASCII reads as its text; anything else is left to the caller.
            let want = if bytes.is_ascii() {
                f.parse(std::str::from_utf8(&bytes).unwrap())
            } else {
                None
            };
            prop_assert_eq!(show(fast), show(want), "{:?} in {:?}", bytes, f);
            if let Some(value) = fast {
                let text = String::from_utf8(bytes.clone()).unwrap();
                prop_assert_eq!(show(f.parse(&text)), show(Some(value)));
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn plain_numbers_read_as_rust_decimal_reads_them_exactly() {
    let number = ("[-+]?", "[0-9]{1,14}", proptest::option::of("[0-9]{0,14}"));
    runner()
        .run(&number, |(sign, integer, fraction)| {
            let text = match &fraction {
                Some(fraction) => format!("{sign}{integer}.{fraction}"),
                None => format!("{sign}{integer}"),
            };
            let ours = NumberFormat::default().parse_ascii(text.as_bytes());
            let theirs = Decimal::from_str_exact(&text).ok();
            prop_assert_eq!(show(ours), show(theirs), "{:?}", text);
            Ok(())
        })
        .unwrap();
}
