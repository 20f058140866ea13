//! `check` finds what `eval` would: unknown functions in every position,
//! helpers replacing functions silently, false cycles from locals, names
//! formulas cannot read, bad band colours and TOML errors without a place —
//! each an example with its exact message and location.
#![expect(
    clippy::unwrap_used,
    reason = "a broken fixture should fail the test loudly"
)]

mod support;

use std::fs;

use rust_decimal::Decimal;
use semaforo_core::{Diagnostics, RulePack, SourceFile, compile, evaluate, load_and_compile};
use support::{PLUGINS, from_manifest, messages, table, write};

const HEAD: &str =
    "[pack]\nid = \"t\"\nversion = \"1\"\nplugins = [\"ratios\"]\n[fields]\na = \"a\"\nb = \"b\"\n";

fn helps(err: &Diagnostics) -> Vec<String> {
    err.iter()
        .map(|d| d.help.clone().unwrap_or_default())
        .collect()
}

fn check(
    manifest: &str,
    scripts: &[(&str, &str)],
) -> Result<semaforo_core::CompiledRuleSet, Diagnostics> {
    let scripts = scripts
        .iter()
        .map(|(name, text)| SourceFile::new(*name, *text))
        .collect();
    let pack = RulePack::from_sources(SourceFile::new("pack.toml", manifest), scripts)?;
    compile(pack, PLUGINS)
}

/// The problems [`check`] finds in a pack it refuses.
fn problems(manifest: &str, scripts: &[(&str, &str)]) -> Vec<String> {
    messages(&check(manifest, scripts).unwrap_err())
}

#[test]
fn unknown_functions_are_found_in_every_position() {
    let manifest = format!(
        "{HEAD}[[indicator]]\nid = \"whole\"\nformula = \"percnt(a, b)\"\n\
         [[indicator]]\nid = \"branch\"\nformula = \"if a > 1 {{ ratoi(a, b) }} else {{ 0 }}\"\n\
         [[indicator]]\nid = \"parens\"\nformula = \"(percnt(a, b))\"\n\
         [[indicator]]\nid = \"method\"\nformula = \"a.percnt(b)\"\n\
         [[indicator]]\nid = \"helper\"\nformula = \"share(a, b)\"\n"
    );
    let err = check(
        &manifest,
        &[("helpers.rhai", "fn share(x, y) {\n    percnt(x, y)\n}\n")],
    )
    .unwrap_err();
    assert_eq!(
        messages(&err),
        [
            "helpers.rhai:2:5: error[SEM012]: in a helper function: function `percnt` does not exist",
            "pack.toml:10:12: error[SEM012]: in the formula of `whole`: function `percnt` does not exist",
            "pack.toml:13:23: error[SEM012]: in the formula of `branch`: function `ratoi` does not exist",
            "pack.toml:16:13: error[SEM012]: in the formula of `parens`: function `percnt` does not exist",
            "pack.toml:19:14: error[SEM012]: in the formula of `method`: function `percnt` does not exist",
        ]
    );
    assert!(
        helps(&err)[1].starts_with("did you mean `percent`?"),
        "{:?}",
        helps(&err)
    );
    assert!(
        helps(&err)[2].starts_with("did you mean `ratio`?"),
        "{:?}",
        helps(&err)
    );
}

#[test]
fn a_wrong_number_of_arguments_says_which_exist() {
    let manifest = format!(
        "{HEAD}[[indicator]]\nid = \"x\"\nformula = \"percent(a, b, 100)\"\n\
         [[indicator]]\nid = \"y\"\nformula = \"round(a, 2, 3)\"\n"
    );
    assert_eq!(
        problems(&manifest, &[]),
        [
            "pack.toml:10:12: error[SEM012]: in the formula of `x`: function `percent` takes 2 argument(s), not 3",
            "pack.toml:13:12: error[SEM012]: in the formula of `y`: function `round` takes 1 or 2 argument(s), not 3",
        ]
    );
}

#[test]
fn arguments_no_version_takes_are_refused() {
    let manifest =
        format!("{HEAD}[[indicator]]\nid = \"x\"\nformula = \"percent(a, \\\"b\\\")\"\n");
    assert_eq!(
        problems(&manifest, &[]),
        [
            "pack.toml:10:12: error[SEM012]: in the formula of `x`: function `percent` cannot take (number, text): no version of it accepts those values"
        ]
    );
}

#[test]
fn a_helper_replacing_a_plugin_function_must_be_declared() {
    let manifest = format!("{HEAD}[[indicator]]\nid = \"x\"\nformula = \"percent(a, b)\"\n");
    let helper = (
        "helpers.rhai",
        "// mine\nfn percent(x, y) {\n    x / y\n}\n",
    );
    let err = check(&manifest, &[helper]).unwrap_err();
    assert_eq!(
        messages(&err),
        [
            "helpers.rhai:2:1: error[SEM016]: helper function `percent` (2 parameter(s)) replaces the `ratios` plugin's `percent`"
        ]
    );
    assert!(helps(&err)[0].contains("[helpers]\noverrides = [\"percent\"]"));

    // Declared, the replacement applies knowingly: 1 / 2, not 50 %.
    let declared = manifest.replace("[fields]", "[helpers]\noverrides = [\"percent\"]\n[fields]");
    let rules = check(&declared, &[helper]).unwrap();
    let data = table(&rules, "entity,a,b\ne,1,2\n");
    assert_eq!(
        evaluate(&rules, &data).cell(0, 0).value,
        Some(Decimal::new(5, 1))
    );

    // A declaration naming nothing replaced is refused.
    let stale = manifest.replace(
        "[fields]",
        "[helpers]\noverrides = [\"ratio\", \"mine\"]\n[fields]",
    );
    assert_eq!(
        problems(&stale, &[("helpers.rhai", "fn ratio(x) { x }\n")]),
        [
            "pack.toml:6:14: error[SEM016]: [helpers] overrides names `ratio`, but `ratio` replaces nothing: no plugin, engine or parent pack function has its name and number of parameters",
            "pack.toml:6:23: error[SEM016]: [helpers] overrides names `mine`, but no .rhai file of this pack defines a function `mine`",
        ]
    );
}

#[test]
fn a_child_helper_replacing_a_parent_helper_must_be_declared() {
    let root = tempfile::tempdir().unwrap();
    write(
        &root.path().join("lib"),
        "pack.toml",
        &format!("{HEAD}[[indicator]]\nid = \"x\"\nformula = \"share(a, b)\"\n"),
    );
    write(
        &root.path().join("lib"),
        "share.rhai",
        "fn share(x, y) { x / y }\n",
    );
    let child = root.path().join("child");
    write(
        &child,
        "pack.toml",
        "[pack]\nid = \"c\"\nversion = \"1\"\nextends = [\"../lib\"]\n",
    );
    write(&child, "mine.rhai", "fn share(x, y) { x * y }\n");
    let err = load_and_compile(&child, PLUGINS).unwrap_err();
    let lib = root.path().join("lib").join("share.rhai");
    assert_eq!(
        messages(&err),
        [format!(
            "{}:1:1: error[SEM016]: helper function `share` (2 parameter(s)) replaces `share` of {}:1:1",
            child.join("mine.rhai").display(),
            lib.display()
        )]
    );
    write(
        &child,
        "pack.toml",
        "[pack]\nid = \"c\"\nversion = \"1\"\nextends = [\"../lib\"]\n[helpers]\noverrides = [\"share\"]\n",
    );
    load_and_compile(&child, PLUGINS).unwrap();
}

#[test]
fn locals_and_closure_parameters_named_like_indicators_are_not_dependencies() {
    let manifest = format!(
        "{HEAD}[[indicator]]\nid = \"x\"\nformula = \"let y = a; y * 2\"\n\
         [[indicator]]\nid = \"y\"\nformula = \"let f = |x| x + 1; f.call(b)\"\n\
         [[indicator]]\nid = \"z\"\nformula = \"let s = 0; for x in [1, 2] {{ s += x }} s + y\"\n"
    );
    let rules = check(&manifest, &[]).unwrap();
    let data = table(&rules, "entity,a,b\ne,3,4\n");
    let results = evaluate(&rules, &data);
    let values: Vec<_> = (0..3).map(|i| results.cell(0, i).value).collect();
    assert_eq!(
        values,
        [
            Some(Decimal::from(6)),
            Some(Decimal::from(5)),
            Some(Decimal::from(8))
        ]
    );
    // Real reads still are, and a real cycle is still reported.
    let cycle = format!(
        "{HEAD}[[indicator]]\nid = \"x\"\nformula = \"let q = y; q\"\n\
         [[indicator]]\nid = \"y\"\nformula = \"let f = |v| v + x; f.call(1)\"\n"
    );
    assert_eq!(
        problems(&cycle, &[]),
        ["pack.toml:9:6: error[SEM008]: indicators depend on each other in a cycle: x → y → x"]
    );
}

#[test]
fn names_formulas_cannot_read_are_refused_at_their_key() {
    let manifest = "[pack]\nid = \"t\"\nversion = \"1\"\n[fields]\nif = \"a\"\nb = \"b\"\n\
                    [parameters]\nthis = 1\n\
                    [[indicator]]\nid = \"fn\"\nformula = \"b\"\n";
    let err = check(manifest, &[]).unwrap_err();
    assert_eq!(
        messages(&err),
        [
            "pack.toml:5:1: error[SEM017]: field name `if` cannot be read by formulas: it is a keyword of the formula language",
            "pack.toml:8:1: error[SEM017]: parameter name `this` cannot be read by formulas: it is a word the formula language reserves",
            "pack.toml:10:6: error[SEM017]: indicator id `fn` cannot be read by formulas: it is a keyword of the formula language",
        ]
    );
    assert!(
        helps(&err)[0].contains("if_ = { column = \"if\" }"),
        "{:?}",
        helps(&err)
    );
}

#[test]
fn a_field_on_the_entity_key_column_is_a_located_error() {
    let manifest = "[pack]\nid = \"t\"\nversion = \"1\"\n[fields]\nentity = \"who\"\nb = \"b\"\n\
                    [[indicator]]\nid = \"x\"\nformula = \"b\"\n";
    assert_eq!(
        problems(manifest, &[]),
        [
            "pack.toml:5:1: error[SEM011]: field `entity` reads column `entity`, which is the data's entity key ([data] entity), not a value"
        ]
    );
}

#[test]
fn band_colours_are_checked_and_normalised() {
    let manifest = "[pack]\nid = \"t\"\nversion = \"1\"\n[fields]\na = \"a\"\n\
                    [bands.b]\nlevels = [{ label = \"OK\", threshold = 1, color = \"Green\" }, { label = \"NO\", color = \"#zzz\" }]\n\
                    [[indicator]]\nid = \"x\"\nbands = \"b\"\nformula = \"a\"\n";
    assert_eq!(
        problems(manifest, &[]),
        [
            "pack.toml:7:85: error[SEM011]: band level `NO`: colour `#zzz` is not `#rrggbb` or `#rgb` (hexadecimal digits 0-9, a-f)"
        ]
    );
    let rules = check(&manifest.replace("#zzz", "#C62828"), &[]).unwrap();
    let levels = &rules.pack().band_sets()[0].levels;
    assert_eq!(levels[0].color.as_deref(), Some("#008000"));
    assert_eq!(levels[1].color.as_deref(), Some("#c62828"));
    assert_eq!(levels[1].colour.unwrap().r, 0xc6);
}

#[test]
fn toml_errors_without_a_span_are_located() {
    let head = "[pack]\nid = \"x\"\nversion = \"1\"\n";
    let deep = format!("{head}[{}]\n", vec!["a"; 10_000].join("."));
    let err = from_manifest(&deep).unwrap_err();
    assert_eq!(
        messages(&err),
        ["pack.toml:4:1: error[SEM002]: keys nested too deeply (recursion limit)"]
    );
    let dotted = format!("{head}[parameters]\n{} = 1\n", vec!["p"; 300].join("."));
    let err = from_manifest(&dotted).unwrap_err();
    assert!(
        messages(&err)[0].starts_with("pack.toml:5:1: error[SEM002]"),
        "{err:?}"
    );
}

#[test]
fn a_file_that_is_not_utf8_is_located_at_its_first_bad_byte() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("pack.toml"), b"[pack]\nid = \"x\xff\"\n").unwrap();
    let err = RulePack::load(dir.path()).unwrap_err();
    let path = dir.path().join("pack.toml");
    assert_eq!(
        messages(&err),
        [format!(
            "{}:2:8: error[SEM002]: {} is not UTF-8 text: byte 14 starts an invalid sequence",
            path.display(),
            path.display()
        )]
    );
}

#[test]
fn a_function_named_in_fn_must_exist() {
    let manifest = format!(
        "{HEAD}[[indicator]]\nid = \"x\"\nformula = \"Fn(\\\"percnt\\\").call(a, b)\"\n\
         [[indicator]]\nid = \"y\"\nformula = \"Fn(\\\"percent\\\").call(a, b)\"\n"
    );
    assert_eq!(
        problems(&manifest, &[]),
        ["pack.toml:10:12: error[SEM012]: in the formula of `x`: function `percnt` does not exist"]
    );
}

#[test]
fn values_no_operator_takes_are_refused_through_locals() {
    let manifest = format!(
        "{HEAD}[[indicator]]\nid = \"x\"\nformula = \"let v = \\\"s\\\"; v - a\"\n\
         [[indicator]]\nid = \"y\"\nformula = \"let v = \\\"s\\\"; v = 1; v - a\"\n"
    );
    assert_eq!(
        problems(&manifest, &[]),
        [
            "pack.toml:10:27: error[SEM012]: in the formula of `x`: operator `-` cannot take (text, number)"
        ]
    );
}

#[test]
fn a_helper_called_as_a_method_takes_the_object_as_this() {
    let manifest = format!(
        "{HEAD}[[indicator]]\nid = \"x\"\nformula = \"a.share(b)\"\n\
         [[indicator]]\nid = \"y\"\nformula = \"a.half()\"\n"
    );
    let helpers = (
        "helpers.rhai",
        "fn share(x, y) { x / y }\nfn half() { this / 2 }\n",
    );
    assert_eq!(
        problems(&manifest, &[helpers]),
        [
            "pack.toml:10:14: error[SEM012]: in the formula of `x`: function `share` takes 2 argument(s), not 2 (counting the value before the dot; a helper gets that value as `this` instead)"
        ]
    );
}
