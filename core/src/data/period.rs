//! Periods in time order: the forms people write periods in (`2008-12`,
//! `12/2008`, `2008-Q4`, `Dic. 2008`…) read as points in time, so that the
//! previous period of `1/2009` is `12/2008`, which comes after it as text.
//!
//! | form (`[data] period_format`) | examples |
//! |---|---|
//! | `year` | `2008` |
//! | `year-semester` | `2008-S1`, `2008S2`, `2008-H1`, `S1 2008` |
//! | `year-quarter` | `2008-Q4`, `2008Q4`, `2008T4`, `2008-T4`, `T4-2008` |
//! | `year-month` | `2008-12`, `2008/1`, `2008.12` |
//! | `month/year` | `12/2008`, `1/2009`, `12-2008` |
//! | `month-name year` | `Dic. 2008`, `dic-2008`, `diciembre 2008`, `Dec 2008`, `ene/2009` |
//! | `date` | `2008-12-31`, `2008/1/5` |
//! | `day/month/year` | `31/12/2008`, `1-6-2001` (day first, always) |
//!
//! Years have four digits; month names are Spanish or English, full or
//! abbreviated (`sept`, `set` too), in any case, with an optional dot.
//! `text` declares that the periods' text order is their time order
//! (`P01`, `P02`…); `auto` (the default) recognises the form.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use crate::data::table::DataWarning;

/// A way of writing periods, read into a time that orders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PeriodForm {
    /// `2008`.
    Year,
    /// `2008-S1`, `2008-H2`.
    YearSemester,
    /// `2008-Q4`, `2008T4`.
    YearQuarter,
    /// `2008-12`.
    YearMonth,
    /// `12/2008`, `1/2009`.
    MonthYear,
    /// `Dic. 2008`, `dic-2008`.
    MonthNameYear,
    /// `2008-12-31`.
    Date,
    /// `31/12/2008`.
    DayMonthYear,
}

impl PeriodForm {
    /// Every form, in the order they are tried.
    pub const ALL: [Self; 8] = [
        Self::Year,
        Self::YearSemester,
        Self::YearQuarter,
        Self::YearMonth,
        Self::MonthYear,
        Self::MonthNameYear,
        Self::Date,
        Self::DayMonthYear,
    ];

    /// The name a pack declares it by (`year-month`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Year => "year",
            Self::YearSemester => "year-semester",
            Self::YearQuarter => "year-quarter",
            Self::YearMonth => "year-month",
            Self::MonthYear => "month/year",
            Self::MonthNameYear => "month-name year",
            Self::Date => "date",
            Self::DayMonthYear => "day/month/year",
        }
    }

    /// A period written in this form.
    #[must_use]
    pub fn example(self) -> &'static str {
        match self {
            Self::Year => "2008",
            Self::YearSemester => "2008-S2",
            Self::YearQuarter => "2008-Q4",
            Self::YearMonth => "2008-12",
            Self::MonthYear => "12/2008",
            Self::MonthNameYear => "Dic. 2008",
            Self::Date => "2008-12-31",
            Self::DayMonthYear => "31/12/2008",
        }
    }

    /// `text` read in this form: its place in time (comparable with other
    /// periods of the same form), or `None` when it is not in this form or
    /// names no real time (month 13, 30 February).
    ///
    /// ```
    /// use semaforo_core::PeriodForm;
    /// let (dec, jan) = (PeriodForm::MonthYear.read("12/2008"), PeriodForm::MonthYear.read("1/2009"));
    /// assert!(dec.unwrap() < jan.unwrap());
    /// assert_eq!(PeriodForm::MonthYear.read("13/2008"), None);
    /// ```
    #[must_use]
    pub fn read(self, text: &str) -> Option<PeriodTime> {
        let text = text.trim();
        let ordinal = match self {
            Self::Year => year(text)?,
            Self::YearSemester => part_of_year(text, &['S', 'H'], 2)?,
            Self::YearQuarter => part_of_year(text, &['Q', 'T'], 4)?,
            Self::YearMonth => {
                let [y, m] = numbers::<2>(text)?;
                months(four(y)?, m)?
            }
            Self::MonthYear => {
                let [m, y] = numbers::<2>(text)?;
                months(four(y)?, m)?
            }
            Self::MonthNameYear => month_name_year(text)?,
            Self::Date => {
                let [y, m, d] = numbers::<3>(text)?;
                days(four(y)?, m, d)?
            }
            Self::DayMonthYear => {
                let [d, m, y] = numbers::<3>(text)?;
                days(four(y)?, m, d)?
            }
        };
        Some(PeriodTime(ordinal))
    }

    /// The form `text` is written in, and its time.
    ///
    /// ```
    /// use semaforo_core::PeriodForm;
    /// assert_eq!(PeriodForm::recognise("2008T4").unwrap().0, PeriodForm::YearQuarter);
    /// assert_eq!(PeriodForm::recognise("dic-2008").unwrap().0, PeriodForm::MonthNameYear);
    /// assert_eq!(PeriodForm::recognise("P1"), None);
    /// ```
    #[must_use]
    pub fn recognise(text: &str) -> Option<(Self, PeriodTime)> {
        Self::ALL
            .into_iter()
            .find_map(|form| form.read(text).map(|time| (form, time)))
    }
}

impl fmt::Display for PeriodForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A period's place in time, comparable with periods of the same form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeriodTime(i64);

/// How a pack's periods are put in time order (`[data] period_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PeriodFormat {
    /// Recognise the form the data's periods are written in (the default);
    /// if they are not all in one recognised form, variation is not computed.
    #[default]
    Auto,
    /// The periods' text order is their time order (`P01`, `P02`…).
    Text,
    /// Every period is written in this form.
    Form(PeriodForm),
}

impl PeriodFormat {
    /// The values `[data] period_format` takes, as messages list them.
    pub const CHOICES: &'static str = "`auto`, `text`, `year`, `year-semester`, `year-quarter`, `year-month`, `month/year`, `month-name year`, `date`, `day/month/year`";

    /// The format a pack names.
    ///
    /// ```
    /// use semaforo_core::{PeriodForm, PeriodFormat};
    /// assert_eq!(PeriodFormat::parse("month/year"), Some(PeriodFormat::Form(PeriodForm::MonthYear)));
    /// assert_eq!(PeriodFormat::parse("text"), Some(PeriodFormat::Text));
    /// assert_eq!(PeriodFormat::parse("mm/yyyy"), None);
    /// ```
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "auto" => Some(Self::Auto),
            "text" => Some(Self::Text),
            _ => PeriodForm::ALL
                .into_iter()
                .find(|f| f.name() == name)
                .map(Self::Form),
        }
    }
}

/// Spanish and English month words, lowercase, with their month.
const MONTH_WORDS: &[(&str, i64)] = &[
    ("enero", 1),
    ("ene", 1),
    ("january", 1),
    ("jan", 1),
    ("febrero", 2),
    ("february", 2),
    ("feb", 2),
    ("marzo", 3),
    ("march", 3),
    ("mar", 3),
    ("abril", 4),
    ("april", 4),
    ("abr", 4),
    ("apr", 4),
    ("mayo", 5),
    ("may", 5),
    ("junio", 6),
    ("june", 6),
    ("jun", 6),
    ("julio", 7),
    ("july", 7),
    ("jul", 7),
    ("agosto", 8),
    ("august", 8),
    ("ago", 8),
    ("aug", 8),
    ("septiembre", 9),
    ("setiembre", 9),
    ("september", 9),
    ("sept", 9),
    ("sep", 9),
    ("set", 9),
    ("octubre", 10),
    ("october", 10),
    ("oct", 10),
    ("noviembre", 11),
    ("november", 11),
    ("nov", 11),
    ("diciembre", 12),
    ("december", 12),
    ("dic", 12),
    ("dec", 12),
];

/// Separators between the parts of a period.
fn is_separator(c: char) -> bool {
    matches!(c, '-' | '/' | '.' | ' ')
}

/// Exactly four ASCII digits.
fn year(text: &str) -> Option<i64> {
    (text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

fn four(n: &str) -> Option<i64> {
    year(n)
}

/// `N` groups of one to four ASCII digits joined by one separator (the same
/// one throughout).
fn numbers<const N: usize>(text: &str) -> Option<[&str; N]> {
    let separator = text.chars().find(|c| !c.is_ascii_digit())?;
    if !is_separator(separator) || separator == ' ' {
        return None;
    }
    let mut parts = text.split(separator);
    let mut out = [""; N];
    for slot in &mut out {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 4 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = part;
    }
    parts.next().is_none().then_some(out)
}

/// A month number of one or two digits, 1 to 12.
fn month(text: &str) -> Option<i64> {
    let m: i64 = (text.len() <= 2).then(|| text.parse().ok()).flatten()?;
    (1..=12).contains(&m).then_some(m)
}

fn months(year: i64, m: &str) -> Option<i64> {
    Some(year * 12 + month(m)? - 1)
}

/// Days since year 0 of a real calendar day.
fn days(year: i64, m: &str, d: &str) -> Option<i64> {
    let m = month(m)?;
    let d: i64 = (d.len() <= 2).then(|| d.parse().ok()).flatten()?;
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let length = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    (1..=length)
        .contains(&d)
        .then_some((year * 12 + m - 1) * 31 + d - 1)
}

/// `2008-Q4`, `2008Q4`, `Q4 2008`…: a year and the `letters`-marked part of it.
fn part_of_year(text: &str, letters: &[char], parts: i64) -> Option<i64> {
    let upper = text.to_ascii_uppercase();
    let numbered = |s: &str| -> Option<i64> {
        let mut chars = s.chars();
        let (letter, digit) = (chars.next()?, chars.next()?);
        if chars.next().is_some() || !letters.contains(&letter) {
            return None;
        }
        let n = i64::from(digit.to_digit(10)?);
        (1..=parts).contains(&n).then_some(n)
    };
    // The year first, then the part.
    if let (Some(y), Some(rest)) = (upper.get(..4).and_then(year), upper.get(4..))
        && let Some(n) = numbered(rest.strip_prefix(is_separator).unwrap_or(rest))
    {
        return Some(y * parts + n - 1);
    }
    // The part first, then the year.
    let (part, rest) = (upper.get(..2)?, upper.get(2..)?);
    Some(year(rest.strip_prefix(is_separator).unwrap_or(rest))? * parts + numbered(part)? - 1)
}

/// `Dic. 2008`, `dic-2008`, `diciembre 2008`, `ene/2009`: a dot or a
/// separator between the month word and the four-digit year.
fn month_name_year(text: &str) -> Option<i64> {
    let word_end = text.find(|c: char| !c.is_alphabetic())?;
    let (word, rest) = text.split_at(word_end);
    let word = word.to_lowercase();
    let m = MONTH_WORDS.iter().find(|(w, _)| *w == word)?.1;
    let (dot, rest) = match rest.strip_prefix('.') {
        Some(after) => (true, after),
        None => (false, rest),
    };
    let spaced = rest.trim_start_matches(' ');
    let after = spaced
        .strip_prefix(['-', '/'])
        .map_or(spaced, |s| s.trim_start_matches(' '));
    if !dot && after.len() == rest.len() {
        return None;
    }
    Some(year(after)? * 12 + m - 1)
}

/// The places in time of `periods` as `format` reads them (in the same
/// order, comparable with each other), or `None` when they cannot all be
/// placed: then their text order is not known to be their time order either.
///
/// ```
/// use semaforo_core::{PeriodFormat, time_keys};
/// let mut periods = vec!["12/2008", "1/2009", "11/2008"];
/// let keys = time_keys(periods.iter().copied(), PeriodFormat::Auto).unwrap();
/// let mut keyed: Vec<_> = keys.into_iter().zip(periods).collect();
/// keyed.sort();
/// assert_eq!(keyed.iter().map(|k| k.1).collect::<Vec<_>>(), ["11/2008", "12/2008", "1/2009"]);
/// assert_eq!(time_keys(["P1", "P2"], PeriodFormat::Auto), None);
/// ```
#[must_use]
pub fn time_keys<'a>(
    periods: impl IntoIterator<Item = &'a str>,
    format: PeriodFormat,
) -> Option<Vec<PeriodTime>> {
    let periods: Vec<&str> = periods.into_iter().collect();
    let chronology = Chronology::of(periods.iter().copied(), format);
    periods
        .iter()
        .map(|p| chronology.place(p).map(PeriodTime))
        .collect()
}

/// The time order of a data set's periods, or why there is none.
#[derive(Debug)]
pub(crate) struct Chronology<'a> {
    /// Each distinct period's place in time; `None` when it has none.
    places: HashMap<&'a str, Option<i64>>,
    /// Why some periods have no place.
    pub(crate) warnings: Vec<DataWarning>,
}

impl<'a> Chronology<'a> {
    /// Places `periods` in time as `format` says; a period that cannot be
    /// placed has no place, and a warning says why.
    pub(crate) fn of(periods: impl Iterator<Item = &'a str>, format: PeriodFormat) -> Self {
        let distinct: BTreeSet<&str> = periods.collect();
        let mut warnings = Vec::new();
        let not_computed = "variation from the previous period was not computed";
        let places = match format {
            PeriodFormat::Text => distinct
                .iter()
                .zip(0..)
                .map(|(&p, rank)| (p, Some(rank)))
                .collect(),
            PeriodFormat::Form(form) => {
                let places: HashMap<&str, Option<i64>> = distinct
                    .iter()
                    .map(|&p| (p, form.read(p).map(|t| t.0)))
                    .collect();
                let unread: Vec<&str> = distinct
                    .iter()
                    .copied()
                    .filter(|p| places.get(p).copied().flatten().is_none())
                    .collect();
                if !unread.is_empty() {
                    warnings.push(DataWarning {
                        line: None,
                        kind: "period_order_unknown",
                        message: format!(
                            "{not_computed} for the entities with a period not written as the pack's [data] period_format `{form}` says (like `{}`): {}",
                            form.example(),
                            listed(&unread)
                        ),
                    });
                }
                places
            }
            PeriodFormat::Auto => {
                let read: Vec<(&str, Option<(PeriodForm, PeriodTime)>)> = distinct
                    .iter()
                    .map(|&p| (p, PeriodForm::recognise(p)))
                    .collect();
                let unread: Vec<&str> = read
                    .iter()
                    .filter(|(_, r)| r.is_none())
                    .map(|(p, _)| *p)
                    .collect();
                let mut forms: BTreeMap<PeriodForm, &str> = BTreeMap::new();
                for (p, r) in &read {
                    if let Some((form, _)) = r {
                        forms.entry(*form).or_insert(p);
                    }
                }
                if !unread.is_empty() {
                    warnings.push(DataWarning {
                        line: None,
                        kind: "period_order_unknown",
                        message: format!(
                            "{not_computed}: the periods {} are not written in a form whose time order is known (year `2008`, `2008-Q4`, `2008-12`, `12/2008`, `Dic. 2008`, `2008-12-31`, `31/12/2008`…); if their text order is their time order, declare it with `period_format = \"text\"` in the pack's [data]",
                            listed(&unread)
                        ),
                    });
                    read.iter().map(|(p, _)| (*p, None)).collect()
                } else if forms.len() > 1 {
                    let kinds: Vec<String> = forms
                        .iter()
                        .map(|(form, p)| format!("`{p}` is {form}"))
                        .collect();
                    warnings.push(DataWarning {
                        line: None,
                        kind: "period_order_unknown",
                        message: format!(
                            "{not_computed}: the periods are written in more than one form ({}); write them all one way, or declare the form with `period_format` in the pack's [data]",
                            kinds.join(", ")
                        ),
                    });
                    read.iter().map(|(p, _)| (*p, None)).collect()
                } else {
                    read.into_iter()
                        .map(|(p, r)| (p, r.map(|(_, t)| t.0)))
                        .collect()
                }
            }
        };
        Self { places, warnings }
    }

    /// The place in time of `period`, if it has one.
    pub(crate) fn place(&self, period: &str) -> Option<i64> {
        self.places.get(period).copied().flatten()
    }
}

/// Up to five periods quoted, then how many more.
fn listed(periods: &[&str]) -> String {
    let mut text = periods
        .iter()
        .take(5)
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if periods.len() > 5 {
        text.push_str(&format!(" and {} more", periods.len() - 5));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(text: &str) -> Option<PeriodForm> {
        PeriodForm::recognise(text).map(|(f, _)| f)
    }

    #[test]
    fn each_written_form_is_recognised() {
        use PeriodForm::*;
        for (text, expected) in [
            ("2008", Year),
            ("2008-S1", YearSemester),
            ("2008h2", YearSemester),
            ("2008-Q4", YearQuarter),
            ("2008Q4", YearQuarter),
            ("2008T4", YearQuarter),
            ("2008-T4", YearQuarter),
            ("T4-2008", YearQuarter),
            ("q1 2009", YearQuarter),
            ("2008-12", YearMonth),
            ("2008/1", YearMonth),
            ("12/2008", MonthYear),
            ("1/2009", MonthYear),
            ("12-2008", MonthYear),
            ("Dic. 2008", MonthNameYear),
            ("dic-2008", MonthNameYear),
            ("diciembre 2008", MonthNameYear),
            ("Dec 2008", MonthNameYear),
            ("ene/2009", MonthNameYear),
            ("Sept. 2009", MonthNameYear),
            ("2008-12-31", Date),
            ("31/12/2008", DayMonthYear),
            ("1-6-2001", DayMonthYear),
        ] {
            assert_eq!(form(text), Some(expected), "{text}");
        }
        for text in [
            "P1",
            "2008-13",
            "13/2008",
            "2008-Q5",
            "2008-S3",
            "30/02/2008",
            "08",
            "2008-12-",
            "Dic 08",
            "dic2008x",
            "2008--12",
            "12/2008/",
            "2008 12",
            "",
            "  ",
            "1/2/3/2008",
            "2008Q44",
            "2008-Q",
            "Q-2008",
        ] {
            assert_eq!(form(text), None, "{text}");
        }
    }

    #[test]
    fn times_follow_the_calendar() {
        let t = |form: PeriodForm, text: &str| form.read(text).unwrap();
        assert!(t(PeriodForm::MonthYear, "12/2008") < t(PeriodForm::MonthYear, "1/2009"));
        assert!(t(PeriodForm::MonthYear, "2/2008") < t(PeriodForm::MonthYear, "10/2008"));
        assert!(
            t(PeriodForm::DayMonthYear, "31/12/2008") < t(PeriodForm::DayMonthYear, "1/1/2009")
        );
        assert!(
            t(PeriodForm::DayMonthYear, "28/2/2008") < t(PeriodForm::DayMonthYear, "29/2/2008")
        );
        assert_eq!(PeriodForm::DayMonthYear.read("29/2/2009"), None);
        assert!(t(PeriodForm::YearQuarter, "2008T4") < t(PeriodForm::YearQuarter, "Q1-2009"));
        assert!(
            t(PeriodForm::MonthNameYear, "dic-2008") < t(PeriodForm::MonthNameYear, "Ene. 2009")
        );
        assert_eq!(
            t(PeriodForm::MonthNameYear, "Sept 2009"),
            t(PeriodForm::MonthNameYear, "setiembre 2009")
        );
    }
}
