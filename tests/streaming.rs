//! Streaming a balances file entity by entity gives exactly what reading it
//! whole gives, whatever the number of threads; a file whose entities are
//! not together is read whole, and the user is told why.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

mod support;

use std::path::Path;

use rust_decimal::Decimal;
use semaforo::{CompiledRuleSet, FileEvaluation, KEPT_PER_KIND, Reading, Warnings, WholeReason};
use support::{assert_exit, contents, path, root, semaforo, stderr};

fn cooperativas() -> CompiledRuleSet {
    semaforo::load(&root().join("rules/cooperativas")).unwrap()
}

/// The El Sagrario balances (148 rows, two periods) once per entity, each
/// entity's values scaled by its number so that peers differ; `order`
/// lists the entity numbers block by block.
fn balances(order: &[usize]) -> tempfile::NamedTempFile {
    let mut sagrario =
        csv::Reader::from_path(root().join("examples/sagrario/balances.csv")).unwrap();
    let header = sagrario.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = sagrario.records().map(Result::unwrap).collect();
    let file = tempfile::NamedTempFile::new().unwrap();
    let mut out = csv::Writer::from_path(file.path()).unwrap();
    out.write_record(&header).unwrap();
    for &k in order {
        for row in &rows {
            let value: Decimal = row[4].parse().unwrap();
            let scaled = (value * Decimal::from(k + 1)).to_string();
            let entity = format!("COAC_{k:04}");
            out.write_record([&entity, &row[1], &row[2], &row[3], &scaled, &row[5]])
                .unwrap();
        }
    }
    out.flush().unwrap();
    file
}

/// The cells and warnings of `path` read whole, the warnings summarised as
/// `evaluate_file` summarises them.
fn whole(rules: &CompiledRuleSet, path: &Path) -> (Vec<String>, Warnings) {
    let table = semaforo::read_data(rules, path).unwrap();
    let results = semaforo::evaluate(rules, &table);
    (
        contents(&results),
        table.warnings().iter().cloned().collect(),
    )
}

/// `path` evaluated as a stream, which must have taken two batches or more
/// and given `rows` rows, the results of reading it whole; and the warnings
/// of reading it whole.
fn streamed_in_batches(
    rules: &CompiledRuleSet,
    path: &Path,
    rows: usize,
) -> (FileEvaluation, Warnings) {
    let streamed = semaforo::evaluate_file(rules, path, &|_| {}).unwrap();
    let Reading::Streamed { batches } = streamed.reading else {
        panic!("read whole: {:?}", streamed.reading)
    };
    assert!(batches >= 2, "{batches} batch(es)");
    assert_eq!(streamed.results.rows().len(), rows);
    let (cells, warnings) = whole(rules, path);
    assert_eq!(contents(&streamed.results), cells);
    (streamed, warnings)
}

/// `semaforo eval --quiet --format csv` of `file` with `rules/cooperativas`, then `extra`.
fn eval_cooperativas(file: &Path, extra: &[&str]) -> std::process::Output {
    let mut flags = vec!["--quiet", "--format", "csv"];
    flags.extend(extra);
    support::eval(path(&root().join("rules/cooperativas")), path(file), &flags)
}

#[test]
fn a_streamed_file_gives_what_reading_it_whole_gives() {
    let rules = cooperativas();
    // 250 entities × 148 rows = 37,000 rows: more than one batch.
    let order: Vec<usize> = (0..250).collect();
    let file = balances(&order);
    let (streamed, warnings) = streamed_in_batches(&rules, file.path(), 500);
    // One consistency warning per entity (the seed's 2007 loans), in file
    // order: all counted, the first of the kind kept.
    assert_eq!(streamed.warnings.total(), 250);
    assert_eq!(streamed.warnings.kept().len(), KEPT_PER_KIND);
    assert_eq!(
        streamed.warnings.omitted().collect::<Vec<_>>(),
        [("sub_accounts_disagree", 250 - KEPT_PER_KIND as u64)]
    );
    assert_eq!(streamed.warnings, warnings);
}

#[test]
fn an_entity_that_comes_back_is_read_whole_and_said_so() {
    let rules = cooperativas();
    // Entity 0 comes back after 249 others: its first rows were handed over long before.
    let mut order: Vec<usize> = (0..250).collect();
    order.push(0);
    let file = balances(&order);
    let done = semaforo::evaluate_file(&rules, file.path(), &|_| {}).unwrap();
    assert_eq!(
        done.reading,
        Reading::Whole(WholeReason::NotGrouped {
            entity: "COAC_0000".into(),
            line: 250 * 148 + 2,
            first_line: 2
        })
    );
    let (cells, warnings) = whole(&rules, file.path());
    assert_eq!(contents(&done.results), cells);
    assert_eq!(done.warnings, warnings);

    let out = eval_cooperativas(file.path(), &[]);
    assert_exit(&out, 0);
    let stderr = stderr(&out);
    let note = format!(
        "{}: note: entity `COAC_0000` appears again on line 37002 after other entities (first on line 2): the file is not grouped by entity",
        file.path().display()
    );
    assert!(stderr.contains(&note), "{stderr}");
}

#[test]
fn warnings_are_summarised_after_the_first_of_each_kind() {
    // 251 entities, each with one consistency warning.
    let file = balances(&(0..251).collect::<Vec<_>>());
    let out = eval_cooperativas(file.path(), &["--strict"]);
    let stderr = stderr(&out);
    let shown: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(": warning: entity `COAC_"))
        .collect();
    assert_eq!(shown.len(), KEPT_PER_KIND, "{stderr}");
    assert!(shown[0].contains("entity `COAC_0000`"), "{}", shown[0]);
    let summary = format!(
        "{}: warning: … and {} more `sub_accounts_disagree` warning(s), not shown (the first {KEPT_PER_KIND} of each kind are)",
        file.path().display(),
        251 - KEPT_PER_KIND
    );
    assert!(stderr.contains(&summary), "{stderr}");
    // --strict counts every warning, shown or not.
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr.contains(", 251 data warning(s); exit status 3"),
        "{stderr}"
    );
}

#[test]
fn streamed_results_do_not_depend_on_the_number_of_threads() {
    let file = balances(&(0..250).collect::<Vec<_>>());
    let run = |threads: &str| {
        let (pack, data) = (root().join("rules/cooperativas"), file.path());
        let out = semaforo(&[
            "--threads",
            threads,
            "eval",
            "--quiet",
            "--format",
            "csv",
            "--pack",
            path(&pack),
            "--data",
            path(data),
        ]);
        assert_exit(&out, 0);
        out.stdout
    };
    let one = run("1");
    assert!(one.len() > 1_000_000, "{} bytes", one.len());
    assert!(one == run("2"), "1 and 2 threads differ");
}

/// A small wide pack: a period, a dimension, two fields and three
/// indicators (one divides, so some cells are errors).
fn wide_pack() -> (tempfile::TempDir, CompiledRuleSet) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pack.toml"),
        r#"[pack]
id = "wide"
version = "1"
[data]
entity = "entity"
period = "period"
dimensions = ["segment"]
[fields]
a = "a"
b = "b"
[[indicator]]
id = "ratio"
formula = "a / b"
[[indicator]]
id = "sum"
formula = "a + b"
[[indicator]]
id = "twice"
formula = "sum * 2"
"#,
    )
    .unwrap();
    let rules = semaforo::load(dir.path()).unwrap();
    (dir, rules)
}

/// A wide file of `entities` × 2 periods, rows of an entity together
/// unless `by_period`; some cells empty, unreadable or zero.
fn wide_file(entities: usize, by_period: bool) -> tempfile::NamedTempFile {
    use std::io::Write as _;
    let file = tempfile::NamedTempFile::new().unwrap();
    let mut out = std::io::BufWriter::new(std::fs::File::create(file.path()).unwrap());
    writeln!(out, "entity,period,segment,a,b").unwrap();
    let row = |out: &mut std::io::BufWriter<std::fs::File>, k: usize, period: usize| {
        let a = match k % 97 {
            0 => String::new(),
            1 => "12x".to_owned(),
            _ => format!("{}.{:02}", k * 3 + period, k % 100),
        };
        let b = if k.is_multiple_of(89) {
            0
        } else {
            k % 1000 + 1
        };
        writeln!(out, "E{k:05},200{period},s{},{a},{b}", k % 7).unwrap();
    };
    if by_period {
        for period in 7..9 {
            for k in 0..entities {
                row(&mut out, k, period);
            }
        }
    } else {
        for k in 0..entities {
            for period in 7..9 {
                row(&mut out, k, period);
            }
        }
    }
    out.flush().unwrap();
    drop(out);
    file
}

#[test]
fn a_streamed_wide_file_gives_what_reading_it_whole_gives() {
    let (_dir, rules) = wide_pack();
    // 25,000 entities × 2 periods = 50,000 rows (1.3 MB): more than one batch.
    let file = wide_file(25_000, false);
    let (streamed, warnings) = streamed_in_batches(&rules, file.path(), 50_000);
    assert_eq!(streamed.warnings, warnings);
    // Rows follow the input order.
    let first: Vec<String> = streamed.results.rows()[..3]
        .iter()
        .map(|r| format!("{r:?}"))
        .collect();
    assert!(
        first[0].contains("E00000") && first[1].contains("E00000") && first[2].contains("E00001"),
        "{first:?}"
    );
}

#[test]
fn a_wide_file_sorted_by_period_is_read_whole_with_the_same_results() {
    let (_dir, rules) = wide_pack();
    // The first period alone (45,000 rows, 1.2 MB) fills a batch, so
    // entity 0 comes back after its batch was handed over.
    let file = wide_file(45_000, true);
    let done = semaforo::evaluate_file(&rules, file.path(), &|_| {}).unwrap();
    assert!(
        matches!(done.reading, Reading::Whole(WholeReason::NotGrouped { .. })),
        "{:?}",
        done.reading
    );
    let (cells, warnings) = whole(&rules, file.path());
    assert_eq!(contents(&done.results), cells);
    assert_eq!(done.warnings, warnings);
}

/// What `semaforo check PACK --data FILE` printed when it read the file
/// whole (before it streamed it): the data's line on standard output, and
/// on standard error every warning kept, then how many of each kind were
/// left out.
fn check_as_read_whole(rules: &CompiledRuleSet, data: &Path) -> (String, String) {
    use std::fmt::Write as _;
    let table = semaforo::read_data(rules, data).unwrap();
    let source = table.source();
    let warnings: Warnings = table.warnings().iter().cloned().collect();
    let mut err = String::new();
    for warning in warnings.kept() {
        match warning.line {
            Some(line) => writeln!(err, "{source}:{line}: warning: {}", warning.message),
            None => writeln!(err, "{source}: warning: {}", warning.message),
        }
        .unwrap();
    }
    for (kind, omitted) in warnings.omitted() {
        writeln!(
            err,
            "{source}: warning: … and {omitted} more `{kind}` warning(s), not shown (the first {KEPT_PER_KIND} of each kind are)"
        )
        .unwrap();
    }
    let line = format!(
        "{source}: {} rows, {} warnings\n",
        table.len(),
        table.warnings().len()
    );
    (line, err)
}

/// `semaforo check PACK --data FILE` on `threads` threads: exit 0, the
/// pack's line then exactly what reading the file whole printed.
#[track_caller]
fn check_says_what_reading_whole_said(pack: &Path, rules: &CompiledRuleSet, data: &Path) {
    let (line, warnings) = check_as_read_whole(rules, data);
    for threads in ["1", "2"] {
        let out = semaforo(&[
            "--threads",
            threads,
            "check",
            path(pack),
            "--data",
            path(data),
        ]);
        assert_exit(&out, 0);
        let stdout = support::stdout(&out);
        let (first, rest) = stdout.split_once('\n').unwrap();
        assert!(first.contains(": ok — "), "{stdout}");
        assert_eq!(rest, line, "{threads} thread(s)");
        assert_eq!(stderr(&out), warnings, "{threads} thread(s)");
    }
}

#[test]
fn check_streams_a_grouped_file_and_says_what_reading_it_whole_said() {
    let rules = cooperativas();
    // 251 entities × 148 rows: several batches, one consistency warning per
    // entity (the first of them shown, then how many more).
    let file = balances(&(0..251).collect::<Vec<_>>());
    let done = semaforo::evaluate_file(&rules, file.path(), &|_| {}).unwrap();
    assert!(
        matches!(done.reading, Reading::Streamed { batches } if batches >= 2),
        "{:?}",
        done.reading
    );
    let (line, warnings) = check_as_read_whole(&rules, file.path());
    assert_eq!(
        line,
        format!("{}: 502 rows, 251 warnings\n", file.path().display())
    );
    assert!(warnings.contains("… and "), "{warnings}");
    check_says_what_reading_whole_said(&root().join("rules/cooperativas"), &rules, file.path());
}

#[test]
fn check_of_a_file_not_grouped_says_what_reading_it_whole_said() {
    let rules = cooperativas();
    let mut order: Vec<usize> = (0..250).collect();
    order.push(0);
    let file = balances(&order);
    check_says_what_reading_whole_said(&root().join("rules/cooperativas"), &rules, file.path());
    let (dir, rules) = wide_pack();
    let file = wide_file(10_000, true);
    check_says_what_reading_whole_said(dir.path(), &rules, file.path());
}

#[test]
fn check_refuses_unreadable_data_as_reading_it_whole_did() {
    let rules = cooperativas();
    let pack = root().join("rules/cooperativas");
    let dir = tempfile::tempdir().unwrap();
    let no_code = dir.path().join("no-code.csv");
    std::fs::write(&no_code, "entity,period,value\nA,2024-01,1\n").unwrap();
    let missing = dir.path().join("missing.csv");
    for data in [no_code, missing] {
        // The message as `main` prints an error: each cause after a colon.
        let error = semaforo::read_data(&rules, &data).unwrap_err();
        let mut message = format!("semaforo: {error}");
        let mut cause = std::error::Error::source(&error);
        while let Some(inner) = cause {
            message = format!("{message}: {inner}");
            cause = inner.source();
        }
        let out = semaforo(&["check", path(&pack), "--data", path(&data)]);
        assert_exit(&out, 2);
        assert_eq!(stderr(&out), format!("{message}\n"));
    }
}

#[test]
fn check_of_any_wide_file_says_what_reading_it_whole_said() {
    use proptest::prelude::*;
    let (dir, rules) = wide_pack();
    // Files of 5,000 to 7,000 entities (several batches), a few rows moved
    // (so that some are not grouped), some cells unreadable or empty.
    let files = (5_000_usize..7_000, 0_usize..3, any::<u64>());
    support::fuzz::runner(4)
        .run(&files, |(entities, moved, seed)| {
            use std::io::Write as _;
            let mut random = fastrand::Rng::with_seed(seed);
            let mut rows: Vec<String> = (0..entities)
                .flat_map(|k| (7..9).map(move |period| (k, period)))
                .map(|(k, period)| {
                    let a = match random.u8(..50) {
                        0 => String::new(),
                        1 => "1.2.3".to_owned(),
                        _ => format!("{}.{:02}", random.u32(..100_000), random.u8(..100)),
                    };
                    let b = random.u32(..1_000);
                    format!("E{k:05},200{period},s{},{a},{b}", k % 5)
                })
                .collect();
            for _ in 0..moved {
                let (from, to) = (random.usize(..rows.len()), random.usize(..rows.len()));
                let row = rows.remove(from);
                rows.insert(to, row);
            }
            let file = tempfile::NamedTempFile::new().unwrap();
            let mut out = std::io::BufWriter::new(file.as_file());
            writeln!(out, "entity,period,segment,a,b").unwrap();
            for row in &rows {
                writeln!(out, "{row}").unwrap();
            }
            out.flush().unwrap();
            drop(out);
            check_says_what_reading_whole_said(dir.path(), &rules, file.path());
            Ok(())
        })
        .unwrap();
}

#[test]
fn check_of_a_spreadsheet_names_its_sheet_as_before() {
    for (pack, sheet) in [
        ("rules/poa-senavex", "examples/senavex/ejecucion_2020.xlsx"),
        (
            "rules/poa-insafocoop",
            "examples/insafocoop/seguimiento_mensual.xlsx",
        ),
    ] {
        let pack = root().join(pack);
        let rules = semaforo::load(&pack).unwrap();
        let data = root().join(sheet);
        let (line, _) = check_as_read_whole(&rules, &data);
        assert!(line.contains(".xlsx["), "{line}");
        check_says_what_reading_whole_said(&pack, &rules, &data);
    }
}
