//! How many cases a generated (proptest) test runs: `SEMAFORO_FUZZ_CASES`
//! when it is set, else the test's own default, e.g.
//! `SEMAFORO_FUZZ_CASES=100000 cargo test --release --test limits`.
//!
//! Shared by the integration tests (through `tests/support/mod.rs`) and by
//! the binary's `#[cfg(test)]` module `src/serve/body_fuzz.rs` (through
//! `#[path]`), so it uses nothing but proptest.

use proptest::test_runner::{Config, TestRunner};

/// Cases per property: `SEMAFORO_FUZZ_CASES`, else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("SEMAFORO_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// A runner of [`cases`]`(default)` cases that writes no regression files.
pub fn runner(default: u32) -> TestRunner {
    TestRunner::new(Config {
        cases: cases(default),
        failure_persistence: None,
        ..Config::default()
    })
}
