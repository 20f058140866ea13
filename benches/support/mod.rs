//! What the supervisor-scale benchmarks share: generated cooperative
//! balances on disk and `semaforo eval` as the CLI runs it.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use semaforo::CompiledRuleSet;
use semaforo::report::{self, Format};

#[path = "../../examples/support/balances.rs"]
#[expect(dead_code, reason = "the example uses the rest")]
mod balances;

/// The shipped cooperative library.
pub fn cooperativas() -> CompiledRuleSet {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/cooperativas");
    semaforo::load(&dir).expect("rules/cooperativas compiles")
}

/// Generated balances of `entities` cooperatives × `periods` months (seed
/// 42, as `examples/generate_balances` writes them) in `dir`; returns the
/// file and its row count.
pub fn generate(dir: &Path, entities: u32, periods: u32) -> (PathBuf, u64) {
    let path = dir.join(format!("balances-{entities}x{periods}.csv"));
    let file = File::create(&path).expect("a temporary file");
    let options = balances::Options {
        entities,
        periods,
        seed: 42,
        with_names: false,
    };
    let rows = balances::write_balances(options, BufWriter::new(file)).expect("generated");
    (path, rows)
}

/// `semaforo eval --format csv` on `path`: read and evaluate (streamed),
/// then the CSV report, written to nowhere. Returns the rows evaluated.
pub fn eval_to_csv(rules: &CompiledRuleSet, path: &Path) -> usize {
    let done = semaforo::evaluate_file(rules, path, &|_| {}).expect("the generated file");
    report::write(
        &done.results,
        Format::Csv,
        &report::Origin::now(path.display().to_string()),
        &mut io::sink(),
    )
    .expect("writing to a sink");
    done.results.rows().len()
}
