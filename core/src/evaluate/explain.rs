//! Why one indicator has its value for one row: the formula and where it is
//! defined (and overridden), every input it read with its value — down to
//! the raw data through the indicators it reads — the result, and how the
//! result was assessed against the standard and the band set.
//!
//! The values are the evaluation's own: the table is evaluated with
//! [`crate::evaluate`] and the row's cells are read back, and field values
//! are read as evaluation reads them.

use rhai::Dynamic;
use rust_decimal::Decimal;

use crate::compile::binding::InputSource;

use crate::compile::set::CompiledRuleSet;
use crate::data::shape::{DataShape, FieldKind, Value};
use crate::data::table::Table;
pub use crate::evaluate::assess::BandScore;
use crate::evaluate::assess::band_score;
use crate::evaluate::result::{Cell, CellError, ResultSet};
use crate::evaluate::{RowInputs, evaluate};
use crate::pack::Indicator;
use crate::pack::standard::{BandBasis, BandLevel};
use crate::source::Location;

/// Why one indicator has its result for one row of a table (see [`explain`]).
#[derive(Debug, Clone)]
pub struct Explanation {
    /// Entity key of the row.
    pub entity: String,
    /// Period key of the row, when the data has periods.
    pub period: Option<String>,
    /// Where the data came from (a file path, or the name given for it).
    pub source: String,
    /// 1-based line of the row in the data (for long formats, the row's first line).
    pub line: u64,
    /// The indicator, its inputs down to the raw data, and its result.
    pub indicator: IndicatorExplanation,
}

/// One indicator's computation for the row.
#[derive(Debug, Clone)]
pub struct IndicatorExplanation {
    /// Index of the indicator in the pack.
    pub index: usize,
    /// The indicator as the pack resolved it: id, name, unit, formula,
    /// where it is defined (`location`) and which overrides changed it.
    pub indicator: Indicator,
    /// `"native"` or `"rhai"` (see [`CompiledRuleSet::evaluation_path`]).
    pub path: &'static str,
    /// What the formula read, in the order it first reads them.
    pub inputs: Vec<InputExplanation>,
    /// The result, exactly as evaluation gives it: value, compliance, met
    /// and band, or the error. For an indicator with a grain, the result of
    /// the row's group (empty if none).
    pub cell: Cell,
    /// Why the result is in its band, when the indicator has a band set and a value.
    pub band: Option<BandReason>,
}

/// One input of a formula and the value it had.
#[derive(Debug, Clone)]
pub struct InputExplanation {
    /// What the formula reads: a field or parameter name, an indicator id,
    /// an input-function call in canonical form (`saldo("14")`), or an
    /// aggregate (`sum(x)`).
    pub name: String,
    /// Where the value comes from, and the value.
    pub value: InputValue,
}

/// Where an input's value comes from, with the value.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum InputValue {
    /// A data column of the row: a field, or an input-function column.
    Field {
        /// The data column read.
        column: String,
        /// For an input-function column such as `saldo("14")`: the function
        /// and its canonical argument.
        call: Option<(&'static str, String)>,
        /// The value the formula received, or why there is none.
        value: Result<Value, CellError>,
        /// Whether the cell was empty and the field's `when_missing` stood in.
        stand_in: bool,
    },
    /// A parameter of the pack.
    Parameter {
        /// Its value.
        value: Value,
        /// Where it is set.
        location: Location,
    },
    /// Another indicator's result for the same row (or group), explained in turn.
    Indicator(Box<IndicatorExplanation>),
    /// An aggregate over the rows of the group (grain formulas); its value
    /// is not kept per row.
    Aggregate,
}

/// Why a value falls in its band level.
#[derive(Debug, Clone)]
pub struct BandReason {
    /// The band set's id.
    pub set: String,
    /// Where the band set is defined.
    pub location: Location,
    /// What its thresholds compare with.
    pub basis: BandBasis,
    /// The levels, best first.
    pub levels: Vec<BandLevel>,
    /// The score compared with the thresholds and what it is; `None` when
    /// there is nothing to compare (e.g. compliance without a standard).
    pub score: Option<(Decimal, BandScore)>,
    /// `true` when a level applies at a score of at least its threshold
    /// (higher is better), `false` when at most.
    pub at_least: bool,
    /// Index of the level the score falls in (as in the result's cell).
    pub level: Option<usize>,
}

impl BandReason {
    /// The level the score falls in and its threshold (`None` for the catch-all level).
    #[must_use]
    pub fn reached(&self) -> Option<(&BandLevel, Option<Decimal>)> {
        let level = self.levels.get(self.level?)?;
        Some((level, level.threshold))
    }
}

/// Explains indicator `indicator` (pack order) for row `row` of `table`.
///
/// The table is evaluated whole with [`crate::evaluate`] (an indicator with
/// a grain needs its group's rows), so every value shown is the one
/// evaluation gives.
///
/// ```
/// use semaforo_core::{compile, explain, InputValue, RulePack, SourceFile, Table};
/// let pack = RulePack::from_sources(SourceFile::new("pack.toml", r#"
/// [pack]
/// id = "demo"
/// version = "1"
/// [fields]
/// done = "activities done"
/// planned = "activities planned"
/// [[indicator]]
/// id = "progress"
/// unit = "percent"
/// formula = "done / planned * 100"
/// standard = 90
/// "#), vec![]).unwrap();
/// let rules = compile(pack, &[]).unwrap();
/// let data = "entity,done,planned\nTransport,51,75\n";
/// let table = Table::from_csv_reader(data.as_bytes(), "inline", rules.pack().data_shape()).unwrap();
/// let why = explain(&rules, &table, 0, 0);
/// assert_eq!(why.indicator.cell.value.unwrap().to_string(), "68.00");
/// assert_eq!(why.indicator.inputs[0].name, "done");
/// assert!(matches!(&why.indicator.inputs[0].value, InputValue::Field { value: Ok(v), .. } if v.to_string() == "51"));
/// ```
///
/// # Panics
/// When `row` is not a row of `table` or `indicator` not an indicator of the pack.
#[must_use]
pub fn explain(
    rules: &CompiledRuleSet,
    table: &Table,
    row: usize,
    indicator: usize,
) -> Explanation {
    assert!(row < table.len(), "row {row} is not in the table");
    let results = evaluate(rules, table);
    let context = Context {
        rules,
        table,
        row,
        inputs: RowInputs::bind(rules, table),
        results: &results,
    };
    Explanation {
        entity: table.entity(row).to_owned(),
        period: table.period(row).map(str::to_owned),
        source: table.source().to_owned(),
        line: table.line(row),
        indicator: context.indicator(indicator),
    }
}

/// What every step of an explanation reads.
struct Context<'a> {
    rules: &'a CompiledRuleSet,
    table: &'a Table,
    row: usize,
    inputs: RowInputs<'a>,
    results: &'a ResultSet,
}

impl Context<'_> {
    fn indicator(&self, index: usize) -> IndicatorExplanation {
        let pack = &self.rules.pack;
        let indicator = &pack.indicators[index];
        let formula = &self.rules.formulas[index];
        let inputs = formula
            .inputs
            .iter()
            .map(|input| match input.source {
                InputSource::Field(f) => self.field(f),
                InputSource::Parameter(p) => {
                    let parameter = &pack.parameters[p];
                    InputExplanation {
                        name: parameter.name.clone(),
                        value: InputValue::Parameter {
                            value: parameter.value.clone(),
                            location: parameter.location.clone(),
                        },
                    }
                }
                InputSource::Indicator(j) => InputExplanation {
                    name: pack.indicators[j].id.clone(),
                    value: InputValue::Indicator(Box::new(self.indicator(j))),
                },
                InputSource::Aggregate(a) => InputExplanation {
                    name: formula
                        .aggregates
                        .get(a)
                        .map_or_else(|| input.name.to_string(), |g| g.text.clone()),
                    value: InputValue::Aggregate,
                },
            })
            .collect();
        let cell = match &indicator.grain {
            None => self.results.cell(self.row, index).clone(),
            Some(grain) => self.group_cell(index, grain),
        };
        let band = indicator.band_set.zip(cell.value).map(|(set, value)| {
            let set = &pack.band_sets[set];
            BandReason {
                set: set.id.clone(),
                location: set.location.clone(),
                basis: set.basis,
                levels: set.levels.clone(),
                score: band_score(value, indicator.direction, indicator.standard, set),
                at_least: indicator.direction == crate::pack::Direction::HigherIsBetter,
                level: cell.band,
            }
        });
        IndicatorExplanation {
            index,
            indicator: indicator.clone(),
            path: self.rules.evaluation_path(index),
            inputs,
            cell,
            band,
        }
    }

    /// Field `f` of the row, read as evaluation reads it.
    fn field(&self, f: usize) -> InputExplanation {
        let spec = &self.rules.fields[f];
        let value = self
            .inputs
            .field(f, self.row)
            .map(|(value, _flag)| to_value(value));
        let empty = match spec.kind {
            FieldKind::Text => self
                .table
                .dimensions()
                .iter()
                .find(|d| d.name == spec.column)
                .is_some_and(|d| d.values[self.row].is_empty()),
            _ => self.table.column(&spec.column).is_some_and(|c| {
                c.value(self.row).is_none()
                    && c.problem(self.row).is_none_or(|p| {
                        matches!(p, crate::data::table::CellProblem::ShortRow { .. })
                    })
            }),
        };
        InputExplanation {
            name: spec.name.clone(),
            value: InputValue::Field {
                column: spec.column.clone(),
                call: spec.call.clone(),
                stand_in: value.is_ok() && empty,
                value,
            },
        }
    }

    /// The result of grain indicator `index` for the group holding the row.
    fn group_cell(&self, index: usize, grain: &[String]) -> Cell {
        let (label, period) = group_of(self.table, self.rules.pack.data_shape(), grain, self.row);
        self.results
            .groups()
            .iter()
            .find(|g| g.indicator == index && g.entity == label && g.period == period)
            .map(|g| g.cell.clone())
            .unwrap_or_default()
    }
}

/// A value a formula received, as a pack value.
fn to_value(value: Dynamic) -> Value {
    if let Ok(number) = value.as_decimal() {
        return Value::Number(number);
    }
    let shown = value.to_string();
    Value::Text(value.into_string().unwrap_or(shown))
}

/// The label and period of the group of `row` for `grain`, as
/// [`crate::GroupResult`] names it: the non-period grain values joined with
/// ` / ` (`*` for none), and the period when the grain has it.
fn group_of(
    table: &Table,
    shape: &DataShape,
    grain: &[String],
    row: usize,
) -> (String, Option<String>) {
    let mut period = None;
    let mut others = Vec::new();
    for column in grain {
        if Some(column.as_str()) == shape.period.as_deref() {
            period = Some(table.period(row).unwrap_or_default().to_owned());
        } else if *column == shape.entity {
            others.push(table.entity(row).to_owned());
        } else {
            others.push(
                table
                    .dimensions()
                    .iter()
                    .find(|d| d.name == *column)
                    .map(|d| d.values[row].clone())
                    .unwrap_or_default(),
            );
        }
    }
    let label = if others.is_empty() {
        "*".to_owned()
    } else {
        others.join(" / ")
    };
    (label, period)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::compile;
    use crate::pack::RulePack;
    use crate::source::SourceFile;

    const PACK: &str = r#"
[pack]
id = "demo"
version = "1"

[parameters]
bonus = 1

[fields]
done = "activities done"
planned = "activities planned"
extra = { column = "extra_q1", when_missing = 0, flag = "MISSING_REPORT" }

[bands.semaforo]
on = "compliance"
levels = [
  { label = "VERDE", threshold = 100 },
  { label = "AMARILLO", threshold = 90 },
  { label = "ROJO" },
]

[[indicator]]
id = "progress"
name = "Progress"
unit = "percent"
formula = "(done + extra) / planned * 100"

[[indicator]]
id = "score"
unit = "percent"
direction = "higher"
standard = 50
bands = "semaforo"
formula = "progress / 2 + bonus"

[[indicator]]
id = "total"
unit = "count"
grain = []
formula = "sum(done)"
"#;

    fn rules() -> CompiledRuleSet {
        let pack = RulePack::from_sources(SourceFile::new("pack.toml", PACK), vec![]).unwrap();
        compile(pack, &[]).unwrap()
    }

    fn table(rules: &CompiledRuleSet, csv: &str) -> Table {
        Table::from_csv_reader(csv.as_bytes(), "data.csv", rules.pack().data_shape()).unwrap()
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn field_value(input: &InputExplanation) -> (&Result<Value, CellError>, bool) {
        match &input.value {
            InputValue::Field {
                value, stand_in, ..
            } => (value, *stand_in),
            other => panic!("{} is not a field: {other:?}", input.name),
        }
    }

    #[test]
    fn explains_an_indicator_down_to_its_fields() {
        let rules = rules();
        let data = table(
            &rules,
            "entity,done,planned,extra_q1\nA,40,80,4\nB,45,90,\nC,1,x,0\n",
        );
        let why = explain(&rules, &data, 1, 1);
        assert_eq!((why.entity.as_str(), why.line), ("B", 3));
        let score = &why.indicator;
        assert_eq!(score.indicator.id, "score");
        assert_eq!(score.path, "native");
        // (45 + 0) / 90 * 100 = 50; 50 / 2 + 1 = 26.
        assert_eq!(score.cell.value, Some(d("26")));
        assert_eq!(score.cell.compliance, Some(d("52")));
        let names: Vec<&str> = score.inputs.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["progress", "bonus"]);
        let InputValue::Indicator(progress) = &score.inputs[0].value else {
            panic!("progress is an indicator input");
        };
        assert_eq!(progress.cell.value, Some(d("50")));
        assert_eq!(progress.cell.flags, ["MISSING_REPORT"]);
        let values: Vec<_> = progress.inputs.iter().map(field_value).collect();
        assert_eq!(
            values,
            [
                (&Ok(Value::Number(d("45"))), false),
                (&Ok(Value::Number(d("0"))), true),
                (&Ok(Value::Number(d("90"))), false),
            ]
        );
        assert!(matches!(
            &score.inputs[1].value,
            InputValue::Parameter { value: Value::Number(n), .. } if *n == d("1")
        ));
        // The cells are evaluation's own.
        let results = evaluate(&rules, &data);
        assert_eq!(&score.cell, results.cell(1, 1));
    }

    #[test]
    fn the_band_reason_names_the_threshold_reached() {
        let rules = rules();
        // 190 / 200 * 100 = 95 → 95 / 2 + 1 = 48.5: compliance 97 → AMARILLO (≥ 90, < 100).
        let data = table(&rules, "entity,done,planned,extra_q1\nA,190,200,0\n");
        let reason = explain(&rules, &data, 0, 1).indicator.band.unwrap();
        assert_eq!(reason.set, "semaforo");
        assert_eq!(reason.basis, BandBasis::Compliance);
        assert_eq!(reason.score, Some((d("97"), BandScore::Compliance)));
        assert!(reason.at_least);
        let (level, threshold) = reason.reached().unwrap();
        assert_eq!(
            (level.label.as_str(), threshold),
            ("AMARILLO", Some(d("90")))
        );
        // 0 → 1: compliance 2, below every threshold: the catch-all level.
        let data = table(&rules, "entity,done,planned,extra_q1\nA,0,200,0\n");
        let reason = explain(&rules, &data, 0, 1).indicator.band.unwrap();
        let (level, threshold) = reason.reached().unwrap();
        assert_eq!((level.label.as_str(), threshold), ("ROJO", None));
    }

    #[test]
    fn a_failed_input_carries_its_problem_and_the_result_its_error() {
        let rules = rules();
        let data = table(&rules, "entity,done,planned,extra_q1\nC,1,x,0\n");
        let why = explain(&rules, &data, 0, 1);
        assert_eq!(
            why.indicator.cell.error.as_ref().map(|e| e.kind()),
            Some("dependency_failed")
        );
        assert!(why.indicator.band.is_none());
        let InputValue::Indicator(progress) = &why.indicator.inputs[0].value else {
            panic!("progress is an indicator input");
        };
        let (planned, _) = field_value(&progress.inputs[2]);
        let error = planned.as_ref().unwrap_err();
        assert_eq!(error.kind(), "invalid_value");
        assert!(error.to_string().contains("data.csv:2:3"), "{error}");
    }

    #[test]
    fn a_grain_indicator_gives_its_group_result() {
        let rules = rules();
        let data = table(&rules, "entity,done,planned,extra_q1\nA,1,2,0\nB,3,4,0\n");
        let why = explain(&rules, &data, 1, 2);
        assert_eq!(why.indicator.cell.value, Some(d("4")));
        assert_eq!(why.indicator.inputs[0].name, "sum(done)");
        assert!(matches!(
            why.indicator.inputs[0].value,
            InputValue::Aggregate
        ));
    }
}
