//! The date value formulas hold: a civil day (no time, no time zone), its
//! parts, period ends and the days between two of them.

use std::fmt;
use std::str::FromStr;

use jiff::civil;

use crate::error::CalendarError;
use crate::parse;

/// A calendar day, as formulas see it (rhai type name `date`). Ordered by
/// time: earlier < later. Shown as ISO `YYYY-MM-DD`.
///
/// ```
/// use semaforo_calendar::{Date, Period};
/// let due: Date = "Dic. 2000".parse()?;
/// let cut_off: Date = "2009-06-30".parse()?;
/// assert_eq!(due.to_string(), "2000-12-31");
/// assert!(due < cut_off);
/// assert_eq!(due.days_until(cut_off), 3103);
/// assert_eq!(cut_off.quarter(), 2);
/// assert_eq!(cut_off.end_of(Period::Year).to_string(), "2009-12-31");
/// # Ok::<(), semaforo_calendar::CalendarError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(civil::Date);

impl Date {
    /// The year (e.g. 2009).
    #[must_use]
    pub fn year(self) -> i16 {
        self.0.year()
    }

    /// The month, 1–12.
    #[must_use]
    pub fn month(self) -> i8 {
        self.0.month()
    }

    /// The day of the month, 1–31.
    #[must_use]
    pub fn day(self) -> i8 {
        self.0.day()
    }

    /// The calendar quarter, 1–4 (January–March is 1).
    #[must_use]
    pub fn quarter(self) -> i8 {
        (self.month() - 1) / 3 + 1
    }

    /// The last day of the period that holds this date.
    #[must_use]
    pub fn end_of(self, period: Period) -> Self {
        let last_month = match period {
            Period::Month => self.month(),
            Period::Quarter => self.quarter() * 3,
            Period::Year => 12,
        };
        // The 1st of a month 1–12 of a year this date already has exists.
        let first = civil::Date::new(self.year(), last_month, 1)
            .expect("the first of a month 1-12 of an existing date's year exists");
        Self(first.last_of_month())
    }

    /// Days from this date to `later`: `later − self`, positive when `later`
    /// is after this date, negative when before, 0 on the same day.
    #[must_use]
    pub fn days_until(self, later: Self) -> i32 {
        // A civil-date difference in the default configuration is in days
        // and never fails (jiff documents `Date - Date` as panic-free).
        (later.0 - self.0).get_days()
    }
}

impl FromStr for Date {
    type Err = CalendarError;

    /// Reads the forms listed in the crate documentation (ISO, `dd/mm/yy`,
    /// `dd/mm/yyyy`, Spanish month and year → the month's last day).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse::parse(text).map(Self)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.year(),
            self.month(),
            self.day()
        )
    }
}

/// A calendar period for [`Date::end_of`]: in formulas the words `"month"`,
/// `"quarter"` and `"year"`.
///
/// ```
/// use semaforo_calendar::Period;
/// assert_eq!("quarter".parse::<Period>()?, Period::Quarter);
/// assert!("trimestre".parse::<Period>().is_err());
/// # Ok::<(), semaforo_calendar::CalendarError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Period {
    /// A calendar month.
    Month,
    /// A calendar quarter (January–March, April–June, …).
    Quarter,
    /// A calendar year.
    Year,
}

impl FromStr for Period {
    type Err = CalendarError;

    fn from_str(word: &str) -> Result<Self, Self::Err> {
        match word {
            "month" => Ok(Self::Month),
            "quarter" => Ok(Self::Quarter),
            "year" => Ok(Self::Year),
            _ => Err(CalendarError::UnknownPeriod {
                word: word.to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn days_until_is_later_minus_earlier() {
        // DOMAIN.md §4: the earliest due date (Dic. 2000) is 3,103 days
        // before the cut-off 2009-06-30.
        assert_eq!(d("Dic. 2000").days_until(d("2009-06-30")), 3103);
        assert_eq!(d("2009-06-30").days_until(d("Dic. 2000")), -3103);
        // Rec. 2: due Dic 2001, evidence sent 2003-04-01, 456 days later.
        assert_eq!(d("Dic 2001").days_until(d("2003-04-01")), 456);
        assert_eq!(d("2009-06-30").days_until(d("30/06/09")), 0);
        // Across a leap day.
        assert_eq!(d("2024-02-28").days_until(d("2024-03-01")), 2);
    }

    #[test]
    fn parts_and_quarters() {
        let cut_off = d("2009-06-30");
        assert_eq!(
            (cut_off.year(), cut_off.month(), cut_off.day()),
            (2009, 6, 30)
        );
        let quarters: Vec<i8> = (1..=12)
            .map(|m| d(&format!("2020-{m:02}-01")).quarter())
            .collect();
        assert_eq!(quarters, [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
    }

    #[test]
    fn end_of_period() {
        let day = d("13/01/20");
        assert_eq!(day.end_of(Period::Month), d("2020-01-31"));
        assert_eq!(day.end_of(Period::Quarter), d("2020-03-31"));
        assert_eq!(day.end_of(Period::Year), d("2020-12-31"));
        assert_eq!(d("2024-02-10").end_of(Period::Month), d("2024-02-29"));
        assert_eq!(d("2009-05-31").end_of(Period::Quarter), d("2009-06-30"));
        assert_eq!(d("2009-11-30").end_of(Period::Quarter), d("2009-12-31"));
        // Already at the end: unchanged.
        assert_eq!(d("2009-06-30").end_of(Period::Quarter), d("2009-06-30"));
    }

    #[test]
    fn order_is_time_order() {
        assert!(d("Dic. 2000") < d("Jun. 2001"));
        assert!(d("Junio 2001") == d("2001-06-30"));
        assert!(d("31/12/99") < d("01/01/00"));
    }

    #[test]
    fn shows_as_iso() {
        assert_eq!(d("Jun. 2001").to_string(), "2001-06-30");
        assert_eq!(d("1/2/0033").to_string(), "0033-02-01");
    }

    #[test]
    fn period_words_are_english_and_exact() {
        assert_eq!("month".parse::<Period>(), Ok(Period::Month));
        assert_eq!("year".parse::<Period>(), Ok(Period::Year));
        let err = "Month".parse::<Period>().unwrap_err().to_string();
        assert_eq!(
            err,
            "end_of_period: \"Month\" is not a period; accepted: \"month\", \"quarter\", \"year\""
        );
    }
}
