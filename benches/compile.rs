//! Loading and compiling generated packs: `RulePack::from_sources` then
//! `compile(pack, semaforo::PLUGINS)`, timed together. The manifest texts are
//! generated once, outside the timed loop: 200 indicators (fields `a`, `b`; a
//! band set; formulas `a / b * 100 + {i}` with standards), and 10,000 whose
//! formulas call a plugin, read a local named like nothing in the pack, and
//! form one long chain of dependencies through every third indicator (the
//! sizes that were quadratic before: compile time must grow linearly).
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
const LARGE: usize = 10_000;

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

/// A pack of `count` indicators: a third independent (`percent(a, b) + i`),
/// a third reading the one before through a local, a third one chain
/// (`i{k-3} * 2 + a`).
fn large_manifest(count: usize) -> String {
    let mut text = String::from(
        "[pack]\nid = \"large\"\nversion = \"1\"\nplugins = [\"ratios\"]\n[fields]\na = \"a\"\nb = \"b\"\n\
         [bands.met]\nlevels = [{ label = \"MET\", threshold = 100, color = \"#2e7d32\" }, { label = \"GAP\", color = \"red\" }]\n\
         [defaults]\nunit = \"percent\"\nbands = \"met\"\n",
    );
    for i in 0..count {
        let formula = if i % 3 == 0 || i < 3 {
            format!("percent(a, b) + {i}")
        } else if i % 3 == 1 {
            format!(
                "let x = i{}; if x > 1 {{ x }} else {{ ratio(a, b) }}",
                i - 1
            )
        } else {
            format!("i{} * 2 + a", i - 3)
        };
        write!(
            text,
            "[[indicator]]\nid = \"i{i}\"\nstandard = {}\nformula = \"{formula}\"\n",
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

    let large = large_manifest(LARGE);
    assert_eq!(load_and_compile(&large).pack().indicators().len(), LARGE);
    let mut group = c.benchmark_group("compile");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    group.bench_function("load_and_compile_10000_indicators", |b| {
        b.iter_with_large_drop(|| load_and_compile(black_box(&large)));
    });
    group.finish();
}

criterion_group!(benches, compile);
criterion_main!(benches);
