//! The `semaforo` command as a user runs it: exit codes, messages with their
//! locations, golden output of the shipped example.
#![expect(
    clippy::unwrap_used,
    reason = "a broken fixture should fail the test loudly"
)]

mod support;

use std::fs;
use std::process::Command;

use support::{
    SAGRARIO, WIDE_FICHAS, assert_contains, assert_exit, eval, pack, path, root, semaforo, stderr,
    stdout,
};

/// A copy of the wide-fichas fixture pack in a temporary directory, with `edit` applied to pack.toml.
fn fixture_copy(edit: impl FnOnce(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in ["pack.toml", "fichas.rhai"] {
        fs::copy(
            root().join("tests/fixtures/wide-fichas").join(file),
            dir.path().join(file),
        )
        .unwrap();
    }
    let manifest = dir.path().join("pack.toml");
    let text = fs::read_to_string(&manifest).unwrap();
    fs::write(&manifest, edit(text)).unwrap();
    dir
}

/// Copies `rules/cooperativas`, `rules/sagrario` and the El Sagrario balances
/// into a temporary tree with the same layout.
fn shipped_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in [
        "rules/cooperativas",
        "rules/cooperativas/tests",
        "rules/sagrario",
        "rules/sagrario/tests",
        "examples/sagrario",
    ] {
        fs::create_dir_all(dir.path().join(sub)).unwrap();
        for entry in fs::read_dir(root().join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                fs::copy(&path, dir.path().join(sub).join(path.file_name().unwrap())).unwrap();
            }
        }
    }
    dir
}

#[test]
fn readme_eval_command_evaluates_the_sagrario_balances() {
    let out = eval(SAGRARIO.0, SAGRARIO.1, &[]);
    assert_exit(&out, 0);
    let table = stdout(&out);
    // DOMAIN.md §2 worked examples, Dec-2008, from chart-of-accounts balances:
    // value, standard, compliance, status, change from Dec-2007, peer rank.
    let cells = |line: &str| -> Vec<String> {
        line.split(['│', '┆'])
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect()
    };
    for expected in [
        [
            "MOROSIDAD",
            "2.87%",
            "4.00%",
            "71.83%",
            "CUMPLIO",
            "-0.19",
            "1 of 1",
        ],
        [
            "ACTIVOS IMPRODUCTIVOS",
            "6.62%",
            "5.52%",
            "119.87%",
            "Brecha de no cumplimiento",
            "-0.61",
            "1 of 1",
        ],
        [
            "ROE", "13.80%", "10.17%", "135.66%", "CUMPLIO", "+0.58", "1 of 1",
        ],
    ] {
        let row = table
            .lines()
            .map(cells)
            .find(|c| c.len() > 2 && c[1] == "2008-12" && c[2] == expected[0])
            .unwrap_or_else(|| panic!("no 2008 {} row in\n{table}", expected[0]));
        assert_eq!(row[2..9], expected, "{row:?}");
    }
    assert_contains(&stderr(&out), "sagrario 2.0.0 (");
}

#[test]
fn semaforo_test_passes_on_the_shipped_pack_and_fails_with_a_diff_when_an_expectation_is_edited() {
    let out = semaforo(&["test", "rules/sagrario"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).ends_with("1 passed, 0 failed\n"),
        "{}",
        stdout(&out)
    );

    let tree = shipped_copy();
    let tests = tree.path().join("rules/sagrario/tests/fichas.toml");
    let text = fs::read_to_string(&tests).unwrap();
    let edited = text.replacen(
        "indicator = \"morosidad\"\nvalue = \"2.87\"",
        "indicator = \"morosidad\"\nvalue = \"2.88\"",
        1,
    );
    assert_ne!(edited, text);
    fs::write(&tests, edited).unwrap();
    let out = semaforo(&["test", path(&tree.path().join("rules/sagrario"))]);
    assert_exit(&out, 1);
    let report = stdout(&out);
    assert_contains(
        &report,
        "`morosidad` for COAC_EL_SAGRARIO 2008-12: value expected 2.88, got 2.87 (2.87323603065084630072767627",
    );
    assert_contains(&report, "— 1 of ");
    assert!(report.ends_with("0 passed, 1 failed\n"), "{report}");
}

#[test]
fn a_library_edit_changes_the_tailored_packs_fingerprint() {
    let tree = shipped_copy();
    let check = || {
        stdout(&semaforo(&[
            "check",
            path(&tree.path().join("rules/sagrario")),
        ]))
    };
    let before = check();
    let library = tree.path().join("rules/cooperativas/pack.toml");
    let text = fs::read_to_string(&library).unwrap();
    fs::write(&library, text + "\n# a comment is a change too\n").unwrap();
    let after = check();
    assert_contains(&before, "ok — sagrario 2.0.0 (");
    assert_ne!(before, after, "the hash must change");
}

#[test]
fn check_with_data_warns_when_sub_accounts_disagree_with_their_parent() {
    let tree = shipped_copy();
    let data = tree.path().join("balances.csv");
    fs::write(
        &data,
        "entity,period,code,value,grupo\nA,2024-01,14,1000,g\nA,2024-01,1401,600,g\nA,2024-01,1402,300,g\n\
         B,2024-01,14,900,g\nB,2024-01,1401,600,g\nB,2024-01,1402,300,g\n",
    )
    .unwrap();
    let out = semaforo(&[
        "check",
        path(&tree.path().join("rules/cooperativas")),
        "--data",
        path(&data),
    ]);
    assert_exit(&out, 0);
    let err = stderr(&out);
    let expected = format!(
        "{}:2: warning: entity `A` period `2024-01`: account `14` reports 1000 but its sub-accounts add up to 900 (difference 100)",
        data.display()
    );
    assert!(err.contains(&expected), "expected `{expected}` in\n{err}");
    assert!(!err.contains("entity `B`"), "{err}");
}

#[test]
fn wide_data_prints_the_fichas_table() {
    let out = eval(WIDE_FICHAS.0, WIDE_FICHAS.1, &[]);
    assert_exit(&out, 0);
    let table = stdout(&out);
    // DOMAIN.md §2 worked examples, Dec-2008, as displayed (2 decimals, half away from zero).
    for line in [
        "2008-12 ┆ MOROSIDAD                                ┆ 2.87%   ┆ 4.00%    ┆ 71.83%     ┆ CUMPLIO",
        "2008-12 ┆ ACTIVOS IMPRODUCTIVOS                    ┆ 6.62%   ┆ 5.52%    ┆ 119.87%    ┆ Brecha de no cumplimiento",
        "2008-12 ┆ ROE                                      ┆ 13.80%  ┆ 10.17%   ┆ 135.66%    ┆ CUMPLIO",
    ] {
        assert!(table.contains(line), "missing `{line}` in\n{table}");
    }
    assert_contains(
        &stderr(&out),
        "2 rows × 23 indicators = 46 cells, 13 with errors",
    );
}

#[test]
fn golden_csv_of_the_wide_fichas() {
    let out = eval(WIDE_FICHAS.0, WIDE_FICHAS.1, &["--format", "csv"]);
    assert_exit(&out, 0);
    insta::assert_snapshot!("wide_fichas_csv", stdout(&out));
}

#[test]
fn golden_json_of_the_wide_fichas() {
    let out = eval(WIDE_FICHAS.0, WIDE_FICHAS.1, &["--format", "json"]);
    assert_exit(&out, 0);
    insta::assert_snapshot!("wide_fichas_json", stdout(&out));
}

#[test]
fn output_file_receives_the_results() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.csv");
    let out = eval(
        WIDE_FICHAS.0,
        WIDE_FICHAS.1,
        &["--format", "csv", "--output", path(&file)],
    );
    assert_exit(&out, 0);
    assert!(out.stdout.is_empty());
    assert_eq!(fs::read_to_string(file).unwrap().lines().count(), 1 + 46);
}

#[test]
fn check_accepts_a_valid_pack() {
    let out = semaforo(&["check", "tests/fixtures/wide-fichas"]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).starts_with("tests/fixtures/wide-fichas: ok — wide-fichas 1.0.0"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn check_points_at_a_syntax_error_inside_a_formula() {
    let broken = "formula = \"percent(cartera_improductiva, , cartera_total)\"";
    let dir = fixture_copy(|text| {
        text.replacen(
            "formula = \"percent(cartera_improductiva, cartera_total)\"",
            broken,
            1,
        )
    });
    let manifest = fs::read_to_string(dir.path().join("pack.toml")).unwrap();
    let line = manifest.lines().position(|l| l == broken).unwrap() + 1;
    let column = broken.find(", ,").unwrap() + 3; // the second comma, 1-based
    let out = semaforo(&["check", path(dir.path())]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    let expected = format!(
        "{}:{line}:{column}: error[SEM003]: syntax error in the formula of `morosidad`",
        dir.path().join("pack.toml").display()
    );
    assert!(err.contains(&expected), "expected `{expected}` in\n{err}");
    assert!(err.contains(broken), "the offending line is shown:\n{err}");
}

#[test]
fn check_reports_every_problem_with_its_location() {
    let dir = pack(
        r#"[pack]
id = "bad"
version = "1"
plugins = ["nope"]
[fields]
a = "a"
[bands.semaforo]
levels = [{ label = "green", threshold = 90 }, { label = "yellow", threshold = 75 }, { label = "red" }]
[[indicator]]
id = "x"
formula = "a + b"
[[indicator]]
id = "y"
direction = "lower"
bands = "semaforo"
formula = "a"
[[indicator]]
id = "z"
bands = "missing"
formula = "a"
[[indicator]]
id = "w"
formula = "percnt(a, 2)"
"#,
        &[],
    );
    let out = semaforo(&["check", path(dir.path())]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    let file = dir.path().join("pack.toml").display().to_string();
    for expected in [
        format!(
            "{file}:7:8: error[SEM007]: band set `semaforo`: thresholds 90 then 75 are out of order"
        ),
        format!("{file}:19:9: error[SEM005]: band set `missing` is not defined"),
    ] {
        assert!(err.contains(&expected), "expected `{expected}` in\n{err}");
    }
    // Compile-stage problems are reported in the same run.
    for expected in [
        format!("{file}:4:12: error[SEM006]: plugin `nope` is not part of this build"),
        format!(
            "{file}:11:16: error[SEM004]: `b` in the formula of `x` is neither a field nor an indicator"
        ),
        // A call that is the whole formula is checked like any other.
        format!(
            "{file}:23:12: error[SEM012]: in the formula of `w`: function `percnt` does not exist"
        ),
    ] {
        assert!(err.contains(&expected), "expected `{expected}` in\n{err}");
    }
    assert_contains(&err, "semaforo: the pack has 5 error(s)");
}

#[test]
fn check_names_a_dependency_cycle() {
    let dir = pack(
        "[pack]\nid = \"c\"\nversion = \"1\"\n\
         [[indicator]]\nid = \"a\"\nformula = \"b + 1\"\n\
         [[indicator]]\nid = \"b\"\nformula = \"c * 2\"\n\
         [[indicator]]\nid = \"c\"\nformula = \"a\"\n\
         [[indicator]]\nid = \"d\"\nformula = \"1\"\n",
        &[],
    );
    let out = semaforo(&["check", path(dir.path())]);
    assert_exit(&out, 1);
    assert_contains(
        &stderr(&out),
        "error[SEM008]: indicators depend on each other in a cycle: a → b → c → a",
    );
}

#[test]
fn check_of_a_missing_directory_is_a_usage_error() {
    let out = semaforo(&["check", "rules/does-not-exist"]);
    assert_exit(&out, 2);
    assert_contains(&stderr(&out), "cannot read rules/does-not-exist/pack.toml");
}

#[test]
fn eval_refuses_an_invalid_pack_with_exit_1() {
    let dir = fixture_copy(|text| text.replace("standard = 5.52", "standard = \"cinco\""));
    let out = eval(path(dir.path()), WIDE_FICHAS.1, &[]);
    assert_exit(&out, 1);
    assert_contains(
        &stderr(&out),
        "error[SEM010]: standard `\"cinco\"` is not a decimal number",
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn eval_of_missing_data_is_a_usage_error() {
    let out = eval(WIDE_FICHAS.0, "examples/nothing.csv", &[]);
    assert_exit(&out, 2);
    assert_contains(&stderr(&out), "examples/nothing.csv");
}

#[test]
fn bad_cells_become_cell_errors_and_every_entity_stays() {
    let csv = fs::read_to_string(root().join("tests/fixtures/wide-fichas/fichas.csv")).unwrap();
    let mut lines: Vec<String> = csv.lines().map(str::to_owned).collect();
    // Line 3 (Dec-2008): cartera_total (7th column) written with a decimal comma.
    lines[2] = lines[2].replace("37734583.53", "\"37734583,53\"");
    // A third cooperative whose row stops before `inflacion`.
    let short = lines[2]
        .replace("COAC_EL_SAGRARIO", "COAC_SHORT")
        .replace("\"37734583,53\"", "37734583.53");
    lines.push(short[..short.rfind(',').unwrap()].to_owned());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.csv");
    fs::write(&data, lines.join("\n") + "\n").unwrap();

    let out = eval(WIDE_FICHAS.0, path(&data), &["--format", "json"]);
    assert_exit(&out, 0);
    let cells: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let cells = cells.as_array().unwrap();
    assert_eq!(
        cells.len(),
        3 * 23,
        "every row × indicator is in the output"
    );
    let cell = |entity: &str, period: &str, indicator: &str| {
        cells
            .iter()
            .find(|c| c["entity"] == entity && c["period"] == period && c["indicator"] == indicator)
            .unwrap_or_else(|| panic!("{entity} {period} {indicator} is missing"))
    };
    let corrupt = cell("COAC_EL_SAGRARIO", "2008-12", "morosidad");
    assert_eq!(corrupt["error"]["kind"], "invalid_value");
    assert_eq!(
        corrupt["error"]["message"],
        format!(
            "field `cartera_total` for entity `COAC_EL_SAGRARIO` period `2008-12`: `37734583,53` is not a decimal number ({}:3:7)",
            data.display()
        )
    );
    assert_eq!(corrupt["value"], serde_json::Value::Null);
    // Cells that do not read the corrupt field keep their values.
    let roe: rust_decimal::Decimal = cell("COAC_EL_SAGRARIO", "2008-12", "roe")["compliance"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(roe.round_dp(2).to_string(), "135.66");
    let short = cell("COAC_SHORT", "2008-12", "roe_real");
    assert_eq!(short["error"]["kind"], "missing_value");
    let message = short["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "missing value of field `inflacion` for entity `COAC_SHORT` period `2008-12` ("
        ),
        "{message}"
    );
    assert!(
        message.ends_with(":4: the row has 27 fields, column `inflacion` is field 28)"),
        "{message}"
    );
    assert_eq!(
        cell("COAC_SHORT", "2008-12", "morosidad")["band"],
        "CUMPLIO"
    );
    assert_contains(
        &stderr(&out),
        "3 rows × 23 indicators = 69 cells, 19 with errors",
    );
}

#[test]
fn runaway_formulas_become_cell_errors() {
    let dir = pack(
        "[pack]\nid = \"sandbox\"\nversion = \"1\"\n[fields]\nx = \"x\"\n\
         [[indicator]]\nid = \"spin\"\nformula = \"loop {}\"\n\
         [[indicator]]\nid = \"dive\"\nfunction = \"deep\"\n\
         [[indicator]]\nid = \"fine\"\nformula = \"x * 2\"\n",
        &[("deep.rhai", "fn deep(x) { deep(x + 1) }\n")],
    );
    let data = dir.path().join("d.csv");
    fs::write(&data, "entity,x\nA,1\nB,2\n").unwrap();
    let out = eval(path(dir.path()), path(&data), &["--format", "csv"]);
    assert_exit(&out, 0);
    let csv = stdout(&out);
    let manifest = dir.path().join("pack.toml").display().to_string();
    assert_contains(
        &csv,
        &format!(
            "A,spin,,ratio,,,,formula stopped at {manifest}:8:17: too many operations (limits.max_operations)"
        ),
    );
    assert_contains(&csv, "A,dive,,ratio,,,,formula stopped at ");
    assert_contains(&csv, "calls nested too deep (limits.max_call_levels)");
    assert_contains(&csv, "B,fine,4,ratio,,,,\n");
}

#[test]
fn integer_literals_in_formulas_are_decimals() {
    let dir = pack(
        "[pack]\nid = \"d\"\nversion = \"1\"\n[[indicator]]\nid = \"third\"\nformula = \"1 / 3\"\n",
        &[],
    );
    let data = dir.path().join("d.csv");
    fs::write(&data, "entity\nA\n").unwrap();
    let out = eval(path(dir.path()), path(&data), &["--format", "csv"]);
    assert_contains(
        &stdout(&out),
        "A,third,0.3333333333333333333333333333,ratio",
    );
}

#[test]
fn peer_groups_get_mean_median_difference_and_rank() {
    let dir = pack(
        "[pack]\nid = \"peers\"\nversion = \"1\"\n[data]\nperiod = \"period\"\ndimensions = [\"grupo\"]\npeer_group = \"grupo\"\n\
         [fields]\nnpl = \"npl\"\nloans = \"loans\"\n\
         [[indicator]]\nid = \"morosidad\"\nunit = \"percent\"\ndirection = \"lower\"\nformula = \"npl / loans * 100\"\n",
        &[],
    );
    let data = dir.path().join("d.csv");
    fs::write(
        &data,
        "entity,period,grupo,npl,loans\nA,2024-01,g1,2,100\nB,2024-01,g1,4,100\nC,2024-01,g1,4,100\nD,2024-01,g2,1,100\nA,2024-02,g1,3,100\n",
    )
    .unwrap();
    let out = eval(path(dir.path()), path(&data), &["--format", "csv"]);
    assert_exit(&out, 0);
    let csv = stdout(&out);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "entity,period,indicator,value,unit,standard,compliance,band,error,previous,variation,variation_pct,\
         peer_group,peer_size,peer_mean,peer_median,from_peer_mean,from_peer_median,peer_rank"
    );
    // Lower is better: A's 2 % ranks first; B and C tie at 4 % and share rank 2.
    assert_eq!(
        lines[1],
        "A,2024-01,morosidad,2,percent,,,,,,,,g1,3,3.3333333333333333333333333333,4,-1.3333333333333333333333333333,-2,1"
    );
    assert!(
        lines[2]
            .ends_with(",g1,3,3.3333333333333333333333333333,4,0.6666666666666666666666666667,0,2"),
        "{}",
        lines[2]
    );
    assert!(lines[3].ends_with(",0,2"), "{}", lines[3]);
    assert!(lines[4].ends_with(",g2,1,1,1,0,0,1"), "{}", lines[4]);
    // A's second month: +1 pp, +50 %, alone in its group that month.
    assert_eq!(
        lines[5],
        "A,2024-02,morosidad,3,percent,,,,,2,1,50,g1,1,3,3,0,0,1"
    );
}

#[test]
fn watch_prints_what_a_save_changes_and_the_errors_of_a_broken_one() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let tree = shipped_copy();
    let pack_dir = tree.path().join("rules/sagrario");
    let data = tree.path().join("examples/sagrario/balances.csv");
    /// Stops the watcher even when an assertion fails.
    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Killed(
        Command::new(env!("CARGO_BIN_EXE_semaforo"))
            .args(["watch", "--pack", path(&pack_dir), "--data", path(&data)])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let (lines, received) = std::sync::mpsc::channel();
    let stdout = child.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if lines.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let wait_for = |needle: &str| {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            if let Ok(line) = received.recv_timeout(Duration::from_millis(100)) {
                if line.contains(needle) {
                    return line;
                }
                seen.push(line);
            }
        }
        panic!("`{needle}` never printed; got:\n{}", seen.join("\n"));
    };
    wait_for("generation 1: watching");
    let manifest = pack_dir.join("pack.toml");
    let text = fs::read_to_string(&manifest).unwrap();
    let morosidad = "[override.morosidad]\nname = \"MOROSIDAD\"\nstandard = 4\n";
    assert!(text.contains(morosidad));
    fs::write(
        &manifest,
        text.replace(
            morosidad,
            "[override.morosidad]\nname = \"MOROSIDAD\"\nstandard = 2.5\n",
        ),
    )
    .unwrap();
    wait_for("generation 2: 2 cell(s) changed");
    let change = wait_for("COAC_EL_SAGRARIO 2008-12 morosidad:");
    assert_eq!(
        change.trim(),
        "COAC_EL_SAGRARIO 2008-12 morosidad: 2.87 CUMPLIO → 2.87 Brecha de no cumplimiento"
    );
    fs::write(
        &manifest,
        text.replace(
            morosidad,
            "[override.morosidad]\nname = \"MOROSIDAD\"\nstandard = \"abc\"\n",
        ),
    )
    .unwrap();
    let error = wait_for("error[SEM010]");
    assert!(
        error
            .contains("pack.toml:81:12: error[SEM010]: standard `\"abc\"` is not a decimal number"),
        "{error}"
    );
    wait_for("refused: 1 error(s); generation 2 keeps serving");
}

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    let run = |threads: &str| {
        let out = semaforo(&[
            "eval",
            "--threads",
            threads,
            "--pack",
            "rules/atencion-cooperativas",
            "--data",
            "examples/coacsa/cooperativas.csv",
            "--format",
            "csv",
        ]);
        assert_exit(&out, 0);
        stdout(&out)
    };
    let one = run("1");
    assert!(
        one.lines().count() > 1000,
        "a real workload: {} lines",
        one.lines().count()
    );
    assert_eq!(one, run("2"));
}

#[test]
fn strict_eval_exits_3_on_cell_errors_or_data_warnings_and_still_writes_the_results() {
    // El Sagrario: the 2007 balances give one consistency warning and cells
    // without inputs; the results are written all the same.
    let out = eval(SAGRARIO.0, SAGRARIO.1, &["--format", "csv", "--strict"]);
    assert_exit(&out, 3);
    assert!(stdout(&out).contains("COAC_EL_SAGRARIO,2008-12,morosidad,"));
    let err = stderr(&out);
    assert!(
        err.contains("--strict: ") && err.contains("1 data warning(s); exit status 3"),
        "{err}"
    );
    // Without --strict the same run succeeds.
    let lenient = eval(SAGRARIO.0, SAGRARIO.1, &["--format", "csv"]);
    assert_exit(&lenient, 0);
    assert_eq!(lenient.stdout, out.stdout);
    // Clean data passes --strict.
    let clean = eval(
        "rules/priorizacion-procesos",
        "examples/coacsa/procesos.csv",
        &["--format", "csv", "--strict"],
    );
    assert_exit(&clean, 0);
}
