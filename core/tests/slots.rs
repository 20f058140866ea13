//! Peer statistics per slot (peer group × period × indicator), generated:
//! random values with ties, missing values, groups of 1, 2 and many, three
//! directions. Each cell's size, mean, median and rank are what counting
//! its peers one by one gives; and the slots fed part by part (entities
//! split across parts, as `evaluate_file_with` hands them over) give what
//! [`Analysis::of`] of the whole results gives, variations and warnings too.
//!
//! `SEMAFORO_FUZZ_CASES=10000 cargo test --release -p semaforo-core --test slots`
//! runs longer.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

mod support;

use proptest::prelude::*;
use rust_decimal::Decimal;
use semaforo_core::{Analysis, CompiledRuleSet, PeerStanding, ResultSet, Slots, compile, evaluate};
use support::{from_manifest, runner, table};

/// Three indicators of one field, one per direction.
fn rules() -> CompiledRuleSet {
    let pack = from_manifest(
        r#"
[pack]
id = "slots"
version = "1"
[data]
period = "period"
dimensions = ["group"]
peer_group = "group"
[fields]
x = "x"
[[indicator]]
id = "higher"
formula = "x"
direction = "higher"
standard = 3
[[indicator]]
id = "lower"
formula = "x"
direction = "lower"
standard = 3
[[indicator]]
id = "range"
formula = "x"
direction = "range"
standard_min = 2
standard_max = 4
"#,
    )
    .unwrap();
    compile(pack, &[]).unwrap()
}

/// One entity's rows: its group and, per period, its value (`None`: empty).
type Entity = (usize, Vec<Option<String>>);

/// A value among a few, so that ties are common, written with 0 to 2
/// places (`5`, `5.0`, `0.05`…); now and then 10^28 or 10^-11, which
/// together cannot be integers of one scale in an `i128` (and a few 10^28
/// overflow the sum, leaving the slot without figures).
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        20 => (-3..8i64, 0..3u32, any::<bool>()).prop_map(|(m, scale, padded)| {
            let m = if padded { m * 10_i64.pow(scale) } else { m };
            Decimal::new(m, scale).to_string()
        }),
        1 => Just(format!("1{}", "0".repeat(28))),
        1 => Just("0.00000000001".to_owned()),
    ]
}

/// 1 to 29 entities in four groups (so groups of 1, 2 and many), over 1
/// to 3 periods, some values empty.
fn entities() -> impl Strategy<Value = Vec<Entity>> {
    (1..=3usize).prop_flat_map(|periods| {
        prop::collection::vec(
            (
                0..4usize,
                prop::collection::vec(prop::option::weighted(0.85, value()), periods),
            ),
            1..30,
        )
    })
}

fn csv(entities: &[Entity], first: usize) -> String {
    let mut csv = String::from("entity,period,group,x\n");
    for (k, (group, values)) in entities.iter().enumerate() {
        for (p, value) in values.iter().enumerate() {
            let value = value.as_deref().unwrap_or_default();
            csv.push_str(&format!(
                "E{:03},2024-{:02},g{group},{value}\n",
                first + k,
                p + 1
            ));
        }
    }
    csv
}

/// Smaller is better, by each indicator's direction (within 2..4 is best).
fn badness(indicator: usize, value: Decimal) -> Decimal {
    match indicator {
        0 => -value,
        1 => value,
        _ => {
            let (min, max) = (Decimal::from(2), Decimal::from(4));
            if value < min {
                min - value
            } else if value > max {
                value - max
            } else {
                Decimal::ZERO
            }
        }
    }
}

/// The standing of a cell counted from its peers one by one.
fn counted(results: &ResultSet, row: usize, indicator: usize) -> Option<PeerStanding> {
    let key = &results.rows()[row];
    let value = results.cell(row, indicator).value?;
    let mut peers: Vec<Decimal> = results
        .rows()
        .iter()
        .enumerate()
        .filter(|(_, k)| k.period == key.period && k.peer_group == key.peer_group)
        .filter_map(|(r, _)| results.cell(r, indicator).value)
        .collect();
    peers.sort_unstable();
    let n = peers.len();
    let sum = peers
        .iter()
        .try_fold(Decimal::ZERO, |sum, p| sum.checked_add(*p))?;
    let mean = sum / Decimal::from(n);
    let median = if n % 2 == 1 {
        peers[n / 2]
    } else {
        (peers[n / 2 - 1] + peers[n / 2]) / Decimal::TWO
    };
    let better = peers
        .iter()
        .filter(|&&p| badness(indicator, p) < badness(indicator, value))
        .count();
    Some(PeerStanding {
        size: n,
        mean,
        median,
        from_mean: value - mean,
        from_median: value - median,
        rank: 1 + better,
    })
}

#[test]
fn slot_statistics_are_what_counting_peers_gives_whole_or_in_parts() {
    let rules = rules();
    let mut runner = runner(128);
    runner
        .run(&(entities(), 0..=30usize), |(entities, cut)| {
            let whole = evaluate(&rules, &table(&rules, &csv(&entities, 0)));
            let analysis = Analysis::of(&whole);
            let cut = cut.min(entities.len());
            let first = evaluate(&rules, &table(&rules, &csv(&entities[..cut], 0)));
            let second = evaluate(&rules, &table(&rules, &csv(&entities[cut..], cut)));
            let mut slots = Slots::new(&first);
            slots.add(&first);
            slots.add(&second);
            let stats = slots.finish();
            prop_assert_eq!(stats.warnings(), analysis.warnings());
            let mut ranked = 0;
            // Cells asked for in the order they were added: rows, then indicators.
            let mut ranks = stats.ranks();
            for (row, key) in whole.rows().iter().enumerate() {
                for indicator in 0..3 {
                    let expected = counted(&whole, row, indicator);
                    ranked += usize::from(expected.is_some());
                    prop_assert_eq!(
                        analysis.peer_standing(row, indicator),
                        expected.as_ref(),
                        "row {} indicator {}",
                        row,
                        indicator
                    );
                    let value = whole.cell(row, indicator).value;
                    prop_assert_eq!(
                        stats.peer_standing(
                            key,
                            indicator,
                            value,
                            ranks.next(key, indicator, value)
                        ),
                        expected,
                        "parts: row {} indicator {}",
                        row,
                        indicator
                    );
                    let previous = stats
                        .previous_row(row)
                        .and_then(|p| whole.cell(p, indicator).value);
                    prop_assert_eq!(
                        analysis.variation(row, indicator).copied(),
                        semaforo_core::Variation::between(previous, value)
                    );
                }
            }
            prop_assert_eq!(ranked > 0, whole.cells().any(|(.., c)| c.value.is_some()));
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_lonely_entity_ranks_first_and_ties_share_a_rank() {
    let rules = rules();
    // g0: one entity; g1: values 5, 5, 1 (higher: ranks 1, 1, 3).
    let csv =
        "entity,period,group,x\nA,2024-01,g0,2\nB,2024-01,g1,5\nC,2024-01,g1,5\nD,2024-01,g1,1\n";
    let results = evaluate(&rules, &table(&rules, csv));
    let analysis = Analysis::of(&results);
    let standing = |row| analysis.peer_standing(row, 0).unwrap();
    assert_eq!((standing(0).size, standing(0).rank), (1, 1));
    assert_eq!(
        [standing(1).rank, standing(2).rank, standing(3).rank],
        [1, 1, 3]
    );
    assert_eq!(standing(3).mean, Decimal::from(11) / Decimal::from(3));
    assert_eq!(standing(3).median, Decimal::from(5));
    // Lower is better: 1 first, then the two fives.
    let lower = |row| analysis.peer_standing(row, 1).unwrap().rank;
    assert_eq!([lower(1), lower(2), lower(3)], [2, 2, 1]);
}
