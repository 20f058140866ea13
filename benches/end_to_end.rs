//! End to end at supervisor scale: the shipped cooperative library
//! (`rules/cooperativas`) over generated balances of 5,000 cooperatives ×
//! 12 months × 393 codes (23.58 M rows, ≈ 1 GB; written once to a temporary
//! directory before timing, which takes a while). One group, `end_to_end`:
//!
//! - `parse_only`: the I/O floor — the file read into columns (tokenized,
//!   keys interned, values parsed exactly) on one thread, nothing evaluated;
//! - `eval_csv/2_threads`: what `semaforo eval --format csv` does — stream,
//!   read, evaluate, analyse (variation, peers) and write the CSV report
//!   (to a sink) — on the default pool of 2 threads (this machine's cores);
//! - `eval_csv/1_thread`: the same on a pool of one thread.
//!
//! Throughput is in balance rows. `SEMAFORO_BENCH_ENTITIES` sets another
//! number of cooperatives (e.g. 500 for a quick look).
//!
//! ```text
//! cargo bench --bench end_to_end
//! ```

mod support;

use std::collections::HashMap;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use rust_decimal::Decimal;

/// The I/O floor: the file read into columns on one thread, nothing
/// evaluated — every record tokenized (`csv`), its entity, period and code
/// interned to ids (a key equal to the previous row's is not looked up
/// again: rows come grouped), its value parsed exactly. Returns the rows.
fn parse_into_columns(path: &Path) -> usize {
    let mut csv = csv::ReaderBuilder::new()
        .buffer_capacity(1 << 20)
        .from_path(path)
        .expect("the generated file");
    let mut keys: [Keys; 3] = Default::default();
    let mut ids: [Vec<u32>; 3] = Default::default();
    let mut values: Vec<Option<Decimal>> = Vec::new();
    let mut record = csv::ByteRecord::new();
    while csv.read_byte_record(&mut record).expect("valid CSV") {
        for (k, keys) in keys.iter_mut().enumerate() {
            ids[k].push(keys.id(record.get(k).unwrap_or_default()));
        }
        let value = std::str::from_utf8(record.get(3).unwrap_or_default()).unwrap_or_default();
        values.push(semaforo::parse_decimal(value));
    }
    values.len()
}

/// Interned keys of one column, remembering the last one.
#[derive(Default)]
struct Keys {
    ids: HashMap<Vec<u8>, u32>,
    last: Option<(Vec<u8>, u32)>,
}

impl Keys {
    fn id(&mut self, key: &[u8]) -> u32 {
        if let Some((last, id)) = &self.last
            && last.as_slice() == key
        {
            return *id;
        }
        let next = u32::try_from(self.ids.len()).expect("few keys");
        let id = *self.ids.entry(key.to_vec()).or_insert(next);
        self.last = Some((key.to_vec(), id));
        id
    }
}

fn end_to_end(c: &mut Criterion) {
    let entities = std::env::var("SEMAFORO_BENCH_ENTITIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (path, rows) = support::generate(dir.path(), entities, 12);
    let rules = support::cooperativas();
    assert_eq!(
        parse_into_columns(&path),
        usize::try_from(rows).expect("rows fit")
    );
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a one-thread pool");

    let mut group = c.benchmark_group("end_to_end");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(60))
        .throughput(Throughput::Elements(rows));
    group.bench_function("parse_only", |b| {
        b.iter(|| parse_into_columns(black_box(&path)));
    });
    group.bench_function("eval_csv/2_threads", |b| {
        b.iter(|| support::eval_to_csv(&rules, black_box(&path)));
    });
    group.bench_function("eval_csv/1_thread", |b| {
        b.iter(|| one_thread.install(|| support::eval_to_csv(&rules, black_box(&path))));
    });
    group.finish();
}

criterion_group!(benches, end_to_end);
criterion_main!(benches);
