//! Loading and compiling a generated 200-indicator pack: `RulePack::from_sources`
//! then `compile(pack, semaforo::PLUGINS)`, timed together. The manifest text
//! (fields `a`, `b`; a band set; formulas `a / b * 100 + {i}` with standards)
//! is generated once, outside the timed loop.
//!
//! ```text
//! cargo bench --bench compile
//! ```

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use semaforo::{CompiledRuleSet, RulePack, SourceFile};

const INDICATORS: usize = 200;

/// A pack of [`INDICATORS`] indicators over fields `a` and `b`.
fn manifest() -> String {
    let mut text =
        String::from("[pack]\nid = \"compile\"\nversion = \"1\"\n[fields]\na = \"a\"\nb = \"b\"\n");
    text.push_str(
        "[bands.met]\nlevels = [{ label = \"MET\", threshold = 100 }, { label = \"GAP\" }]\n",
    );
    for i in 0..INDICATORS {
        write!(
            text,
            "[[indicator]]\nid = \"i{i}\"\nunit = \"percent\"\nbands = \"met\"\nstandard = {}\nformula = \"a / b * 100 + {i}\"\n",
            50 + i % 50
        )
        .expect("writing to a String");
    }
    text
}

fn load_and_compile(text: &str) -> CompiledRuleSet {
    let pack = RulePack::from_sources(SourceFile::new("pack.toml", text), vec![])
        .expect("the generated pack loads");
    semaforo::compile(pack, semaforo::PLUGINS).expect("the generated pack compiles")
}

fn compile(c: &mut Criterion) {
    let text = manifest();
    let rules = load_and_compile(&text);
    assert_eq!(rules.pack().indicators().len(), INDICATORS);

    let mut group = c.benchmark_group("compile");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("load_and_compile_200_indicators", |b| {
        b.iter_with_large_drop(|| load_and_compile(black_box(&text)));
    });
    group.finish();
}

criterion_group!(benches, compile);
criterion_main!(benches);
