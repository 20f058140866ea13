//! `--format csv`: one record per entity × indicator, exact decimals.

use std::io::{self, Write};

use semaforo_core::ResultSet;

use super::Record;

pub(super) fn write(results: &ResultSet, out: &mut dyn Write) -> io::Result<()> {
    let (has_period, mut header) = super::key_columns(results);
    let mut csv = csv::Writer::from_writer(out);
    header.extend(["value", "unit", "standard", "compliance", "band", "error"]);
    csv.write_record(&header)?;
    let indicators = results.pack().indicators().len();
    for (n, (row, indicator, cell)) in results.cells().enumerate() {
        let record = Record::new(results, n % indicators, indicator, cell);
        let mut fields = vec![row.entity.as_str()];
        if has_period {
            fields.push(row.period.as_deref().unwrap_or(""));
        }
        fields.extend([
            indicator.id.as_str(),
            record.value.as_deref().unwrap_or(""),
            record.unit,
            record.standard.as_deref().unwrap_or(""),
            record.compliance.as_deref().unwrap_or(""),
            record.band.unwrap_or(""),
            record
                .error
                .as_ref()
                .map_or("", |(_, message)| message.as_str()),
        ]);
        csv.write_record(&fields)?;
    }
    csv.flush()
}
