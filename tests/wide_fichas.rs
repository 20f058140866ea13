//! The El Sagrario fichas (seed 001) reproduced from wide aggregates — the
//! `tests/fixtures/wide-fichas` pack and its `fichas.csv` — against DOMAIN.md
//! §2. Where the seed's printed figure is wrong, DOMAIN.md's value is
//! expected and the row says so. (`rules/sagrario` computes the same from
//! chart-of-accounts balances; its own tests live in `rules/sagrario/tests/`.)
#![expect(
    clippy::unwrap_used,
    reason = "a broken fixture should fail the test loudly"
)]

mod support;

use semaforo::{ResultSet, Table, round_for_display};
use support::{WIDE_FICHAS, root};

fn results() -> ResultSet {
    let (pack, data) = WIDE_FICHAS;
    let rules = semaforo::load(&root().join(pack)).expect("the shipped pack is valid");
    let table = Table::read_csv(&root().join(data), rules.pack().data_shape()).unwrap();
    semaforo::evaluate(&rules, &table)
}

/// The row of `period` (the fixture has one entity).
fn row_of(results: &ResultSet, period: &str) -> usize {
    results
        .rows()
        .iter()
        .position(|r| r.period.as_deref() == Some(period))
        .unwrap_or_else(|| panic!("no row for {period}"))
}

/// The position of indicator `id`.
fn indicator_of(results: &ResultSet, id: &str) -> usize {
    results
        .pack()
        .indicators()
        .iter()
        .position(|i| i.id == id)
        .unwrap_or_else(|| panic!("no indicator {id}"))
}

/// (period, indicator, value %, compliance %, status) — rounded to 2 places, half away from zero.
type Expectation = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

const EXPECTED: &[Expectation] = &[
    (
        "2008-12",
        "socios_inactivos",
        "36.83",
        Some("184.13"),
        Some("Brecha de no cumplimiento"),
    ),
    (
        "2008-12",
        "captaciones_plazo",
        "42.94",
        Some("107.34"),
        Some("CUMPLIO"),
    ),
    (
        "2008-12",
        "colocacion_comercial",
        "0.09",
        Some("8.89"),
        Some("Brecha de no cumplimiento"),
    ),
    (
        "2008-12",
        "colocacion_consumo",
        "33.53",
        Some("95.79"),
        Some("Brecha de no cumplimiento"),
    ),
    (
        "2008-12",
        "colocacion_vivienda",
        "23.57",
        Some("98.19"),
        Some("Brecha de no cumplimiento"),
    ),
    (
        "2008-12",
        "colocacion_micro",
        "42.82",
        Some("107.04"),
        Some("CUMPLIO"),
    ),
    // The seed prints compliance 66.36 % (2.87 / 4.33, the peer value); DOMAIN.md: /4 → 71.83 %.
    (
        "2008-12",
        "morosidad",
        "2.87",
        Some("71.83"),
        Some("CUMPLIO"),
    ),
    (
        "2008-12",
        "morosidad_comercial",
        "35.46",
        Some("709.23"),
        Some("Brecha de no cumplimiento"),
    ),
    (
        "2008-12",
        "morosidad_consumo",
        "2.39",
        Some("79.57"),
        Some("CUMPLIO"),
    ),
    (
        "2008-12",
        "morosidad_vivienda",
        "1.42",
        Some("71.05"),
        Some("CUMPLIO"),
    ),
    // 3.985 % against 4 %: compliant by 0.015 pp.
    (
        "2008-12",
        "morosidad_micro",
        "3.99",
        Some("99.64"),
        Some("CUMPLIO"),
    ),
    (
        "2008-12",
        "cobertura",
        "130.27",
        Some("130.27"),
        Some("CUMPLIO"),
    ),
    (
        "2008-12",
        "cobertura_comercial",
        "93.59",
        Some("93.59"),
        Some("Brecha de no cumplimiento"),
    ),
    (
        "2008-12",
        "cobertura_consumo",
        "104.83",
        Some("104.83"),
        Some("CUMPLIO"),
    ),
    (
        "2008-12",
        "cobertura_vivienda",
        "125.02",
        Some("125.02"),
        Some("CUMPLIO"),
    ),
    (
        "2008-12",
        "cobertura_micro",
        "86.11",
        Some("86.11"),
        Some("Brecha de no cumplimiento"),
    ),
    (
        "2008-12",
        "activos_improductivos",
        "6.62",
        Some("119.87"),
        Some("Brecha de no cumplimiento"),
    ),
    // DOMAIN.md recomputes equity vulnerability −3.17 % (the seed's text says −3.08 %).
    ("2008-12", "vulnerabilidad_patrimonial", "-3.17", None, None),
    // The seed prints compliance 69.91 % (4.94 / 7.07, the peer value); DOMAIN.md: /7 → 70.61 %.
    (
        "2008-12",
        "gastos_operacion_pct",
        "4.94",
        Some("70.61"),
        Some("CUMPLIO"),
    ),
    // No standard: the seed's 21.03 % compliance cannot be reproduced.
    ("2008-12", "gastos_personal_pct", "2.21", None, None),
    // 164.43 %, not 2.75 / 1.67 = 164.67 %: compliance uses the unrounded value.
    ("2008-12", "roa", "2.75", Some("164.43"), Some("CUMPLIO")),
    ("2008-12", "roe", "13.80", Some("135.66"), Some("CUMPLIO")),
    // ROE after inflation = 13.80 − 8.83 = 4.97 pp (not Fisher).
    ("2008-12", "roe_real", "4.97", None, None),
    (
        "2007-12",
        "socios_inactivos",
        "39.45",
        Some("197.25"),
        Some("Brecha de no cumplimiento"),
    ),
    (
        "2007-12",
        "captaciones_plazo",
        "50.19",
        Some("125.48"),
        Some("CUMPLIO"),
    ),
    (
        "2007-12",
        "morosidad",
        "3.07",
        Some("76.66"),
        Some("CUMPLIO"),
    ),
    (
        "2007-12",
        "cobertura",
        "124.60",
        Some("124.60"),
        Some("CUMPLIO"),
    ),
    // DOMAIN.md recomputes −2.54 % (the seed's text says −2.77 %).
    ("2007-12", "vulnerabilidad_patrimonial", "-2.54", None, None),
    ("2007-12", "roa", "2.87", Some("171.70"), Some("CUMPLIO")),
    ("2007-12", "roe", "13.21", Some("129.92"), Some("CUMPLIO")),
];

#[test]
fn fichas_reproduce_domain_worked_values() {
    let results = results();
    for &(period, id, value, compliance, status) in EXPECTED {
        let index = indicator_of(&results, id);
        let cell = results.cell(row_of(&results, period), index);
        assert_eq!(cell.error, None, "{period} {id}");
        assert_eq!(
            round_for_display(cell.value.unwrap(), 2),
            value,
            "{period} {id} value"
        );
        assert_eq!(
            cell.compliance.map(|c| round_for_display(c, 2)).as_deref(),
            compliance,
            "{period} {id} compliance"
        );
        assert_eq!(
            results.band_label(index, cell),
            status,
            "{period} {id} status"
        );
    }
}

#[test]
fn dec_2007_lacks_the_product_breakdown_and_says_so() {
    let results = results();
    let (row, index) = (
        row_of(&results, "2007-12"),
        indicator_of(&results, "morosidad_micro"),
    );
    let error = results.cell(row, index).error.as_ref().unwrap();
    assert_eq!(
        error.to_string(),
        "missing value of field `improd_micro` for entity `COAC_EL_SAGRARIO` period `2007-12`"
    );
}

#[test]
fn every_result_set_names_its_pack() {
    let identity = results().identity().clone();
    assert_eq!(
        (identity.id.as_str(), identity.version.as_str()),
        ("wide-fichas", "1.0.0")
    );
    assert_eq!(identity.content_hash.len(), 64);
}

#[test]
fn roe_variation_from_2007_matches_domain() {
    // DOMAIN.md §2: ROE 2008 vs 2007 (13.21 %): +0.58 pp, +4.41 %.
    let results = results();
    let analysis = semaforo::Analysis::of(&results);
    let (row, roe) = (row_of(&results, "2008-12"), indicator_of(&results, "roe"));
    let variation = analysis.variation(row, roe).unwrap();
    assert_eq!(round_for_display(variation.previous, 2), "13.21");
    assert_eq!(round_for_display(variation.absolute, 2), "0.58");
    assert_eq!(round_for_display(variation.relative.unwrap(), 2), "4.41");
}
