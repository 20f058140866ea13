//! Rows posted as JSON — `[{"entity": "X", "npl": 1084203.65}, …]` — turned
//! into typed records ([`RecordBatch`]), the same records a spreadsheet's
//! rows become, which the pack's data reader reads as it reads a CSV
//! file's, with no text in between. The header is the union of the rows'
//! keys in the order first seen; row 0 is line 2 (the header is line 1).
//!
//! Numbers are read as JSON writes them, exactly: every value is taken as
//! raw JSON ([`RawValue`]), never through `f64`, parsed as a decimal (an
//! exponent allowed, as JSON allows it) and held typed, so `0.1` stays 0.1,
//! `12345678901234567.89` keeps every digit, and `1.500` is one and a half
//! whatever number format the pack declares for its CSV files. A number no
//! decimal holds exactly is passed on as written, as text, for the reader
//! to refuse on its cell. Strings are the cell's text (UTF-8, whatever the
//! pack's CSV encoding), `null` an empty cell; booleans, arrays and objects
//! are refused with the path of the value (`$[3].loans`).

use std::collections::HashMap;
use std::fmt;

use rust_decimal::Decimal;
use semaforo::{DataShape, FieldValue, NumberFormat, RecordBatch};
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::error::ApiError;

/// A JSON body's rows as records, with their header.
#[derive(Debug)]
pub(super) struct Rows {
    /// The keys of the rows in the order first seen, trimmed.
    pub header: Vec<String>,
    /// Row `i` at line `i + 2`.
    pub records: RecordBatch,
}

/// One cell of a row: text, or a number JSON wrote.
#[derive(Debug)]
enum Cell {
    Text(String),
    Number(Decimal),
}

/// Reads `body` as an array of row objects into typed records. An empty
/// array yields the header of the key columns `shape` names.
///
/// # Errors
/// When the body is not JSON, not an array of objects, repeats a key in a
/// row, or holds a value that is not a string, a number or `null`.
pub(super) fn to_records(body: &[u8], shape: &DataShape) -> Result<Rows, ApiError> {
    let rows: Vec<&RawValue> = serde_json::from_slice(body).map_err(|e| malformed(&e, body))?;
    let mut header: Vec<String> = Vec::new();
    let mut column_of: HashMap<String, usize> = HashMap::new();
    let mut cells: Vec<Vec<(usize, Cell)>> = Vec::with_capacity(rows.len());
    for (index, raw) in rows.iter().enumerate() {
        let text = raw.get();
        if !text.starts_with('{') {
            return Err(ApiError::bad_request(
                "not_an_object",
                format!(
                    "row {index} is {}, not an object of column → value",
                    describe(text)
                ),
            )
            .at_field(format!("$[{index}]")));
        }
        let Row(entries) = serde_json::from_str(text).map_err(|e| {
            ApiError::bad_request("malformed_json", format!("row {index}: {e}"))
                .at_field(format!("$[{index}]"))
        })?;
        let mut row = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let path = || path(index, &key);
            let cell = cell(value.get()).map_err(|found| {
                ApiError::bad_request(
                    "invalid_value",
                    format!(
                        "row {index}, `{key}`: expected a string, a number or null, found {found}"
                    ),
                )
                .at_field(path())
            })?;
            let column = match column_of.get(&key) {
                Some(&column) => column,
                None => {
                    header.push(key.clone());
                    column_of.insert(key.clone(), header.len() - 1);
                    header.len() - 1
                }
            };
            if row.iter().any(|(c, _)| *c == column) {
                return Err(ApiError::bad_request(
                    "duplicate_key",
                    format!("row {index} has the key `{key}` more than once"),
                )
                .at_field(path()));
            }
            row.push((column, cell));
        }
        cells.push(row);
    }
    if cells.is_empty() {
        header.push(shape.entity.clone());
        header.extend(shape.period.clone());
    }
    let mut records = RecordBatch::default();
    let mut fields: Vec<FieldValue<'_>> = Vec::with_capacity(header.len());
    for (index, row) in cells.iter().enumerate() {
        fields.clear();
        fields.resize(header.len(), FieldValue::Text(b""));
        for (column, cell) in row {
            fields[*column] = match cell {
                Cell::Text(text) => FieldValue::Text(text.as_bytes()),
                Cell::Number(value) => FieldValue::Number(*value),
            };
        }
        records.push_fields(index as u64 + 2, fields.iter().copied());
    }
    let header = header
        .iter()
        .map(|key| key.trim_start_matches('\u{feff}').trim().to_owned())
        .collect();
    Ok(Rows { header, records })
}

/// The body is not valid JSON, or not an array.
fn malformed(error: &serde_json::Error, body: &[u8]) -> ApiError {
    let first = body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .copied()
        .unwrap_or_default();
    let (kind, message) = if error.is_data() && first != b'[' {
        (
            "not_an_array",
            format!(
                "the body must be a JSON array of row objects, e.g. [{{\"entity\": \"X\", \"npl\": 1.5}}]: {error}"
            ),
        )
    } else {
        ("malformed_json", format!("malformed JSON: {error}"))
    };
    ApiError {
        line: Some(error.line() as u64),
        column: Some(char_column(body, error.line(), error.column()) as u64),
        ..ApiError::bad_request(kind, message)
    }
}

/// serde_json counts columns in bytes; people and editors count characters
/// (`ñ` is one). The 1-based character column of the byte column `column`
/// on `line`; bytes that are not UTF-8 count one each.
fn char_column(body: &[u8], line: usize, column: usize) -> usize {
    let Some(text) = body.split(|&b| b == b'\n').nth(line.saturating_sub(1)) else {
        return column;
    };
    let before = &text[..column.saturating_sub(1).min(text.len())];
    String::from_utf8_lossy(before).chars().count() + 1
}

/// The cell of one JSON value, or what it is when it cannot be a cell.
fn cell(raw: &str) -> Result<Cell, &'static str> {
    const JSON_NUMBER: NumberFormat = NumberFormat {
        decimal: '.',
        thousands: None,
        exponent: true,
    };
    match raw.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<String>(raw)
            .map(Cell::Text)
            .map_err(|_| "a malformed string"),
        Some(b'-' | b'0'..=b'9') => Ok(match JSON_NUMBER.parse(raw) {
            Some(value) => Cell::Number(value),
            None => Cell::Text(raw.to_owned()),
        }),
        Some(b'n') => Ok(Cell::Text(String::new())),
        _ => Err(describe(raw)),
    }
}

/// What kind of JSON value `raw` is, for messages.
fn describe(raw: &str) -> &'static str {
    match raw.as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// `$[3].loans`, or `$[3]["net loans"]` for a key that is not a plain name.
fn path(index: usize, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if plain {
        format!("$[{index}].{key}")
    } else {
        format!(
            "$[{index}][{}]",
            serde_json::to_string(key).unwrap_or_default()
        )
    }
}

/// One row object: its entries in the order written, values left as raw JSON.
struct Row<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Row<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = Row<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of column → value")
            }

            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
                    entries.push(entry);
                }
                Ok(Row(entries))
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header and each record's line and fields (a typed number as
    /// `#` and its decimal).
    fn read(body: &str, shape: &DataShape) -> Result<(Vec<String>, Vec<String>), ApiError> {
        let rows = to_records(body.as_bytes(), shape)?;
        let records = rows
            .records
            .records()
            .map(|r| {
                let fields: Vec<String> = (0..r.len())
                    .map(|f| match r.value(f) {
                        FieldValue::Number(value) => format!("#{value}"),
                        FieldValue::Text(text) => String::from_utf8(text.to_vec()).unwrap(),
                    })
                    .collect();
                format!("{}: {}", r.line(), fields.join("|"))
            })
            .collect();
        Ok((rows.header, records))
    }

    fn plain(body: &str) -> Result<(Vec<String>, Vec<String>), ApiError> {
        read(body, &DataShape::default())
    }

    #[test]
    fn numbers_stay_exact_and_keys_keep_their_first_seen_order() {
        let (header, records) = plain(
            r#"[{"entity": "A", "npl": 12345678901234567.89, "loans": 0.1},
                {"loans": "3", "entity": "B, Ltd.", "extra": null, "npl": 1e-7}]"#,
        )
        .unwrap();
        assert_eq!(header, ["entity", "npl", "loans", "extra"]);
        assert_eq!(
            records,
            [
                "2: A|#12345678901234567.89|#0.1|",
                "3: B, Ltd.|#0.0000001|3|"
            ]
        );
        let (_, records) = plain(r#"[{"entity": "A", "npl": 1084203.65}]"#).unwrap();
        let rows = to_records(br#"[{"npl": 1084203.65}]"#, &DataShape::default()).unwrap();
        assert_eq!(
            rows.records.record(0).number(0),
            Some(Decimal::new(108_420_365, 2))
        );
        assert_eq!(records, ["2: A|#1084203.65"]);
    }

    #[test]
    fn numbers_are_typed_whatever_the_packs_csv_format_and_text_has_no_encoding() {
        let shape = DataShape {
            delimiter: b';',
            numbers: NumberFormat {
                decimal: ',',
                thousands: Some('.'),
                exponent: false,
            },
            encoding: semaforo::TextEncoding::Latin1,
            ..DataShape::default()
        };
        let body = r#"[{"entity": "Año → B", "a": 1.500, "b": 2E3, "c": -0.25, "d": 1e400, "e": "1.500"}]"#;
        let (header, records) = read(body, &shape).unwrap();
        assert_eq!(header, ["entity", "a", "b", "c", "d", "e"]);
        // 1.500 is one and a half, not 1,500 read with `.` between thousands;
        // 1e400 no decimal holds: passed on as written, for its cell to refuse;
        // a string is text, read with the pack's format.
        assert_eq!(records, ["2: Año → B|#1.500|#2000|#-0.25|1e400|1.500"]);
    }

    #[test]
    fn an_empty_array_is_the_key_header() {
        assert_eq!(plain("[]").unwrap(), (vec!["entity".to_owned()], vec![]));
    }

    #[test]
    fn refusals_name_the_place() {
        for (body, kind, field, line) in [
            ("[{\"entity\": 1,}]", "malformed_json", None, Some(1)),
            ("[\n{\"a\": 1}\n", "malformed_json", None, Some(3)),
            ("{\"entity\": \"A\"}", "not_an_array", None, Some(1)),
            (
                "[{\"entity\": \"A\"}, 7]",
                "not_an_object",
                Some("$[1]"),
                None,
            ),
            (
                "[{\"entity\": \"A\", \"ok\": true}]",
                "invalid_value",
                Some("$[0].ok"),
                None,
            ),
            (
                "[{\"entity\": \"A\", \"net loans\": [1]}]",
                "invalid_value",
                Some("$[0][\"net loans\"]"),
                None,
            ),
            (
                "[{\"entity\": \"A\", \"a\": 1, \"a\": 2}]",
                "duplicate_key",
                Some("$[0].a"),
                None,
            ),
        ] {
            let error = plain(body).unwrap_err();
            assert_eq!(error.kind, kind, "{body}: {error:?}");
            assert_eq!(error.field.as_deref(), field, "{body}");
            assert_eq!(error.line, line, "{body}");
        }
    }
}
