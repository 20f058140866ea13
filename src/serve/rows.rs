//! Rows posted as JSON — `[{"entity": "X", "npl": 1084203.65}, …]` — turned
//! into the CSV text the pack's data reader reads, so JSON and CSV bodies
//! are read by the same code. The header is the union of the rows' keys in
//! the order first seen; CSV line 2 is row 0.
//!
//! Numbers are read as JSON writes them, exactly: every value is taken as
//! raw JSON ([`RawValue`]), never through `f64`, parsed as a decimal (an
//! exponent allowed, as JSON allows it) and written in the pack's own
//! number format, so `0.1` stays 0.1, `12345678901234567.89` keeps every
//! digit, and `1.500` is one and a half even where the pack's CSV files
//! write `.` between thousands. A number no decimal holds exactly is passed
//! on as written, for the reader to refuse on its cell. Strings are the
//! cell's text, `null` an empty cell; booleans, arrays and objects are
//! refused with the path of the value (`$[3].loans`). The CSV is written
//! with the pack's delimiter and in its encoding; a character the encoding
//! cannot write is refused with its path.

use std::collections::HashMap;
use std::fmt;

use semaforo::{DataShape, NumberFormat};
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::error::ApiError;

/// Reads `body` as an array of row objects and writes it as CSV. An empty
/// array yields the header of the key columns `shape` names.
///
/// # Errors
/// When the body is not JSON, not an array of objects, repeats a key in a
/// row, or holds a value that is not a string, a number or `null`.
pub(super) fn to_csv(body: &[u8], shape: &DataShape) -> Result<Vec<u8>, ApiError> {
    let rows: Vec<&RawValue> = serde_json::from_slice(body).map_err(|e| malformed(&e, body))?;
    let mut header: Vec<String> = Vec::new();
    let mut column_of: HashMap<String, usize> = HashMap::new();
    let mut cells: Vec<Vec<(usize, Vec<u8>)>> = Vec::with_capacity(rows.len());
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
            let cell = cell_text(value.get(), &shape.numbers).map_err(|found| {
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
            let cell = shape
                .encoding
                .encode(&cell)
                .map_err(|c| unwritable(c, shape).at_field(path()))?
                .into_owned();
            row.push((column, cell));
        }
        cells.push(row);
    }
    if cells.is_empty() {
        header.push(shape.entity.clone());
        header.extend(shape.period.clone());
    }
    let header = header
        .iter()
        .map(|key| {
            shape
                .encoding
                .encode(key)
                .map(std::borrow::Cow::into_owned)
                .map_err(|c| unwritable(c, shape).at_field(key.clone()))
        })
        .collect::<Result<Vec<Vec<u8>>, ApiError>>()?;
    let mut csv = csv::WriterBuilder::new()
        .delimiter(shape.delimiter)
        .from_writer(Vec::new());
    let written: csv::Result<()> = (|| {
        csv.write_record(&header)?;
        let mut record = vec![Vec::new(); header.len()];
        for row in cells {
            record.iter_mut().for_each(Vec::clear);
            for (column, text) in row {
                record[column] = text;
            }
            csv.write_record(&record)?;
        }
        Ok(())
    })();
    written.map_err(|e| ApiError::internal(&format!("cannot write the rows as CSV: {e}")))?;
    csv.into_inner()
        .map_err(|e| ApiError::internal(&format!("cannot write the rows as CSV: {e}")))
}

/// A character of the body the pack's data encoding cannot write.
fn unwritable(c: char, shape: &DataShape) -> ApiError {
    ApiError::bad_request(
        "unwritable_character",
        format!(
            "`{c}` cannot be written in {}, the encoding the pack declares for its data ([data] encoding)",
            shape.encoding.name()
        ),
    )
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

/// The CSV text of one JSON value, numbers in the pack's format `numbers`,
/// or what it is when it cannot be a cell.
fn cell_text(raw: &str, numbers: &NumberFormat) -> Result<String, &'static str> {
    const JSON_NUMBER: NumberFormat = NumberFormat {
        decimal: '.',
        thousands: None,
        exponent: true,
    };
    match raw.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<String>(raw).map_err(|_| "a malformed string"),
        Some(b'-' | b'0'..=b'9') => Ok(match JSON_NUMBER.parse(raw) {
            Some(value) if numbers.decimal == '.' => value.to_string(),
            Some(value) => value.to_string().replace('.', &numbers.decimal.to_string()),
            None => raw.to_owned(),
        }),
        Some(b'n') => Ok(String::new()),
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

    fn csv(body: &str) -> Result<String, ApiError> {
        to_csv(body.as_bytes(), &DataShape::default()).map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn numbers_keep_their_exact_text_and_keys_their_first_seen_order() {
        let text = csv(
            r#"[{"entity": "A", "npl": 12345678901234567.89, "loans": 0.1},
                {"loans": "3", "entity": "B, Ltd.", "extra": null, "npl": 1e-7}]"#,
        )
        .unwrap();
        assert_eq!(
            text,
            "entity,npl,loans,extra\nA,12345678901234567.89,0.1,\n\"B, Ltd.\",0.0000001,3,\n"
        );
    }

    #[test]
    fn numbers_are_written_in_the_packs_own_format_and_encoding() {
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
        let body = r#"[{"entity": "Año", "a": 1.500, "b": 2E3, "c": -0.25, "d": 1e400}]"#;
        let text = to_csv(body.as_bytes(), &shape).unwrap();
        // 1.500 is one and a half, not 1,500 read with `.` between thousands;
        // 1e400 no decimal holds: passed on as written, for its cell to refuse.
        assert_eq!(text, b"entity;a;b;c;d\nA\xf1o;1,500;2000;-0,25;1e400\n");
        let error = to_csv(r#"[{"entity": "A → B"}]"#.as_bytes(), &shape).unwrap_err();
        assert_eq!(
            (error.kind, error.field.as_deref()),
            ("unwritable_character", Some("$[0].entity"))
        );
    }

    #[test]
    fn an_empty_array_is_the_key_header() {
        assert_eq!(csv("[]").unwrap(), "entity\n");
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
            let error = csv(body).unwrap_err();
            assert_eq!(error.kind, kind, "{body}: {error:?}");
            assert_eq!(error.field.as_deref(), field, "{body}");
            assert_eq!(error.line, line, "{body}");
        }
    }
}
