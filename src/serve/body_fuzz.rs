//! Generated request bodies through the handler's own path
//! (`evaluate_body`, no sockets): any bytes, truncated or mangled JSON,
//! deep nesting, numbers of every form, unicode, CSV. The handler never
//! panics; a refused body is a 4xx naming its line and column or its
//! field; every row of an accepted body is in the answer with a value or a
//! located error; and a number is never reinterpreted — its value is the
//! exact number written, or the cell is an error.

use std::fmt::Write as _;

use axum::body::to_bytes;
use axum::http::StatusCode;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use semaforo::{Cancel, RulePack, Snapshot, SourceFile};
use serde_json::Value;

use super::error::ApiError;
use super::{Abandon, BodyKind, evaluate_body};

/// The case count the integration tests use too (one file, no other dependency).
#[path = "../../tests/support/fuzz.rs"]
mod fuzz;

const PACK: &str = r#"[pack]
id = "fuzz"
version = "1"
[fields]
npl = "npl"
loans = "loans"
[[indicator]]
id = "npl_amount"
formula = "npl"
[[indicator]]
id = "ratio"
formula = "npl / loans"
"#;

fn snapshot() -> Snapshot {
    let pack = RulePack::from_sources(SourceFile::new("pack.toml", PACK), vec![]).unwrap();
    Snapshot {
        rules: semaforo::compile(pack, semaforo::PLUGINS).unwrap(),
        generation: 1,
    }
}

/// Cases per property: `SEMAFORO_FUZZ_CASES`, else a few hundred.
fn runner() -> TestRunner {
    fuzz::runner(300)
}

/// The handler's answer: the records of a 200, or the refusal.
fn answer(snapshot: &Snapshot, kind: BodyKind, body: &[u8]) -> Result<Vec<Value>, ApiError> {
    let response = evaluate_body(snapshot, kind, body, &Cancel::new())?;
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = futures_lite_block_on(to_bytes(response.into_body(), usize::MAX)).unwrap();
    Ok(serde_json::from_slice::<Value>(&bytes)
        .unwrap()
        .as_array()
        .unwrap()
        .clone())
}

/// Runs a future that is ready without I/O (a buffered body) to the end.
fn futures_lite_block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

/// A refusal is a 4xx that says where: line and column, or the field.
fn located(error: &ApiError) -> Result<(), String> {
    if !error.status.is_client_error() {
        return Err(format!("not a 4xx: {error:?}"));
    }
    let ok = match error.kind {
        "malformed_json" | "not_an_array" => error.line.is_some() && error.column.is_some(),
        "not_an_object" | "invalid_value" | "duplicate_key" | "missing_column" => {
            error.field.is_some()
        }
        "unreadable_csv" => error.line.is_some(),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("a refusal without its place: {error:?}"))
    }
}

/// A valid JSON number, in every form: integers and fractions up to 30
/// digits, exponents up to ±999, `-0`, `0.1`.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0.1".to_owned()),
        Just("-0".to_owned()),
        Just("1e400".to_owned()),
        Just("-0.0e-5".to_owned()),
        Just("79228162514264337593543950335".to_owned()),
        Just("79228162514264337593543950336".to_owned()),
        "-?(0|[1-9][0-9]{0,29})(\\.[0-9]{1,30})?([eE][+-]?[0-9]{1,3})?",
    ]
}

/// A JSON value for a cell, with what it must become.
#[derive(Debug, Clone)]
enum Cell {
    Number(String),
    Text(String),
    Null,
}

impl Cell {
    fn json(&self) -> String {
        match self {
            Self::Number(n) => n.clone(),
            Self::Text(t) => serde_json::to_string(t).unwrap(),
            Self::Null => "null".to_owned(),
        }
    }
}

fn cell() -> impl Strategy<Value = Cell> {
    prop_oneof![
        4 => number().prop_map(Cell::Number),
        1 => number().prop_map(Cell::Text),
        1 => any::<String>().prop_map(Cell::Text),
        1 => Just(Cell::Null),
    ]
}

/// One row: an entity (any non-blank text) and optional npl and loans.
fn row() -> impl Strategy<Value = (String, Option<Cell>, Option<Cell>, bool)> {
    (
        "[A-Za-z0-9ñÑ💰 ,\"';\\t-]{0,12}[A-Za-z0-9ñ💰]",
        proptest::option::of(cell()),
        proptest::option::of(cell()),
        any::<bool>(),
    )
}

/// `(negative, significant digits, exponent)` of a decimal text, zero as
/// `(false, "", 0)`: two texts are the same number when these are equal.
fn canonical(text: &str) -> (bool, String, i64) {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i64>().unwrap()),
        None => (text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{whole}{fraction}");
    let exponent = exponent - fraction.len() as i64;
    let leading = digits.len() - digits.trim_start_matches('0').len();
    let digits = &digits[leading..];
    let trimmed = digits.trim_end_matches('0');
    if trimmed.is_empty() {
        return (false, String::new(), 0);
    }
    let exponent = exponent + (digits.len() - trimmed.len()) as i64;
    (negative, trimmed.to_owned(), exponent)
}

#[test]
fn canonical_numbers_compare_by_value() {
    assert_eq!(canonical("0.10"), canonical("1e-1"));
    assert_eq!(canonical("-0"), canonical("0.000"));
    assert_eq!(canonical("1200"), canonical("12E2"));
    assert_ne!(canonical("0.1"), canonical("0.10000000000000001"));
}

#[test]
fn every_row_of_a_json_body_is_answered_and_numbers_stay_exact() {
    let snapshot = snapshot();
    let rows = proptest::collection::vec(row(), 0..8);
    runner()
        .run(&rows, |rows| {
            let mut body = String::from("[");
            for (i, (entity, npl, loans, loans_first)) in rows.iter().enumerate() {
                let mut entries = vec![format!(
                    "\"entity\": {}",
                    serde_json::to_string(entity).unwrap()
                )];
                let npl = npl.as_ref().map(|c| format!("\"npl\": {}", c.json()));
                let loans = loans.as_ref().map(|c| format!("\"loans\": {}", c.json()));
                let (a, b) = if *loans_first {
                    (loans, npl)
                } else {
                    (npl, loans)
                };
                entries.extend(a);
                entries.extend(b);
                let separator = if i == 0 { "" } else { ",\n" };
                write!(body, "{separator}{{{}}}", entries.join(", ")).unwrap();
            }
            body.push(']');
            let records = answer(&snapshot, BodyKind::Json, body.as_bytes())
                .map_err(|e| TestCaseError::fail(format!("{body}\nrefused: {e:?}")))?;
            prop_assert_eq!(records.len(), rows.len() * 2, "{}", body);
            for (i, (entity, npl, _, _)) in rows.iter().enumerate() {
                let record = &records[i * 2];
                // The data reader trims keys, whichever way they come.
                prop_assert_eq!(record["entity"].as_str(), Some(entity.trim()), "{}", body);
                prop_assert_eq!(&record["indicator"], "npl_amount");
                let value = record["value"].as_str();
                let error = &record["error"];
                prop_assert!(
                    value.is_some() != error.is_object(),
                    "a value or an error, not both or neither: {}",
                    record
                );
                let written = match npl {
                    Some(Cell::Number(n)) => Some(n.as_str()),
                    Some(Cell::Text(t)) => Some(t.as_str()),
                    _ => None,
                };
                match (value, written) {
                    (Some(value), Some(written)) => prop_assert_eq!(
                        canonical(value),
                        canonical(written.trim()),
                        "`{}` became `{}`",
                        written,
                        value
                    ),
                    (Some(value), None) => {
                        return Err(TestCaseError::fail(format!(
                            "a value {value} from no input: {record}"
                        )));
                    }
                    (None, Some(written)) if written.trim().is_empty() => {
                        // An empty cell: missing, naming the field and the entity.
                        prop_assert_eq!(&error["kind"], "missing_value", "{}", record);
                    }
                    (None, Some(_)) => {
                        // A value that is not an exact decimal: an error at its cell.
                        let message = error["message"].as_str().unwrap_or_default();
                        prop_assert!(
                            message.contains(&format!("rows as CSV:{}:", i + 2)),
                            "an unlocated error: {}",
                            record
                        );
                    }
                    (None, None) => {}
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn any_bytes_are_answered_or_refused_with_their_place() {
    let snapshot = snapshot();
    let valid =
        r#"[{"entity": "A", "npl": 1.5, "loans": 3}, {"entity": "B", "npl": null, "loans": "2"}]"#;
    let bodies = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..256),
        // Valid JSON cut anywhere.
        (0..valid.len()).prop_map(move |cut| valid.as_bytes()[..cut].to_vec()),
        // Valid JSON with one byte replaced (invalid UTF-8 included).
        (0..valid.len(), any::<u8>()).prop_map(move |(at, byte)| {
            let mut body = valid.as_bytes().to_vec();
            body[at] = byte;
            body
        }),
        // Not arrays of objects, nested values, duplicate keys, bools.
        prop_oneof![
            Just("{\"entity\": \"A\"}"),
            Just("[1, 2]"),
            Just("[{\"entity\": \"A\", \"npl\": true}]"),
            Just("[{\"entity\": \"A\", \"npl\": {\"x\": 1}}]"),
            Just("[{\"entity\": \"A\", \"npl\": 1, \"npl\": 2}]"),
            Just("[{\"npl\": 1}]"),
            Just("\"text\""),
            Just(""),
        ]
        .prop_map(|s| s.as_bytes().to_vec()),
        // Deep nesting, at the top and inside a row.
        (1..5000usize, any::<bool>()).prop_map(|(depth, inside)| {
            let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            if inside {
                format!("[{{\"entity\": \"A\", \"npl\": {nested}}}]").into_bytes()
            } else {
                nested.into_bytes()
            }
        }),
    ];
    runner()
        .run(&bodies, |body| {
            for kind in [BodyKind::Json, BodyKind::Csv] {
                match answer(&snapshot, kind, &body) {
                    Ok(records) => {
                        for record in &records {
                            prop_assert!(
                                record["value"].is_string() || record["error"].is_object(),
                                "{}",
                                record
                            );
                        }
                    }
                    Err(error) => located(&error).map_err(TestCaseError::fail)?,
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn refusals_name_their_place_exactly() {
    let snapshot = snapshot();
    let refusal = |kind, body: &str| answer(&snapshot, kind, body.as_bytes()).unwrap_err();
    let deep = format!(
        "[{{\"entity\": \"A\", \"npl\": {}1{}}}]",
        "[".repeat(200),
        "]".repeat(200)
    );
    let error = refusal(BodyKind::Json, &deep);
    assert_eq!(
        (error.kind, error.field.as_deref()),
        ("invalid_value", Some("$[0].npl"))
    );
    assert_eq!(
        error.message,
        "row 0, `npl`: expected a string, a number or null, found an array"
    );
    let error = refusal(
        BodyKind::Json,
        "[{\"entity\": \"A\", \"npl\": 1}\n, {\"entity\": \"B\", \"npl\": 2",
    );
    assert_eq!(
        (error.kind, error.line, error.column),
        ("malformed_json", Some(2), Some(26))
    );
    // Columns count characters: `ñ` is one, though two bytes.
    let error = refusal(BodyKind::Json, "[{\"entity\": \"ñandú\", \"npl\": -}]");
    assert_eq!(
        (error.kind, error.line, error.column),
        ("malformed_json", Some(1), Some(30))
    );
    let error = answer(&snapshot, BodyKind::Json, b"[{\"entity\": \"\xff\"}]").unwrap_err();
    assert_eq!(
        (error.kind, error.line, error.column),
        ("malformed_json", Some(1), Some(14))
    );
}

#[test]
fn numbers_beyond_a_decimal_are_cell_errors_not_roundings() {
    let snapshot = snapshot();
    let records = answer(
        &snapshot,
        BodyKind::Json,
        br#"[{"entity": "A", "npl": 0.1, "loans": 3},
            {"entity": "B", "npl": 1e400, "loans": 3},
            {"entity": "C", "npl": 123456789012345678901234567890, "loans": 3},
            {"entity": "D", "npl": -0, "loans": 3}]"#,
    )
    .unwrap();
    assert_eq!(records[0]["value"], "0.1");
    for (record, text) in [
        (&records[2], "1e400"),
        (&records[4], "123456789012345678901234567890"),
    ] {
        assert_eq!(record["value"], Value::Null, "{record}");
        let message = record["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(text) && message.contains("rows as CSV:"),
            "{message}"
        );
    }
    assert_eq!(
        canonical(records[6]["value"].as_str().unwrap()),
        canonical("0")
    );
}

#[test]
fn a_json_number_arrives_exactly() {
    let records = answer(
        &snapshot(),
        BodyKind::Json,
        br#"[{"entity": "A", "npl": 1084203.65, "loans": 1},
            {"entity": "B", "npl": 12345678901234567.89, "loans": 1}]"#,
    )
    .unwrap();
    assert_eq!(records[0]["value"], "1084203.65");
    assert_eq!(records[2]["value"], "12345678901234567.89");
}

#[test]
fn an_abandoned_request_stops_before_evaluating() {
    let abandon = Abandon::default();
    let flag = abandon.cancel();
    let body = br#"[{"entity": "A", "npl": 1, "loans": 2}]"#;
    assert!(evaluate_body(&snapshot(), BodyKind::Json, body, &flag).is_ok());
    drop(abandon);
    let error = evaluate_body(&snapshot(), BodyKind::Json, body, &flag).unwrap_err();
    assert_eq!(error.kind, "abandoned");
}
