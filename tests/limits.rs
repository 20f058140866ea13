//! Formula limits as a class: out-of-range `[limits]` values are located
//! load errors; runaway formulas (loops, recursion, growth, deep nesting,
//! slow arithmetic) end in a value or a cell error and never abort; the
//! native stack is measured against what Semáforo reserves; a cell has a
//! time budget; evaluations can be cancelled; math errors say what they are.
//!
//! Generated cases: `SEMAFORO_FUZZ_CASES` (default small), e.g.
//! `SEMAFORO_FUZZ_CASES=100000 cargo test --release --test limits`.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

mod support;

use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rust_decimal::Decimal;
use semaforo::{
    Cancel, CompiledRuleSet, Diagnostics, Limits, Plugin, Registry, ResultSet, RulePack,
    SourceFile, Table, compile, evaluate, evaluate_with,
};
use support::fuzz::runner;
use support::{assert_exit, semaforo_in, stderr, stdout};

/// A pack with field `x` (and `y`), `[limits]` lines and one indicator per formula.
fn manifest(limits: &str, formulas: &[&str]) -> String {
    let mut toml = format!(
        "[pack]\nid = \"limits\"\nversion = \"1\"\n\n[limits]\n{limits}\n[fields]\nx = \"x\"\ny = \"y\"\n"
    );
    for (i, formula) in formulas.iter().enumerate() {
        write!(
            toml,
            "\n[[indicator]]\nid = \"i{i}\"\nformula = '''{formula}'''\n"
        )
        .unwrap();
    }
    toml
}

fn load(toml: &str, script: &str) -> Result<CompiledRuleSet, Diagnostics> {
    let scripts = if script.is_empty() {
        vec![]
    } else {
        vec![SourceFile::new("helpers.rhai", script)]
    };
    let pack = RulePack::from_sources(SourceFile::new("pack.toml", toml), scripts)?;
    compile(pack, &[])
}

fn table(rules: &CompiledRuleSet, rows: &[(&str, &str)]) -> Table {
    let mut csv = String::from("entity,x,y\n");
    for (i, (x, y)) in rows.iter().enumerate() {
        writeln!(csv, "e{i},{x},{y}").unwrap();
    }
    Table::from_csv_reader(csv.as_bytes(), "data.csv", rules.pack().data_shape()).unwrap()
}

/// Every row is in the result and every cell has a value or an error.
fn complete(results: &ResultSet, rows: usize, indicators: usize) -> Result<(), String> {
    if results.rows().len() != rows {
        return Err(format!("{} rows of {rows}", results.rows().len()));
    }
    for r in 0..rows {
        for i in 0..indicators {
            let cell = results.cell(r, i);
            if cell.value.is_none() == cell.error.is_none() {
                return Err(format!("cell {r},{i} is {cell:?}"));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- ranges

#[test]
fn out_of_range_limits_are_refused_at_the_value() {
    let toml = manifest("max_call_levels = 1000\nmax_operations = 0\n", &["x"]);
    let errors = load(&toml, "").unwrap_err();
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "pack.toml:6:19: error[SEM015]: limits.max_call_levels = 1000 is out of range: it must be from 1 to 128 (deeper formulas could overflow the native stack)",
            "pack.toml:7:18: error[SEM015]: limits.max_operations = 0 is out of range: it must be from 1 to 1000000000 (0 would turn the limit off)",
        ]
    );
}

#[test]
fn out_of_range_limits_are_always_refused_with_a_location() {
    let keys: Vec<(&'static str, u64)> =
        Limits::RANGES.iter().map(|(k, r)| (*k, *r.end())).collect();
    let value = prop_oneof![
        Just(0_u64),
        1_u64..=200,
        1_u64..=70_000,
        1_u64..=2_000_000_000,
        Just(i64::MAX as u64),
    ];
    runner(64)
        .run(
            &(proptest::sample::select(keys), value),
            |((key, top), value)| {
                let toml = manifest(&format!("{key} = {value}\n"), &["x"]);
                let loaded = load(&toml, "");
                if (1..=top).contains(&value) {
                    prop_assert!(loaded.is_ok(), "{key} = {value}: {:?}", loaded.err());
                } else {
                    let errors = loaded.unwrap_err();
                    let first = errors.iter().next().unwrap();
                    prop_assert_eq!(first.code.as_str(), "SEM015");
                    let at = format!("pack.toml:6:{}", key.len() + 4);
                    let shown = first.to_string();
                    prop_assert_eq!(shown.split(": ").next().unwrap(), at.as_str());
                    let range = format!("from 1 to {top}");
                    prop_assert!(first.message.contains(&range), "{}", first.message);
                }
                Ok(())
            },
        )
        .unwrap();
}

// ---------------------------------------------------------------- runaways

const HELPERS: &str = r#"
fn down(n) { if n <= 0 { 0 } else { 1 + down(n - 1) } }
fn up(n) { up(n + 1) }
fn nested(n) { abs(abs(abs(abs(abs(abs(abs(abs(abs(abs(abs(abs(abs(abs(abs(abs(nested(n + 1))))))))))))))))) }
"#;

/// A runaway (or merely heavy) formula of the families of issue #13.
fn runaway() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("loop {}".to_owned()),
        Just("while true { }".to_owned()),
        Just("let y = x + 2; loop { y = (y ** 0.5) ** 1.99999; }".to_owned()),
        Just("let s = \"ab\"; loop { s += s; }".to_owned()),
        Just("let a = []; loop { a += [x]; }".to_owned()),
        Just("let a = []; loop { a = [a]; }".to_owned()),
        Just("let m = #{}; loop { m = #{b: m}; }".to_owned()),
        Just("up(x)".to_owned()),
        Just("nested(x)".to_owned()),
        (0_u32..300).prop_map(|n| format!("down({n})")),
        (1_usize..4_000).prop_map(|n| format!("x{}", " + x".repeat(n))),
        (1_usize..2_000).prop_map(|n| format!("{}x{}", "abs(".repeat(n), ")".repeat(n))),
        (1_usize..2_000).prop_map(|n| format!("{}x{}", "(".repeat(n), ")".repeat(n))),
        (1_usize..1_000).prop_map(|n| format!(
            "{}x{}",
            "if x > 0 { ".repeat(n),
            " } else { 0 }".repeat(n)
        )),
    ]
}

/// In-range limits, small enough in time that a case ends quickly.
fn limits() -> impl Strategy<Value = String> {
    (
        1_u64..=1_000_000_000,
        1_u64..=128,
        1_u64..=3_000,
        1_u64..=1_048_576,
        1_u64..=20_000,
        1_u64..=20_000,
        1_u64..=40,
    )
        .prop_map(|(ops, calls, depth, string, array, map, ms)| {
            format!(
                "max_operations = {ops}\nmax_call_levels = {calls}\nmax_expr_depth = {depth}\n\
                 max_string_size = {string}\nmax_array_size = {array}\nmax_map_size = {map}\n\
                 max_cell_time_ms = {ms}\n"
            )
        })
}

const FORMULA_ERRORS: [&str; 6] = [
    "limit_exceeded",
    "script_error",
    "overflow",
    "domain_error",
    "division_by_zero",
    "not_a_number",
];

#[test]
fn runaway_formulas_end_in_a_value_or_a_cell_error() {
    runner(24)
        .run(&(limits(), runaway()), |(limits, formula)| {
            let toml = manifest(&limits, &[&formula]);
            let rules = match load(&toml, HELPERS) {
                Ok(rules) => rules,
                // Only a formula nested deeper than max_expr_depth is refused, at its place.
                Err(errors) => {
                    for e in errors.iter() {
                        prop_assert!(e.location.is_some(), "{e}");
                        prop_assert!(
                            e.message.contains("too deep") || e.message.contains("complex"),
                            "{e}"
                        );
                    }
                    return Ok(());
                }
            };
            let results = evaluate(&rules, &table(&rules, &[("1", "1"), ("7", "2")]));
            complete(&results, 2, 1).map_err(TestCaseError::fail)?;
            for r in 0..2 {
                if let Some(error) = &results.cell(r, 0).error {
                    prop_assert!(FORMULA_ERRORS.contains(&error.kind()), "{error}");
                    if error.kind() == "limit_exceeded" {
                        let text = error.to_string();
                        prop_assert!(
                            text.contains("pack.toml:") || text.contains("helpers.rhai:"),
                            "{text}"
                        );
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_slow_cell_is_stopped_by_its_time_budget() {
    let toml = manifest(
        "max_cell_time_ms = 50\nmax_operations = 1000000000\n",
        &["let y = x + 2; loop { y = (y ** 0.5) ** 1.99999; }"],
    );
    let rules = load(&toml, "").unwrap();
    let results = evaluate(&rules, &table(&rules, &[("1", "1")]));
    let error = results.cell(0, 0).error.as_ref().unwrap();
    assert_eq!(error.kind(), "limit_exceeded");
    assert!(
        error
            .to_string()
            .starts_with("formula stopped at pack.toml:15:"),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .ends_with("ran longer than 50 ms (limits.max_cell_time_ms)"),
        "{error}"
    );
}

#[test]
fn recursion_at_the_largest_call_depth_is_a_cell_error() {
    let toml = manifest(
        "max_call_levels = 128\nmax_expr_depth = 3000\n",
        &["up(x)", "nested(x)", "down(100)"],
    );
    let rules = load(&toml, HELPERS).unwrap();
    let results = evaluate(&rules, &table(&rules, &[("1", "1")]));
    for i in 0..2 {
        let error = results.cell(0, i).error.as_ref().unwrap();
        assert_eq!(error.kind(), "limit_exceeded", "{error}");
        let text = error.to_string();
        assert!(
            text.contains(" at pack.toml:") || text.contains(" at helpers.rhai:"),
            "{text}"
        );
    }
    assert_eq!(results.cell(0, 2).value, Some(Decimal::from(100)));
}

// ---------------------------------------------------------------- nesting

#[test]
fn a_flat_sum_of_a_thousand_terms_compiles_on_both_paths() {
    let sum = format!("x{}", " + x".repeat(999));
    let toml = manifest("", &[&sum, &format!("abs({sum})")]);
    let rules = load(&toml, "").unwrap();
    let data = table(&rules, &[("0.5", "1")]);
    let native = evaluate(&rules, &data);
    let rhai = evaluate(&rules.without_native(), &data);
    for i in 0..2 {
        assert_eq!(native.cell(0, i).value, Some(Decimal::from(500)));
        assert_eq!(native.cell(0, i), rhai.cell(0, i));
    }
}

#[test]
fn parentheses_a_hundred_thousand_deep_are_a_located_compile_error() {
    let deep = format!("{}x{}", "(".repeat(100_000), ")".repeat(100_000));
    let errors = load(&manifest("", &[&deep]), "").unwrap_err();
    let first = errors.iter().next().unwrap().to_string();
    assert!(
        first.starts_with("pack.toml:13:") && first.contains("error[SEM003]"),
        "{first}"
    );
}

/// Nesting shapes at random depths, up to past the largest limit: each
/// compiles and evaluates, or is a located syntax error (too deep).
#[test]
fn nesting_of_every_shape_compiles_or_is_located() {
    let shape = prop_oneof![
        Just(("x + (", ")")),
        Just(("(", ")")),
        Just(("abs(", ")")),
        Just(("-(", ")")),
        Just(("{ ", " }")),
        Just(("[", "]")),
        Just(("if x > 0 { ", " } else { 0 }")),
    ];
    let depth = prop_oneof![1_usize..100, 100_usize..2_000, 2_000_usize..20_000];
    runner(24)
        .run(&(shape, depth, 1_u64..=3_000), |((open, close), n, max)| {
            let formula = format!("{}x{}", open.repeat(n), close.repeat(n));
            let toml = manifest(&format!("max_expr_depth = {max}\n"), &[&formula]);
            match load(&toml, "") {
                Ok(rules) => {
                    let results = evaluate(&rules, &table(&rules, &[("1", "1")]));
                    complete(&results, 1, 1).map_err(TestCaseError::fail)?;
                }
                Err(errors) => {
                    let first = errors.iter().next().unwrap();
                    prop_assert_eq!(first.code.as_str(), "SEM003");
                    prop_assert!(first.to_string().starts_with("pack.toml:"), "{first}");
                    prop_assert!(first.message.contains("maximum complexity"), "{first}");
                }
            }
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------- stack

static DEEPEST: AtomicUsize = AtomicUsize::new(0);

fn stack_address() -> usize {
    let marker = 0_u8;
    std::hint::black_box(std::ptr::addr_of!(marker) as usize)
}

/// `probe()` records how deep the stack is where it is called.
struct Probe;
impl Plugin for Probe {
    fn name(&self) -> &'static str {
        "probe"
    }
    fn description(&self) -> &'static str {
        "records the stack address"
    }
    fn register(&self, registry: &mut Registry<'_>) {
        registry.engine().register_fn("probe", || {
            DEEPEST.store(stack_address(), Ordering::SeqCst);
            Decimal::ZERO
        });
    }
}

/// Stack used between the evaluation's start and `probe()` in `formula`.
fn stack_used(formula: &str, script: &str) -> usize {
    let toml = format!(
        "[pack]\nid = \"p\"\nversion = \"1\"\nplugins = [\"probe\"]\n[limits]\nmax_call_levels = 128\nmax_expr_depth = 3000\n\
         [fields]\nx = \"x\"\n[[indicator]]\nid = \"i\"\nformula = '''{formula}'''\n"
    );
    let scripts = if script.is_empty() {
        vec![]
    } else {
        vec![SourceFile::new("h.rhai", script)]
    };
    let pack = RulePack::from_sources(SourceFile::new("pack.toml", toml), scripts).unwrap();
    let rules = compile(pack, &[&Probe]).unwrap();
    let data = Table::from_csv_reader("entity,x\na,1\n".as_bytes(), "t", rules.pack().data_shape())
        .unwrap();
    // One thread with a stack larger than any reserve: nothing moves to a new segment.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .stack_size(512 << 20)
        .build()
        .unwrap();
    pool.install(|| {
        let top = stack_address();
        let results = evaluate(&rules, &data);
        assert_eq!(results.cell(0, 0).error, None);
        top - DEEPEST.load(Ordering::SeqCst)
    })
}

/// Measures the native stack per level of expression nesting and of
/// script calls in this build (debug or release) and checks it against
/// the per-level reserve `Limits::stack_size` is computed with (20 KiB per
/// expression level, 48 KiB per call level). Run with `--nocapture` to see
/// the figures.
#[test]
fn stack_per_level_fits_the_reserve() {
    let per_level = |make: &dyn Fn(usize) -> String, levels_per_step: usize| {
        let (a, b) = (100, 600);
        let used = stack_used(&make(b), "") - stack_used(&make(a), "");
        used / ((b - a) * levels_per_step)
    };
    // Nested calls count two expression levels each, a sum one per term.
    let calls = per_level(
        &|n| format!("{}probe(){}", "abs(".repeat(n), ")".repeat(n)),
        2,
    );
    let sums = per_level(&|n| format!("probe(){}", " + x".repeat(n)), 1);
    let script = "fn f(n) { if n <= 0 { probe() } else { f(n - 1) } }";
    let call_level = (stack_used("f(120)", script) - stack_used("f(20)", script)) / 100;
    println!(
        "stack per expression level: nested calls {calls} B, sum terms {sums} B; per script call level {call_level} B"
    );
    assert!(calls.max(sums) <= 20 << 10, "{calls} {sums}");
    assert!(call_level <= 48 << 10, "{call_level}");
}

// ---------------------------------------------------------------- cancel

fn slow_pack() -> CompiledRuleSet {
    let toml = manifest(
        "max_cell_time_ms = 60000\nmax_operations = 1000000000\n",
        &["let n = 0; while n < 100000000 { n += 1; } n", "x * 2"],
    );
    load(&toml, "").unwrap()
}

#[test]
fn a_past_deadline_cancels_every_cell_and_keeps_every_row() {
    let rules = slow_pack();
    let rows: Vec<(&str, &str)> = (0..300).map(|_| ("1", "2")).collect();
    let cancel = Cancel::with_deadline(Instant::now());
    let results = evaluate_with(&rules, &table(&rules, &rows), &cancel);
    complete(&results, 300, 2).unwrap();
    for (_, _, _, _, cell) in results.cells() {
        let error = cell.error.as_ref().unwrap();
        assert_eq!(error.kind(), "limit_exceeded");
        assert_eq!(
            error.to_string(),
            "formula stopped: the evaluation was cancelled"
        );
    }
}

#[test]
fn cancel_from_another_thread_stops_a_running_evaluation() {
    let rules = slow_pack();
    let rows: Vec<(&str, &str)> = (0..64).map(|_| ("1", "2")).collect();
    let data = table(&rules, &rows);
    let cancel = Cancel::new();
    let results = std::thread::scope(|s| {
        let handle = cancel.clone();
        s.spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            handle.cancel();
        });
        evaluate_with(&rules, &data, &cancel)
    });
    complete(&results, 64, 2).unwrap();
    let cancelled = results
        .cells()
        .filter(|c| {
            c.4.error
                .as_ref()
                .is_some_and(|e| e.to_string().ends_with("was cancelled"))
        })
        .count();
    assert!(cancelled >= 64, "{cancelled} cells cancelled");
}

// ---------------------------------------------------------------- math

const EDGES: [&str; 20] = [
    "0",
    "0.00",
    "-0",
    "1",
    "-1",
    "2",
    "0.5",
    "-0.5",
    "3.5",
    "28",
    "29",
    "66",
    "67",
    "-100",
    "0.0000000000000000000000000001",
    "-0.0000000000000000000000000001",
    "100000000000000",
    "79228162514264337593543950335",
    "-79228162514264337593543950335",
    "1.5707963267948966",
];

const CALLS: [&str; 22] = [
    "x + y",
    "x - y",
    "x * y",
    "x / y",
    "x % y",
    "x ** y",
    "-x",
    "abs(x)",
    "min(x, y)",
    "max(x, y)",
    "sqrt(x)",
    "ln(x)",
    "log(x)",
    "exp(x)",
    "sin(x)",
    "cos(x)",
    "tan(x)",
    "floor(x)",
    "ceiling(x)",
    "round(x)",
    "round(x, y)",
    "if x > y { x / y } else { y - x }",
];

/// The exact result in `f64`, as an oracle of magnitude (NaN: undefined).
fn oracle(call: &str, a: f64, b: f64) -> f64 {
    match call {
        "x + y" => a + b,
        "x - y" => a - b,
        "x * y" => a * b,
        "x / y" => a / b,
        "x % y" => a % b,
        "x ** y" => a.powf(b),
        "sqrt(x)" => a.sqrt(),
        "ln(x)" => a.ln(),
        "log(x)" => a.log10(),
        "exp(x)" => a.exp(),
        "sin(x)" => a.sin(),
        "cos(x)" => a.cos(),
        "tan(x)" => a.tan(),
        "if x > y { x / y } else { y - x }" if a > b => a / b,
        "if x > y { x / y } else { y - x }" => b - a,
        _ => 0.0,
    }
}

const DECIMAL_MAX: f64 = 7.922_816_251_426_434e28;

#[test]
fn math_errors_are_truthful_and_the_same_on_both_paths() {
    let rules = load(&manifest("", &CALLS), "").unwrap();
    let rhai_only = load(&manifest("", &CALLS), "").unwrap().without_native();
    runner(200)
        .run(
            &(
                proptest::sample::select(EDGES.to_vec()),
                proptest::sample::select(EDGES.to_vec()),
            ),
            |(a, b)| {
                let data = table(&rules, &[(a, b)]);
                let native = evaluate(&rules, &data);
                let rhai = evaluate(&rhai_only, &data);
                let (x, y): (f64, f64) = (a.parse().unwrap(), b.parse().unwrap());
                let (da, db): (Decimal, Decimal) = (a.parse().unwrap(), b.parse().unwrap());
                for (i, call) in CALLS.iter().enumerate() {
                    let cell = native.cell(0, i);
                    prop_assert_eq!(cell, rhai.cell(0, i), "{} over {} {}", call, a, b);
                    let exact = oracle(call, x, y);
                    let Some(error) = &cell.error else {
                        // A value is never a lie about the magnitude.
                        prop_assert!(
                            exact.is_nan() || exact.abs() <= DECIMAL_MAX * 1.01,
                            "{call} over {a} {b}: {:?}, exact {exact}",
                            cell.value
                        );
                        continue;
                    };
                    let divisor_zero = match *call {
                        "x / y" | "x % y" => db.is_zero(),
                        "x ** y" => da.is_zero() && db.is_sign_negative() && !db.is_zero(),
                        "if x > y { x / y } else { y - x }" => db.is_zero() && da > db,
                        _ => false,
                    };
                    match error.kind() {
                        "division_by_zero" => {
                            prop_assert!(divisor_zero, "{call} over {a} {b}: {error}")
                        }
                        "overflow" => prop_assert!(
                            !divisor_zero && (exact.is_nan() || exact.abs() > DECIMAL_MAX * 0.99),
                            "{call} over {a} {b}: {error}, exact {exact}"
                        ),
                        "domain_error" => prop_assert!(
                            exact.is_nan() || *call == "round(x, y)" || exact.is_infinite(),
                            "{call} over {a} {b}: {error}, exact {exact}"
                        ),
                        other => prop_assert!(false, "{call} over {a} {b}: {other}: {error}"),
                    }
                }
                Ok(())
            },
        )
        .unwrap();
}

// ---------------------------------------------------------------- the CLI

const DEEPEST_PACK: &str = r#"[pack]
id = "deepest"
version = "1"

[limits]
max_call_levels = 128
max_expr_depth = 3000
max_cell_time_ms = 2000

[fields]
x = "x"

[[indicator]]
id = "recursion"
formula = "up(x)"

[[indicator]]
id = "nested_recursion"
formula = "nested(x)"

[[indicator]]
id = "arrays"
formula = "let a = []; loop { a = [a]; }"

[[indicator]]
id = "sum"
formula = "SUM"

[[indicator]]
id = "calls"
formula = "CALLS"
"#;

const DEEPEST_TEST: &str = r#"csv = """
entity,x
a,1
"""

[[expect]]
entity = "a"
indicator = "recursion"
error = "limit_exceeded"

[[expect]]
entity = "a"
indicator = "nested_recursion"
error = "limit_exceeded"

[[expect]]
entity = "a"
indicator = "sum"
value = "2990"
"#;

fn deepest_pack(dir: &Path) {
    let calls = format!("{}x{}", "abs(".repeat(1_490), ")".repeat(1_490));
    let pack = DEEPEST_PACK
        .replace("SUM", &format!("x{}", " + x".repeat(2_989)))
        .replace("CALLS", &calls);
    std::fs::write(dir.join("pack.toml"), pack).unwrap();
    std::fs::write(dir.join("helpers.rhai"), HELPERS).unwrap();
    std::fs::create_dir(dir.join("tests")).unwrap();
    std::fs::write(dir.join("tests/deepest.toml"), DEEPEST_TEST).unwrap();
    std::fs::write(dir.join("data.csv"), "entity,x\na,1\nb,2\n").unwrap();
}

/// The built binary (debug under `cargo test`, release under `cargo test
/// --release`) at the largest call depth and expression depth, with
/// runaway recursion, recursion through deep nesting, nested arrays and
/// the deepest formulas: every command ends with its normal exit status —
/// an overflowed stack would abort it.
#[test]
fn the_binary_lives_through_the_deepest_allowed_formulas() {
    let dir = tempfile::tempdir().unwrap();
    deepest_pack(dir.path());
    let eval = semaforo_in(
        dir.path(),
        &[
            "eval", "--pack", ".", "--data", "data.csv", "--format", "csv", "--quiet",
        ],
    );
    assert_exit(&eval, 0);
    let out = stdout(&eval);
    assert_eq!(out.matches("formula stopped").count(), 6, "{out}");
    assert!(out.contains("a,sum,2990,"), "{out}");
    assert!(out.contains("b,calls,2,"), "{out}");

    let test = semaforo_in(dir.path(), &["test", "."]);
    assert_exit(&test, 0);

    for indicator in ["recursion", "nested_recursion", "calls"] {
        let explain = semaforo_in(
            dir.path(),
            &[
                "explain",
                "--pack",
                ".",
                "--data",
                "data.csv",
                "--entity",
                "a",
                "--indicator",
                indicator,
            ],
        );
        assert_eq!(
            explain.status.code(),
            Some(0),
            "{indicator}: {}",
            stderr(&explain)
        );
    }
}
