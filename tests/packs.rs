//! Every shipped pack under `rules/` is valid and passes its own tests
//! (`semaforo test rules/<pack>` for each).
#![expect(
    clippy::unwrap_used,
    reason = "a broken fixture should fail the test loudly"
)]

mod support;

use std::fs;
use std::path::PathBuf;

fn shipped_packs() -> Vec<PathBuf> {
    let rules = support::root().join("rules");
    let mut packs: Vec<PathBuf> = fs::read_dir(rules)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join(semaforo::PACK_FILE).is_file())
        .collect();
    packs.sort();
    packs
}

#[test]
fn every_shipped_pack_passes_its_tests() {
    let packs = shipped_packs();
    assert!(!packs.is_empty());
    for pack in packs {
        let rules =
            semaforo::load(&pack).unwrap_or_else(|d| panic!("{} is invalid: {d}", pack.display()));
        let tests = semaforo::PackTest::load_all(&pack)
            .unwrap_or_else(|d| panic!("{}: {d}", pack.display()));
        assert!(!tests.is_empty(), "{} ships no tests", pack.display());
        for test in tests {
            let outcome = test.run(&rules);
            let failures: Vec<String> = outcome.failures.iter().map(ToString::to_string).collect();
            assert!(
                failures.is_empty(),
                "{}:\n{}",
                test.path().display(),
                failures.join("\n")
            );
            assert!(
                outcome.checks > 0,
                "{} checks nothing",
                test.path().display()
            );
        }
    }
}
