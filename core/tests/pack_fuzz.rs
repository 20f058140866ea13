//! Hostile packs. A small pack's text is mutated — bytes flipped, cut at any
//! byte, lines deleted or doubled, values replaced by random TOML, new
//! formulas over its names and random function names, deep nesting — and
//! loaded and compiled from disk: nothing panics, every problem has a
//! location, and a pack that compiles evaluates a row of plain numbers
//! without a "not found" error (`check` finds everything `eval` would).
//! Names and dependencies get their own generated families.
//!
//! `SEMAFORO_FUZZ_CASES=100000 cargo test --release --test pack_fuzz` runs
//! a longer search.
#![expect(
    clippy::unwrap_used,
    reason = "a broken fixture should fail the test loudly"
)]

mod support;

use std::fs;

use proptest::prelude::*;
use proptest::sample::select;
use rust_decimal::Decimal;
use semaforo_core::{
    CellError, CompiledRuleSet, DiagnosticCode, Diagnostics, Table, compile, evaluate,
    load_and_compile,
};
use support::{PLUGINS, from_manifest, table};

const PACK: &str = r##"[pack]
id = "fuzz"
version = "1"
plugins = ["ratios"]

[fields]
a = "a"
b = "b"
c = { column = "c", when_missing = 0, flag = "NO_C" }

[parameters]
p = 2

[bands.met]
levels = [{ label = "MET", threshold = 100, color = "#2e7d32" }, { label = "GAP", color = "red" }]

[defaults]
unit = "percent"
bands = "met"

[[indicator]]
id = "x1"
direction = "lower"
standard = 4
formula = "percent(a, b)"

[[indicator]]
id = "x2"
formula = "x1 * p + c"

[[indicator]]
id = "x3"
function = "share"

[[indicator]]
id = "x4"
formula = """
let t = x2;
if t > 1 { ratio(a, b) } else { abs(c) }
"""
"##;

const HELPER: &str = "fn share(a, b) {\n    ratio(a, b) * 100\n}\n";

/// A leaf of a formula: a name the pack defines, or a number.
fn leaf() -> BoxedStrategy<String> {
    select(vec!["a", "b", "c", "p", "x1", "x2", "1", "2.5", "0", "100"])
        .prop_map(str::to_owned)
        .boxed()
}

/// A numeric expression: arithmetic, numeric functions (some misspelt, some
/// with a wrong number of arguments), `if`, locals and closures whose names
/// are the pack's own names. Values stay numbers: what a call returns is not
/// known before evaluation (rhai keeps no return types without its
/// `metadata` feature), so texts and true/false appear only where their
/// kind is seen — as direct arguments ([`typed_call`]) and conditions.
/// (`sign` is left out for that reason: it returns a whole number, which no
/// decimal function takes, and `check` cannot see a call's result type.)
fn expression() -> BoxedStrategy<String> {
    leaf()
        .prop_recursive(4, 24, 3, |inner| {
            let function = select(vec![
                "percent", "ratio", "round", "abs", "min", "max", "floor", "share", "percnt",
                "ratoi", "foo", "x1",
            ]);
            prop_oneof![
                4 => (inner.clone(), select(vec!["+", "-", "*", "/"]), inner.clone())
                    .prop_map(|(x, op, y)| format!("({x} {op} {y})")),
                3 => (function.clone(), prop::collection::vec(inner.clone(), 0..=3))
                    .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
                1 => (inner.clone(), function, prop::collection::vec(inner.clone(), 0..=2))
                    .prop_map(|(x, f, args)| format!("{x}.{f}({})", args.join(", "))),
                1 => (inner.clone(), select(vec!["<", "==", ">="]), inner.clone(), inner.clone())
                    .prop_map(|(c, op, x, y)| format!("(if {c} {op} 1 {{ {x} }} else {{ {y} }})")),
                1 => (select(vec!["x1", "x2", "a", "q"]), inner.clone(), inner.clone())
                    .prop_map(|(v, x, y)| format!("{{ let {v} = {x}; {v} + {y} }}")),
                1 => (select(vec!["x1", "b", "v"]), inner.clone())
                    .prop_map(|(v, x)| format!("{{ let f = |{v}| {v} * 2; f.call({x}) }}")),
            ]
        })
        .boxed()
}

/// A call whose arguments tell its types: functions that take only whole
/// numbers or only texts, or numbers given text and true/false.
fn typed_call() -> BoxedStrategy<String> {
    let argument = prop_oneof![
        leaf(),
        select(vec!["\"s\"", "true"]).prop_map(str::to_owned)
    ];
    (
        select(vec![
            "is_odd", "len", "percent", "abs", "round", "trim", "to_upper", "-",
        ]),
        prop::collection::vec(argument, 1..=2),
        any::<bool>(),
    )
        .prop_map(|(f, args, local)| {
            // Through a local, the argument's kind must still be seen.
            let (prefix, args): (String, Vec<String>) = if local {
                let mut rest = vec!["v".to_owned()];
                rest.extend(args[1..].iter().cloned());
                (format!("let v = {}; ", args[0]), rest)
            } else {
                (String::new(), args)
            };
            match (f, args.as_slice()) {
                ("-", [x, y]) => format!("{prefix}{x} - {y}"),
                ("-", [x]) => format!("{prefix}-{x}"),
                _ => format!("{prefix}{f}({})", args.join(", ")),
            }
        })
        .boxed()
}

/// Random TOML values, some of the right type, most not.
fn toml_value() -> BoxedStrategy<String> {
    prop_oneof![
        (-1000_i64..1000).prop_map(|n| n.to_string()),
        select(vec![
            "1.5",
            "\"x\"",
            "\"\"",
            "true",
            "[]",
            "[1, \"a\"]",
            "{}",
            "{ a = 1 }",
            "1e400",
            "\"#zzz\"",
            "\"if\"",
            "\"percnt(a)\"",
            "'''a'''",
            "nan",
            "0x10",
            "1979-05-27",
        ])
        .prop_map(str::to_owned),
        "[a-z#\"' ]{0,8}",
    ]
    .boxed()
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    DeleteLine(usize),
    DuplicateLine(usize),
    SetValue(usize, String),
    AddFormula(String),
    Deep(usize, u8),
    Helper(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => any::<usize>().prop_map(Mutation::DeleteLine),
        1 => any::<usize>().prop_map(Mutation::DuplicateLine),
        2 => (any::<usize>(), toml_value()).prop_map(|(i, v)| Mutation::SetValue(i, v)),
        4 => prop_oneof![expression(), typed_call()].prop_map(Mutation::AddFormula),
        1 => (1_usize..3000, 0_u8..4).prop_map(|(d, k)| Mutation::Deep(d, k)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Helper(i, b)),
    ]
}

fn lines(text: &[u8]) -> Vec<Vec<u8>> {
    text.split_inclusive(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// Applies a mutation to the pack's (or the helper's) bytes.
fn apply(m: &Mutation, pack: &mut Vec<u8>, helper: &mut Vec<u8>, added: &mut usize) {
    match m {
        Mutation::Flip(i, b) if !pack.is_empty() => {
            let at = i % pack.len();
            pack[at] = *b;
        }
        Mutation::Truncate(i) => pack.truncate(i % (pack.len() + 1)),
        Mutation::DeleteLine(i) | Mutation::DuplicateLine(i) => {
            let mut all = lines(pack);
            if !all.is_empty() {
                let at = i % all.len();
                if matches!(m, Mutation::DeleteLine(_)) {
                    all.remove(at);
                } else {
                    let line = all[at].clone();
                    all.insert(at, line);
                }
                *pack = all.concat();
            }
        }
        Mutation::SetValue(i, value) => {
            let mut all = lines(pack);
            let keyed: Vec<usize> = (0..all.len())
                .filter(|&k| all[k].contains(&b'=') && !all[k].starts_with(b"["))
                .collect();
            if !keyed.is_empty() {
                let at = keyed[i % keyed.len()];
                let eq = all[at].iter().position(|b| *b == b'=').unwrap();
                let mut line = all[at][..=eq].to_vec();
                line.extend_from_slice(format!(" {value}\n").as_bytes());
                all[at] = line;
                *pack = all.concat();
            }
        }
        Mutation::AddFormula(formula) => {
            *added += 1;
            pack.extend_from_slice(
                format!("\n[[indicator]]\nid = \"g{added}\"\nformula = '''{formula}'''\n")
                    .as_bytes(),
            );
        }
        Mutation::Deep(depth, kind) => {
            let text = match kind {
                0 => format!("\n[{}]\n", vec!["d"; *depth].join(".")),
                1 => format!(
                    "\n[limits]\nmax_operations = {}1{}\n",
                    "[".repeat(*depth),
                    "]".repeat(*depth)
                ),
                2 => format!(
                    "\n[labels]\nunits = {}{}\n",
                    "{ a = ".repeat(*depth),
                    "}".repeat(*depth)
                ),
                _ => format!(
                    "\n[[indicator]]\nid = \"deep\"\nformula = \"{}a{}\"\n",
                    "(".repeat(*depth),
                    ")".repeat(*depth)
                ),
            };
            pack.extend_from_slice(text.as_bytes());
        }
        Mutation::Helper(i, b) => {
            if *b % 3 == 0 {
                helper.truncate(i % (helper.len() + 1));
            } else if !helper.is_empty() {
                let at = i % helper.len();
                helper[at] = *b;
            }
        }
        Mutation::Flip(..) => {}
    }
}

/// One row of plain numbers for every number column the pack reads.
fn plain_row(rules: &CompiledRuleSet) -> Table {
    let shape = rules.pack().data_shape();
    let mut header = vec![shape.entity.clone()];
    let mut row = vec!["e".to_owned()];
    for field in rules.fields().iter().filter(|f| f.call.is_none()) {
        if !header.contains(&field.column) {
            header.push(field.column.clone());
            row.push("3".to_owned());
        }
    }
    let quote = |cells: Vec<String>| {
        cells
            .iter()
            .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(",")
    };
    let csv = format!("{}\n{}\n", quote(header), quote(row));
    let shape = semaforo_core::DataShape {
        delimiter: b',',
        numbers: semaforo_core::NumberFormat::default(),
        ..shape.clone()
    };
    Table::from_csv_reader(csv.as_bytes(), "row.csv", &shape).unwrap()
}

/// What a loaded-and-compiled pack must satisfy.
fn holds(result: Result<CompiledRuleSet, Diagnostics>) -> Result<(), TestCaseError> {
    match result {
        Err(problems) => {
            prop_assert!(problems.error_count() > 0);
            for problem in problems.iter() {
                prop_assert!(problem.location.is_some(), "unlocated: {problem}");
            }
        }
        Ok(rules) => {
            let table = plain_row(&rules);
            let results = evaluate(&rules, &table);
            prop_assert_eq!(results.rows().len(), 1);
            for (i, indicator) in rules.pack().indicators().iter().enumerate() {
                if let Some(CellError::Script { message, .. }) = results.cell(0, i).error.as_deref()
                {
                    prop_assert!(
                        !message.contains("not found"),
                        "check passed `{}` ({:?}) but eval says: {message}",
                        indicator.id,
                        indicator.formula
                    );
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: support::cases(48), ..ProptestConfig::default() })]

    #[test]
    fn mutated_packs_never_crash_and_check_finds_what_eval_would(
        mutations in prop::collection::vec(mutation(), 1..=3),
    ) {
        let (mut pack, mut helper) = (PACK.as_bytes().to_vec(), HELPER.as_bytes().to_vec());
        let mut added = 0;
        for m in &mutations {
            apply(m, &mut pack, &mut helper, &mut added);
        }
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("pack.toml"), &pack).unwrap();
        fs::write(dir.path().join("helpers.rhai"), &helper).unwrap();
        holds(load_and_compile(dir.path(), PLUGINS))?;
    }

    /// Locals, closure parameters and loop variables named after another
    /// indicator never make it a dependency (nor a cycle); a real read of
    /// it, before the local exists, still does, and two make a cycle (SEM008).
    #[test]
    fn only_real_reads_are_dependencies(
        how in (0_u8..3, 0_u8..3),
        body in (select(vec!["a", "b", "1", "2.5"]), select(vec!["a", "b", "1", "2.5"])),
        real in (any::<bool>(), any::<bool>()),
    ) {
        let formula = |other: &str, how: u8, body: &str, real: bool| {
            let shadowed = match how {
                0 => format!("let {other} = {body}; {other} * 2"),
                1 => format!("let f = |{other}| {other} + 1; f.call({body})"),
                _ => format!("let s = 0; for {other} in [1, 2] {{ s += {other} }} s + {body}"),
            };
            if real {
                format!("let r = {other}; {shadowed}")
            } else {
                shadowed
            }
        };
        let manifest = format!(
            "[pack]\nid = \"d\"\nversion = \"1\"\n[fields]\na = \"a\"\nb = \"b\"\n\
             [[indicator]]\nid = \"a1\"\nformula = '''{}'''\n\
             [[indicator]]\nid = \"a2\"\nformula = '''{}'''\n",
            formula("a2", how.0, body.0, real.0),
            formula("a1", how.1, body.1, real.1),
        );
        let pack = from_manifest(&manifest).unwrap();
        match (compile(pack, &[]), real) {
            (Err(problems), (true, true)) => {
                let codes: Vec<DiagnosticCode> = problems.iter().map(|p| p.code).collect();
                prop_assert_eq!(codes, vec![DiagnosticCode::DependencyCycle]);
            }
            (Ok(rules), (true, false)) => prop_assert_eq!(rules.evaluation_order(), &[1, 0]),
            (Ok(rules), (false, _)) => prop_assert_eq!(rules.evaluation_order(), &[0, 1]),
            (other, real) => prop_assert!(false, "real reads {real:?} gave {other:?}"),
        }
    }

    /// A field name rhai reads as anything but a plain identifier is refused
    /// at its key (SEM017, or SEM011 when it is not an identifier at all);
    /// a name that passes is read by formulas.
    #[test]
    fn names_either_read_or_are_refused_at_load(
        name in prop_oneof![
            select(vec![
                "if", "else", "fn", "let", "const", "true", "false", "this", "loop", "while",
                "for", "in", "return", "throw", "try", "catch", "switch", "do", "until",
                "break", "continue", "private", "import", "export", "as", "global", "print",
                "debug", "type_of", "eval", "Fn", "call", "curry", "is_shared", "is_def_var",
                "is_def_fn", "var", "static", "shared", "sync", "async", "await", "yield",
                "new", "use", "with", "module", "package", "super", "thread", "spawn", "go",
                "exit", "match", "case", "public", "protected", "void", "null", "nil", "is",
                "default", "goto", "entity_", "_", "__", "x1", "saldo", "a_b",
            ]).prop_map(str::to_owned),
            "[a-z_][a-z0-9_]{0,6}",
        ],
    ) {
        let manifest = format!(
            "[pack]\nid = \"n\"\nversion = \"1\"\n[fields]\n{name} = {{ column = \"v\" }}\n\
             [[indicator]]\nid = \"out\"\nformula = '''{name} + 1'''\n"
        );
        match from_manifest(&manifest) {
            Err(problems) => {
                for problem in problems.iter() {
                    prop_assert!(
                        matches!(problem.code, DiagnosticCode::ReservedName | DiagnosticCode::InvalidValue),
                        "{problem}"
                    );
                    prop_assert_eq!(
                        problem.location.as_ref().map(|l| l.line_col()),
                        Some((5, 1)),
                        "{}", problem
                    );
                }
            }
            Ok(pack) => {
                let rules = compile(pack, &[]);
                prop_assert!(rules.is_ok(), "`{name}` loaded but does not compile: {rules:?}");
                let rules = rules.unwrap();
                let table = table(&rules, "entity,v\ne,41\n");
                prop_assert_eq!(evaluate(&rules, &table).cell(0, 0).value, Some(Decimal::from(42)));
            }
        }
    }
}
