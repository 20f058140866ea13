//! Reading dates from text: the forms the seeds print, each recognised
//! explicitly and never guessed.
//!
//! | form | example | means |
//! |---|---|---|
//! | ISO `YYYY-MM-DD` | `2009-06-30` | that day |
//! | `dd/mm/yyyy` | `13/01/2020`, `1/6/2001` | that day (day first, always) |
//! | `dd/mm/yy` | `13/01/20` | that day; `00`–`69` → 2000–2069, `70`–`99` → 1970–1999 |
//! | Spanish month and year | `Dic. 2000`, `Dic 2001`, `Junio 2001` | the **last** day of that month |
//!
//! Month words are the twelve Spanish names (`setiembre` too) and their
//! abbreviations (`ene feb mar abr may jun jul ago sep sept set oct nov dic`),
//! in any case, optionally followed by a dot, then a four-digit year.
//! Surrounding spaces are ignored; nothing else is.

use jiff::civil;

use crate::error::CalendarError;

/// The accepted forms, as error messages list them.
pub(crate) const ACCEPTED_FORMS: &str = "YYYY-MM-DD (2009-06-30), dd/mm/yyyy (13/01/2020), \
dd/mm/yy (13/01/20; 00-69 → 20xx, 70-99 → 19xx), or a Spanish month and four-digit year \
(Dic. 2000, Jun 2001, Junio 2001: the last day of that month)";

/// Spanish month words, lowercase, with their month number.
const MONTH_WORDS: [(&str, i8); 27] = [
    ("enero", 1),
    ("ene", 1),
    ("febrero", 2),
    ("feb", 2),
    ("marzo", 3),
    ("mar", 3),
    ("abril", 4),
    ("abr", 4),
    ("mayo", 5),
    ("may", 5),
    ("junio", 6),
    ("jun", 6),
    ("julio", 7),
    ("jul", 7),
    ("agosto", 8),
    ("ago", 8),
    ("septiembre", 9),
    ("setiembre", 9),
    ("sept", 9),
    ("sep", 9),
    ("set", 9),
    ("octubre", 10),
    ("oct", 10),
    ("noviembre", 11),
    ("nov", 11),
    ("diciembre", 12),
    ("dic", 12),
];

/// Reads `text` in one of the accepted forms.
pub(crate) fn parse(text: &str) -> Result<civil::Date, CalendarError> {
    let trimmed = text.trim();
    let unrecognised = || CalendarError::Unrecognised {
        text: text.to_owned(),
    };
    let (year, month, day) = iso(trimmed)
        .or_else(|| day_month_year(trimmed))
        .or_else(|| month_year(trimmed))
        .ok_or_else(unrecognised)?;
    let invalid = |reason: String| CalendarError::NotACalendarDate {
        text: text.to_owned(),
        reason,
    };
    if !(1..=12).contains(&month) {
        return Err(invalid(format!("there is no month {month}")));
    }
    let year = i16::try_from(year).map_err(|_| invalid(format!("year {year} is out of range")))?;
    // `month` is 1..=12 here, so the first of it always exists.
    let first = civil::Date::new(year, month, 1).map_err(|_| unrecognised())?;
    match day {
        Day::Last => Ok(first.last_of_month()),
        Day::Of(d) => civil::Date::new(year, month, d).map_err(|_| {
            invalid(format!(
                "{year:04}-{month:02} has {} days, not {d}",
                first.days_in_month()
            ))
        }),
    }
}

/// Which day of the month a text names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Day {
    Of(i8),
    /// Month precision: the last day.
    Last,
}

type Parts = (u16, i8, Day);

/// `YYYY-MM-DD`, exactly 4, 2 and 2 digits.
fn iso(text: &str) -> Option<Parts> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    Some((number(y)?, small(m)?, Day::Of(small(d)?)))
}

/// `dd/mm/yyyy` or `dd/mm/yy`: day and month of one or two digits.
fn day_month_year(text: &str) -> Option<Parts> {
    let mut parts = text.split('/');
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !(1..=2).contains(&d.len()) || !(1..=2).contains(&m.len()) {
        return None;
    }
    let year = match y.len() {
        4 => number(y)?,
        2 => full_year(number(y)?),
        _ => return None,
    };
    Some((year, small(m)?, Day::Of(small(d)?)))
}

/// The century of a two-digit year: 00–69 → 2000–2069, 70–99 → 1970–1999
/// (the POSIX `%y` rule).
fn full_year(yy: u16) -> u16 {
    if yy < 70 { 2000 + yy } else { 1900 + yy }
}

/// `<month word>[.] <yyyy>`: a space is required unless a dot ends the word.
fn month_year(text: &str) -> Option<Parts> {
    let word_end = text
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (word, rest) = text.split_at(word_end);
    let (dot, rest) = match rest.strip_prefix('.') {
        Some(after) => (true, after),
        None => (false, rest),
    };
    let year = rest.trim_start();
    if (!dot && year.len() == rest.len()) || year.len() != 4 {
        return None;
    }
    let word = word.to_ascii_lowercase();
    let (_, month) = MONTH_WORDS.iter().find(|(w, _)| *w == word)?;
    Some((number(year)?, *month, Day::Last))
}

/// ASCII digits only (no sign, no spaces).
fn number(digits: &str) -> Option<u16> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A day or month of at most two digits.
fn small(digits: &str) -> Option<i8> {
    number(digits).and_then(|n| i8::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(text: &str) -> (i16, i8, i8) {
        let d = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        (d.year(), d.month(), d.day())
    }

    #[test]
    fn iso_is_that_day() {
        assert_eq!(ymd("2009-06-30"), (2009, 6, 30));
        assert_eq!(ymd(" 2001-12-31 "), (2001, 12, 31));
        assert_eq!(ymd("2024-02-29"), (2024, 2, 29));
    }

    #[test]
    fn day_month_year_puts_the_day_first() {
        assert_eq!(ymd("13/01/2020"), (2020, 1, 13));
        assert_eq!(ymd("01/02/2020"), (2020, 2, 1));
        assert_eq!(ymd("1/6/2001"), (2001, 6, 1));
    }

    #[test]
    fn two_digit_years_pivot_at_70() {
        assert_eq!(ymd("13/01/20"), (2020, 1, 13));
        assert_eq!(ymd("31/12/00"), (2000, 12, 31));
        assert_eq!(ymd("31/12/69"), (2069, 12, 31));
        assert_eq!(ymd("01/01/70"), (1970, 1, 1));
        assert_eq!(ymd("30/06/99"), (1999, 6, 30));
    }

    #[test]
    fn seed_month_forms_are_the_last_day_of_the_month() {
        // DOMAIN.md §4: the due dates of seed 003 as printed.
        assert_eq!(ymd("Dic. 2000"), (2000, 12, 31));
        assert_eq!(ymd("Dic 2001"), (2001, 12, 31));
        assert_eq!(ymd("Jun. 2001"), (2001, 6, 30));
        assert_eq!(ymd("Junio 2001"), (2001, 6, 30));
        assert_eq!(ymd("Diciembre 2000"), (2000, 12, 31));
    }

    #[test]
    fn month_words_ignore_case_and_take_every_spanish_month() {
        assert_eq!(ymd("DIC. 2000"), (2000, 12, 31));
        assert_eq!(ymd("junio 2001"), (2001, 6, 30));
        assert_eq!(ymd("Feb 2024"), (2024, 2, 29));
        assert_eq!(ymd("Febrero 2023"), (2023, 2, 28));
        assert_eq!(ymd("Sept. 2009"), (2009, 9, 30));
        assert_eq!(ymd("Setiembre 2009"), (2009, 9, 30));
        assert_eq!(ymd("Dic.2000"), (2000, 12, 31));
        assert_eq!(ymd("Dic.   2000"), (2000, 12, 31));
        for (word, month) in MONTH_WORDS {
            assert_eq!(ymd(&format!("{word} 2010")).1, month, "{word}");
        }
    }

    #[test]
    fn anything_else_is_refused_not_guessed() {
        for text in [
            "",
            "   ",
            "2009-6-30",
            "09-06-30",
            "30-06-2009",
            "2009/06/30",
            "13/01/2020/1",
            "13/01/020",
            "13.01.2020",
            "Dic 00",
            "Dic 20000",
            "Dic2000",
            "December 2000",
            "Dici 2000",
            "Dic. 2000 x",
            "Q3 2009",
            "+2009-06-30",
            "2009-06-3O",
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!(
                err,
                CalendarError::Unrecognised {
                    text: text.to_owned()
                },
                "{text:?}"
            );
        }
    }

    #[test]
    fn impossible_days_name_what_is_wrong() {
        let err = parse("31/02/2020").unwrap_err().to_string();
        assert_eq!(
            err,
            "date: \"31/02/2020\" is not a calendar date (2020-02 has 29 days, not 31)"
        );
        let err = parse("2009-13-01").unwrap_err().to_string();
        assert_eq!(
            err,
            "date: \"2009-13-01\" is not a calendar date (there is no month 13)"
        );
        assert!(parse("00/01/2020").is_err());
        assert!(parse("2023-02-29").is_err());
    }

    #[test]
    fn the_error_lists_the_accepted_forms() {
        let err = parse("Q3 2009").unwrap_err().to_string();
        assert!(err.contains("\"Q3 2009\""), "{err}");
        for form in ["YYYY-MM-DD", "dd/mm/yyyy", "dd/mm/yy", "Dic. 2000"] {
            assert!(err.contains(form), "{err}");
        }
    }
}
