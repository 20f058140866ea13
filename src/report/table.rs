//! `--format table` (the default): a readable table, values rounded for
//! display (half away from zero, the indicator's `decimals`). Cell errors
//! are numbered notes under the table, each message written once.

use std::io::{self, Write};

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use semaforo_core::{Standard, round_for_display};

use super::Sheet;

pub(super) fn write(sheet: &Sheet<'_>, out: &mut dyn Write) -> io::Result<()> {
    let not_applicable = &sheet.results.pack().labels().not_applicable;
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    let mut header = Vec::new();
    if sheet.columns.levels {
        header.push("level");
    }
    header.push("entity");
    if sheet.columns.period {
        header.push("period");
    }
    header.extend(["indicator", "value", "standard", "compliance", "status"]);
    if sheet.columns.period {
        header.push("change");
    }
    if sheet.columns.peers {
        header.push("peer rank");
    }
    if sheet.columns.matrices {
        header.push("priority");
    }
    header.push("note");
    table.set_header(header);
    let mut notes: Vec<String> = Vec::new();
    for r in sheet.records() {
        let mut line = Vec::new();
        if sheet.columns.levels {
            line.push(r.level.to_owned());
        }
        line.push(r.entity.to_owned());
        if sheet.columns.period {
            line.push(r.period.unwrap_or_default().to_owned());
        }
        line.push(r.indicator.name.clone());
        line.push(r.cell.value.map_or_else(
            || not_applicable.clone(),
            |v| sheet.displayed(r.indicator, v),
        ));
        line.push(r.indicator.standard.map_or_else(String::new, |s| match s {
            Standard::Target(v) => sheet.displayed(r.indicator, v),
            other => other.to_string(),
        }));
        line.push(
            r.cell
                .compliance
                .map_or_else(String::new, |c| format!("{}%", round_for_display(c, 2))),
        );
        line.push(r.band.unwrap_or_default().to_owned());
        if sheet.columns.period {
            line.push(r.variation.map_or_else(String::new, |v| {
                let sign = if v.is_sign_positive() && !v.is_zero() {
                    "+"
                } else {
                    ""
                };
                format!("{sign}{}", round_for_display(v, r.indicator.decimals))
            }));
        }
        if sheet.columns.peers {
            line.push(
                r.peer_rank
                    .zip(r.peer_size)
                    .map_or_else(String::new, |(rank, size)| format!("{rank} of {size}")),
            );
        }
        if sheet.columns.matrices {
            line.push(r.rank.map_or_else(String::new, |rank| {
                format!(
                    "#{rank}{}",
                    if r.selected == Some(true) {
                        " selected"
                    } else {
                        ""
                    }
                )
            }));
        }
        let mut note: Vec<String> = r.cell.flags.clone();
        if let Some((kind, message)) = r.error {
            let number = notes.iter().position(|m| *m == message).unwrap_or_else(|| {
                notes.push(message);
                notes.len() - 1
            }) + 1;
            note.push(format!("[{number}] {}", kind.replace('_', " ")));
        }
        line.push(note.join(" "));
        table.add_row(line);
    }
    writeln!(out, "{table}")?;
    for (number, message) in notes.iter().enumerate() {
        writeln!(out, "[{}] {message}", number + 1)?;
    }
    Ok(())
}
