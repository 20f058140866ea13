//! Differential test of the native fast path: random formulas of the native
//! subset over random rows, evaluated once with the native path and once with
//! every indicator in rhai; every cell (value, compliance, met, band, flags,
//! error with its message and location) must be identical.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::cell::RefCell;
use std::fmt::Write as _;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rust_decimal::Decimal;
use semaforo_core::{CellError, CompiledRuleSet, RulePack, SourceFile, Table, compile, evaluate};

/// Cases run; each compiles a pack of three indicators twice and evaluates
/// up to 12 rows.
const CASES: u32 = 2_000;

/// Literals of the formulas: integers (read as decimals), many decimal
/// places, zero in two scales, and values large enough to overflow.
const LITERALS: [&str; 12] = [
    "0",
    "0.00",
    "1",
    "2",
    "3",
    "7",
    "100",
    "0.5",
    "3.14159265358979323846264338",
    "0.0000000000000000000000000001",
    "1000000000000000",
    "9223372036854775807",
];

/// Cell values of the data: zeros, signs, extremes of `Decimal`, 28 places,
/// empty cells (missing; `c` stands in 0 with a flag) and an unreadable one.
const CELLS: [&str; 18] = [
    "0",
    "0.0",
    "-0",
    "1",
    "-1",
    "2",
    "3",
    "0.5",
    "100",
    "79228162514264337593543950335",
    "-79228162514264337593543950335",
    "39614081257132168796771975168",
    "0.0000000000000000000000000001",
    "1.2345678901234567890123456789",
    "-7.000000001",
    "12345678901234.5678",
    "",
    "n/a",
];

fn number_cell() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(&CELLS[..]).prop_map(str::to_owned),
        2 => (any::<i64>(), 0..=28_u32).prop_map(|(m, s)| Decimal::new(m, s).to_string()),
        1 => (-1000_i64..1000, 0..=4_u32).prop_map(|(m, s)| Decimal::new(m, s).to_string()),
    ]
}

/// A numeric expression of the subset. `PREV` stands for the previous
/// indicator (or a field, for the first), `t` is a text field (the native
/// path must hand such cells to rhai).
fn number() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        24 => select(vec!["a", "b", "c", "p", "PREV"]).prop_map(str::to_owned),
        1 => Just("t".to_owned()),
        20 => select(&LITERALS[..]).prop_map(str::to_owned),
    ];
    leaf.prop_recursive(5, 40, 3, |inner| {
        prop_oneof![
            6 => (inner.clone(), select(vec!["+", "-", "*", "/"]), inner.clone(), any::<bool>())
                .prop_map(|(x, op, y, paren)| if paren {
                    format!("({x} {op} {y})")
                } else {
                    format!("{x} {op} {y}")
                }),
            1 => inner.clone().prop_map(|x| format!("(-{x})")),
            1 => (inner.clone(), inner.clone()).prop_map(|(x, y)| format!("min({x}, {y})")),
            1 => (inner.clone(), inner.clone()).prop_map(|(x, y)| format!("max({x}, {y})")),
            1 => inner.clone().prop_map(|x| format!("abs({x})")),
            2 => (condition(inner.clone()), inner.clone(), inner)
                .prop_map(|(c, x, y)| format!("(if {c} {{ {x} }} else {{ {y} }})")),
        ]
    })
    .boxed()
}

fn condition(number: BoxedStrategy<String>) -> BoxedStrategy<String> {
    let compare = (
        number.clone(),
        select(vec!["<", "<=", ">", ">=", "==", "!="]),
        number,
    )
        .prop_map(|(x, op, y)| format!("{x} {op} {y}"));
    compare
        .prop_recursive(2, 6, 2, |c| {
            prop_oneof![
                (c.clone(), c.clone()).prop_map(|(x, y)| format!("({x} && {y})")),
                (c.clone(), c).prop_map(|(x, y)| format!("({x} || {y})")),
            ]
        })
        .boxed()
}

/// A whole formula: an expression, or an `if` statement.
fn formula() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => number(),
        1 => (condition(number()), number(), number())
            .prop_map(|(c, x, y)| format!("if {c} {{ {x} }} else {{ {y} }}")),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    formulas: Vec<String>,
    parameter: &'static str,
    higher: Vec<bool>,
    rows: Vec<[String; 4]>,
}

fn case() -> impl Strategy<Value = Case> {
    let row = (
        number_cell(),
        number_cell(),
        number_cell(),
        select(vec!["", "abc", "5"]).prop_map(str::to_owned),
    )
        .prop_map(|(a, b, c, t)| [a, b, c, t]);
    (
        prop::collection::vec(formula(), 3),
        select(vec!["0", "0.125", "-3", "7922816251426433759354395033.5"]),
        prop::collection::vec(any::<bool>(), 3),
        prop::collection::vec(row, 1..12),
    )
        .prop_map(|(formulas, parameter, higher, rows)| Case {
            formulas,
            parameter,
            higher,
            rows,
        })
}

fn pack_source(case: &Case) -> String {
    let mut toml = format!(
        r#"[pack]
id = "differential"
version = "1"
[fields]
a = "a"
b = "b"
c = {{ column = "c", when_missing = 0, flag = "NO_C" }}
t = {{ column = "t", type = "text" }}
[parameters]
p = {}
[bands.higher]
levels = [{{ label = "MET", threshold = 100 }}, {{ label = "NEAR", threshold = 90 }}, {{ label = "GAP" }}]
[bands.lower]
levels = [{{ label = "MET", threshold = 100 }}, {{ label = "NEAR", threshold = 125 }}, {{ label = "GAP" }}]
"#,
        case.parameter
    );
    for (k, formula) in case.formulas.iter().enumerate() {
        let previous = if k == 0 {
            "a".to_owned()
        } else {
            format!("x{k}")
        };
        let formula = formula.replace("PREV", &previous);
        let direction = if case.higher[k] { "higher" } else { "lower" };
        write!(
            toml,
            "[[indicator]]\nid = \"x{}\"\nformula = '''{formula}'''\nstandard = 50\ndirection = \"{direction}\"\nbands = \"{direction}\"\n",
            k + 1
        )
        .unwrap();
    }
    toml
}

fn compiled(source: &str) -> CompiledRuleSet {
    let pack = RulePack::from_sources(SourceFile::new("pack.toml", source), vec![]).unwrap();
    compile(pack, &[]).unwrap()
}

#[derive(Debug, Default)]
struct Tally {
    cases: usize,
    cells: usize,
    values: usize,
    division_by_zero: usize,
    overflow: usize,
    other_errors: usize,
}

#[test]
fn native_and_rhai_paths_give_identical_cells() {
    let tally = RefCell::new(Tally::default());
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&case(), |case| {
            let source = pack_source(&case);
            let native = compiled(&source);
            let rhai = compiled(&source).without_native();
            for i in 0..case.formulas.len() {
                prop_assert_eq!(native.evaluation_path(i), "native", "{}", source);
                prop_assert_eq!(rhai.evaluation_path(i), "rhai");
            }
            let mut csv = String::from("entity,a,b,c,t\n");
            for (r, row) in case.rows.iter().enumerate() {
                writeln!(csv, "e{r},{}", row.join(",")).unwrap();
            }
            let shape = native.pack().data_shape();
            let table = Table::from_csv_reader(csv.as_bytes(), "data.csv", shape).unwrap();
            let fast = evaluate(&native, &table);
            let slow = evaluate(&rhai, &table);
            let mut tally = tally.borrow_mut();
            tally.cases += 1;
            for row in 0..table.len() {
                for i in 0..case.formulas.len() {
                    let (fast, slow) = (fast.cell(row, i), slow.cell(row, i));
                    if fast != slow {
                        return Err(TestCaseError::fail(format!(
                            "row {row} indicator x{}\n{source}\n{csv}\nnative: {fast:?}\nrhai:   {slow:?}",
                            i + 1
                        )));
                    }
                    // Same scale too: 1.0 and 1.00 are equal decimals but print differently.
                    prop_assert_eq!(
                        fast.value.map(|v| v.to_string()),
                        slow.value.map(|v| v.to_string())
                    );
                    tally.cells += 1;
                    match slow.error.as_deref() {
                        None => tally.values += 1,
                        Some(CellError::DivisionByZero { .. }) => tally.division_by_zero += 1,
                        Some(CellError::Overflow { .. }) => tally.overflow += 1,
                        Some(_) => tally.other_errors += 1,
                    }
                }
            }
            Ok(())
        })
        .unwrap();
    let tally = tally.into_inner();
    println!("{tally:#?}");
    assert_eq!(tally.cases, CASES as usize);
    assert!(tally.values > tally.cells / 10, "{tally:?}");
    assert!(tally.division_by_zero > 100, "{tally:?}");
    assert!(tally.overflow > 100, "{tally:?}");
}

/// A formula in the subset whose inputs are not all numbers (here a text
/// field) is evaluated by rhai for that cell, with rhai's error.
#[test]
fn text_inputs_fall_back_to_rhai() {
    let case = Case {
        formulas: vec!["t".into(), "a / b".into(), "max(t, 1)".into()],
        parameter: "0",
        higher: vec![true; 3],
        rows: vec![["1".into(), "0".into(), "".into(), "abc".into()]],
    };
    let source = pack_source(&case);
    let native = compiled(&source);
    assert_eq!(native.evaluation_path(0), "native");
    let rhai = compiled(&source).without_native();
    let csv = "entity,a,b,c,t\ne,1,0,,abc\n";
    let table =
        Table::from_csv_reader(csv.as_bytes(), "data.csv", native.pack().data_shape()).unwrap();
    let (fast, slow) = (evaluate(&native, &table), evaluate(&rhai, &table));
    for i in 0..3 {
        assert_eq!(fast.cell(0, i), slow.cell(0, i));
    }
    assert!(matches!(
        fast.cell(0, 0).error.as_deref(),
        Some(CellError::NotANumber { .. })
    ));
    // Both paths' `/` fail with core's typed failure, in rhai's words.
    assert!(matches!(
        fast.cell(0, 1).error.as_deref(),
        Some(CellError::DivisionByZero { detail, .. }) if detail == "Division by zero: 1 / 0"
    ));
}

/// More rows than the evaluator's chunks (128): division by zero, empty and
/// unreadable cells, `when_missing` flags and failed dependencies fall in
/// every chunk; the native and rhai paths agree on every cell, and so do 1
/// and 3 threads.
#[test]
fn many_rows_across_chunks_and_threads() {
    let case = Case {
        formulas: vec![
            "a / b * 100".into(),
            "if PREV > c || b == 0 { PREV - c * p } else { c / (a - 1) }".into(),
            "max(PREV, x1) * min(a, 3) + abs(c)".into(),
        ],
        parameter: "0.125",
        higher: vec![true, false, true],
        rows: vec![],
    };
    let source = pack_source(&case);
    let native = compiled(&source);
    let rhai = compiled(&source).without_native();
    let cells = ["", "n/a", "0", "1", "-2.5", "3", "1000000.01", "0.0"];
    let mut seed: u64 = 0x5E4A_F0A0;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(seed >> 33).unwrap() % n
    };
    let mut csv = String::from("entity,a,b,c,t\n");
    for r in 0..1000 {
        let mut pick = || {
            if next(4) == 0 {
                cells[next(cells.len())].to_owned()
            } else {
                format!("{}.{:02}", next(2000), next(100))
            }
        };
        let (a, b, c) = (pick(), pick(), pick());
        writeln!(csv, "e{r},{a},{b},{c},x").unwrap();
    }
    let shape = native.pack().data_shape();
    let table = Table::from_csv_reader(csv.as_bytes(), "data.csv", shape).unwrap();
    let on = |threads: usize, rules: &CompiledRuleSet| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| evaluate(rules, &table))
    };
    let fast = on(3, &native);
    let slow = on(1, &rhai);
    let single = on(1, &native);
    let mut kinds = std::collections::BTreeSet::new();
    let mut flagged = 0;
    for row in 0..table.len() {
        for i in 0..case.formulas.len() {
            let cell = fast.cell(row, i);
            assert_eq!(cell, slow.cell(row, i), "row {row} indicator x{}", i + 1);
            assert_eq!(cell, single.cell(row, i), "row {row} indicator x{}", i + 1);
            assert_eq!(
                cell.value.map(|v| v.to_string()),
                slow.cell(row, i).value.map(|v| v.to_string())
            );
            kinds.insert(cell.error.as_ref().map_or("value", |e| e.kind()));
            flagged += usize::from(!cell.flags.is_empty());
        }
    }
    for kind in [
        "value",
        "division_by_zero",
        "missing_value",
        "invalid_value",
        "dependency_failed",
    ] {
        assert!(kinds.contains(kind), "no {kind} in {kinds:?}");
    }
    assert!(flagged > 50, "{flagged} flagged cells");
}
