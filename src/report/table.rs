//! `--format table` (the default): a readable table, values rounded for
//! display (half away from zero, the indicator's `decimals`).

use std::io::{self, Write};

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use semaforo_core::{ResultSet, round_for_display};

use super::displayed;

pub(super) fn write(results: &ResultSet, out: &mut dyn Write) -> io::Result<()> {
    let (has_period, mut header) = super::key_columns(results);
    let not_applicable = &results.pack().labels().not_applicable;
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    header.extend(["value", "standard", "compliance", "status", "note"]);
    table.set_header(header);
    let indicators = results.pack().indicators().len();
    for (n, (row, indicator, cell)) in results.cells().enumerate() {
        let mut line = vec![row.entity.clone()];
        if has_period {
            line.push(row.period.clone().unwrap_or_default());
        }
        line.push(indicator.name.clone());
        line.push(cell.value.map_or_else(
            || not_applicable.clone(),
            |v| displayed(results, indicator, v),
        ));
        line.push(indicator.standard.map_or_else(String::new, |s| match s {
            semaforo_core::Standard::Target(v) => displayed(results, indicator, v),
            other => other.to_string(),
        }));
        line.push(
            cell.compliance
                .map_or_else(String::new, |c| format!("{}%", round_for_display(c, 2))),
        );
        line.push(
            results
                .band_label(n % indicators, cell)
                .unwrap_or_default()
                .to_owned(),
        );
        line.push(
            cell.error
                .as_ref()
                .map_or_else(String::new, ToString::to_string),
        );
        table.add_row(line);
    }
    writeln!(out, "{table}")
}
