//! Packs read from a directory, from memory and from a zip archive: the
//! same files give the same pack (indicators, locations inside the files,
//! content hash); an `extends` or a test's data that leaves memory or the
//! archive, an archive entry over its limits and a file that is not UTF-8
//! are errors that say where; packs that extend each other are refused
//! wherever they come from.
#![expect(
    clippy::unwrap_used,
    reason = "a broken fixture should fail the test loudly"
)]

use std::fs;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use semaforo_core::{
    ArchiveLimits, ArchiveSource, Diagnostics, FormulaSource, Indicator, Location, MemorySource,
    PackSource, PackTest, RulePack, SourceFile, Table, compile, evaluate,
};

/// The repository's `rules/` folder.
fn rules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("rules")
}

/// Every file under `dir`, as (path relative to `base`, bytes), in path order.
fn files_under(base: &Path, dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files.extend(files_under(base, &path));
        } else {
            let inside = path.strip_prefix(base).unwrap().to_str().unwrap();
            files.push((inside.replace('\\', "/"), fs::read(&path).unwrap()));
        }
    }
    files
}

/// `rules/sagrario` and the library it extends, `rules/cooperativas`.
fn sagrario_files() -> Vec<(String, Vec<u8>)> {
    let mut files = files_under(&rules(), &rules().join("sagrario"));
    files.extend(files_under(&rules(), &rules().join("cooperativas")));
    files
}

fn memory(label: Option<&str>, files: &[(String, Vec<u8>)]) -> MemorySource {
    let mut memory = label.map_or_else(MemorySource::new, MemorySource::labelled);
    for (path, bytes) in files {
        memory.insert(path, bytes.clone());
    }
    memory
}

/// A zip archive of `files`, deflated.
fn zip_bytes(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (path, bytes) in files {
        writer.start_file(path.as_str(), options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn archive(files: &[(String, Vec<u8>)]) -> ArchiveSource {
    ArchiveSource::from_reader(
        "packs.zip",
        Cursor::new(zip_bytes(files)),
        ArchiveLimits::default(),
    )
    .unwrap()
}

fn file(path: &str, text: &str) -> (String, Vec<u8>) {
    (path.to_owned(), text.as_bytes().to_vec())
}

fn messages(err: &Diagnostics) -> Vec<String> {
    err.iter().map(ToString::to_string).collect()
}

/// `location` with its file's path made relative: `prefix` taken off.
fn rebased(location: &Location, prefix: &str) -> Location {
    let shown = location.file.path().display().to_string();
    let inside = shown.strip_prefix(prefix).unwrap_or_else(|| {
        panic!("{shown} does not start with {prefix}");
    });
    Location {
        file: Arc::new(SourceFile::new(inside, location.file.text())),
        span: location.span.clone(),
    }
}

/// `indicator` with every location rebased.
fn rebased_indicator(indicator: &Indicator, prefix: &str) -> Indicator {
    let mut indicator = indicator.clone();
    indicator.location = rebased(&indicator.location, prefix);
    for over in &mut indicator.overrides {
        over.location = rebased(&over.location, prefix);
    }
    match &mut indicator.formula {
        FormulaSource::Inline { location, .. }
        | FormulaSource::Function { location, .. }
        | FormulaSource::Generated { location, .. } => *location = rebased(location, prefix),
        _ => panic!("a new kind of formula: rebase its location"),
    }
    indicator
}

/// Asserts that two loads of the same files gave the same pack, their
/// paths being `prefix` + the path inside.
fn assert_same_pack(a: &RulePack, a_prefix: &str, b: &RulePack, b_prefix: &str) {
    assert_eq!(a.identity(), b.identity(), "id, version and content hash");
    assert_eq!(a.indicators().len(), b.indicators().len());
    for (x, y) in a.indicators().iter().zip(b.indicators()) {
        assert_eq!(
            rebased_indicator(x, a_prefix),
            rebased_indicator(y, b_prefix)
        );
    }
    assert_eq!(a.fields(), b.fields());
    assert_eq!(a.data_shape(), b.data_shape());
    assert_eq!(a.labels(), b.labels());
    let bands = |pack: &RulePack, prefix: &str| {
        pack.band_sets()
            .iter()
            .map(|set| {
                let mut set = set.clone();
                set.location = rebased(&set.location, prefix);
                set
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(bands(a, a_prefix), bands(b, b_prefix));
    let files = |pack: &RulePack, prefix: &str| {
        pack.files()
            .iter()
            .map(|f| {
                let location = Location {
                    file: f.clone(),
                    span: 0..0,
                };
                rebased(&location, prefix).file
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(files(a, a_prefix), files(b, b_prefix));
}

#[test]
fn sagrario_from_memory_and_from_a_zip_is_the_pack_from_its_directory() {
    let from_dir = RulePack::load(&rules().join("sagrario")).unwrap();
    let dir_prefix = format!("{}/", rules().display());
    let files = sagrario_files();

    let from_memory = RulePack::load_from(&memory(None, &files), Path::new("sagrario")).unwrap();
    assert_same_pack(&from_dir, &dir_prefix, &from_memory, "");
    // Inherited indicators are located in the library, overrides in the pack.
    let morosidad = from_memory
        .indicators()
        .iter()
        .find(|i| i.id == "morosidad")
        .unwrap();
    assert!(
        morosidad
            .location
            .to_string()
            .starts_with("cooperativas/pack.toml:"),
        "{}",
        morosidad.location
    );
    assert!(
        morosidad.overrides[0]
            .location
            .to_string()
            .starts_with("sagrario/pack.toml:"),
        "{}",
        morosidad.overrides[0].location
    );

    let from_zip = RulePack::load_from(&archive(&files), Path::new("sagrario")).unwrap();
    assert_same_pack(&from_dir, &dir_prefix, &from_zip, "packs.zip:");
    assert!(
        from_zip.files()[0]
            .path()
            .starts_with("packs.zip:cooperativas"),
        "{}",
        from_zip.files()[0].path().display()
    );

    // The hash covers the files' contents: one changed byte changes it, wherever it is read from.
    let mut changed = files.clone();
    let library = changed
        .iter_mut()
        .find(|(p, _)| p == "cooperativas/pack.toml")
        .unwrap();
    library.1.push(b'\n');
    let changed_hash = |pack: RulePack| pack.identity().content_hash.clone();
    let hash =
        changed_hash(RulePack::load_from(&memory(None, &changed), Path::new("sagrario")).unwrap());
    assert_ne!(hash, from_dir.identity().content_hash);
    assert_eq!(
        hash,
        changed_hash(RulePack::load_from(&archive(&changed), Path::new("sagrario")).unwrap())
    );
}

#[test]
fn an_archive_on_disk_shows_its_own_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("packs.zip");
    fs::write(&path, zip_bytes(&sagrario_files())).unwrap();
    let source = ArchiveSource::open(&path).unwrap();
    let pack = RulePack::load_from(&source, Path::new("sagrario")).unwrap();
    assert_eq!(
        pack.files().last().unwrap().path(),
        Path::new(&format!("{}:sagrario/pack.toml", path.display()))
    );

    let not_zip = dir.path().join("packs.txt");
    fs::write(&not_zip, "not a zip").unwrap();
    let err = ArchiveSource::open(&not_zip).unwrap_err();
    assert!(
        messages(&err)[0].starts_with(&format!(
            "error[SEM001]: cannot read {} as a zip archive of packs: ",
            not_zip.display()
        )),
        "{err:?}"
    );
}

#[test]
fn from_sources_resolves_extends_among_the_files_it_is_given() {
    let library = "[pack]\nid = \"library\"\nversion = \"1\"\n[fields]\nx = \"x\"\n\
                   [[indicator]]\nid = \"double\"\nfunction = \"twice\"\n";
    let mine = "[pack]\nid = \"mine\"\nversion = \"1\"\nextends = [\"../library\"]\n\
                [[indicator]]\nid = \"more\"\nformula = \"double + 1\"\n";
    let pack = RulePack::from_sources(
        SourceFile::new("mine/pack.toml", mine),
        vec![
            SourceFile::new("library/pack.toml", library),
            SourceFile::new("library/helpers.rhai", "fn twice(x) { x * 2 }\n"),
        ],
    )
    .unwrap();
    let ids: Vec<&str> = pack.indicators().iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["double", "more"]);
    assert_eq!(
        pack.indicators()[0].location.to_string(),
        "library/pack.toml:7:6"
    );
    let rules = compile(pack, &[]).unwrap();
    let table = Table::from_csv_reader(
        "entity,x\nA,21\n".as_bytes(),
        "d.csv",
        rules.pack().data_shape(),
    )
    .unwrap();
    let results = evaluate(&rules, &table);
    assert_eq!(results.cell(0, 1).value, Some(43.into()));

    // A script no pack reads is refused where it is, not ignored.
    let err = RulePack::from_sources(
        SourceFile::new("pack.toml", library),
        vec![
            SourceFile::new("helpers.rhai", "fn twice(x) { x * 2 }\n"),
            SourceFile::new("lib/more.rhai", "fn thrice(x) { x * 3 }\n"),
        ],
    )
    .unwrap_err();
    assert_eq!(
        messages(&err),
        ["lib/more.rhai:1:1: error[SEM011]: lib/more.rhai is given, but no pack reads it"]
    );
    // A parent missing from the files is located at the `extends` naming it.
    let err = RulePack::from_sources(SourceFile::new("mine/pack.toml", mine), vec![]).unwrap_err();
    assert_eq!(
        messages(&err),
        [
            "mine/pack.toml:4:12: error[SEM001]: cannot read library/pack.toml: no such file in the files in memory"
        ]
    );
}

#[test]
fn an_extends_that_leaves_memory_or_the_archive_is_refused_where_it_is_written() {
    let pack = "[pack]\nid = \"mine\"\nversion = \"1\"\nextends = [\"../../cooperativas\"]\n";
    let files = [file("sagrario/pack.toml", pack)];
    let err = RulePack::load_from(&memory(None, &files), Path::new("sagrario")).unwrap_err();
    assert_eq!(
        messages(&err),
        [
            "sagrario/pack.toml:4:12: error[SEM011]: cannot extend `../../cooperativas`: `../../cooperativas` from `sagrario` leaves the files in memory"
        ]
    );
    let err = RulePack::load_from(&archive(&files), Path::new("sagrario")).unwrap_err();
    assert_eq!(
        messages(&err),
        [
            "packs.zip:sagrario/pack.toml:4:12: error[SEM011]: cannot extend `../../cooperativas`: `../../cooperativas` from `packs.zip:sagrario` leaves packs.zip"
        ]
    );
    // An absolute path leaves it too.
    let files = [file(
        "p/pack.toml",
        &pack.replace("../../cooperativas", "/etc"),
    )];
    let err = RulePack::load_from(&archive(&files), Path::new("p")).unwrap_err();
    assert!(
        messages(&err)[0]
            .starts_with("packs.zip:p/pack.toml:4:12: error[SEM011]: cannot extend `/etc`"),
        "{err:?}"
    );
}

#[test]
fn packs_that_extend_each_other_are_a_cycle_in_memory_and_in_an_archive() {
    let files = [
        file(
            "a/pack.toml",
            "[pack]\nid = \"a\"\nversion = \"1\"\nextends = [\"../b\"]\n",
        ),
        file(
            "b/pack.toml",
            "[pack]\nid = \"b\"\nversion = \"1\"\nextends = [\"../a\"]\n",
        ),
    ];
    let err = RulePack::load_from(&memory(None, &files), Path::new("a")).unwrap_err();
    assert_eq!(
        messages(&err),
        ["b/pack.toml:4:12: error[SEM008]: packs extend each other in a cycle: a → b → a"]
    );
    let err = RulePack::load_from(&archive(&files), Path::new("a")).unwrap_err();
    assert_eq!(
        messages(&err),
        [
            "packs.zip:b/pack.toml:4:12: error[SEM008]: packs extend each other in a cycle: packs.zip:a → packs.zip:b → packs.zip:a"
        ]
    );
}

/// A pack with a helper script, and the library it extends.
fn small_packs() -> Vec<(String, Vec<u8>)> {
    vec![
        file(
            "lib/pack.toml",
            "[pack]\nid = \"lib\"\nversion = \"1\"\n[fields]\nx = \"x\"\n",
        ),
        file(
            "mine/pack.toml",
            "[pack]\nid = \"mine\"\nversion = \"1\"\nextends = [\"../lib\"]\n\
             [[indicator]]\nid = \"double\"\nfunction = \"twice\"\n",
        ),
        file("mine/helpers.rhai", "fn twice(x) { x * 2 }\n"),
    ]
}

/// `files` zipped, with the sizes `entry` declares (in its local and its
/// central header) set to `declared`.
fn zip_declaring(files: &[(String, Vec<u8>)], entry: &str, declared: u32) -> Vec<u8> {
    let mut bytes = zip_bytes(files);
    let name = entry.as_bytes();
    let mut patched = 0;
    for at in 0..bytes.len().saturating_sub(46) {
        // Local header: signature, then the uncompressed size at 22, the name at 30.
        let local = bytes[at..].starts_with(b"PK\x03\x04") && bytes[at + 30..].starts_with(name);
        // Central header: the uncompressed size at 24, the name at 46.
        let central = bytes[at..].starts_with(b"PK\x01\x02") && bytes[at + 46..].starts_with(name);
        let size_at = match (local, central) {
            (true, _) => at + 22,
            (_, true) => at + 24,
            _ => continue,
        };
        bytes[size_at..size_at + 4].copy_from_slice(&declared.to_le_bytes());
        patched += 1;
    }
    assert_eq!(patched, 2, "both headers of {entry}");
    bytes
}

fn archive_of(bytes: Vec<u8>, limits: ArchiveLimits) -> Result<ArchiveSource, Diagnostics> {
    ArchiveSource::from_reader("packs.zip", Cursor::new(bytes), limits)
}

#[test]
fn an_archive_entry_declared_huge_is_refused_before_it_is_decompressed() {
    const HUGE: u32 = 0xF000_0000; // 3.75 GiB; the other files hold 49 + 101 bytes
    // A script: refused when the pack reads it, naming it.
    let bytes = zip_declaring(&small_packs(), "mine/helpers.rhai", HUGE);
    let roomy = ArchiveLimits {
        max_total_bytes: u64::MAX,
        ..ArchiveLimits::default()
    };
    let source = archive_of(bytes.clone(), roomy).unwrap();
    let err = RulePack::load_from(&source, Path::new("mine")).unwrap_err();
    assert_eq!(
        messages(&err),
        [
            "error[SEM001]: cannot read packs.zip:mine/helpers.rhai: the file declares 4026531840 bytes uncompressed, more than the 67108864 a file in an archive of packs may hold"
        ]
    );
    // A parent's pack.toml: located at the `extends` that names it.
    let bytes_lib = zip_declaring(&small_packs(), "lib/pack.toml", HUGE);
    let source = archive_of(bytes_lib, roomy).unwrap();
    let err = RulePack::load_from(&source, Path::new("mine")).unwrap_err();
    assert_eq!(
        messages(&err),
        [
            "packs.zip:mine/pack.toml:4:12: error[SEM001]: cannot read packs.zip:lib/pack.toml: the file declares 4026531840 bytes uncompressed, more than the 67108864 a file in an archive of packs may hold"
        ]
    );
    // With the default limits the archive as a whole declares too much.
    let err = archive_of(bytes, ArchiveLimits::default()).unwrap_err();
    assert_eq!(
        messages(&err),
        [
            "error[SEM001]: cannot read packs.zip as a zip archive of packs: its files declare 4026531990 bytes uncompressed in all, more than the 1073741824 an archive of packs may hold"
        ]
    );
}

#[test]
fn an_archive_entry_holding_more_than_it_declares_is_refused() {
    // `fn twice(x) { x * 2 }\n` is 22 bytes; declare 10.
    let bytes = zip_declaring(&small_packs(), "mine/helpers.rhai", 10);
    let source = archive_of(bytes, ArchiveLimits::default()).unwrap();
    let err = RulePack::load_from(&source, Path::new("mine")).unwrap_err();
    assert_eq!(
        messages(&err),
        [
            "error[SEM001]: cannot read packs.zip:mine/helpers.rhai: the file holds more than the 10 bytes it declares: the archive is damaged"
        ]
    );
}

#[test]
fn an_archive_over_its_limits_is_refused_when_opened() {
    let files: Vec<_> = (0..5)
        .map(|i| file(&format!("p/{i}.rhai"), "fn f() { 1 }\n"))
        .collect();
    let few = ArchiveLimits {
        max_entries: 4,
        ..ArchiveLimits::default()
    };
    let err = archive_of(zip_bytes(&files), few).unwrap_err();
    assert_eq!(
        messages(&err),
        [
            "error[SEM001]: cannot read packs.zip as a zip archive of packs: it holds 5 entries, more than the 4 an archive of packs may hold"
        ]
    );
    let small = ArchiveLimits {
        max_file_bytes: 8,
        ..ArchiveLimits::default()
    };
    let source = archive_of(zip_bytes(&small_packs()), small).unwrap();
    let err = RulePack::load_from(&source, Path::new("mine")).unwrap_err();
    assert_eq!(
        messages(&err),
        [
            "error[SEM001]: cannot read packs.zip:mine/pack.toml: the file declares 101 bytes uncompressed, more than the 8 a file in an archive of packs may hold"
        ]
    );
    // An entry named to lie outside the archive refuses it.
    let err = archive_of(
        zip_bytes(&[file("../evil/pack.toml", "[pack]\n")]),
        ArchiveLimits::default(),
    )
    .unwrap_err();
    assert_eq!(
        messages(&err),
        [
            "error[SEM001]: cannot read packs.zip as a zip archive of packs: entry `../evil/pack.toml` would lie outside the archive (an absolute path or `..`)"
        ]
    );
}

#[test]
fn a_file_that_is_not_utf8_is_located_at_its_first_bad_byte() {
    let mut files = small_packs();
    files[2].1 = b"fn twice(x) { x * 2 }\n// caf\xe9\n".to_vec();
    for (source, prefix) in [
        (
            Box::new(memory(Some("mem"), &files)) as Box<dyn PackSource>,
            "mem",
        ),
        (Box::new(archive(&files)), "packs.zip"),
    ] {
        let err = RulePack::load_from(source.as_ref(), Path::new("mine")).unwrap_err();
        assert_eq!(
            messages(&err),
            [format!(
                "{prefix}:mine/helpers.rhai:2:7: error[SEM003]: {prefix}:mine/helpers.rhai is not UTF-8 text: byte 28 starts an invalid sequence"
            )]
        );
    }
}

#[test]
fn pack_tests_are_read_through_the_source_with_their_data() {
    let test = "description = \"twice\"\ndata = \"../../data/x.csv\"\n\
                [[expect]]\nentity = \"A\"\nindicator = \"double\"\nvalue = \"42\"\n";
    let mut files = small_packs();
    files.push(file("mine/tests/twice.toml", test));
    files.push(file("data/x.csv", "entity,x\nA,21\n"));
    let source = archive(&files);
    let tests = PackTest::load_all_from(&source, Path::new("mine")).unwrap();
    assert_eq!(tests.len(), 1);
    assert_eq!(
        tests[0].path(),
        Path::new("packs.zip:mine/tests/twice.toml")
    );
    let pack = RulePack::load_from(&source, Path::new("mine")).unwrap();
    let rules = compile(pack, &[]).unwrap();
    let outcome = tests[0].run(&rules);
    assert_eq!((outcome.checks, outcome.failures), (1, vec![]));

    // The same files on disk: the same outcome.
    let dir = tempfile::tempdir().unwrap();
    for (path, bytes) in &files {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }
    let on_disk = PackTest::load_all(&dir.path().join("mine")).unwrap();
    assert_eq!(on_disk[0].run(&rules), tests[0].run(&rules));

    // A wrong value fails, located in the test file inside the archive.
    files[3] = file("mine/tests/twice.toml", &test.replace("\"42\"", "\"41\""));
    let tests = PackTest::load_all_from(&archive(&files), Path::new("mine")).unwrap();
    let failure = &tests[0].run(&rules).failures[0];
    assert_eq!(
        failure.to_string(),
        "packs.zip:mine/tests/twice.toml:3:1: `double` for A: value expected 41, got 42 (42)"
    );
}

#[test]
fn a_test_whose_data_is_not_in_the_source_is_a_located_error() {
    // What loading the tests says when the test's `data` is `data`.
    let problems = |data: &str| {
        let test =
            format!("data = \"{data}\"\n[[expect]]\nentity = \"A\"\nindicator = \"double\"\n");
        let mut files = small_packs();
        files.push(file("mine/tests/t.toml", &test));
        files.push(file("mine/tests/x.xlsx", "PK"));
        let err = PackTest::load_all_from(&memory(None, &files), Path::new("mine")).unwrap_err();
        messages(&err)
    };
    assert_eq!(
        problems("../../../x.csv"),
        [
            "mine/tests/t.toml:1:8: error[SEM011]: cannot read the test's data: `../../../x.csv` from `mine/tests` leaves the files in memory"
        ]
    );
    assert_eq!(
        problems("../x.csv"),
        [
            "mine/tests/t.toml:1:8: error[SEM011]: cannot read mine/x.csv: no such file in the files in memory"
        ]
    );
    assert_eq!(
        problems("x.xlsx"),
        [
            "mine/tests/t.toml:1:8: error[SEM011]: mine/tests/x.xlsx is a spreadsheet: a test reads one only from a pack directory"
        ]
    );
    // Sagrario's test names data outside its packs: from memory of the packs alone, that is said.
    let err = PackTest::load_all_from(&memory(None, &sagrario_files()), Path::new("sagrario"))
        .unwrap_err();
    assert!(
        messages(&err)[0].starts_with(
            "sagrario/tests/fichas.toml:2:8: error[SEM011]: cannot read the test's data: `../../../examples/sagrario/balances.csv` from `sagrario/tests` leaves the files in memory"
        ),
        "{err:?}"
    );
}

#[test]
fn the_library_tests_from_memory_are_the_tests_from_its_directory() {
    let on_disk = PackTest::load_all(&rules().join("cooperativas")).unwrap();
    let in_memory =
        PackTest::load_all_from(&memory(None, &sagrario_files()), Path::new("cooperativas"))
            .unwrap();
    let describe = |tests: &[PackTest], prefix: &str| {
        tests
            .iter()
            .map(|t| {
                let path = t.path().display().to_string();
                (path[prefix.len()..].to_owned(), t.description().to_owned())
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        describe(&on_disk, &format!("{}/", rules().display())),
        describe(&in_memory, "")
    );
    assert_eq!(on_disk.len(), 2);
}
