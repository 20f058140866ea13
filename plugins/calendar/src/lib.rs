//! # semaforo-calendar
//!
//! Dates in formulas. A text field or parameter (a due date as printed, a
//! report cut-off) becomes a [`Date`] with `date(text)`; functions give its
//! parts, the end of its month, quarter or year, and the days between two
//! dates; `<`, `<=`, `>`, `>=`, `==` and `!=` compare dates. A formula's
//! result must still be a number, so dates live inside formulas:
//! `days_between(date(vencimiento), date(corte))`.
//!
//! | function | gives | errors |
//! |---|---|---|
//! | `date(text)` | the date `text` names (forms below) | a text in no accepted form, or a day the calendar lacks |
//! | `end_of_month(text or date)` | the last day of that date's month | as `date` |
//! | `end_of_period(d, "month" \| "quarter" \| "year")` | the last day of the period holding `d` | any other period word |
//! | `days_between(a, b)` | `b − a` in days (later − earlier is positive) | — |
//! | `year(d)`, `month(d)`, `quarter(d)` | 2009, 1–12, 1–4 | — |
//!
//! Accepted text forms, each recognised explicitly and never guessed (in
//! particular `dd/mm` is always day first):
//!
//! | form | example | means |
//! |---|---|---|
//! | ISO `YYYY-MM-DD` | `2009-06-30` | that day |
//! | `dd/mm/yyyy` | `13/01/2020` | that day |
//! | `dd/mm/yy` | `13/01/20` → 2020-01-13 | that day; `00`–`69` → 2000–2069, `70`–`99` → 1970–1999 |
//! | Spanish month and year | `Dic. 2000`, `Dic 2001`, `Jun. 2001`, `Junio 2001`, `Diciembre 2000` | the **last** day of that month |
//!
//! Month words: the twelve Spanish names (and `setiembre`) and their
//! abbreviations `ene feb mar abr may jun jul ago sep sept set oct nov dic`,
//! in any case, with or without a dot, then a four-digit year. Spaces
//! around the text are ignored.
//!
//! DOMAIN.md §4: a commitment due "Dic. 2000" is due 2000-12-31, 3,103 days
//! before the report cut-off 2009-06-30.
//!
//! ```
//! use semaforo_core::{compile, evaluate, RulePack, SourceFile, Table};
//! let pack = RulePack::from_sources(SourceFile::new("pack.toml", r#"
//! [pack]
//! id = "demo"
//! version = "1"
//! plugins = ["calendar"]
//! [parameters]
//! corte = "2009-06-30"
//! [fields]
//! vence = { column = "vence", type = "text" }
//! [[indicator]]
//! id = "dias"
//! unit = "days"
//! formula = "days_between(date(vence), date(corte))"
//! [[indicator]]
//! id = "vencido"
//! formula = "if date(vence) < date(corte) { 1 } else { 0 }"
//! "#), vec![]).unwrap();
//! let rules = compile(pack, &[&semaforo_calendar::CalendarPlugin]).unwrap();
//! let csv = "entity,vence\nA,Dic. 2000\nB,13/01/20\nC,Q4 2000\n";
//! let table = Table::from_csv_reader(csv.as_bytes(), "inline", rules.pack().data_shape()).unwrap();
//! let results = evaluate(&rules, &table);
//! assert_eq!(results.cell(0, 0).value.unwrap().to_string(), "3103");
//! assert_eq!(results.cell(0, 1).value.unwrap().to_string(), "1");
//! assert_eq!(results.cell(1, 0).value.unwrap().to_string(), "-3849");
//! assert_eq!(results.cell(1, 1).value.unwrap().to_string(), "0");
//! let error = results.cell(2, 0).error.as_ref().unwrap();
//! assert_eq!(error.kind(), "script_error");
//! assert!(error.to_string().contains("\"Q4 2000\" is not a date in an accepted form"));
//! ```
#![forbid(unsafe_code)]

mod date;
mod error;
mod parse;

pub use date::{Date, Period};
pub use error::CalendarError;

use rust_decimal::Decimal;
use semaforo_core::rhai::{Dynamic, Engine, EvalAltResult};
use semaforo_core::{FormulaFailure, Plugin, Registry};

/// The `calendar` plugin. List it in a pack as `plugins = ["calendar"]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CalendarPlugin;

type Outcome<T> = Result<T, Box<EvalAltResult>>;

/// A calendar error as a refusal: a `script_error` cell whose message is
/// the error's text.
fn script_error(error: &CalendarError) -> Box<EvalAltResult> {
    FormulaFailure::refused(error.to_string()).into_error()
}

fn date(text: &str) -> Outcome<Date> {
    text.parse().map_err(|e| script_error(&e))
}

fn end_of_month_text(text: &str) -> Outcome<Date> {
    date(text).map(|d| d.end_of(Period::Month))
}

fn end_of_period(d: Date, word: &str) -> Outcome<Date> {
    let period: Period = word.parse().map_err(|e| script_error(&e))?;
    Ok(d.end_of(period))
}

fn days_between(a: Date, b: Date) -> Decimal {
    Decimal::from(a.days_until(b))
}

/// The error for comparing a date with something that is not a date.
fn mixed_comparison(operator: &str, date: &str, other: &Dynamic) -> Outcome<bool> {
    Err(FormulaFailure::refused(format!(
        "`{operator}` compares a date ({date}) with a {} ({other}); convert text with date(…) first",
        other.type_name()
    ))
    .into_error())
}

fn iso(d: &mut Date) -> String {
    d.to_string()
}

impl Plugin for CalendarPlugin {
    fn name(&self) -> &'static str {
        "calendar"
    }

    fn description(&self) -> &'static str {
        "dates: date(text), days_between, year, month, quarter, end_of_month, end_of_period, comparisons"
    }

    fn register(&self, registry: &mut Registry<'_>) {
        register_into(registry.engine());
    }
}

/// Registers the `date` type, its functions and its comparisons.
fn register_into(engine: &mut Engine) {
    engine.register_type_with_name::<Date>("date");
    engine.register_fn("date", date);
    engine.register_fn("end_of_month", end_of_month_text);
    engine.register_fn("end_of_month", |d: Date| d.end_of(Period::Month));
    engine.register_fn("end_of_period", end_of_period);
    engine.register_fn("days_between", days_between);
    engine.register_fn("year", |d: Date| Decimal::from(d.year()));
    engine.register_fn("month", |d: Date| Decimal::from(d.month()));
    engine.register_fn("quarter", |d: Date| Decimal::from(d.quarter()));
    engine.register_fn("<", |a: Date, b: Date| a < b);
    engine.register_fn("<=", |a: Date, b: Date| a <= b);
    engine.register_fn(">", |a: Date, b: Date| a > b);
    engine.register_fn(">=", |a: Date, b: Date| a >= b);
    engine.register_fn("==", |a: Date, b: Date| a == b);
    engine.register_fn("!=", |a: Date, b: Date| a != b);
    // rhai answers `false` when it compares values of different types; a
    // date against text (`date(vence) < corte`, `date(…)` forgotten) must be
    // an error instead, or the comparison would be silently wrong.
    for operator in ["<", "<=", ">", ">=", "==", "!="] {
        engine.register_fn(operator, move |a: Date, b: Dynamic| {
            mixed_comparison(operator, &a.to_string(), &b)
        });
        engine.register_fn(operator, move |a: Dynamic, b: Date| {
            mixed_comparison(operator, &b.to_string(), &a)
        });
    }
    engine.register_fn("to_string", iso);
    engine.register_fn("to_debug", iso);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An engine like a pack's (decimals only) with just this plugin's
    /// functions; formulas here write decimal literals explicitly.
    fn engine() -> Engine {
        use rhai::packages::{CorePackage, LogicPackage, Package};
        let mut engine = Engine::new_raw();
        engine.register_global_module(CorePackage::new().as_shared_module());
        engine.register_global_module(LogicPackage::new().as_shared_module());
        register_into(&mut engine);
        engine
    }

    fn number(script: &str) -> Decimal {
        engine()
            .eval::<Dynamic>(script)
            .unwrap_or_else(|e| panic!("{script}: {e}"))
            .as_decimal()
            .unwrap_or_else(|t| panic!("{script}: not a number but {t}"))
    }

    fn truth(script: &str) -> bool {
        engine().eval::<bool>(script).unwrap()
    }

    /// The error `script` fails with, as rhai words it.
    fn failure(script: &str) -> String {
        engine().eval::<Dynamic>(script).unwrap_err().to_string()
    }

    /// The refusal `script` fails with (a `script_error` cell): its text.
    fn refusal(script: &str) -> String {
        let error = engine().eval::<Dynamic>(script).unwrap_err();
        let failure = FormulaFailure::of(&error).unwrap_or_else(|| panic!("{script}: {error}"));
        assert_eq!(failure.kind(), "script_error", "{script}");
        failure.to_string()
    }

    #[test]
    fn domain_worked_examples() {
        // DOMAIN.md §4: Dec 2000 → 2000-12-31, 3,103 days before 2009-06-30.
        assert_eq!(
            number(r#"days_between(date("Dic. 2000"), date("2009-06-30"))"#),
            Decimal::from(3103)
        );
        // Rec. 2: due Dic 2001, evidence sent 2003-04-01: 456 days later.
        assert_eq!(
            number(r#"days_between(date("Dic 2001"), date("2003-04-01"))"#),
            Decimal::from(456)
        );
        // Earlier − later is negative: durations are later − earlier.
        assert_eq!(
            number(r#"days_between(date("2009-06-30"), date("Dic. 2000"))"#),
            Decimal::from(-3103)
        );
    }

    #[test]
    fn parts_are_decimals() {
        assert_eq!(number(r#"year(date("13/01/20"))"#), Decimal::from(2020));
        assert_eq!(number(r#"month(date("13/01/20"))"#), Decimal::ONE);
        assert_eq!(number(r#"quarter(date("Jun. 2001"))"#), Decimal::TWO);
        assert_eq!(
            number(r#"quarter(date("Diciembre 2000"))"#),
            Decimal::from(4)
        );
    }

    #[test]
    fn periods_end_where_the_calendar_says() {
        assert!(truth(r#"end_of_month("13/01/20") == date("2020-01-31")"#));
        assert!(truth(
            r#"end_of_month(date("2024-02-10")) == date("Feb 2024")"#
        ));
        assert!(truth(
            r#"end_of_period(date("2009-05-04"), "quarter") == date("Jun. 2009")"#
        ));
        assert!(truth(
            r#"end_of_period(date("2009-05-04"), "year") == date("31/12/2009")"#
        ));
        assert!(truth(
            r#"end_of_period(date("2009-05-04"), "month") == date("Mayo 2009")"#
        ));
    }

    #[test]
    fn comparisons_follow_time() {
        assert!(truth(r#"date("Dic. 2000") < date("2009-06-30")"#));
        assert!(truth(r#"date("Dic. 2000") <= date("31/12/00")"#));
        assert!(truth(r#"date("Junio 2001") > date("Dic. 2000")"#));
        assert!(truth(r#"date("Junio 2001") >= date("Jun. 2001")"#));
        assert!(truth(r#"date("Jun. 2001") == date("2001-06-30")"#));
        assert!(truth(r#"date("Jun. 2001") != date("2001-06-29")"#));
        assert!(!truth(r#"date("2009-06-30") < date("30/06/09")"#));
    }

    #[test]
    fn errors_name_the_text_and_the_accepted_forms() {
        let err = refusal(r#"date("Q3 2009")"#);
        assert!(
            err.contains("date: \"Q3 2009\" is not a date in an accepted form"),
            "{err}"
        );
        assert!(err.contains("dd/mm/yy"), "{err}");
        let err = refusal(r#"end_of_month("31/02/2020")"#);
        assert!(err.contains("2020-02 has 29 days, not 31"), "{err}");
        let err = refusal(r#"end_of_period(date("2009-06-30"), "semester")"#);
        assert!(err.contains("\"semester\" is not a period"), "{err}");
    }

    #[test]
    fn a_date_is_not_a_number_and_shows_as_iso() {
        let value = engine().eval::<Dynamic>(r#"date("Dic. 2000")"#).unwrap();
        assert!(value.as_decimal().is_err());
        assert_eq!(engine().map_type_name(value.type_name()), "date");
        assert_eq!(
            engine()
                .eval::<String>(r#"`due ${date("Dic. 2000")}`"#)
                .unwrap(),
            "due 2000-12-31"
        );
    }

    #[test]
    fn dates_do_not_mix_with_text_or_numbers() {
        let err = refusal(r#"date("Dic. 2000") < "2009-06-30""#);
        assert!(
            err.contains("`<` compares a date (2000-12-31) with a string (2009-06-30)"),
            "{err}"
        );
        for script in [
            r#""2009-06-30" >= date("Dic. 2000")"#,
            r#"date("Dic. 2000") == "2000-12-31""#,
            r#"date("Dic. 2000") != 3"#,
        ] {
            assert!(refusal(script).contains("compares a date"), "{script}");
        }
        assert!(failure(r#"days_between("Dic. 2000", "2009-06-30")"#).contains("days_between"));
    }
}
