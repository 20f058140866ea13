//! `semaforo explain` as a user runs it: where an inherited indicator is
//! defined and overridden, every input's value, the result (the same as
//! `eval` gives) and the band's reason; unknown names refused with exit 2.
#![expect(
    clippy::unwrap_used,
    reason = "a broken fixture should fail the test loudly"
)]

mod support;

use std::fs;
use std::process::Output;

use support::{SAGRARIO, assert_contains, assert_exit, eval, root, semaforo, stderr, stdout};

/// `semaforo explain` of El Sagrario's balances, then `extra`.
fn explain(extra: &[&str]) -> Output {
    let (pack, data) = SAGRARIO;
    let mut args = vec!["explain", "--pack", pack, "--data", data];
    args.extend(extra);
    semaforo(&args)
}

/// The 1-based line of the first line of `file` that starts with `start`.
fn line_of(file: &str, start: &str) -> usize {
    let text = fs::read_to_string(root().join(file)).unwrap();
    text.lines()
        .position(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("{file} has no line starting with {start}"))
        + 1
}

/// The `value` `eval --format csv` writes for one cell.
fn eval_value(entity: &str, period: &str, indicator: &str) -> String {
    let output = eval(SAGRARIO.0, SAGRARIO.1, &["--format", "csv", "--quiet"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (e, p, i, v) = (at("entity"), at("period"), at("indicator"), at("value"));
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|r| r[e] == entity && r[p] == period && r[i] == indicator)
        .map(|r| r[v].to_owned())
        .unwrap()
}

#[test]
fn an_overridden_indicator_names_both_packs_every_input_and_the_band_reason() {
    let output = explain(&[
        "--entity",
        "COAC_EL_SAGRARIO",
        "--indicator",
        "morosidad",
        "--period",
        "2008-12",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("morosidad — MOROSIDAD\n"), "{text}");
    assert_contains(&text, "unit percent, lower is better, evaluated by rhai");
    assert_contains(&text, "entity COAC_EL_SAGRARIO, period 2008-12\n");
    assert_contains(
        &text,
        "formula  percent(saldo(\"1411..1414 + 1421..1424 + 1426..1428\"), saldo(\"14 - 1499\"))",
    );
    // Defined in the library, overridden by the cooperative's pack.
    let defined = line_of("rules/cooperativas/pack.toml", "id = \"morosidad\"");
    assert_contains(
        &text,
        &format!("defined in rules/cooperativas/pack.toml:{defined}:6\n"),
    );
    let overridden = line_of("rules/sagrario/pack.toml", "[override.morosidad]");
    assert_contains(
        &text,
        &format!(
            "overridden in rules/sagrario/pack.toml:{overridden}:11: name, description, standard\n"
        ),
    );
    // DOMAIN.md worked example: 1,084,203.65 / 37,734,583.53.
    assert_contains(
        &text,
        "  saldo(\"1411..1414+1421..1424+1426..1428\") = 1084203.65   [input function `saldo`]\n",
    );
    assert_contains(
        &text,
        "  saldo(\"14-1499\") = 37734583.53   [input function `saldo`]\n",
    );
    let value = eval_value("COAC_EL_SAGRARIO", "2008-12", "morosidad");
    assert_contains(&text, &format!("result   2.87%   (exact {value})\n"));
    assert_contains(&text, "standard 4 (target, lower is better)");
    assert_contains(&text, "compliance 71.83% (exact 71.83");
    assert_contains(&text, "met: yes");
    assert_contains(&text, "band     CUMPLIO\n");
    let band_set = line_of("rules/cooperativas/pack.toml", "[bands.cumplimiento]");
    assert_contains(
        &text,
        &format!(
            "band set `cumplimiento` (rules/cooperativas/pack.toml:{band_set}:8), on compliance, lower is better"
        ),
    );
    assert_contains(
        &text,
        "compliance 71.83 ≤ 100 → CUMPLIO (first level whose threshold it reaches)",
    );
}

#[test]
fn intermediate_indicators_are_explained_down_to_their_balances() {
    // No --period: the entity's last period, named.
    let output = explain(&["--entity", "COAC_EL_SAGRARIO", "--indicator", "roe_real"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("period 2008-12 (the entity's last, chosen as no --period was given; --period picks another: 2007-12)"),
        "{text}"
    );
    let roe = eval_value("COAC_EL_SAGRARIO", "2008-12", "roe");
    let roe_real = eval_value("COAC_EL_SAGRARIO", "2008-12", "roe_real");
    // ROE after inflation: 13.7963 - 8.83 = 4.97 pp (rules/sagrario/tests/fichas.toml).
    let tree = format!(
        "inputs
  roe = {roe} (13.80%)   [indicator, rhai]
    formula percent(saldo(\"36\"), saldo(\"3 - 36\"))
"
    );
    assert_contains(&text, &tree);
    assert_contains(
        &text,
        "    saldo(\"36\") = 1254785.82   [input function `saldo`]\n    saldo(\"3-36\") = 9095104.12   [input function `saldo`]\n  saldo(\"INFLACION\") = 8.83   [input function `saldo`]\n",
    );
    assert_contains(&text, &format!("result   4.97%   (exact {roe_real})\n"));
    assert_contains(&text, "standard none\n");
}

#[test]
fn an_unknown_indicator_entity_or_period_is_refused_with_near_matches() {
    let output = explain(&["--entity", "COAC_EL_SAGRARIO", "--indicator", "morosidd"]);
    assert_exit(&output, 2);
    assert_contains(
        &stderr(&output),
        "pack `sagrario` has no indicator `morosidd`; did you mean: morosidad?",
    );
    assert!(output.stdout.is_empty());

    let output = explain(&["--entity", "COAC_SAGRARIO", "--indicator", "roe"]);
    assert_exit(&output, 2);
    assert_contains(
        &stderr(&output),
        "has no entity `COAC_SAGRARIO`; did you mean: COAC_EL_SAGRARIO?",
    );

    let output = explain(&[
        "--entity",
        "COAC_EL_SAGRARIO",
        "--indicator",
        "roe",
        "--period",
        "2009-12",
    ]);
    assert_exit(&output, 2);
    assert_contains(
        &stderr(&output),
        "has no period `2009-12` for entity `COAC_EL_SAGRARIO`",
    );
}

#[test]
fn an_invalid_pack_shows_its_diagnostics_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("pack.toml"),
        "[pack]\nid = \"p\"\nversion = \"1\"\n[fields]\nx = \"x\"\n[[indicator]]\nid = \"i\"\nformula = \"x +\"\n",
    )
    .unwrap();
    let data = dir.path().join("data.csv");
    fs::write(&data, "entity,x\nA,1\n").unwrap();
    let output = semaforo(&[
        "explain",
        "--pack",
        dir.path().to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--entity",
        "A",
        "--indicator",
        "i",
    ]);
    assert_exit(&output, 1);
    let err = stderr(&output);
    assert_contains(&err, "pack.toml:8:");
    assert_contains(&err, "the pack has 1 error(s)");
}
