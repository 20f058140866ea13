//! Why a text is not a date, or a period word is not a period.

use crate::parse::ACCEPTED_FORMS;

/// A calendar failure. In a formula it becomes a `script_error` cell error
/// whose message is this error's text, so it names the offending input and
/// what would have been accepted.
///
/// ```
/// use semaforo_calendar::Date;
/// let err = "Q3 2009".parse::<Date>().unwrap_err();
/// assert!(err.to_string().starts_with("date: \"Q3 2009\" is not a date in an accepted form"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CalendarError {
    /// The text fits none of the accepted forms. Nothing is guessed.
    #[error("date: \"{text}\" is not a date in an accepted form; accepted: {ACCEPTED_FORMS}")]
    Unrecognised {
        /// The text as given.
        text: String,
    },
    /// The text has an accepted shape but names a day the calendar does not
    /// have (`31/02/2020`, month 13).
    #[error("date: \"{text}\" is not a calendar date ({reason})")]
    NotACalendarDate {
        /// The text as given.
        text: String,
        /// Which part is out of range.
        reason: String,
    },
    /// `end_of_period` was given a period word it does not know.
    #[error(
        "end_of_period: \"{word}\" is not a period; accepted: \"month\", \"quarter\", \"year\""
    )]
    UnknownPeriod {
        /// The word as given.
        word: String,
    },
}
