//! Tailoring: a pack that extends a library overrides, disables and adds
//! indicators without touching the library.
#![expect(
    clippy::unwrap_used,
    reason = "a broken fixture should fail the test loudly"
)]

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use semaforo_core::{Diagnostics, RulePack, Standard, compile, evaluate};
use support::{messages, table, write};

const LIBRARY: &str = r#"[pack]
id = "library"
version = "1.0.0"
[fields]
npl = "non-performing loans"
loans = "gross loans"
profit = "profit"
assets = "assets"
[bands.met]
levels = [{ label = "MET", threshold = 100 }, { label = "GAP" }]
[defaults]
unit = "percent"
bands = "met"
[[indicator]]
id = "delinquency"
direction = "lower"
standard = 5
formula = "npl / loans * 100"
[[indicator]]
id = "roa"
standard = 1
formula = "profit / assets * 100"
[[indicator]]
id = "leverage"
unit = "ratio"
formula = "loans / assets"
"#;

fn load(dir: &Path) -> Result<RulePack, Diagnostics> {
    RulePack::load(dir)
}

/// A temporary folder holding [`LIBRARY`] in `library/` and, in `coop/`,
/// a pack of `manifest`: the folder and the path of `coop/`.
fn library_and_coop(manifest: &str) -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    write(&root.path().join("library"), "pack.toml", LIBRARY);
    let child = root.path().join("coop");
    write(&child, "pack.toml", manifest);
    (root, child)
}

#[test]
fn a_child_changes_exactly_what_it_overrides_and_disables() {
    let (root, child) = library_and_coop(
        "[pack]\nid = \"coop\"\nversion = \"2\"\nextends = [\"../library\"]\ndisable = [\"leverage\"]\n\
         [override.delinquency]\nstandard = 4\n\
         [[indicator]]\nid = \"margin\"\nformula = \"profit / loans * 100\"\n",
    );
    let library_before = fs::read_to_string(root.path().join("library/pack.toml")).unwrap();
    let parent = load(&root.path().join("library")).unwrap();
    let tailored = load(&child).unwrap();
    assert_eq!(
        fs::read_to_string(root.path().join("library/pack.toml")).unwrap(),
        library_before
    );

    let ids: Vec<&str> = tailored
        .indicators()
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(ids, ["delinquency", "roa", "margin"]);
    assert_eq!(tailored.identity().id, "coop");
    let delinquency = &tailored.indicators()[0];
    assert_eq!(delinquency.standard, Some(Standard::Target(4.into())));
    assert_eq!(delinquency.overrides[0].keys, ["standard"]);
    assert!(
        delinquency
            .location
            .to_string()
            .ends_with("/library/pack.toml:15:6"),
        "{}",
        delinquency.location
    );
    assert!(
        delinquency.overrides[0]
            .location
            .to_string()
            .ends_with("coop/pack.toml:6:11"),
        "{}",
        delinquency.overrides[0].location
    );
    // Everything else about the inherited indicators is the library's.
    assert_eq!(tailored.indicators()[1], parent.indicators()[1]);

    // Same data through both: only the overridden indicator's assessment moves.
    let data = "entity,npl,loans,profit,assets\nA,45,1000,20,1500\n";
    let run = |pack: RulePack| {
        let rules = compile(pack, &[]).unwrap();
        evaluate(&rules, &table(&rules, data))
    };
    let (before, after) = (run(parent), run(tailored));
    // 4.5 % delinquency: met against the library's 5 %, a gap against the coop's 4 %.
    assert_eq!(
        (before.cell(0, 0).value, after.cell(0, 0).value),
        (Some("4.5".parse().unwrap()), Some("4.5".parse().unwrap()))
    );
    assert_eq!(
        (before.cell(0, 0).compliance, after.cell(0, 0).compliance),
        (Some(90.into()), Some("112.5".parse().unwrap()))
    );
    assert_eq!(
        (
            before.band_label(0, before.cell(0, 0)),
            after.band_label(0, after.cell(0, 0))
        ),
        (Some("MET"), Some("GAP"))
    );
    assert_eq!(before.cell(0, 1), after.cell(0, 1));
}

#[test]
fn overriding_or_disabling_an_unknown_id_is_refused_where_it_is_written() {
    let (root, child) = library_and_coop(
        "[pack]\nid = \"coop\"\nversion = \"2\"\nextends = [\"../library\"]\ndisable = [\"levrage\"]\n\
         [override.delinquncy]\nstandard = 4\n[[indicator]]\nid = \"roa\"\nformula = \"1\"\n",
    );
    let file = child.join("pack.toml").display().to_string();
    assert_eq!(
        messages(&load(&child).unwrap_err()),
        [
            format!(
                "{file}:5:12: error[SEM004]: cannot disable `levrage`: no inherited indicator has that id"
            ),
            format!(
                "{file}:6:11: error[SEM004]: cannot override `delinquncy`: no inherited indicator has that id"
            ),
            format!(
                "{file}:9:6: error[SEM009]: indicator `roa` is inherited (defined at {}:20:6)",
                root.path().join("library/pack.toml").display()
            ),
        ]
    );
}

#[test]
fn packs_that_extend_each_other_are_a_cycle() {
    let root = tempfile::tempdir().unwrap();
    write(
        &root.path().join("a"),
        "pack.toml",
        "[pack]\nid = \"a\"\nversion = \"1\"\nextends = [\"../b\"]\n",
    );
    write(
        &root.path().join("b"),
        "pack.toml",
        "[pack]\nid = \"b\"\nversion = \"1\"\nextends = [\"../a\"]\n",
    );
    let err = messages(&load(&root.path().join("a")).unwrap_err());
    assert_eq!(err.len(), 1, "{err:?}");
    assert!(
        err[0].contains(":4:12: error[SEM008]: packs extend each other in a cycle: "),
        "{err:?}"
    );
}

#[test]
fn several_parents_resolve_in_order() {
    let root = tempfile::tempdir().unwrap();
    write(&root.path().join("library"), "pack.toml", LIBRARY);
    write(
        &root.path().join("regional"),
        "pack.toml",
        "[pack]\nid = \"regional\"\nversion = \"1\"\n[fields]\nassets = \"assets\"\nprofit = \"profit\"\n\
         [[indicator]]\nid = \"roa\"\nstandard = 2\nformula = \"profit / assets * 100\"\n",
    );
    let child = root.path().join("coop");
    write(
        &child,
        "pack.toml",
        "[pack]\nid = \"coop\"\nversion = \"1\"\nextends = [\"../library\", \"../regional\"]\n",
    );
    let pack = load(&child).unwrap();
    let roa = pack.indicators().iter().find(|i| i.id == "roa").unwrap();
    assert_eq!(
        roa.standard,
        Some(Standard::Target(2.into())),
        "the later parent wins"
    );
    assert_eq!(pack.indicators().len(), 3);
}

#[test]
fn the_content_hash_covers_every_file_of_every_pack() {
    let (root, child) =
        library_and_coop("[pack]\nid = \"coop\"\nversion = \"1\"\nextends = [\"../library\"]\n");
    let first = load(&child).unwrap().identity().content_hash.clone();
    assert_eq!(
        load(&child).unwrap().identity().content_hash,
        first,
        "stable"
    );
    write(
        &root.path().join("library"),
        "helpers.rhai",
        "fn twice(x) { x * 2 }\n",
    );
    let with_script = load(&child).unwrap().identity().content_hash.clone();
    assert_ne!(with_script, first);
    write(
        &root.path().join("library"),
        "pack.toml",
        &LIBRARY.replace("standard = 5", "standard = 6"),
    );
    assert_ne!(load(&child).unwrap().identity().content_hash, with_script);
}

#[test]
fn a_missing_parent_is_located_at_the_extends_naming_it_by_its_path_without_dots() {
    let root = tempfile::tempdir().unwrap();
    let child = root.path().join("coop");
    write(
        &child,
        "pack.toml",
        "[pack]\nid = \"coop\"\nversion = \"1\"\nextends = [\"./../missing/.\"]\n",
    );
    let err = load(&child).unwrap_err();
    let problem = err.iter().next().unwrap();
    assert_eq!(err.0.len(), 1);
    assert_eq!(
        problem.to_string(),
        format!(
            "{}:4:12: error[SEM001]: cannot read {}: {}",
            child.join("pack.toml").display(),
            root.path().join("missing/pack.toml").display(),
            fs::read(root.path().join("missing/pack.toml")).unwrap_err()
        )
    );
    assert_eq!(
        problem.help.as_deref(),
        Some("pass the directory that holds the pack's pack.toml")
    );
}
