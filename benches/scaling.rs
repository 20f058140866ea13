//! Time per institution as the batch grows: the shipped cooperative library
//! over generated balances of 500, 5,000 and 50,000 cooperatives × 1 month
//! (393 codes each; files written once before timing), as
//! `semaforo eval --format csv` runs it (streamed, 2 threads, report written
//! to a sink). Group `scaling`, one benchmark per size; throughput is in
//! institutions, so criterion's rate is institutions per second and the
//! time per institution is the median divided by the size.
//!
//! Peak memory is not something criterion measures: `benches/peak_memory.sh`
//! runs the same scenarios through the release binary under GNU time.
//!
//! ```text
//! cargo bench --bench scaling
//! ```

mod support;

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};

fn scaling(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let rules = support::cooperativas();
    let mut group = c.benchmark_group("scaling");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(60));
    for entities in [500, 5_000, 50_000] {
        let (path, _) = support::generate(dir.path(), entities, 1);
        group.throughput(Throughput::Elements(u64::from(entities)));
        group.bench_with_input(BenchmarkId::from_parameter(entities), &path, |b, path| {
            b.iter(|| support::eval_to_csv(&rules, black_box(path)));
        });
    }
    group.finish();
}

criterion_group!(benches, scaling);
criterion_main!(benches);
