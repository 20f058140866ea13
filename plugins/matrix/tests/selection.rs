//! The selection of a `[[matrix]]` follows its TOML: each test edits the
//! shipped `rules/priorizacion-procesos/pack.toml` as text (a weight, an
//! inversion, the percent, the tie rule), compiles the edited pack and
//! evaluates the seed-002 processes — the same binary, no recompilation.
//! Expected selections are worked by hand in the comments.
#![expect(
    clippy::unwrap_used,
    reason = "a broken fixture should fail the test loudly"
)]

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use semaforo_core::{Analysis, RulePack, SourceFile, Table, compile, evaluate};
use semaforo_matrix::MatrixPlugin;

const PACK: &str = include_str!("../../../rules/priorizacion-procesos/pack.toml");
const PROCESOS: &str = include_str!("../../../examples/coacsa/procesos.csv");

/// The shipped pack with each `from`, a key written at the start of a line
/// (never the comments that mention it), replaced by `to`.
fn edited(edits: &[(&str, &str)]) -> String {
    let mut text = PACK.to_owned();
    for (from, to) in edits {
        let line = format!("\n{from}");
        assert_eq!(
            text.matches(&line).count(),
            1,
            "the shipped pack should have one line starting `{from}`"
        );
        text = text.replacen(&line, &format!("\n{to}"), 1);
    }
    text
}

/// What a matrix selected in one evaluation (data without periods).
#[derive(Debug)]
struct Outcome {
    /// Entities selected, in input order.
    selected: Vec<String>,
    /// Rank of every item with a score.
    ranks: BTreeMap<String, usize>,
    /// Items with a score.
    items: usize,
    /// k of a top / top-percent rule.
    k: Option<usize>,
    /// The score at the cut.
    cut: Option<Decimal>,
    /// Values of every indicator, by (entity, indicator id).
    values: BTreeMap<(String, String), Option<Decimal>>,
}

fn run(pack: &str, csv: &str) -> Outcome {
    let pack = RulePack::from_sources(SourceFile::new("pack.toml", pack), vec![]).unwrap();
    let rules = compile(pack, &[&MatrixPlugin]).unwrap();
    let table =
        Table::from_csv_reader(csv.as_bytes(), "inline", rules.pack().data_shape()).unwrap();
    let results = evaluate(&rules, &table);
    let analysis = Analysis::of(&results);
    let indicators = rules.pack().indicators();
    let score = indicators
        .iter()
        .position(|i| i.id == "priorizacion")
        .unwrap();
    let mut outcome = Outcome {
        selected: Vec::new(),
        ranks: BTreeMap::new(),
        items: 0,
        k: None,
        cut: None,
        values: BTreeMap::new(),
    };
    for (row, key) in results.rows().iter().enumerate() {
        for (i, indicator) in indicators.iter().enumerate() {
            outcome.values.insert(
                (key.entity.clone(), indicator.id.clone()),
                results.cell(row, i).value,
            );
        }
        if let Some(ranking) = analysis.ranking(row, score) {
            outcome.ranks.insert(key.entity.clone(), ranking.rank);
            if ranking.selected {
                outcome.selected.push(key.entity.clone());
            }
        }
    }
    let [cut] = analysis.cuts() else {
        panic!("one matrix, no periods: one cut, got {:?}", analysis.cuts());
    };
    assert_eq!(cut.matrix, "priorizacion");
    assert_eq!(cut.selected, outcome.selected.len());
    outcome.items = cut.items;
    outcome.k = cut.k;
    outcome.cut = cut.cut;
    outcome
}

fn d(n: i64) -> Option<Decimal> {
    Some(Decimal::from(n))
}

/// The nine key processes of seed 002 (3.1.2.1.2), in process order.
const SEED_NINE: [&str; 9] = ["A", "B.1", "B.2", "B.3", "B.6", "B.8", "C.2", "D.2", "D.3"];

#[test]
fn the_shipped_pack_selects_the_seeds_nine_with_cut_13() {
    // k = ceil(20 × 44 / 100) = ceil(8.8) = 9; 9th total 13, 10th 12.
    let outcome = run(PACK, PROCESOS);
    assert_eq!(outcome.items, 44);
    assert_eq!(outcome.k, Some(9));
    assert_eq!(outcome.cut, d(13));
    assert_eq!(outcome.selected, SEED_NINE);
    assert_eq!(outcome.ranks["B.1"], 1);
    assert_eq!(outcome.ranks["B.2"], 1);
    assert_eq!(outcome.ranks["D.3"], 3);
    assert_eq!(outcome.ranks["D.4"], 10);
    assert_eq!(outcome.ranks["B.9"], 44);
}

#[test]
fn a_weight_changes_the_selection() {
    // Impact counts double: F + 2I + S. Sorted totals 20 20 19 18 18 18 18
    // 18 | 17 17 17 | 16 …: the 9th total is 17, shared by B.6 (4 + 8 + 5)
    // with D.4 "Controlar créditos" and K "Gestión de sistema" (5 + 10 + 2),
    // so `include` selects 11: the seed's nine plus D.4 and K.
    let pack = edited(&[
        (r#"score = "sum""#, r#"score = "weighted_sum""#),
        (
            "id = \"impacto\"\nfrom = \"impacto\"\n",
            "id = \"impacto\"\nfrom = \"impacto\"\nweight = 2\n",
        ),
    ]);
    let outcome = run(&pack, PROCESOS);
    assert_eq!(outcome.k, Some(9));
    assert_eq!(outcome.cut, d(17));
    assert_eq!(
        outcome.selected,
        [
            "A", "B.1", "B.2", "B.3", "B.6", "B.8", "C.2", "D.2", "D.3", "D.4", "K"
        ]
    );
    assert_eq!(
        outcome.values[&("D.4".into(), "priorizacion".into())],
        d(17)
    );

    // The same weights written as a score formula select the same.
    let formula = edited(&[(
        r#"score = "sum""#,
        r#"score = "frecuencia + 2 * impacto + satisfaccion""#,
    )]);
    assert_eq!(run(&formula, PROCESOS).selected, outcome.selected);
}

#[test]
fn inverting_a_criterion_changes_the_selection() {
    // `invert = true` on satisfaction reads the seed's already-inverted
    // scores the other way round (6 − s): the most SATISFYING processes now
    // score high. B.1 "Receptar depósitos" drops from 5 + 5 + 5 = 15 to
    // 5 + 5 + 1 = 11. New totals: 15 F.1, N (5 5 1 → 5 + 5 + 5); 14 D.1, D.4,
    // I.3, J, K; 13 D.2, E.1, E.3, F.2, I.5, L; 12 … The 9th total is 13 and
    // six processes share it: `include` selects 13, and only D.2 of the
    // seed's nine is still among them.
    let pack = edited(&[(
        "[[matrix.criterion]]\nid = \"satisfaccion\"\nfrom = \"satisfaccion\"\n",
        "[[matrix.criterion]]\nid = \"satisfaccion\"\nfrom = \"satisfaccion\"\ninvert = true\n",
    )]);
    let outcome = run(&pack, PROCESOS);
    // The criterion cell is 6 − s: B.1's 5 becomes 1, B.9's 1 becomes 5.
    assert_eq!(
        outcome.values[&("B.1".into(), "priorizacion_satisfaccion".into())],
        d(1)
    );
    assert_eq!(
        outcome.values[&("B.9".into(), "priorizacion_satisfaccion".into())],
        d(5)
    );
    assert_eq!(
        outcome.values[&("B.1".into(), "priorizacion".into())],
        d(11)
    );
    assert_eq!(outcome.k, Some(9));
    assert_eq!(outcome.cut, d(13));
    assert_eq!(
        outcome.selected,
        [
            "D.1", "D.2", "D.4", "E.1", "E.3", "F.1", "F.2", "I.3", "I.5", "J", "K", "L", "N"
        ]
    );
    assert!(!outcome.selected.contains(&"B.1".to_owned()));
}

#[test]
fn the_percent_sets_k() {
    // 25 %: k = ceil(11) = 11; the 11th total is 12, shared by D.4, I.2, I.7
    // and K (places 10–13): `include` takes all four → 13.
    let outcome = run(
        &edited(&[("top_percent = 20", "top_percent = 25")]),
        PROCESOS,
    );
    assert_eq!((outcome.k, outcome.cut), (Some(11), d(12)));
    assert_eq!(outcome.selected.len(), 13);
    for code in ["D.4", "I.2", "I.7", "K"] {
        assert!(outcome.selected.contains(&code.to_owned()), "{code}");
    }

    // 5 %: k = ceil(2.2) = 3: 15, 15, 14 — B.1, B.2 and D.3, cut 14.
    let outcome = run(
        &edited(&[("top_percent = 20", "top_percent = 5")]),
        PROCESOS,
    );
    assert_eq!((outcome.k, outcome.cut), (Some(3), d(14)));
    assert_eq!(outcome.selected, ["B.1", "B.2", "D.3"]);

    // A fixed count and a threshold are rules of the same table.
    let outcome = run(&edited(&[("top_percent = 20", "top = 2")]), PROCESOS);
    assert_eq!((outcome.k, outcome.cut), (Some(2), d(15)));
    assert_eq!(outcome.selected, ["B.1", "B.2"]);
    let outcome = run(&edited(&[("top_percent = 20", "at_least = 14")]), PROCESOS);
    assert_eq!(outcome.cut, d(14));
    assert_eq!(outcome.selected, ["B.1", "B.2", "D.3"]);
}

#[test]
fn the_tie_rule_decides_a_tie_at_the_cut() {
    // 25 %: k = 11, but places 10–13 are four processes tied at 12 (D.4 5 5 2,
    // I.2 5 3 4, I.7 5 4 3, K 5 5 2) for two places.
    let at_25 = |ties: &str| {
        run(
            &edited(&[
                ("top_percent = 20", "top_percent = 25"),
                (r#"ties = "include""#, ties),
            ]),
            PROCESOS,
        )
    };
    // include: all four → 13.
    assert_eq!(at_25(r#"ties = "include""#).selected.len(), 13);
    // exclude: the tied group does not fit, so none of it → the nine above.
    let exclude = at_25(r#"ties = "exclude""#);
    assert_eq!(exclude.selected, SEED_NINE);
    // break_by impact: D.4 and K (impact 5) beat I.7 (4) and I.2 (3); exactly 11.
    let by_impact = at_25(r#"ties = "break_by:impacto""#);
    assert_eq!(by_impact.selected.len(), 11);
    assert!(by_impact.selected.contains(&"D.4".to_owned()));
    assert!(by_impact.selected.contains(&"K".to_owned()));
    assert!(!by_impact.selected.contains(&"I.2".to_owned()));
    // break_by satisfaction: I.2 (4) and I.7 (3) beat D.4 and K (2).
    let by_satisfaction = at_25(r#"ties = "break_by:satisfaccion""#);
    assert_eq!(by_satisfaction.selected.len(), 11);
    assert!(by_satisfaction.selected.contains(&"I.2".to_owned()));
    assert!(by_satisfaction.selected.contains(&"I.7".to_owned()));
    assert!(!by_satisfaction.selected.contains(&"K".to_owned()));
    // Ties still share their rank whoever is selected.
    assert_eq!(by_impact.ranks["I.2"], 10);
    assert_eq!(by_impact.ranks["K"], 10);
}

#[test]
fn break_by_falls_back_to_the_entity() {
    // 10 %: k = ceil(4.4) = 5; above the cut 13: B.1, B.2 (15), D.3 (14);
    // tied at 13 for two places: A, B.3, B.6, B.8, C.2 (satisfaction 4, 4,
    // 5, 4, 4) and D.2 (3). By satisfaction B.6 first, then the four at 4 by
    // entity: A.
    let outcome = run(
        &edited(&[
            ("top_percent = 20", "top_percent = 10"),
            (r#"ties = "include""#, r#"ties = "break_by:satisfaccion""#),
        ]),
        PROCESOS,
    );
    assert_eq!((outcome.k, outcome.cut), (Some(5), d(13)));
    assert_eq!(outcome.selected, ["A", "B.1", "B.2", "B.6", "D.3"]);
}

/// Ten scored processes and their totals: P1 15, P2–P4 13, P5 10, P6 9, P7
/// 8, P8 7, P9 6, P10 3; X is off the scale (satisfaction 7).
const TIES: &str = "codigo,no,macroproceso,proceso,frecuencia,impacto,satisfaccion
P1,1,M,uno,5,5,5
P2,2,M,dos,4,5,4
P3,3,M,tres,5,4,4
X,4,M,fuera,4,5,7
P4,5,M,cuatro,4,4,5
P5,6,M,cinco,3,4,3
P6,7,M,seis,3,3,3
P7,8,M,siete,2,3,3
P8,9,M,ocho,2,2,3
P9,10,M,nueve,1,2,3
P10,11,M,diez,1,1,1
";

#[test]
fn exclude_keeps_a_tied_group_that_fits() {
    // top 4: P1 and the three 13s fill exactly 4 places → all selected.
    let fits = run(
        &edited(&[
            ("top_percent = 20", "top = 4"),
            (r#"ties = "include""#, r#"ties = "exclude""#),
        ]),
        TIES,
    );
    assert_eq!(fits.selected, ["P1", "P2", "P3", "P4"]);
    // top 3: the three 13s compete for two places → none of them.
    let does_not_fit = run(
        &edited(&[
            ("top_percent = 20", "top = 3"),
            (r#"ties = "include""#, r#"ties = "exclude""#),
        ]),
        TIES,
    );
    assert_eq!(does_not_fit.cut, d(13));
    assert_eq!(does_not_fit.selected, ["P1"]);
}

#[test]
fn items_without_a_score_are_not_counted() {
    // X's satisfaction 7 is off the 1–5 scale: an error, not a clamped 5
    // (which would make it 14, the second best). n = 10, so k = ceil(2) =
    // 2 (with X it would be ceil(2.2) = 3); the cut is 13 and `include`
    // selects P1 and the three tied at 13.
    let outcome = run(PACK, TIES);
    assert_eq!(outcome.items, 10);
    assert_eq!(outcome.k, Some(2));
    assert_eq!(outcome.cut, d(13));
    assert_eq!(outcome.selected, ["P1", "P2", "P3", "P4"]);
    assert_eq!(outcome.values[&("X".into(), "priorizacion".into())], None);
    assert!(!outcome.ranks.contains_key("X"));
    assert_eq!(outcome.ranks["P5"], 5);
}

#[test]
fn ascending_order_ranks_the_lowest_first() {
    // order = "asc": B.9 "Contratar SOAT" (5) is now rank 1, G (6) rank 2.
    let outcome = run(
        &edited(&[
            ("top_percent = 20", "top = 2"),
            (r#"order = "desc""#, r#"order = "asc""#),
        ]),
        PROCESOS,
    );
    assert_eq!(outcome.ranks["B.9"], 1);
    assert_eq!(outcome.ranks["G"], 2);
    assert_eq!(outcome.selected, ["B.9", "G"]);
    assert_eq!(outcome.cut, d(6));
}
