//! Cell throughput of plain arithmetic: the same 10 indicators over
//! [`ROWS`] rows of three decimal columns `a`, `b`, `c` (seeded values with
//! 2 decimals; `b` and `c` positive, never zero), every alternative in one
//! group `cell_throughput` so the ratios come from one run:
//!
//! - `native`: `semaforo::evaluate` with every indicator on the native path,
//!   on the default pool (the machine's cores);
//! - `native_1_thread`: the same on a one-thread pool, the per-core
//!   comparison with the loops;
//! - `rhai`: the same rule set `.without_native()`;
//! - `rust_decimal_loop`: a hand-written loop of the 10 formulas with
//!   `rust_decimal` checked operations into a `Vec<Option<Decimal>>` — the
//!   floor for exact arithmetic;
//! - `f64_loop`: the same in `f64` (reference only, not exact).
//!
//! Throughput is in cells (rows × indicators). `evaluate` runs on rayon's
//! pool (every core; the thread count is printed), the loops on one thread.
//! The table and the columns are built once, outside the timed loop; setup
//! checks that the native path and the `rust_decimal` loop agree to the last
//! digit on every cell. With 1 M rows one rhai evaluation takes seconds, so
//! its 10 samples are one evaluation each; the whole bench takes about two
//! minutes on 2 cores.
//!
//! Run with:
//!
//! ```text
//! cargo bench --bench throughput
//! ```

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use rust_decimal::Decimal;
use semaforo::{CompiledRuleSet, RulePack, SourceFile, Table};

/// Seed of the generator: the same data on every run.
const SEED: u64 = 0x5E4A_F020_0000_0010;
/// Rows of the table.
const ROWS: usize = 1_000_000;

/// The 10 indicators, in pack order; the hand-written loops below compute
/// exactly these, in the same operation order.
const FORMULAS: [&str; 10] = [
    "a / b * 100",
    "(a - b) / c",
    "a * 100 / b",
    "max(a, b) - c",
    "if a > b { a } else { b }",
    "abs(a - c) / b",
    "(a + b + c) / 3",
    "min(a, c) * b / 100",
    "a * b - c",
    "a / (b + c)",
];

fn manifest() -> String {
    let mut text = String::from(
        "[pack]\nid = \"throughput\"\nversion = \"1\"\n[fields]\na = \"a\"\nb = \"b\"\nc = \"c\"\n",
    );
    for (i, formula) in FORMULAS.iter().enumerate() {
        write!(
            text,
            "[[indicator]]\nid = \"f{i}\"\nformula = \"{formula}\"\n"
        )
        .expect("writing to a String");
    }
    text
}

fn compile_rules() -> CompiledRuleSet {
    let pack = RulePack::from_sources(SourceFile::new("pack.toml", manifest()), vec![])
        .expect("the throughput pack loads");
    semaforo::compile(pack, semaforo::PLUGINS).expect("the throughput pack compiles")
}

/// `ROWS` rows of `(a, b, c)` in cents: `a` in ±1,000,000.00, `b` and `c`
/// in 0.01..=1,000,000.00.
fn generate_cents() -> Vec<[i64; 3]> {
    let mut rng = fastrand::Rng::with_seed(SEED);
    (0..ROWS)
        .map(|_| {
            [
                rng.i64(-100_000_000..=100_000_000),
                rng.i64(1..=100_000_000),
                rng.i64(1..=100_000_000),
            ]
        })
        .collect()
}

fn cents_str(cents: i64) -> String {
    Decimal::new(cents, 2).to_string()
}

fn build_table(rules: &CompiledRuleSet, rows: &[[i64; 3]]) -> Table {
    let mut csv = String::with_capacity(rows.len() * 48);
    csv.push_str("entity,a,b,c\n");
    for (i, [a, b, c]) in rows.iter().enumerate() {
        writeln!(
            csv,
            "E{i:06},{},{},{}",
            cents_str(*a),
            cents_str(*b),
            cents_str(*c)
        )
        .expect("writing to a String");
    }
    let table = Table::from_csv_reader(csv.as_bytes(), "generated.csv", rules.pack().data_shape())
        .expect("the generated CSV reads");
    assert_eq!(table.len(), rows.len());
    assert!(table.warnings().is_empty(), "{:?}", table.warnings());
    table
}

/// Decimal columns `a`, `b`, `c`.
struct DecimalColumns {
    a: Vec<Decimal>,
    b: Vec<Decimal>,
    c: Vec<Decimal>,
}

/// The 10 formulas with `rust_decimal` checked operations, row by row,
/// indicators in pack order (the engine's layout).
fn rust_decimal_loop(cols: &DecimalColumns) -> Vec<Option<Decimal>> {
    let hundred = Decimal::ONE_HUNDRED;
    let three = Decimal::from(3);
    let mut out = Vec::with_capacity(cols.a.len() * FORMULAS.len());
    for ((&a, &b), &c) in cols.a.iter().zip(&cols.b).zip(&cols.c) {
        out.push(a.checked_div(b).and_then(|x| x.checked_mul(hundred)));
        out.push(a.checked_sub(b).and_then(|x| x.checked_div(c)));
        out.push(a.checked_mul(hundred).and_then(|x| x.checked_div(b)));
        out.push((if a >= b { a } else { b }).checked_sub(c));
        out.push(Some(if a > b { a } else { b }));
        out.push(a.checked_sub(c).and_then(|x| x.abs().checked_div(b)));
        out.push(
            a.checked_add(b)
                .and_then(|x| x.checked_add(c))
                .and_then(|x| x.checked_div(three)),
        );
        out.push(
            (if a <= c { a } else { c })
                .checked_mul(b)
                .and_then(|x| x.checked_div(hundred)),
        );
        out.push(a.checked_mul(b).and_then(|x| x.checked_sub(c)));
        out.push(b.checked_add(c).and_then(|x| a.checked_div(x)));
    }
    out
}

/// The same formulas in `f64` (reference only).
fn f64_loop(a: &[f64], b: &[f64], c: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(a.len() * FORMULAS.len());
    for ((&a, &b), &c) in a.iter().zip(b).zip(c) {
        out.push(a / b * 100.0);
        out.push((a - b) / c);
        out.push(a * 100.0 / b);
        out.push((if a >= b { a } else { b }) - c);
        out.push(if a > b { a } else { b });
        out.push((a - c).abs() / b);
        out.push((a + b + c) / 3.0);
        out.push((if a <= c { a } else { c }) * b / 100.0);
        out.push(a * b - c);
        out.push(a / (b + c));
    }
    out
}

fn cell_throughput(c: &mut Criterion) {
    let rules = compile_rules();
    for (i, formula) in FORMULAS.iter().enumerate() {
        assert_eq!(
            rules.evaluation_path(i),
            "native",
            "indicator {i} (`{formula}`) is not on the native path"
        );
    }
    let rhai_rules = compile_rules().without_native();
    for i in 0..FORMULAS.len() {
        assert_eq!(rhai_rules.evaluation_path(i), "rhai");
    }

    let cents = generate_cents();
    let table = build_table(&rules, &cents);
    let column = |name: &str| -> Vec<Decimal> {
        let col = table.column(name).expect("the table has the column");
        (0..table.len())
            .map(|r| col.value(r).expect("every cell has a value"))
            .collect()
    };
    let decimals = DecimalColumns {
        a: column("a"),
        b: column("b"),
        c: column("c"),
    };
    #[allow(clippy::cast_precision_loss)]
    let floats: [Vec<f64>; 3] =
        [0, 1, 2].map(|k| cents.iter().map(|row| row[k] as f64 / 100.0).collect());

    // Sanity: the native path and the hand-written loop agree to the last digit.
    let results = semaforo::evaluate(&rules, &table);
    assert_eq!(results.error_count(), 0);
    let expected = rust_decimal_loop(&decimals);
    for row in 0..ROWS {
        for (i, formula) in FORMULAS.iter().enumerate() {
            assert_eq!(
                results.cell(row, i).value,
                expected[row * FORMULAS.len() + i],
                "row {row}, `{formula}`"
            );
        }
    }
    drop(results);
    eprintln!(
        "cell_throughput: {ROWS} rows × {} indicators; evaluate on {} threads, loops on 1",
        FORMULAS.len(),
        rayon::current_num_threads()
    );

    let cells = u64::try_from(ROWS * FORMULAS.len()).expect("cell count fits in u64");
    let mut group = c.benchmark_group("cell_throughput");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(cells));
    group.bench_function("native", |b| {
        b.iter_with_large_drop(|| semaforo::evaluate(black_box(&rules), black_box(&table)));
    });
    // The same on one thread: the per-core comparison with the loops.
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a one-thread pool");
    group.bench_function("native_1_thread", |b| {
        b.iter_with_large_drop(|| {
            one_thread.install(|| semaforo::evaluate(black_box(&rules), black_box(&table)))
        });
    });
    // One rhai evaluation takes several seconds: the 10 samples take one
    // evaluation each, whatever the measurement time (criterion says so).
    group.measurement_time(Duration::from_secs(1));
    group.bench_function("rhai", |b| {
        b.iter_with_large_drop(|| semaforo::evaluate(black_box(&rhai_rules), black_box(&table)));
    });
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("rust_decimal_loop", |b| {
        b.iter_with_large_drop(|| rust_decimal_loop(black_box(&decimals)));
    });
    group.measurement_time(Duration::from_secs(2));
    group.bench_function("f64_loop", |b| {
        b.iter_with_large_drop(|| {
            f64_loop(
                black_box(&floats[0]),
                black_box(&floats[1]),
                black_box(&floats[2]),
            )
        });
    });
    group.finish();
}

criterion_group!(benches, cell_throughput);
criterion_main!(benches);
