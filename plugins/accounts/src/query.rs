//! The balance query language: what goes between the quotes of
//! `saldo("…")`. Parsed once, when the pack compiles; the canonical text is
//! what names the input column.
//!
//! ```text
//! query := [sign] term (sign term)*          sign := "+" | "-"
//! term  := code | code ".." code | pseudo    code := [0-9]+
//! pseudo := [A-Za-z_][A-Za-z0-9_]*
//! ```
//!
//! Spaces may surround terms, signs and `..`, never split a term: `14 11`
//! is refused rather than read as `1411`.

use std::fmt;
use std::str::FromStr;

/// Whether a term is added or subtracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sign {
    /// `+`, and a first term written without a sign.
    Plus,
    /// `-`: a hyphen inside a query is subtraction, never a range.
    Minus,
}

/// One operand of a [`Query`].
///
/// ```
/// use semaforo_accounts::{Query, Term};
/// let query: Query = "1421..1424 + SOCIOS_TOTAL".parse().unwrap();
/// assert_eq!(query.terms()[0].1, Term::Range { start: "1421".into(), end: "1424".into() });
/// assert_eq!(query.terms()[1].1, Term::Item("SOCIOS_TOTAL".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Term {
    /// An account code: digits, leading zeros significant (`0101` ≠ `101`).
    Account(String),
    /// Every account of one level from `start` to `end`, both included
    /// (codes of the same length, `start` ≤ `end`).
    Range {
        /// First code of the range.
        start: String,
        /// Last code of the range.
        end: String,
    },
    /// A pseudo-code for a figure that is not an account (`SOCIOS_TOTAL`):
    /// it has no sub-accounts.
    Item(String),
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Account(code) | Self::Item(code) => f.write_str(code),
            Self::Range { start, end } => write!(f, "{start}..{end}"),
        }
    }
}

/// A parsed balance query: terms added or subtracted, e.g.
/// `19-1901-190205` or `1411..1414+1421..1424`. Its [`Display`](fmt::Display)
/// is the canonical form (no spaces, no leading `+`).
///
/// ```
/// use semaforo_accounts::Query;
/// let query = Query::parse(" 1411..1414 + 1421..1424 - 1103 ").unwrap();
/// assert_eq!(query.to_string(), "1411..1414+1421..1424-1103");
/// assert_eq!(Query::parse("-1499").unwrap().to_string(), "-1499");
/// let error = Query::parse("1428..1421").unwrap_err();
/// assert_eq!(error.to_string(), "range `1428..1421` runs backwards: write `1421..1428`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Query {
    terms: Vec<(Sign, Term)>,
}

/// Why a query text is not a valid [`Query`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    message: String,
    at: usize,
}

impl QueryError {
    /// Byte offset in the query text where the problem starts.
    ///
    /// ```
    /// use semaforo_accounts::Query;
    /// assert_eq!(Query::parse("14 + 1x").unwrap_err().offset(), 5);
    /// ```
    #[must_use]
    pub fn offset(&self) -> usize {
        self.at
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for QueryError {}

/// What kind of code a text is, when it is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeKind {
    /// Digits only: an account of the chart, with a hierarchy by prefix.
    Account,
    /// An identifier: a figure outside the chart, without hierarchy.
    Item,
}

/// Classifies a code as the grammar does: digits, or an identifier.
pub(crate) fn classify(code: &str) -> Option<CodeKind> {
    let bytes = code.as_bytes();
    let first = *bytes.first()?;
    if bytes.iter().all(u8::is_ascii_digit) {
        Some(CodeKind::Account)
    } else if (first.is_ascii_alphabetic() || first == b'_')
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_')
    {
        Some(CodeKind::Item)
    } else {
        None
    }
}

const WHAT_A_TERM_IS: &str = "an account code such as `14`, a range such as `1421..1428` or a pseudo-code such as `SOCIOS_TOTAL`";

impl Query {
    /// Parses a query; see the module grammar. A first term may carry a sign
    /// (`-1499` is the provisions as a positive amount).
    ///
    /// ```
    /// use semaforo_accounts::Query;
    /// assert_eq!(Query::parse("11 - 1103").unwrap().to_string(), "11-1103");
    /// assert!(Query::parse("14 11").is_err());
    /// ```
    ///
    /// # Errors
    /// An empty query, a character outside the grammar, a missing term or
    /// operator, a code mixing digits and letters, or a range whose ends
    /// differ in length, run backwards or are pseudo-codes.
    pub fn parse(text: &str) -> Result<Self, QueryError> {
        Parser { text, at: 0 }.query()
    }

    /// The terms, each with its sign, in the order written.
    ///
    /// ```
    /// use semaforo_accounts::{Query, Sign, Term};
    /// let query = Query::parse("11-1103").unwrap();
    /// assert_eq!(query.terms()[1], (Sign::Minus, Term::Account("1103".into())));
    /// ```
    #[must_use]
    pub fn terms(&self) -> &[(Sign, Term)] {
        &self.terms
    }

    /// The code, when the query is one unsigned account or pseudo-code.
    ///
    /// ```
    /// use semaforo_accounts::Query;
    /// assert_eq!(Query::parse("SOCIOS_TOTAL").unwrap().code(), Some("SOCIOS_TOTAL"));
    /// assert_eq!(Query::parse("11-1103").unwrap().code(), None);
    /// ```
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        match self.terms.as_slice() {
            [(Sign::Plus, Term::Account(code) | Term::Item(code))] => Some(code),
            _ => None,
        }
    }
}

impl FromStr for Query {
    type Err = QueryError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (sign, term)) in self.terms.iter().enumerate() {
            match sign {
                Sign::Minus => f.write_str("-")?,
                Sign::Plus if i > 0 => f.write_str("+")?,
                Sign::Plus => {}
            }
            write!(f, "{term}")?;
        }
        Ok(())
    }
}

/// A cursor over the query text.
struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, at: usize, message: String) -> QueryError {
        QueryError { message, at }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.at..].chars().next()
    }

    fn skip_spaces(&mut self) {
        let rest = &self.text[self.at..];
        self.at += rest.len() - rest.trim_start().len();
    }

    fn word(&mut self) -> &'a str {
        let rest = &self.text[self.at..];
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        self.at += len;
        &rest[..len]
    }

    fn query(mut self) -> Result<Query, QueryError> {
        self.skip_spaces();
        if self.at == self.text.len() {
            return Err(self.error(0, format!("the query is empty: write {WHAT_A_TERM_IS}")));
        }
        let mut sign = Sign::Plus;
        let mut after = None;
        if let Some(c @ ('+' | '-')) = self.peek() {
            sign = if c == '-' { Sign::Minus } else { Sign::Plus };
            self.at += 1;
            after = Some(c);
        }
        let mut terms = Vec::new();
        loop {
            self.skip_spaces();
            let term = self.term(after)?;
            self.skip_spaces();
            let end = self.at;
            match self.peek() {
                None => {
                    terms.push((sign, term));
                    return Ok(Query { terms });
                }
                Some(c @ ('+' | '-')) => {
                    terms.push((sign, term));
                    sign = if c == '-' { Sign::Minus } else { Sign::Plus };
                    self.at += 1;
                    after = Some(c);
                }
                Some(c) if c.is_ascii_alphanumeric() || c == '_' => {
                    let next = self.word();
                    return Err(self.error(
                        end,
                        format!("missing `+` or `-` between `{term}` and `{next}` (spaces never join a code)"),
                    ));
                }
                Some(c) => {
                    return Err(self.error(
                        end,
                        format!("unexpected `{c}` after `{term}`: join terms with `+` or `-`"),
                    ));
                }
            }
        }
    }

    /// One term; `after` is the operator just read, for messages.
    fn term(&mut self, after: Option<char>) -> Result<Term, QueryError> {
        let start_at = self.at;
        let first = self.word();
        if first.is_empty() {
            let place = after.map_or_else(String::new, |op| format!(" after `{op}`"));
            return Err(match self.peek() {
                None => self.error(
                    start_at,
                    format!("the query ends{place}: expected {WHAT_A_TERM_IS}"),
                ),
                Some(c) => self.error(
                    start_at,
                    format!("expected {WHAT_A_TERM_IS}{place}, found `{c}`"),
                ),
            });
        }
        let kind = code_kind(first).map_err(|message| self.error(start_at, message))?;
        let before_dots = self.at;
        self.skip_spaces();
        if !self.text[self.at..].starts_with('.') {
            self.at = before_dots;
            return Ok(match kind {
                CodeKind::Account => Term::Account(first.to_owned()),
                CodeKind::Item => Term::Item(first.to_owned()),
            });
        }
        if !self.text[self.at..].starts_with("..") {
            return Err(self.error(
                self.at,
                format!("unexpected `.` after `{first}`: a range is written `1421..1428`"),
            ));
        }
        self.at += 2;
        self.skip_spaces();
        let end_at = self.at;
        let last = self.word();
        if last.is_empty() {
            let found = self
                .peek()
                .map_or_else(|| "the end of the query".to_owned(), |c| format!("`{c}`"));
            return Err(self.error(
                end_at,
                format!("expected the last code of the range after `{first}..`, found {found}"),
            ));
        }
        let last_kind = code_kind(last).map_err(|message| self.error(end_at, message))?;
        if kind == CodeKind::Item || last_kind == CodeKind::Item {
            return Err(self.error(
                start_at,
                format!("`{first}..{last}`: a range joins two account codes (digits); pseudo-codes have no order"),
            ));
        }
        if first.len() != last.len() {
            return Err(self.error(
                start_at,
                format!(
                    "the ends of range `{first}..{last}` have different lengths ({} and {} digits): both must be accounts of the same level",
                    first.len(),
                    last.len()
                ),
            ));
        }
        if first > last {
            return Err(self.error(
                start_at,
                format!("range `{first}..{last}` runs backwards: write `{last}..{first}`"),
            ));
        }
        Ok(Term::Range {
            start: first.to_owned(),
            end: last.to_owned(),
        })
    }
}

fn code_kind(word: &str) -> Result<CodeKind, String> {
    classify(word).ok_or_else(|| {
        format!(
            "`{word}` is neither an account code (digits only) nor a pseudo-code (a letter or `_`, then letters, digits or `_`)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> String {
        Query::parse(text).unwrap().to_string()
    }

    fn error(text: &str) -> String {
        Query::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn domain_queries_parse_to_their_canonical_form() {
        for (text, expected) in [
            ("14", "14"),
            ("1", "1"),
            ("149905", "149905"),
            ("11-1103", "11-1103"),
            (
                "1411..1414 + 1421..1424 + 1426..1428",
                "1411..1414+1421..1424+1426..1428",
            ),
            (
                "19-1901-190205-190210-190225-190240",
                "19-1901-190205-190210-190225-190240",
            ),
            ("SOCIOS_TOTAL", "SOCIOS_TOTAL"),
            ("  3 -\t36 ", "3-36"),
            ("1421 .. 1428", "1421..1428"),
            ("+14", "14"),
            ("-1499", "-1499"),
            ("- 1499 + _x1", "-1499+_x1"),
            ("1421..1421", "1421..1421"),
        ] {
            assert_eq!(canonical(text), expected, "{text}");
        }
    }

    #[test]
    fn leading_zeros_are_kept() {
        let query = Query::parse("0101").unwrap();
        assert_eq!(query.terms(), [(Sign::Plus, Term::Account("0101".into()))]);
        assert_ne!(query, Query::parse("101").unwrap());
    }

    #[test]
    fn terms_keep_their_signs_and_kinds() {
        let query = Query::parse("11-1103+1421..1424+SOCIOS").unwrap();
        assert_eq!(
            query.terms(),
            [
                (Sign::Plus, Term::Account("11".into())),
                (Sign::Minus, Term::Account("1103".into())),
                (
                    Sign::Plus,
                    Term::Range {
                        start: "1421".into(),
                        end: "1424".into()
                    }
                ),
                (Sign::Plus, Term::Item("SOCIOS".into())),
            ]
        );
    }

    #[test]
    fn bad_queries_say_what_is_wrong() {
        for (text, expected) in [
            (
                "",
                "the query is empty: write an account code such as `14`, a range such as `1421..1428` or a pseudo-code such as `SOCIOS_TOTAL`",
            ),
            (
                "   ",
                "the query is empty: write an account code such as `14`, a range such as `1421..1428` or a pseudo-code such as `SOCIOS_TOTAL`",
            ),
            (
                "1x",
                "`1x` is neither an account code (digits only) nor a pseudo-code (a letter or `_`, then letters, digits or `_`)",
            ),
            (
                "14 11",
                "missing `+` or `-` between `14` and `11` (spaces never join a code)",
            ),
            (
                "14+",
                "the query ends after `+`: expected an account code such as `14`, a range such as `1421..1428` or a pseudo-code such as `SOCIOS_TOTAL`",
            ),
            (
                "14--11",
                "expected an account code such as `14`, a range such as `1421..1428` or a pseudo-code such as `SOCIOS_TOTAL` after `-`, found `-`",
            ),
            (
                "-",
                "the query ends after `-`: expected an account code such as `14`, a range such as `1421..1428` or a pseudo-code such as `SOCIOS_TOTAL`",
            ),
            (
                "14 – 11",
                "unexpected `–` after `14`: join terms with `+` or `-`",
            ),
            (
                "14*2",
                "unexpected `*` after `14`: join terms with `+` or `-`",
            ),
            (
                "1421.1428",
                "unexpected `.` after `1421`: a range is written `1421..1428`",
            ),
            (
                "1421...1428",
                "expected the last code of the range after `1421..`, found `.`",
            ),
            (
                "1421..",
                "expected the last code of the range after `1421..`, found the end of the query",
            ),
            (
                "1421..14",
                "the ends of range `1421..14` have different lengths (4 and 2 digits): both must be accounts of the same level",
            ),
            (
                "1428..1421",
                "range `1428..1421` runs backwards: write `1421..1428`",
            ),
            (
                "A..B",
                "`A..B`: a range joins two account codes (digits); pseudo-codes have no order",
            ),
            (
                "1421..X",
                "`1421..X`: a range joins two account codes (digits); pseudo-codes have no order",
            ),
            (
                "\"14\"",
                "expected an account code such as `14`, a range such as `1421..1428` or a pseudo-code such as `SOCIOS_TOTAL`, found `\"`",
            ),
        ] {
            assert_eq!(error(text), expected, "{text}");
        }
    }

    #[test]
    fn errors_point_at_the_offending_text() {
        assert_eq!(Query::parse("14 + 1x").unwrap_err().offset(), 5);
        assert_eq!(Query::parse("14 11").unwrap_err().offset(), 3);
        assert_eq!(Query::parse("11 - 1428..1421").unwrap_err().offset(), 5);
    }

    #[test]
    fn a_single_code_is_recognised() {
        assert_eq!(Query::parse(" 1411 ").unwrap().code(), Some("1411"));
        assert_eq!(Query::parse("-1411").unwrap().code(), None);
        assert_eq!(Query::parse("1411..1412").unwrap().code(), None);
    }

    #[test]
    fn classify_follows_the_grammar() {
        assert_eq!(classify("0101"), Some(CodeKind::Account));
        assert_eq!(classify("SOCIOS_TOTAL"), Some(CodeKind::Item));
        assert_eq!(classify("_x9"), Some(CodeKind::Item));
        for bad in ["", "1x", "14.01", "a-b", "ñ"] {
            assert_eq!(classify(bad), None, "{bad}");
        }
    }
}
