//! The `balances` data format: a long CSV of account balances turned into
//! the table a compiled pack evaluates, one row per entity × period and one
//! column per input the pack's formulas read.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use rust_decimal::Decimal;
use semaforo_core::{
    BatchReader, CellProblem, DataError, DataReader, DataWarning, Field, ReadRequest, RecordBatch,
    Table,
};

use crate::consistency;
use crate::functions::BalanceFunction;
use crate::ledger::Ledger;
use crate::load::{Layout, Loaded, SharedCodes, load_all, load_batch};
use crate::query::Query;

/// The name packs give this format: `[data] format = "balances"`.
pub const BALANCES_FORMAT: &str = "balances";

/// Reads the `balances` format (see the crate docs for the columns and the
/// balance rule).
///
/// Rows: one per entity × period, entities in order of first appearance,
/// the periods of an entity sorted as text (write them so that text order
/// is time order, e.g. `2008-12`); a row's line is its block's first line.
/// Columns: one per `saldo`, `saldo_anterior` and `saldo_promedio` call,
/// and one per plain pack field whose column is a single code (e.g.
/// `socios = { column = "SOCIOS_TOTAL" }`).
///
/// ```
/// use semaforo_accounts::{AccountsPlugin, BalancesReader};
/// use semaforo_core::{compile, DataReader, RulePack, SourceFile};
/// let pack = RulePack::from_sources(SourceFile::new("pack.toml", r#"
/// [pack]
/// id = "demo"
/// version = "1"
/// plugins = ["accounts"]
/// [data]
/// format = "balances"
/// period = "period"
/// [[indicator]]
/// id = "cash"
/// formula = "saldo(\"11 - 1103\")"
/// "#), vec![]).unwrap();
/// let rules = compile(pack, &[&AccountsPlugin]).unwrap();
/// let csv = "entity,period,code,value\nA,2008-12,1101,40\nA,2008-12,1103,15\n";
/// let table = BalancesReader.read_from(&mut csv.as_bytes(), "inline", rules.read_request()).unwrap();
/// let column = table.column("saldo(\"11-1103\")").unwrap();
/// assert_eq!(column.value(0).unwrap().to_string(), "40"); // 11 = 1101 + 1103 = 55
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct BalancesReader;

impl DataReader for BalancesReader {
    fn format(&self) -> &'static str {
        BALANCES_FORMAT
    }

    fn read_from(
        &self,
        input: &mut dyn Read,
        source_name: &str,
        request: ReadRequest<'_>,
    ) -> Result<Table, DataError> {
        let loaded = load_all(input, source_name, request.shape)?;
        Ok(table(loaded, request))
    }

    fn batches<'a>(
        &'a self,
        header: &[String],
        source_name: &str,
        request: ReadRequest<'a>,
    ) -> Option<Result<Box<dyn BatchReader + 'a>, DataError>> {
        let found = Layout::find(header, source_name, request.shape);
        Some(found.map(|(layout, header_warnings)| {
            Box::new(Batches {
                layout,
                codes: SharedCodes::default(),
                header_warnings,
                source: source_name.to_owned(),
                request,
            }) as Box<dyn BatchReader + 'a>
        }))
    }
}

/// Reads batches of whole entities of one file.
struct Batches<'a> {
    layout: Layout,
    /// The codes of the batches read so far.
    codes: SharedCodes,
    header_warnings: Vec<DataWarning>,
    source: String,
    request: ReadRequest<'a>,
}

impl BatchReader for Batches<'_> {
    fn header_warnings(&self) -> Vec<DataWarning> {
        self.header_warnings.clone()
    }

    fn read_batch(&self, batch: &RecordBatch) -> Result<Table, DataError> {
        let shape = self.request.shape;
        let loaded = load_batch(
            batch.records(),
            &self.source,
            shape,
            &self.layout,
            &self.codes,
        )?;
        Ok(table(loaded, self.request))
    }
}

/// The table of a ledger: a row per block, a column per field the pack's
/// formulas read (every value of a block whose key could not be read an
/// error saying why), and every warning in line order.
fn table(loaded: Loaded, request: ReadRequest<'_>) -> Table {
    let Loaded {
        ledger,
        mut warnings,
        problems,
    } = loaded;
    let ledger = &ledger;
    let shape = request.shape;
    warnings.extend(consistency::check(ledger));
    // Stable: warnings about one line keep the order they were found in.
    warnings.sort_by_key(|w| w.line);
    let mut table = Table::new(&ledger.source, true, &shape.dimensions);
    for block in &ledger.blocks {
        table.push_row(
            &ledger.entities[block.entity],
            Some(&block.period),
            block.line,
            block.dimensions.clone(),
        );
    }
    for (name, mut values) in columns(ledger, request.fields) {
        for (value, problem) in values.iter_mut().zip(&problems) {
            if let Some(reason) = problem {
                *value = Err(CellProblem::Unavailable(reason.clone()));
            }
        }
        table.push_column(&name, values);
    }
    for warning in warnings {
        table.push_warning(warning);
    }
    table
}

type Column = Vec<Result<Decimal, CellProblem>>;

/// The value columns for `fields`: each query's balances are computed once
/// and shared by the functions that read them.
fn columns(ledger: &Ledger, fields: &[Field]) -> Vec<(String, Column)> {
    let mut balances: BTreeMap<String, Vec<Result<Decimal, String>>> = BTreeMap::new();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for field in fields {
        let (function, query) = match &field.call {
            Some((name, canonical)) => {
                let Some(function) = BalanceFunction::from_name(name) else {
                    continue;
                };
                (function, Query::parse(canonical))
            }
            None => match Query::parse(&field.column) {
                Ok(query) if query.code().is_some() => (BalanceFunction::Saldo, Ok(query)),
                _ => continue,
            },
        };
        if !done.insert(field.column.clone()) {
            continue;
        }
        let values = match query {
            Ok(query) => {
                let current = balances
                    .entry(query.to_string())
                    .or_insert_with(|| ledger.balances(&query));
                function.column(ledger, current)
            }
            // Only reachable if another plugin declared a function of the same name.
            Err(error) => {
                let reason = format!("`{}` is not a balance query: {error}", field.column);
                vec![Err(CellProblem::Unavailable(reason)); ledger.blocks.len()]
            }
        };
        out.push((field.column.clone(), values));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccountsPlugin;
    use semaforo_core::{CompiledRuleSet, RulePack, SourceFile, compile};

    fn rules(extra: &str) -> CompiledRuleSet {
        let manifest = format!(
            r#"[pack]
id = "t"
version = "1"
plugins = ["accounts"]
[data]
format = "balances"
entity = "coac"
period = "period"
dimensions = ["segment"]
{extra}"#
        );
        let pack = RulePack::from_sources(SourceFile::new("pack.toml", &manifest), vec![]).unwrap();
        compile(pack, &[&AccountsPlugin]).unwrap()
    }

    fn read(rules: &CompiledRuleSet, csv: &str) -> Result<Table, DataError> {
        BalancesReader.read_from(&mut csv.as_bytes(), "b.csv", rules.read_request())
    }

    fn warnings(table: &Table) -> Vec<(Option<u64>, &str)> {
        table
            .warnings()
            .iter()
            .map(|w| (w.line, w.message.as_str()))
            .collect()
    }

    const INDICATORS: &str = r#"
[fields]
socios = { column = "SOCIOS_TOTAL", description = "members" }
activos = { column = "1" }
texto = { column = "not a code" }
[[indicator]]
id = "a"
formula = "saldo(\"14\") + saldo_anterior(\"14\") + socios + activos + texto"
[[indicator]]
id = "b"
formula = "saldo_promedio(\"14\") + saldo( \"14\" )"
"#;

    #[test]
    fn rows_are_entities_in_file_order_with_sorted_periods() {
        let rules = rules(INDICATORS);
        let csv = "coac,period,segment,code,value,name\n\
                   Z,2008-12,big,14,5,Loans\n\
                   A,2008-12,small,14,1,Loans\n\
                   Z,2007-12,big,14,4,Loans\n\
                   Z,2008-12,big,1,5,Assets\n";
        let table = read(&rules, csv).unwrap();
        let rows: Vec<(&str, Option<&str>, u64)> = (0..table.len())
            .map(|r| (table.entity(r), table.period(r), table.line(r)))
            .collect();
        assert_eq!(
            rows,
            [
                ("Z", Some("2007-12"), 4),
                ("Z", Some("2008-12"), 2),
                ("A", Some("2008-12"), 3)
            ]
        );
        assert_eq!(table.dimensions()[0].values, ["big", "big", "small"]);
        assert_eq!(warnings(&table), []);
    }

    #[test]
    fn one_column_per_call_and_per_plain_code_field() {
        let rules = rules(INDICATORS);
        let csv =
            "coac,period,segment,code,value\nZ,1,s,14,4\nZ,2,s,14,6\nZ,2,s,SOCIOS_TOTAL,100\n";
        let table = read(&rules, csv).unwrap();
        let value = |column: &str, row: usize| {
            let column = table.column(column).unwrap();
            column
                .value(row)
                .map(|d| d.to_string())
                .ok_or_else(|| column.problem(row).cloned())
        };
        assert_eq!(value("saldo(\"14\")", 1), Ok("6".into()));
        assert_eq!(value("saldo_anterior(\"14\")", 1), Ok("4".into()));
        assert_eq!(value("saldo_promedio(\"14\")", 1), Ok("5".into()));
        assert_eq!(value("SOCIOS_TOTAL", 1), Ok("100".into()));
        assert_eq!(
            value("SOCIOS_TOTAL", 0),
            Err(Some(CellProblem::Unavailable(
                "item SOCIOS_TOTAL has no value for entity `Z` period `1` (it is not in the file)"
                    .into()
            )))
        );
        assert!(table.column("1").is_some());
        assert!(table.column("not a code").is_none());
        let names: Vec<&str> = rules.fields().iter().map(|f| f.column.as_str()).collect();
        assert_eq!(names.iter().filter(|n| **n == "saldo(\"14\")").count(), 1);
    }

    #[test]
    fn bad_values_repeated_codes_and_dimension_drift_are_warned() {
        let rules = rules(INDICATORS);
        let csv = "coac,period,segment,code,value\n\
                   A,1,big,1411,12x\n\
                   A,1,big,14,\n\
                   A,1,small,1411,3\n\
                   A,1,big,14.01,3\n\
                   A,1,big,,3\n\
                   ,1,big,1,3\n";
        let table = read(&rules, csv).unwrap();
        assert_eq!(
            warnings(&table),
            [
                (
                    Some(2),
                    "entity `A` period `1`: code `1411` has the value `12x`, which is not a number; it has no usable balance"
                ),
                (
                    Some(3),
                    "entity `A` period `1`: code `14` has no value; it has no usable balance"
                ),
                (
                    Some(4),
                    "entity `A` period `1`: `segment` is `small` here but `big` on line 2, the first row of this entity and period; the first value is kept"
                ),
                (
                    Some(4),
                    "entity `A` period `1` repeats code `1411` (first on line 2); the first value is kept"
                ),
                (
                    Some(5),
                    "code `14.01` is neither an account code (digits) nor a pseudo-code (a letter or `_`, then letters, digits or `_`); its rows are ignored"
                ),
                (Some(6), "the row has no code; it is ignored"),
                (Some(7), "the row has an empty `coac`"),
            ]
        );
        let saldo = table.column("saldo(\"14\")").unwrap();
        assert_eq!(
            saldo.problem(0),
            Some(&CellProblem::Unavailable(
                "account 14 has no usable balance for entity `A` period `1`: b.csv:3 gives account 14 no readable value".into()
            ))
        );
    }

    #[test]
    fn missing_columns_and_periods_are_errors() {
        let rules = rules(INDICATORS);
        let err = read(&rules, "coac,period,codigo,value\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "b.csv:1: the header has no `code` column, which the `balances` format needs (it reads the entity and period columns, `code`, `value` and an optional `name`; this header has: coac, period, codigo, value)"
        );
        let err = read(&rules, "coac,code,value\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "b.csv:1: the header has no `period` column, which the pack's [data] section names as the period"
        );
        let no_period = RulePack::from_sources(
            SourceFile::new(
                "pack.toml",
                "[pack]\nid = \"t\"\nversion = \"1\"\nplugins = [\"accounts\"]\n[data]\nformat = \"balances\"\n",
            ),
            vec![],
        )
        .unwrap();
        let rules = compile(no_period, &[&AccountsPlugin]).unwrap();
        let err = read(&rules, "entity,code,value\nA,1,1\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "b.csv:1: the `balances` format needs a period column: name it in the pack's [data] section, e.g. `period = \"period\"`"
        );
    }

    #[test]
    fn a_missing_dimension_column_is_warned_and_left_empty() {
        let rules = rules(INDICATORS);
        let table = read(&rules, "coac,period,code,value\nA,1,14,1\n").unwrap();
        assert_eq!(
            warnings(&table),
            [(Some(1), "the header has no `segment` dimension column")]
        );
        assert_eq!(table.dimensions()[0].values, [""]);
    }

    #[test]
    fn entities_of_different_bytes_stay_apart_and_unreadable_keys_are_located_errors() {
        let rules = rules(INDICATORS);
        let csv = b"coac,period,segment,code,value\nA\xff,1,s,14,1\nA\xfe,1,s,14,2\nA\xff,1,s,1,3\nB,1,s,14,4\n";
        let table = BalancesReader
            .read_from(&mut &csv[..], "b.csv", rules.read_request())
            .unwrap();
        let rows: Vec<&str> = (0..table.len()).map(|r| table.entity(r)).collect();
        assert_eq!(rows, ["A\\xFF", "A\\xFE", "B"]);
        let help = "if the file was saved as Windows-1252 or Latin-1 (as spreadsheets often export), read it with `--encoding windows-1252` (or `latin1`), or declare `encoding = \"windows-1252\"` in the pack's [data] section";
        let saldo = table.column("saldo(\"14\")").unwrap();
        assert_eq!(
            saldo.problem(1),
            Some(&CellProblem::Unavailable(format!(
                "b.csv:3:1: the entity `A\\xFE` is not valid UTF-8, so its values are not read; {help}"
            )))
        );
        assert_eq!(saldo.value(2), Some(Decimal::from(4)));
        assert_eq!(
            warnings(&table)[..2],
            [
                (Some(2), format!("column 1: the entity `A\\xFF` is not valid UTF-8, so its values are not read; {help}").as_str()),
                (Some(3), format!("column 1: the entity `A\\xFE` is not valid UTF-8, so its values are not read; {help}").as_str()),
            ]
        );
    }

    #[test]
    fn windows_1252_is_decoded_exactly() {
        let rules = rules(INDICATORS)
            .with_data_shape(|s| s.encoding = semaforo_core::TextEncoding::Windows1252);
        let csv = b"coac,period,segment,code,value\nA\xf1o \x80,1,s,14,1\n";
        let table = BalancesReader
            .read_from(&mut &csv[..], "b.csv", rules.read_request())
            .unwrap();
        assert_eq!(table.entity(0), "Año €");
        assert_eq!(
            table.column("saldo(\"14\")").unwrap().value(0),
            Some(Decimal::ONE)
        );
    }

    #[test]
    fn repeated_headers_quotes_and_line_breaks_in_keys() {
        let rules = rules(INDICATORS);
        let err = read(&rules, "coac,period,value,code,value\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "b.csv:1:5: the header has `value` twice, in columns 3 and 5 (b.csv:1:3 and b.csv:1:5); the pack reads `value` and will not guess which one is meant: rename or remove one of them"
        );
        let table = read(&rules, "coac,period,name,code,value,name\nA,1,x,14,1,y\n").unwrap();
        assert_eq!(
            warnings(&table)[0],
            (
                Some(1),
                "the header has `name` twice, in columns 3 and 6 (b.csv:1:3 and b.csv:1:6); the pack does not read it, so neither is used"
            )
        );
        let err = read(
            &rules,
            "coac,period,code,value\nA,1,14,1\n\"A,1,14,2\nB,1,14,3\n",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "b.csv:3: a quoted field opened on this line is never closed, so everything after it to the end of the file would be one field: close the quote (a quote inside a quoted field is written twice, `\"\"`)"
        );
        let table = read(
            &rules,
            "coac,period,code,value\n\"A\nB\",1,14,1\nC,1,\"14\n\",2\n",
        )
        .unwrap();
        assert_eq!(
            table.column("saldo(\"14\")").unwrap().problem(0),
            Some(&CellProblem::Unavailable(
                "b.csv:2:1: the entity `A\\nB` holds a line break, so its values are not read: a key is one line (is a quote left open before it?)".into()
            ))
        );
        assert!(
            warnings(&table).contains(&(
                Some(4),
                "column 3: code `14\\n` holds a line break; its rows are ignored: a code is one line (is a quote left open before it?)"
            )),
            "{:?}",
            warnings(&table)
        );
    }
}
