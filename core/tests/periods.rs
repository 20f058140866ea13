//! Periods in time order, generated: period sets written in each form users
//! write (`2008-12`, `12/2008`, `2008T4`, `Dic. 2008`, `31/12/2008`…), with
//! gaps, several entities, rows shuffled. The previous value of each period
//! is the value of the entity's latest earlier period in time — never a
//! later or a skipped one — or there is none and a warning says why.
//!
//! `SEMAFORO_FUZZ_CASES=100000 cargo test --release -p semaforo-core --test periods`
//! runs longer.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

mod support;

use proptest::prelude::*;
use semaforo_core::{Analysis, PeriodForm, Table, compile, evaluate, load_and_compile};
use support::{from_manifest, write};

/// Cases per property: `SEMAFORO_FUZZ_CASES`, else 256.
const CASES: u32 = 256;

const SPANISH: [&str; 12] = [
    "ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic",
];
const FULL: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];
const ENGLISH: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The `step`-th period after 2006's first of `form`, written in the `variant`-th way.
fn written(form: PeriodForm, step: u32, variant: usize) -> String {
    let pick = |options: &[String]| options[variant % options.len()].clone();
    match form {
        PeriodForm::Year => format!("{}", 1990 + step),
        PeriodForm::YearSemester => {
            let (y, s) = (2006 + step / 2, step % 2 + 1);
            pick(&[
                format!("{y}-S{s}"),
                format!("{y}S{s}"),
                format!("{y}-H{s}"),
                format!("S{s} {y}"),
            ])
        }
        PeriodForm::YearQuarter => {
            let (y, q) = (2006 + step / 4, step % 4 + 1);
            pick(&[
                format!("{y}-Q{q}"),
                format!("{y}Q{q}"),
                format!("{y}T{q}"),
                format!("{y}-T{q}"),
                format!("T{q}-{y}"),
                format!("q{q} {y}"),
            ])
        }
        PeriodForm::YearMonth => {
            let (y, m) = (2006 + step / 12, step % 12 + 1);
            pick(&[
                format!("{y}-{m:02}"),
                format!("{y}-{m}"),
                format!("{y}/{m}"),
            ])
        }
        PeriodForm::MonthYear => {
            let (y, m) = (2006 + step / 12, step % 12 + 1);
            pick(&[
                format!("{m}/{y}"),
                format!("{m:02}/{y}"),
                format!("{m}-{y}"),
            ])
        }
        PeriodForm::MonthNameYear => {
            let (y, m) = (2006 + step / 12, (step % 12) as usize);
            let mut capital = SPANISH[m].to_owned();
            capital[..1].make_ascii_uppercase();
            pick(&[
                format!("{capital}. {y}"),
                format!("{}-{y}", SPANISH[m]),
                format!("{} {y}", FULL[m]),
                format!("{} {y}", ENGLISH[m]),
                format!("{}/{y}", SPANISH[m]),
            ])
        }
        PeriodForm::Date | PeriodForm::DayMonthYear => {
            let (y, m, d) = day(step);
            if form == PeriodForm::Date {
                pick(&[format!("{y}-{m:02}-{d:02}"), format!("{y}/{m}/{d}")])
            } else {
                pick(&[
                    format!("{d}/{m}/{y}"),
                    format!("{d:02}/{m:02}/{y}"),
                    format!("{d}-{m}-{y}"),
                ])
            }
        }
    }
}

/// The calendar day `step` days after 2007-12-01.
fn day(step: u32) -> (u32, u32, u32) {
    let (mut y, mut m, mut d) = (2007, 12, 1);
    for _ in 0..step {
        let length = match m {
            2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        d += 1;
        if d > length {
            d = 1;
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
        }
    }
    (y, m, d)
}

/// One entity's periods: distinct steps (gaps allowed), each with a variant.
#[derive(Debug, Clone)]
struct Entity {
    steps: Vec<(u32, usize)>,
}

fn entity() -> impl Strategy<Value = Entity> {
    proptest::collection::btree_map(0u32..800, 0usize..6, 1..8).prop_map(|steps| Entity {
        steps: steps.into_iter().collect(),
    })
}

/// A data set: one form, some entities, the rows in a shuffled order.
fn data() -> impl Strategy<Value = (PeriodForm, Vec<Entity>, Vec<(usize, usize)>)> {
    (
        proptest::sample::select(PeriodForm::ALL.to_vec()),
        proptest::collection::vec(entity(), 1..4),
    )
        .prop_flat_map(|(form, entities)| {
            let rows: Vec<(usize, usize)> = entities
                .iter()
                .enumerate()
                .flat_map(|(e, entity)| (0..entity.steps.len()).map(move |i| (e, i)))
                .collect();
            (Just(form), Just(entities), Just(rows).prop_shuffle())
        })
}

fn pack(format: Option<&str>) -> semaforo_core::CompiledRuleSet {
    let format = format.map_or_else(String::new, |f| format!("period_format = \"{f}\"\n"));
    let source = format!(
        "[pack]\nid = \"p\"\nversion = \"1\"\n[data]\nperiod = \"period\"\n{format}[fields]\nx = \"x\"\n[[indicator]]\nid = \"y\"\nformula = \"x\"\n"
    );
    compile(from_manifest(&source).unwrap(), &[]).unwrap()
}

/// Evaluates rows of `(entity, period, x)`; returns each row's previous `x`, and the warnings.
fn previous_values(
    rules: &semaforo_core::CompiledRuleSet,
    rows: &[(String, String, u32)],
) -> (Vec<Option<String>>, Vec<String>) {
    let mut csv = String::from("entity,period,x\n");
    for (entity, period, x) in rows {
        csv.push_str(&format!("{entity},\"{period}\",{x}\n"));
    }
    let table =
        Table::from_csv_reader(csv.as_bytes(), "data.csv", rules.pack().data_shape()).unwrap();
    let results = evaluate(rules, &table);
    let analysis = Analysis::of(&results);
    let previous = (0..rows.len())
        .map(|row| analysis.variation(row, 0).map(|v| v.previous.to_string()))
        .collect();
    let warnings = analysis
        .warnings()
        .iter()
        .map(|w| w.message.clone())
        .collect();
    assert_eq!(
        Analysis::period_warnings(&results)
            .iter()
            .map(|w| w.message.clone())
            .collect::<Vec<_>>(),
        warnings
    );
    (previous, warnings)
}

#[test]
fn the_previous_period_is_the_latest_earlier_one_in_time() {
    let auto = pack(None);
    let declared: Vec<_> = PeriodForm::ALL
        .iter()
        .map(|f| (*f, pack(Some(f.name()))))
        .collect();
    let mut runner = support::runner(CASES);
    runner
        .run(&data(), |(form, entities, order)| {
            // x is the step, so a previous value names the period it came from.
            let rows: Vec<(String, String, u32)> = order
                .iter()
                .map(|&(e, i)| {
                    let (step, variant) = entities[e].steps[i];
                    (format!("E{e}"), written(form, step, variant), step)
                })
                .collect();
            let expected: Vec<Option<String>> = order
                .iter()
                .map(|&(e, i)| i.checked_sub(1).map(|p| entities[e].steps[p].0.to_string()))
                .collect();
            let rules = &declared.iter().find(|(f, _)| *f == form).unwrap().1;
            for rules in [&auto, rules] {
                let (previous, warnings) = previous_values(rules, &rows);
                prop_assert!(warnings.is_empty(), "{warnings:?} {rows:?}");
                prop_assert_eq!(&previous, &expected, "{:?}", rows);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn periods_in_two_forms_or_in_none_get_no_variation_and_a_warning() {
    let mixed_forms = proptest::sample::subsequence(PeriodForm::ALL.to_vec(), 2..=3);
    let mut runner = support::runner(CASES);
    let strategy = (
        mixed_forms,
        proptest::collection::vec((0u32..300, 0usize..6), 2..10),
    )
        .prop_filter("one period per form at least", |(forms, steps)| {
            steps.len() >= forms.len()
        });
    let auto = pack(None);
    runner
        .run(&strategy, |(forms, steps)| {
            let rows: Vec<(String, String, u32)> = steps
                .iter()
                .enumerate()
                .map(|(i, &(step, variant))| {
                    (
                        "E".to_owned(),
                        written(forms[i % forms.len()], step, variant),
                        step,
                    )
                })
                .collect();
            let (previous, warnings) = previous_values(&auto, &rows);
            prop_assert!(previous.iter().all(Option::is_none), "{rows:?}");
            prop_assert_eq!(warnings.len(), 1, "{:?}", rows);
            prop_assert!(
                warnings[0].contains("written in more than one form"),
                "{warnings:?}"
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn text_that_sorts_unlike_time_gets_a_warning_unless_declared() {
    let rows = |periods: &[&str]| -> Vec<(String, String, u32)> {
        periods
            .iter()
            .zip(1..)
            .map(|(p, x)| ("A".to_owned(), (*p).to_owned(), x))
            .collect()
    };
    // The case of issue #13: as text, 1/2009 came before 12/2008.
    let (previous, warnings) =
        previous_values(&pack(None), &rows(&["12/2008", "1/2009", "11/2008"]));
    assert_eq!(previous, [Some("3".to_owned()), Some("1".to_owned()), None]);
    assert!(warnings.is_empty());
    // Unknown forms: not ordered, and the warning says what to do.
    let (previous, warnings) = previous_values(&pack(None), &rows(&["P1", "P2", "P10"]));
    assert_eq!(previous, [None, None, None]);
    assert_eq!(
        warnings,
        [
            "variation from the previous period was not computed: the periods `P1`, `P10`, `P2` are not written in a form whose time order is known (year `2008`, `2008-Q4`, `2008-12`, `12/2008`, `Dic. 2008`, `2008-12-31`, `31/12/2008`…); if their text order is their time order, declare it with `period_format = \"text\"` in the pack's [data]"
        ]
    );
    // Declared as text: text order, as the pack says.
    let (previous, warnings) = previous_values(&pack(Some("text")), &rows(&["P01", "P02", "P03"]));
    assert_eq!(previous, [None, Some("1".to_owned()), Some("2".to_owned())]);
    assert!(warnings.is_empty());
    // A declared form: a period not in it leaves its entity without variation.
    let mut data = rows(&["12/2008", "1/2009"]);
    data.extend([
        ("B".to_owned(), "2/2009".to_owned(), 7),
        ("B".to_owned(), "2009-03".to_owned(), 8),
    ]);
    let (previous, warnings) = previous_values(&pack(Some("month/year")), &data);
    assert_eq!(previous, [None, Some("1".to_owned()), None, None]);
    assert_eq!(
        warnings,
        [
            "variation from the previous period was not computed for the entities with a period not written as the pack's [data] period_format `month/year` says (like `12/2008`): `2009-03`"
        ]
    );
    // Two rows for one period (written two ways): the next one's previous is ambiguous.
    let (previous, warnings) =
        previous_values(&pack(None), &rows(&["2008-1", "2008-01", "2008-02"]));
    assert_eq!(previous, [None, None, None]);
    assert_eq!(
        warnings,
        [
            "entity `A` has more than one row for period `2008-1`: the variation of the period after it was not computed, because its previous value is ambiguous"
        ]
    );
}

#[test]
fn a_period_format_the_pack_cannot_mean_is_refused_where_it_is_written() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pack.toml",
        "[pack]\nid = \"p\"\nversion = \"1\"\n[data]\nperiod = \"period\"\nperiod_format = \"mm/yyyy\"\n[fields]\nx = \"x\"\n[[indicator]]\nid = \"y\"\nformula = \"x\"\n",
    );
    let problems = load_and_compile(dir.path(), &[]).unwrap_err();
    let problem = problems.iter().next().unwrap();
    assert_eq!(problem.code.as_str(), "SEM022");
    assert_eq!(
        problem.message,
        "period_format `mm/yyyy` is not one of `auto`, `text`, `year`, `year-semester`, `year-quarter`, `year-month`, `month/year`, `month-name year`, `date`, `day/month/year`"
    );
    let location = problem.location.as_ref().unwrap();
    assert_eq!(&location.file.text()[location.span.clone()], "\"mm/yyyy\"");
}
