//! `eval --format csv|json` writes the results part by part through a
//! [`Spool`]: byte for byte what [`report::write`] writes of the whole
//! result set, with the parts kept in memory or every one spilled to the
//! temporary file (budget 0), on 1 and 2 threads; with the same summary
//! counts, selections and period warnings. On every shipped pack with its
//! example data (matrices, errors, flags, several periods, files read
//! whole) and on generated balances with peer groups, streamed in batches.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

mod support;

use std::path::Path;

use semaforo::report::{self, Format, Origin, SPOOL_BUDGET, Spool, Tally};
use semaforo::{Analysis, Reading};
use support::root;

#[path = "../examples/support/balances.rs"]
#[expect(dead_code, reason = "the example uses the rest")]
mod balances;

/// Every shipped pack with the example data it reads.
const EXAMPLES: &[(&str, &str)] = &[
    (
        "rules/atencion-cooperativas",
        "examples/coacsa/cooperativas.csv",
    ),
    ("rules/compromisos", "examples/dipres/compromisos.csv"),
    (
        "rules/poa-insafocoop",
        "examples/insafocoop/seguimiento_mensual.csv",
    ),
    (
        "rules/poa-insafocoop",
        "examples/insafocoop/seguimiento_mensual.xlsx",
    ),
    (
        "rules/poa-insafocoop-ejes",
        "examples/insafocoop/ejes_estrategicos.csv",
    ),
    ("rules/poa-senavex", "examples/senavex/ejecucion_2020.csv"),
    ("rules/poa-senavex", "examples/senavex/ejecucion_2020.xlsx"),
    (
        "rules/priorizacion-procesos",
        "examples/coacsa/procesos.csv",
    ),
    ("rules/sagrario", "examples/sagrario/balances.csv"),
];

/// Asserts that spooling `data` with `pack` writes what writing its whole
/// results writes, in both formats, both budgets, 1 and 2 threads; returns
/// how the file was read.
fn assert_spooled_as_whole(pack: &Path, data: &Path) -> Reading {
    let rules = semaforo::load(pack).unwrap();
    let mut reading = None;
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let done = semaforo::evaluate_file(&rules, data, &|_| {}).unwrap();
            let mut warnings = done.warnings.clone();
            warnings.extend(Analysis::period_warnings(&done.results));
            for format in [Format::Csv, Format::Json] {
                let mut whole = Vec::new();
                report::write(&done.results, format, &Origin::now("d"), &mut whole).unwrap();
                for budget in [SPOOL_BUDGET, 0] {
                    let what = format!(
                        "{} {} {format:?} budget {budget}",
                        pack.display(),
                        data.display()
                    );
                    let mut spool = Spool::new(&rules, budget);
                    let read =
                        semaforo::evaluate_file_with(&rules, data, &|_| {}, &mut spool).unwrap();
                    assert_eq!(read.reading, done.reading, "{what}");
                    let spooled = spool.finish().unwrap();
                    let mut spooled_warnings = read.warnings.clone();
                    spooled_warnings.extend(spooled.period_warnings().iter().cloned());
                    assert_eq!(spooled_warnings, warnings, "{what}");
                    assert_eq!(spooled.tally(), &Tally::of(&done.results), "{what}");
                    assert_eq!(
                        spooled.selection_summary(),
                        report::selection_summary(&done.results),
                        "{what}"
                    );
                    let mut written = Vec::new();
                    spooled.write(format, &mut written).unwrap();
                    assert!(
                        written == whole,
                        "{what}: spooled output differs from the whole write"
                    );
                }
            }
            reading = Some(done.reading);
        });
    }
    reading.unwrap()
}

#[test]
fn every_shipped_pack_spools_what_its_whole_results_write() {
    for (pack, data) in EXAMPLES {
        assert_spooled_as_whole(&root().join(pack), &root().join(data));
    }
}

#[test]
fn generated_balances_with_peer_groups_spool_in_batches_as_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("balances.csv");
    let options = balances::Options {
        // Larger than three chunks of the CSV reader (1 MiB each).
        entities: 300,
        periods: 3,
        seed: 5,
        with_names: false,
    };
    balances::write_balances(options, std::fs::File::create(&path).unwrap()).unwrap();
    let reading = assert_spooled_as_whole(&root().join("rules/cooperativas"), &path);
    assert!(
        matches!(reading, Reading::Streamed { batches } if batches >= 3),
        "{reading:?}"
    );
}

#[test]
fn an_empty_file_spools_an_empty_array_and_a_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.csv");
    std::fs::write(&path, "entity,period,code,value,grupo\n").unwrap();
    assert_spooled_as_whole(&root().join("rules/cooperativas"), &path);
}
