//! `semaforo eval --format xlsx` as a user runs it: the workbook read back
//! with calamine, figure by figure against `--format csv` of the same run,
//! and its styles read from the zip.
#![expect(
    clippy::unwrap_used,
    reason = "a broken fixture should fail the test loudly"
)]

mod support;

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{Cursor, Read, Seek};
use std::process::Output;

use calamine::{Data, Reader, Xlsx};
use rust_decimal::Decimal;
use support::{POA, SAGRARIO};

/// `semaforo eval --pack PACK --data DATA`, then `extra`; the run must succeed.
fn eval(pack: &str, data: &str, extra: &[&str]) -> Output {
    let output = support::eval(pack, data, extra);
    assert!(
        output.status.success(),
        "semaforo eval {pack} {data} {extra:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `--format csv` of `(pack, data)`: one map per record, and the header.
fn csv_records((pack, data): (&str, &str)) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let output = eval(pack, data, &["--format", "csv"]);
    let mut reader = csv::Reader::from_reader(output.stdout.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let records = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_owned))
                .collect()
        })
        .collect();
    (header, records)
}

/// The bytes of `--format xlsx --output FILE` of `(pack, data)`.
fn xlsx_file((pack, data): (&str, &str)) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.xlsx");
    eval(
        pack,
        data,
        &["--format", "xlsx", "--output", path.to_str().unwrap()],
    );
    fs::read(path).unwrap()
}

/// A sheet read back: its rows of cells.
fn sheet(bytes: &[u8], name: &str) -> Vec<Vec<Data>> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
    let range = workbook.worksheet_range(name).unwrap();
    assert_eq!(range.start(), Some((0, 0)), "{name} starts at A1");
    range.rows().map(<[Data]>::to_vec).collect()
}

/// The results sheet as one map per record (header → cell), and the header.
fn results(bytes: &[u8]) -> (Vec<String>, Vec<HashMap<String, Data>>) {
    let rows = sheet(bytes, "Results");
    let header: Vec<String> = rows[0].iter().map(|c| text(c).to_owned()).collect();
    let records = rows[1..]
        .iter()
        .map(|row| header.iter().cloned().zip(row.iter().cloned()).collect())
        .collect();
    (header, records)
}

fn text(cell: &Data) -> &str {
    match cell {
        Data::String(s) => s,
        Data::Empty => "",
        other => panic!("expected text, found {other:?}"),
    }
}

/// The results sheet's header for each CSV column, and how to compare it.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Number,
    Flags,
    Bool,
}

fn xlsx_column(csv_column: &str) -> (&'static str, Kind) {
    match csv_column {
        "level" => ("Level", Kind::Text),
        "entity" => ("Entity", Kind::Text),
        "period" => ("Period", Kind::Text),
        "indicator" => ("Indicator", Kind::Text),
        "value" => ("Value", Kind::Number),
        "unit" => ("Unit", Kind::Text),
        // A target is a number, a range `min..max` text.
        "standard" => ("Standard", Kind::Number),
        "compliance" => ("Compliance", Kind::Number),
        "band" => ("Band", Kind::Text),
        "error" => ("Error", Kind::Text),
        "flags" => ("Flags", Kind::Flags),
        "previous" => ("Previous", Kind::Number),
        "variation" => ("Variation", Kind::Number),
        "variation_pct" => ("Variation %", Kind::Number),
        "peer_group" => ("Peer group", Kind::Text),
        "peer_size" => ("Peer size", Kind::Number),
        "peer_mean" => ("Peer mean", Kind::Number),
        "peer_median" => ("Peer median", Kind::Number),
        "from_peer_mean" => ("From peer mean", Kind::Number),
        "from_peer_median" => ("From peer median", Kind::Number),
        "peer_rank" => ("Peer rank", Kind::Number),
        "rank" => ("Rank", Kind::Number),
        "selected" => ("Selected", Kind::Bool),
        other => panic!("a CSV column the test does not know: {other}"),
    }
}

/// Every record of the workbook equals the CSV's, figure by figure: a number
/// is the `f64` nearest to the CSV's exact decimal (and equal to it rounded
/// to 10 places where an `f64` holds that many).
fn assert_same_records(input: (&str, &str), bytes: &[u8]) -> Vec<HashMap<String, Data>> {
    let (csv_header, csv) = csv_records(input);
    let (header, xlsx) = results(bytes);
    assert_eq!(xlsx.len(), csv.len(), "one row per record");
    for column in &csv_header {
        let (name, _) = xlsx_column(column);
        assert!(header.iter().any(|h| h == name), "no column {name}");
    }
    for (line, (expected, actual)) in csv.iter().zip(&xlsx).enumerate() {
        for column in &csv_header {
            let (name, kind) = xlsx_column(column);
            let want = expected[column].as_str();
            let cell = &actual[name];
            let at = format!("record {line}, {column}: CSV {want:?}, xlsx {cell:?}");
            match (kind, cell) {
                (_, Data::Empty) => assert_eq!(want, "", "{at}"),
                (Kind::Number, Data::Float(got)) => {
                    assert_eq!(*got, want.parse::<f64>().unwrap(), "{at}");
                    let exact: Decimal = want.parse().unwrap();
                    if exact.abs() < Decimal::from(100_000) {
                        let got = Decimal::try_from(*got).unwrap();
                        assert_eq!(got.round_dp(10), exact.round_dp(10), "{at}");
                    }
                }
                (Kind::Number | Kind::Text, Data::String(got)) => {
                    assert_eq!(got, want, "{at}");
                }
                (Kind::Flags, Data::String(got)) => {
                    assert_eq!(got.replace("; ", ";"), want, "{at}");
                }
                (Kind::Bool, Data::Bool(got)) => assert_eq!(got.to_string(), want, "{at}"),
                _ => panic!("unexpected cell type: {at}"),
            }
        }
        // Readable extras: the indicator's name; an error's kind beside its message.
        assert!(matches!(actual["Name"], Data::String(_)), "record {line}");
        assert_eq!(
            actual["Error kind"] == Data::Empty,
            expected["error"].is_empty(),
            "record {line}"
        );
    }
    xlsx
}

fn find<'a>(
    records: &'a [HashMap<String, Data>],
    entity: &str,
    period: &str,
    indicator: &str,
) -> &'a HashMap<String, Data> {
    records
        .iter()
        .find(|r| {
            text(&r["Entity"]) == entity
                && text(&r["Period"]) == period
                && text(&r["Indicator"]) == indicator
        })
        .unwrap()
}

fn number(cell: &Data) -> f64 {
    match cell {
        Data::Float(v) => *v,
        other => panic!("expected a number, found {other:?}"),
    }
}

fn rounded(value: f64, places: u32) -> Decimal {
    Decimal::try_from(value).unwrap().round_dp(places)
}

#[test]
fn sagrario_workbook_has_the_csv_figures() {
    let bytes = xlsx_file(SAGRARIO);
    let records = assert_same_records(SAGRARIO, &bytes);
    // README: delinquency 2.87 % against 4 %, 71.83 % compliance, CUMPLIO;
    // ROE 13.80 % against 10.17 %.
    let morosidad = find(&records, "COAC_EL_SAGRARIO", "2008-12", "morosidad");
    assert_eq!(rounded(number(&morosidad["Value"]), 2).to_string(), "2.87");
    assert_eq!(number(&morosidad["Standard"]), 4.0);
    assert_eq!(
        rounded(number(&morosidad["Compliance"]), 2).to_string(),
        "71.83"
    );
    assert_eq!(text(&morosidad["Band"]), "CUMPLIO");
    assert_eq!(text(&morosidad["Unit"]), "percent");
    assert_eq!(text(&morosidad["Peer group"]), "pequeñas");
    let roe = find(&records, "COAC_EL_SAGRARIO", "2008-12", "roe");
    assert_eq!(rounded(number(&roe["Value"]), 2).to_string(), "13.80");
    // A cell error: no value, the message in the error column.
    let failed = records.iter().find(|r| r["Error"] != Data::Empty).unwrap();
    assert_eq!(failed["Value"], Data::Empty);
    assert!(text(&failed["Error"]).contains("COAC_EL_SAGRARIO"));
}

#[test]
fn poa_workbook_has_the_csv_figures_groups_and_flags_included() {
    let bytes = xlsx_file(POA);
    let records = assert_same_records(POA, &bytes);
    assert!(records.iter().any(|r| text(&r["Level"]) == "unidad"));
    assert!(
        records
            .iter()
            .any(|r| text(&r["Flags"]) == "MISSING_REPORT")
    );
    let registro = find(
        &records,
        "REGISTRO COOPERATIVO",
        "2024-02",
        "cumplimiento_mes",
    );
    assert_eq!(number(&registro["Value"]), 87.0);
    assert_eq!(text(&registro["Band"]), "ATENCIÓN INMEDIATA");
}

/// Counts read from the summary sheet: (peer group, period, indicator) →
/// header → count.
type SummaryCounts = BTreeMap<(String, String, String), BTreeMap<String, usize>>;

fn summary_counts(bytes: &[u8]) -> SummaryCounts {
    let rows = sheet(bytes, "Summary");
    let mut counts = SummaryCounts::new();
    let mut header: Option<Vec<String>> = None;
    for row in &rows {
        let cells: Vec<&Data> = row.iter().collect();
        if cells
            .iter()
            .any(|c| **c == Data::String("Indicator".into()))
        {
            header = Some(
                cells
                    .iter()
                    .map(|c| text(c).to_owned())
                    .take_while(|h| !h.is_empty())
                    .collect(),
            );
            continue;
        }
        let Some(names) = &header else { continue };
        if cells.iter().all(|c| **c == Data::Empty) {
            header = None;
            continue;
        }
        let by_name: HashMap<&str, &Data> = names.iter().map(String::as_str).zip(cells).collect();
        let key_text = |name: &str| by_name.get(name).map_or("", |c| text(c)).to_owned();
        let key = (
            key_text("Peer group"),
            key_text("Period"),
            key_text("Indicator"),
        );
        let figures = names
            .iter()
            .filter(|n| !["Peer group", "Period", "Indicator", "Name"].contains(&n.as_str()))
            .map(|n| (n.clone(), number(by_name[n.as_str()]) as usize))
            .collect();
        assert!(counts.insert(key, figures).is_none(), "one row per key");
    }
    counts
}

/// The same counts computed from `--format csv`.
fn csv_counts(input: (&str, &str)) -> SummaryCounts {
    let (_, records) = csv_records(input);
    let mut counts = SummaryCounts::new();
    for r in &records {
        let get = |c: &str| r.get(c).cloned().unwrap_or_default();
        let key = (get("peer_group"), get("period"), get("indicator"));
        let figures = counts.entry(key).or_default();
        *figures.entry("Records".into()).or_default() += 1;
        let column = if !r["error"].is_empty() {
            "Error".to_owned()
        } else if !r["band"].is_empty() {
            r["band"].clone()
        } else {
            "No band".to_owned()
        };
        *figures.entry(column).or_default() += 1;
    }
    counts
}

#[test]
fn summary_counts_equal_the_csv_counts() {
    for input in [SAGRARIO, POA] {
        let bytes = xlsx_file(input);
        let mut summary = summary_counts(&bytes);
        // The summary writes every band level of the set, zeros included.
        for figures in summary.values_mut() {
            figures.retain(|_, n| *n > 0);
        }
        assert_eq!(summary, csv_counts(input), "{input:?}");
    }
}

#[test]
fn summary_names_where_the_results_come_from() {
    let bytes = xlsx_file(SAGRARIO);
    let rows = sheet(&bytes, "Summary");
    let field = |label: &str| {
        rows.iter()
            .find(|r| r[0] == Data::String(label.into()))
            .map(|r| text(&r[1]).to_owned())
            .unwrap()
    };
    assert_eq!(field("Pack"), "sagrario");
    assert_eq!(field("Version"), "2.0.0");
    let hash = field("Content hash");
    assert_eq!(hash.len(), 64);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()), "{hash}");
    assert!(field("Data").ends_with("balances.csv"));
    let at = field("Computed at (UTC)");
    assert_eq!(at.len(), 20, "{at}");
    assert!(at.starts_with("20") && at.ends_with('Z'), "{at}");
    assert_eq!((&at[4..5], &at[10..11], &at[13..14]), ("-", "T", ":"));
    let figure = |label: &str| {
        rows.iter()
            .find(|r| r[0] == Data::String(label.into()))
            .map(|r| number(&r[1]))
            .unwrap()
    };
    let (_, csv) = csv_records(SAGRARIO);
    let errors = csv.iter().filter(|r| !r["error"].is_empty()).count();
    assert_eq!(figure("Records"), csv.len() as f64);
    assert_eq!(figure("Cell errors"), errors as f64);
    // The band headers carry the band colours.
    let styles = zip_file(&bytes, "xl/styles.xml");
    let sheet2 = zip_file(&bytes, "xl/worksheets/sheet2.xml");
    let cumplio = shared_string_index(&bytes, "CUMPLIO");
    let style = cell_style(&sheet2, &format!("t=\"s\"><v>{cumplio}</v>")).unwrap();
    assert_eq!(fill_color(&styles, style).as_deref(), Some("FF2E7D32"));
}

fn zip_file(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut file = archive.by_name(name).unwrap();
    let mut text = String::new();
    file.read_to_string(&mut text).unwrap();
    text
}

/// Index of `text` among the shared strings.
fn shared_string_index(bytes: &[u8], text: &str) -> usize {
    zip_file(bytes, "xl/sharedStrings.xml")
        .split("<si>")
        .skip(1)
        .position(|si| si.contains(&format!(">{text}</t>")))
        .unwrap()
}

/// The style index (`s`) of the first cell whose XML contains `content`.
fn cell_style(sheet_xml: &str, content: &str) -> Option<usize> {
    sheet_xml
        .split("<c ")
        .skip(1)
        .find(|c| c.split("</c>").next().unwrap().contains(content))
        .and_then(|c| attribute(c, "s"))
        .map(|s| s.parse().unwrap())
}

/// The style index of the cell at `reference` (e.g. `J2`).
fn style_at(sheet_xml: &str, reference: &str) -> Option<usize> {
    let start = sheet_xml.find(&format!("<c r=\"{reference}\""))?;
    attribute(&sheet_xml[start..], "s").map(|s| s.parse().unwrap())
}

fn attribute<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let tag = &xml[..xml.find('>')?];
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(&tag[start..start + tag[start..].find('"')?])
}

/// The colour (`FFRRGGBB`) cell format `xf` takes from its `kind` (`fill`
/// or `font`), in the `colour` element of that entry, if it sets one.
fn xf_color(styles: &str, xf: usize, kind: &str, colour: &str) -> Option<String> {
    let xfs = styles.split("<cellXfs").nth(1)?;
    let xf = xfs.split("<xf ").nth(xf + 1)?;
    let id: usize = attribute(&format!(" {xf}"), &format!("{kind}Id"))?
        .parse()
        .ok()?;
    let list = styles
        .split(&format!("<{kind}s"))
        .nth(1)?
        .split(&format!("</{kind}s>"))
        .next()?;
    let entry = list.split(&format!("<{kind}>")).nth(id + 1)?;
    attribute(entry.split(colour).nth(1)?, "rgb").map(str::to_owned)
}

/// The fill colour (`FFRRGGBB`) of cell format `xf`, if it has one.
fn fill_color(styles: &str, xf: usize) -> Option<String> {
    xf_color(styles, xf, "fill", "<fgColor")
}

/// The font colour (`FFRRGGBB`) of cell format `xf`, if it sets one.
fn font_color(styles: &str, xf: usize) -> Option<String> {
    xf_color(styles, xf, "font", "<color")
}

fn column_letter(index: usize) -> String {
    let mut index = index + 1;
    let mut letters = Vec::new();
    while index > 0 {
        let rem = u8::try_from((index - 1) % 26).unwrap();
        letters.push(char::from(b'A' + rem));
        index = (index - 1) / 26;
    }
    letters.iter().rev().collect()
}

#[test]
fn band_and_value_cells_are_filled_with_the_band_colours() {
    let bytes = xlsx_file(SAGRARIO);
    let styles = zip_file(&bytes, "xl/styles.xml");
    for color in ["FF2E7D32", "FFC62828"] {
        assert!(styles.contains(&format!("rgb=\"{color}\"")), "{color}");
    }
    // The percent number format with the pack's suffix.
    assert!(
        styles.contains("formatCode=\"0.00&quot;%&quot;\""),
        "{styles}"
    );
    let sheet1 = zip_file(&bytes, "xl/worksheets/sheet1.xml");
    let (header, records) = results(&bytes);
    let column = |name: &str| column_letter(header.iter().position(|h| h == name).unwrap());
    let mut checked = 0;
    for (index, record) in records.iter().enumerate() {
        let row = index + 2;
        let (fill, font) = match text(&record["Band"]) {
            "CUMPLIO" => ("FF2E7D32", "FFFFFFFF"),
            "Brecha de no cumplimiento" => ("FFC62828", "FFFFFFFF"),
            "" => {
                let style = style_at(&sheet1, &format!("{}{row}", column("Value")));
                assert!(style.is_none_or(|s| fill_color(&styles, s).is_none()));
                continue;
            }
            other => panic!("a band the sagrario packs do not have: {other}"),
        };
        for name in ["Band", "Value"] {
            let style = style_at(&sheet1, &format!("{}{row}", column(name))).unwrap();
            assert_eq!(
                fill_color(&styles, style).as_deref(),
                Some(fill),
                "{name}{row}"
            );
            assert_eq!(
                font_color(&styles, style).as_deref(),
                Some(font),
                "{name}{row}"
            );
        }
        checked += 1;
    }
    assert!(checked > 20, "{checked} banded records");
}

#[test]
fn header_is_frozen_and_filtered() {
    let bytes = xlsx_file(SAGRARIO);
    let workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes.as_slice())).unwrap();
    assert_eq!(workbook.sheet_names(), ["Results", "Summary"]);
    let sheet1 = zip_file(&bytes, "xl/worksheets/sheet1.xml");
    assert!(
        sheet1.contains(
            "<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>"
        ),
        "frozen header row"
    );
    let (header, records) = results(&bytes);
    let last = format!("{}{}", column_letter(header.len() - 1), records.len() + 1);
    assert!(
        sheet1.contains(&format!("<autoFilter ref=\"A1:{last}\"/>")),
        "autofilter over A1:{last}"
    );
}

#[test]
fn xlsx_to_a_pipe_writes_the_workbook_to_standard_output() {
    let (pack, data) = SAGRARIO;
    let output = eval(pack, data, &["--format", "xlsx"]);
    assert!(output.stdout.starts_with(b"PK\x03\x04"), "a zip archive");
    let piped = results(&output.stdout);
    let file = results(&xlsx_file(SAGRARIO));
    assert_eq!(piped, file);
    assert_valid_archive(Cursor::new(output.stdout));
}

/// Every part of the archive decompresses (CRCs checked).
fn assert_valid_archive(reader: impl Read + Seek) {
    let mut archive = zip::ZipArchive::new(reader).unwrap();
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).unwrap();
        let mut sink = Vec::new();
        file.read_to_end(&mut sink).unwrap();
    }
}
