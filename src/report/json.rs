//! `--format json`: an array of objects, decimals as JSON strings holding
//! the exact value, `null` where absent. Errors are `{ "kind", "message" }`.

use std::io::{self, Write};

use serde::Serialize;

use super::Record;
use semaforo_core::ResultSet;

/// One entity × indicator, keys in the documented order.
#[derive(Serialize)]
struct JsonCell<'a> {
    entity: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    period: Option<Option<&'a str>>,
    indicator: &'a str,
    value: Option<String>,
    unit: &'static str,
    standard: Option<String>,
    compliance: Option<String>,
    band: Option<&'a str>,
    error: Option<JsonError>,
}

#[derive(Serialize)]
struct JsonError {
    kind: &'static str,
    message: String,
}

pub(super) fn write(results: &ResultSet, out: &mut dyn Write) -> io::Result<()> {
    let has_period = results.rows().iter().any(|r| r.period.is_some());
    let indicators = results.pack().indicators().len();
    let array: Vec<JsonCell<'_>> = results
        .cells()
        .enumerate()
        .map(|(n, (row, indicator, cell))| {
            let record = Record::new(results, n % indicators, indicator, cell);
            JsonCell {
                entity: &row.entity,
                period: has_period.then_some(row.period.as_deref()),
                indicator: &indicator.id,
                value: record.value,
                unit: record.unit,
                standard: record.standard,
                compliance: record.compliance,
                band: record.band,
                error: record
                    .error
                    .map(|(kind, message)| JsonError { kind, message }),
            }
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &array)?;
    writeln!(out)
}
