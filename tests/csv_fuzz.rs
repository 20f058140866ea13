//! Hostile CSV for both readers (wide, and balances through the accounts
//! plugin): random bytes, quotes, delimiters, a BOM, CRLF, blank lines,
//! short and long rows, huge fields, invalid UTF-8, signs, locale
//! separators and repeated headers, generated. Whatever the input:
//! nothing panics; reading whole and streaming agree; a refused file says
//! where; every entity of a readable row is in the output with a value or
//! an error; two different entity byte strings never become one row; a
//! number outside the grammar is never a value. Case count:
//! `SEMAFORO_FUZZ_CASES`.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestCaseError;
use semaforo::{CompiledRuleSet, NumberFormat, ResultSet, TextEncoding};
use support::contents;

/// The pack, reading UTF-8 and reading Windows-1252.
fn pack(dir: &Path, manifest: &str) -> [(TextEncoding, CompiledRuleSet); 2] {
    std::fs::write(dir.join("pack.toml"), manifest).unwrap();
    [TextEncoding::Utf8, TextEncoding::Windows1252].map(|encoding| {
        let rules = semaforo::load(dir).unwrap();
        (encoding, rules.with_data_shape(|s| s.encoding = encoding))
    })
}

const WIDE: &str = r#"[pack]
id = "wide"
version = "1"
[data]
entity = "entity"
dimensions = ["segment"]
[fields]
a = "a"
b = "b"
[[indicator]]
id = "a_only"
formula = "a"
[[indicator]]
id = "sum"
formula = "a + b"
"#;

const BALANCES: &str = r#"[pack]
id = "bal"
version = "1"
plugins = ["accounts"]
[data]
format = "balances"
entity = "entity"
period = "period"
[[indicator]]
id = "one"
formula = "saldo(\"1\")"
[[indicator]]
id = "eleven"
formula = "saldo(\"11\")"
"#;

/// Field contents: names (some not UTF-8, some Latin-1 letters), codes,
/// numbers inside and outside the grammar, quotes, separators, spaces.
const PIECES: [&[u8]; 34] = [
    b"A",
    b"B",
    b"A\xff",
    b"A\xfe",
    b"\xc9",
    "É".as_bytes(),
    b" A ",
    b"1",
    b"11",
    b"111",
    b"-2.5",
    b"+-1",
    b"--1",
    b"1e5",
    b"1,5",
    b"1.234,5",
    "\u{2212}1".as_bytes(),
    b" 3 ",
    b"",
    b"\"",
    b"\"\"",
    b"\"A,B\"",
    b"\"A\nB\"",
    b",",
    b";",
    b"\t",
    b"\r",
    b"\n",
    b".",
    b"-",
    b"2007",
    b"x",
    b"\\",
    b"\xef\xbb\xbf",
];

/// A field: pieces, sometimes random bytes, rarely a huge run.
fn field() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        12 => proptest::collection::vec(select(&PIECES[..]), 0..3).prop_map(|p| p.concat()),
        2 => proptest::collection::vec(any::<u8>(), 0..6),
        1 => (1_usize..40_000).prop_map(|n| vec![b'9'; n]),
    ]
}

/// A whole file: an optional BOM, a header from `names` (repeats
/// possible), rows of any length, line endings mixed, blank lines.
fn file(names: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    let header = proptest::collection::vec(select(names), 1..7);
    let row = proptest::collection::vec(field(), 0..7);
    (
        any::<bool>(),
        header,
        proptest::collection::vec(
            (row, select(vec![&b"\n"[..], b"\r\n", b"\n\n", b"\r"])),
            0..14,
        ),
    )
        .prop_map(|(bom, header, rows)| {
            let mut out = Vec::new();
            if bom {
                out.extend_from_slice(b"\xef\xbb\xbf");
            }
            out.extend_from_slice(header.join(",").as_bytes());
            out.push(b'\n');
            for (fields, end) in rows {
                out.extend_from_slice(&fields.join(&b","[..]));
                out.extend_from_slice(end);
            }
            out
        })
}

/// The records the `csv` crate reads, as the readers configure it: the
/// header (trimmed, BOM dropped) and each record's fields.
fn records(bytes: &[u8]) -> (Vec<Vec<u8>>, Vec<csv::ByteRecord>) {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header = csv
        .byte_headers()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = if i == 0 {
                h.strip_prefix(b"\xef\xbb\xbf").unwrap_or(h)
            } else {
                h
            };
            h.trim_ascii().to_vec()
        })
        .collect();
    let records = csv.byte_records().map(Result::unwrap).collect();
    (header, records)
}

/// What a field is as a key: its trimmed text's bytes, or its trimmed raw
/// bytes when they are not text; and the name the output shows.
fn key(raw: &[u8], encoding: TextEncoding) -> (Vec<u8>, String) {
    match encoding.decode(raw) {
        Ok(text) => (text.trim().as_bytes().to_vec(), text.trim().to_owned()),
        Err(_) => (
            raw.trim_ascii().to_vec(),
            semaforo::escape_bytes(raw.trim_ascii()),
        ),
    }
}

/// Reads `bytes` both ways; `Err` when the file was refused (both ways
/// alike, with a location), else the results.
fn evaluate(rules: &CompiledRuleSet, bytes: &[u8]) -> Result<ResultSet, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzz.csv");
    std::fs::write(&path, bytes).unwrap();
    let streamed = semaforo::evaluate_file(rules, &path, &|_| {});
    let whole = semaforo::read_data(rules, &path).map(|t| semaforo::evaluate(rules, &t));
    match (streamed, whole) {
        (Ok(streamed), Ok(whole)) => {
            assert_eq!(
                contents(&streamed.results),
                contents(&whole),
                "streamed ≠ whole"
            );
            Ok(whole)
        }
        (Err(a), Err(b)) => {
            let (a, b) = (a.to_string(), b.to_string());
            assert_eq!(a, b);
            assert!(a.starts_with(&format!("{}:", path.display())), "{a}");
            Err(a)
        }
        (a, b) => panic!("streamed {:?} but whole {:?}", a.err(), b.err()),
    }
}

/// Which of the two rule sets: UTF-8 twice as often.
fn encoding() -> impl Strategy<Value = usize> {
    select(vec![0, 0, 1])
}

/// Generated files of columns `names` read by the pack of `manifest` in
/// either encoding: `check` gets each file both readers accept, with its
/// results, header and records.
fn hostile(
    manifest: &str,
    names: &'static [&'static str],
    check: impl Fn(
        TextEncoding,
        &ResultSet,
        &[Vec<u8>],
        &[csv::ByteRecord],
    ) -> Result<(), TestCaseError>,
) {
    let dir = tempfile::tempdir().unwrap();
    let rules = pack(dir.path(), manifest);
    support::fuzz::runner(300)
        .run(&(file(names), encoding()), |(bytes, which)| {
            let (encoding, rules) = (rules[which].0, &rules[which].1);
            let Ok(results) = evaluate(rules, &bytes) else {
                return Ok(());
            };
            let (header, records) = records(&bytes);
            check(encoding, &results, &header, &records)
        })
        .unwrap();
}

#[test]
fn hostile_wide_csv() {
    const NAMES: &[&str] = &["entity", "a", "b", "segment", "a", "x", "entity"];
    hostile(WIDE, NAMES, |encoding, results, header, records| {
        let at = |name: &[u8]| header.iter().position(|h| h == name);
        let (entity, a) = (at(b"entity").unwrap(), at(b"a"));
        // Every record is a row, in order, under its own name.
        prop_assert_eq!(results.rows().len(), records.len());
        for (r, record) in records.iter().enumerate() {
            let raw = record.get(entity).unwrap_or_default();
            let (_, name) = key(raw, encoding);
            prop_assert_eq!(&results.rows()[r].entity, &name);
            // A row is read when its key is text on one line and its
            // dimension is text; otherwise each of its values is an error.
            let segment = at(b"segment")
                .and_then(|i| record.get(i))
                .unwrap_or_default();
            let key_is_text = encoding.decode(raw).is_ok()
                && !raw.iter().any(|b| matches!(b, b'\n' | b'\r'))
                && encoding.decode(segment).is_ok();
            let columns = [a.is_some(), a.is_some() && at(b"b").is_some()];
            for (i, present) in columns.into_iter().enumerate() {
                let cell = results.cell(r, i);
                prop_assert!(cell.value.is_some() != cell.error.is_some());
                if !key_is_text && present {
                    let error = cell.error.as_ref().unwrap().to_string();
                    let why = error.contains("not valid UTF-8") || error.contains("line break");
                    prop_assert!(error.contains("fuzz.csv:") && why, "{}", error);
                }
            }
            // `a_only` is `a`: a value exactly when the cell is a number in the grammar.
            let text = a.and_then(|a| record.get(a)).unwrap_or_default();
            let number = encoding
                .decode(text)
                .ok()
                .and_then(|t| NumberFormat::default().parse(&t));
            let value = results.cell(r, 0).value;
            match number {
                Some(n) if key_is_text => prop_assert_eq!(value, Some(n)),
                _ => prop_assert_eq!(value, None, "{:?}", text),
            }
        }
        Ok(())
    });
}

#[test]
fn hostile_balances_csv() {
    const NAMES: &[&str] = &["entity", "period", "code", "value", "name", "value", "x"];
    hostile(BALANCES, NAMES, |encoding, results, header, records| {
        let at = |name: &[u8]| header.iter().position(|h| h == name).unwrap();
        let (entity, period, code, value) =
            (at(b"entity"), at(b"period"), at(b"code"), at(b"value"));
        // One row per distinct entity × period key: none merged, none lost.
        let field = |r: &csv::ByteRecord, i: usize| r.get(i).unwrap_or_default().to_vec();
        let blocks: BTreeSet<(Vec<u8>, Vec<u8>)> = records
            .iter()
            .map(|r| {
                (
                    key(&field(r, entity), encoding).0,
                    key(&field(r, period), encoding).0,
                )
            })
            .collect();
        prop_assert_eq!(results.rows().len(), blocks.len());
        let names: BTreeSet<(String, String)> = records
            .iter()
            .map(|r| {
                (
                    key(&field(r, entity), encoding).1,
                    key(&field(r, period), encoding).1,
                )
            })
            .collect();
        let shown: BTreeSet<(String, String)> = results
            .rows()
            .iter()
            .map(|row| (row.entity.clone(), row.period.clone().unwrap_or_default()))
            .collect();
        prop_assert_eq!(shown, names);
        for r in 0..results.rows().len() {
            for i in 0..2 {
                let cell = results.cell(r, i);
                prop_assert!(cell.value.is_some() != cell.error.is_some());
            }
        }
        // The first row with code 1 of a block decides saldo("1"): a
        // value outside the grammar is never a balance.
        let mut decided = BTreeSet::new();
        for record in records {
            let block = (
                key(&field(record, entity), encoding).0,
                key(&field(record, period), encoding).0,
            );
            if field(record, code) != b"1" || !decided.insert(block.clone()) {
                continue;
            }
            let text = field(record, value);
            let number = encoding
                .decode(&text)
                .ok()
                .and_then(|t| NumberFormat::default().parse(&t));
            let row = results
                .rows()
                .iter()
                .position(|row| {
                    row.entity == key(&field(record, entity), encoding).1
                        && row.period.as_deref()
                            == Some(key(&field(record, period), encoding).1.as_str())
                })
                .unwrap();
            let got = results.cell(row, 0).value;
            match number {
                None => prop_assert_eq!(got, None, "{:?}", text),
                Some(n) => {
                    prop_assert!(got.is_none() || got == Some(n), "{:?} {:?}", text, got)
                }
            }
        }
        Ok(())
    });
}
