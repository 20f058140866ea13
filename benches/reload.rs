//! Save → live latency: how long after a pack file is written the new
//! version is published, for a 200-indicator pack, with the default
//! debounce (50 ms) included. Also prints the p50 and p99 of 200 saves.
//!
//! ```text
//! cargo bench --bench reload
//! ```

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use semaforo::{LiveOptions, LiveRules, ReloadEvent};

const INDICATORS: usize = 200;

/// A pack of 200 indicators; `standard` changes the first one's standard.
fn pack(standard: u32) -> String {
    let mut text =
        String::from("[pack]\nid = \"reload\"\nversion = \"1\"\n[fields]\na = \"a\"\nb = \"b\"\n");
    text.push_str(
        "[bands.met]\nlevels = [{ label = \"MET\", threshold = 100 }, { label = \"GAP\" }]\n",
    );
    for i in 0..INDICATORS {
        let standard = if i == 0 { standard } else { 50 };
        let _ = write!(
            text,
            "[[indicator]]\nid = \"i{i}\"\nunit = \"percent\"\nbands = \"met\"\nstandard = {standard}\nformula = \"a / b * 100 + {i}\"\n"
        );
    }
    text
}

/// Writes a new version and waits until it is published; returns the latency.
fn save_and_wait(file: &Path, standard: u32, events: &mpsc::Receiver<ReloadEvent>) -> Duration {
    let start = Instant::now();
    fs::write(file, pack(standard)).expect("the pack file is writable");
    loop {
        match events
            .recv_timeout(Duration::from_secs(10))
            .expect("a reload within 10 s")
        {
            ReloadEvent::Published(snapshot)
                if snapshot.rules.pack().indicators()[0].standard.is_some() =>
            {
                return start.elapsed();
            }
            _ => {}
        }
    }
}

fn reload(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("pack.toml");
    fs::write(&file, pack(1)).expect("the pack file is writable");
    let live = LiveRules::load(dir.path(), semaforo::PLUGINS, LiveOptions::default())
        .expect("the generated pack is valid");
    let (sender, events) = mpsc::channel();
    let _watch = live.watch(move |event| {
        let _ = sender.send(event);
    });
    let mut standard = 1;
    let mut next = || {
        standard += 1;
        standard
    };

    let mut latencies: Vec<Duration> = (0..200)
        .map(|_| save_and_wait(&file, next(), &events))
        .collect();
    latencies.sort_unstable();
    eprintln!(
        "reload/save_to_live ({INDICATORS} indicators, debounce {:?}): p50 {:?}, p99 {:?} over {} saves",
        LiveOptions::default().debounce,
        latencies[latencies.len() / 2],
        latencies[latencies.len() * 99 / 100],
        latencies.len()
    );

    let mut group = c.benchmark_group("reload");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    group.bench_function("save_to_live_200_indicators", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| save_and_wait(&file, next(), &events))
                .sum()
        });
    });
    group.finish();
}

criterion_group!(benches, reload);
criterion_main!(benches);
