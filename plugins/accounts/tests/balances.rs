//! A pack over chart-of-accounts balances, end to end: compile with the
//! accounts plugin, read a `balances` file from disk through the pack's
//! data format, evaluate. Figures after El Sagrario, Dec-2008 (DOMAIN.md §2).
#![expect(
    clippy::unwrap_used,
    reason = "a broken fixture should fail the test loudly"
)]

use std::fs;

use semaforo_accounts::AccountsPlugin;
use semaforo_core::{
    CompiledRuleSet, ResultSet, RulePack, SourceFile, Table, compile, evaluate, read_data,
    read_data_from,
};

const PACK: &str = r#"
[pack]
id = "coac"
version = "1.0.0"
plugins = ["accounts"]

[data]
format = "balances"
entity = "entity"
period = "period"
dimensions = ["segment"]

[fields]
socios = { column = "SOCIOS_TOTAL", description = "total members (a pseudo-code)" }

[[indicator]]
id = "delinquency"
unit = "percent"
direction = "lower"
standard = 4
formula = """
saldo("1411..1414 + 1421..1424") / saldo("14") * 100
"""

[[indicator]]
id = "coverage"
unit = "percent"
formula = 'saldo("-1499") / saldo("1411..1414+1421..1424") * 100'

[[indicator]]
id = "cash"
unit = "money"
formula = 'saldo("11 - 1103")'

[[indicator]]
id = "profit_growth"
unit = "money"
formula = 'saldo("36") - saldo_anterior("36")'

[[indicator]]
id = "average_assets"
unit = "money"
formula = 'saldo_promedio("1")'

[[indicator]]
id = "members"
unit = "count"
formula = "socios"
"#;

/// Account 14 reports 37,734,583.53 but its sub-accounts (1402, the
/// non-performing 1411..1424 with 1413 and 1421 absent, and the contra
/// 1499) add up to 37,734,000.00. Entity `B` has no non-performing loans.
const BALANCES: &str = "\
entity,period,segment,code,value,name
El Sagrario,2008-12,1,1,45695911.55,ACTIVO
El Sagrario,2008-12,1,1101,500000.00,CAJA
El Sagrario,2008-12,1,1103,1500000.00,BANCOS
El Sagrario,2008-12,1,14,37734583.53,CARTERA
El Sagrario,2008-12,1,1402,37021954.35,CONSUMO POR VENCER
El Sagrario,2008-12,1,1411,1000.00,COMERCIAL NO DEVENGA
El Sagrario,2008-12,1,1412,500000.00,CONSUMO NO DEVENGA
El Sagrario,2008-12,1,1414,300000.00,MICRO NO DEVENGA
El Sagrario,2008-12,1,1422,200000.00,CONSUMO VENCIDA
El Sagrario,2008-12,1,1424,83203.65,MICRO VENCIDA
El Sagrario,2008-12,1,149905,-300000,PROVISION COMERCIAL
El Sagrario,2008-12,1,149930,-72158,PROVISION GENERAL
El Sagrario,2008-12,1,36,1254785.82,UTILIDAD
El Sagrario,2008-12,1,SOCIOS_TOTAL,62859,SOCIOS
B,2008-12,2,1,1000,ACTIVO
B,2008-12,2,1401,800,COMERCIAL POR VENCER
B,2008-12,2,1101,150,CAJA
B,2008-12,2,1103,50,BANCOS
B,2008-12,2,SOCIOS_TOTAL,120,SOCIOS
El Sagrario,2007-12,1,1,37000000,ACTIVO
El Sagrario,2007-12,1,36,1062288,UTILIDAD
";

fn rules() -> CompiledRuleSet {
    let pack = RulePack::from_sources(SourceFile::new("pack.toml", PACK), vec![]).unwrap();
    compile(pack, &[&AccountsPlugin]).unwrap()
}

fn read(rules: &CompiledRuleSet) -> Table {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("balances.csv");
    fs::write(&path, BALANCES).unwrap();
    read_data(rules, &path).unwrap()
}

fn value(results: &ResultSet, row: usize, indicator: usize) -> String {
    let cell = results.cell(row, indicator);
    match (&cell.value, &cell.error) {
        (Some(value), _) => value.round_dp(2).to_string(),
        (None, Some(error)) => format!("{}: {error}", error.kind()),
        (None, None) => "empty".to_owned(),
    }
}

#[test]
fn balances_become_indicator_values() {
    let rules = rules();
    let table = read(&rules);
    let results = evaluate(&rules, &table);
    let rows: Vec<(&str, Option<&str>, u64)> = results
        .rows()
        .iter()
        .map(|r| (r.entity.as_str(), r.period.as_deref(), r.line))
        .collect();
    assert_eq!(
        rows,
        [
            ("El Sagrario", Some("2007-12"), 21),
            ("El Sagrario", Some("2008-12"), 2),
            ("B", Some("2008-12"), 16),
        ]
    );
    assert_eq!(table.dimensions()[0].values, ["1", "1", "2"]);

    // El Sagrario, Dec-2008: 1,084,203.65 / 37,734,583.53 = 2.87 %, within the 4 % standard.
    assert_eq!(value(&results, 1, 0), "2.87");
    assert_eq!(results.cell(1, 0).met, Some(true));
    // |1499| = 372,158 over the non-performing portfolio.
    assert_eq!(value(&results, 1, 1), "34.33");
    assert_eq!(value(&results, 1, 2), "500000.00");
    assert_eq!(value(&results, 1, 3), "192497.82");
    assert_eq!(value(&results, 1, 4), "41347955.78");
    assert_eq!(value(&results, 1, 5), "62859");

    // B has no non-performing loans at all: the ranges add nothing, so 0 %.
    assert_eq!(value(&results, 2, 0), "0");
    assert_eq!(value(&results, 2, 2), "150");
    assert_eq!(value(&results, 2, 5), "120");

    // The first period of an entity has no previous one.
    assert_eq!(
        value(&results, 0, 3),
        "input_unavailable: saldo_anterior(\"36\") for entity `El Sagrario` period `2007-12`: \
         no period before `2007-12` for entity `El Sagrario`"
    );
    // 2007 has no loan accounts at all: the non-performing ranges add nothing,
    // but the gross portfolio, a single account, must be there.
    assert_eq!(
        value(&results, 0, 0),
        "input_unavailable: saldo(\"14\") for entity `El Sagrario` period `2007-12`: account 14 has no balance \
         for entity `El Sagrario` period `2007-12` (neither the account nor any sub-account is in the file)"
    );
}

#[test]
fn sub_accounts_that_do_not_add_up_are_warned() {
    let table = read(&rules());
    let warnings: Vec<(Option<u64>, &str)> = table
        .warnings()
        .iter()
        .map(|w| (w.line, w.message.as_str()))
        .collect();
    assert_eq!(
        warnings,
        [
            (
                Some(2),
                "entity `El Sagrario` period `2008-12`: account `1` reports 45695911.55 \
                 but its sub-accounts add up to 39734583.53 (difference 5961328.02)"
            ),
            (
                Some(5),
                "entity `El Sagrario` period `2008-12`: account `14` reports 37734583.53 \
                 but its sub-accounts add up to 37734000.00 (difference 583.53)"
            ),
        ]
    );
    assert!(table.source().ends_with("balances.csv"));
}

#[test]
fn bad_queries_are_refused_when_the_pack_compiles() {
    let pack = PACK.replace("11 - 1103", "11 – 1103");
    let pack = RulePack::from_sources(SourceFile::new("pack.toml", &pack), vec![]).unwrap();
    let problems = compile(pack, &[&AccountsPlugin]).unwrap_err();
    let messages: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
    assert_eq!(
        messages,
        ["saldo(\"11 – 1103\"): unexpected `–` after `11`: join terms with `+` or `-`"]
    );
}

#[test]
fn inline_text_reads_like_a_file() {
    let rules = rules();
    let inline = read_data_from(&rules, &mut BALANCES.as_bytes(), "inline").unwrap();
    let file = read(&rules);
    assert_eq!(inline.source(), "inline");
    assert_eq!(inline.len(), file.len());
    assert_eq!(inline.warnings(), file.warnings());
    let column = "saldo(\"1411..1414+1421..1424\")";
    let (a, b) = (inline.column(column).unwrap(), file.column(column).unwrap());
    assert_eq!(a.value(1), b.value(1));
    assert_eq!(a.value(1).unwrap().to_string(), "1084203.65");
}
