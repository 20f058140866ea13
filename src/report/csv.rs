//! `--format csv`: one record per entity (or group) × indicator, exact decimals.

use std::io::{self, Write};

use rayon::prelude::*;

use super::{Record, Sheet, exact_or_none};

/// Rows formatted together by one thread.
const ROWS_PER_PIECE: usize = 64;
/// Pieces formatted at once before they are written: bounds memory.
const PIECES_AT_ONCE: usize = 32;

pub(super) fn write(sheet: &Sheet<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(sheet.columns())?;
    csv.flush()?;
    let out = csv.into_inner().map_err(csv::IntoInnerError::into_error)?;
    // Rows are formatted on the rayon pool in pieces, written in order.
    let rows = sheet.results.rows().len();
    let window = ROWS_PER_PIECE * PIECES_AT_ONCE;
    for start in (0..rows).step_by(window) {
        let end = rows.min(start + window);
        let pieces: Vec<io::Result<Vec<u8>>> = (start..end)
            .step_by(ROWS_PER_PIECE)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|first| {
                let last = end.min(first + ROWS_PER_PIECE);
                let mut piece = csv::Writer::from_writer(Vec::new());
                write_records(sheet, sheet.row_records(first..last), &mut piece)?;
                piece.into_inner().map_err(csv::IntoInnerError::into_error)
            })
            .collect();
        for piece in pieces {
            out.write_all(&piece?)?;
        }
    }
    let mut csv = csv::Writer::from_writer(out);
    write_records(sheet, sheet.group_records(), &mut csv)?;
    csv.flush()
}

fn write_records<'r, W: Write>(
    sheet: &Sheet<'_>,
    records: impl Iterator<Item = Record<'r>>,
    csv: &mut csv::Writer<W>,
) -> io::Result<()> {
    for r in records {
        let decimal = |v| exact_or_none(v).unwrap_or_default();
        let count = |v: Option<usize>| v.map(|n| n.to_string()).unwrap_or_default();
        let mut fields = Vec::new();
        if sheet.has_levels {
            fields.push(r.level.to_owned());
        }
        fields.push(r.entity.to_owned());
        if sheet.has_period {
            fields.push(r.period.unwrap_or_default().to_owned());
        }
        fields.extend([
            r.indicator.id.clone(),
            r.value.clone().unwrap_or_default(),
            r.indicator.unit.as_str().to_owned(),
            r.standard.clone().unwrap_or_default(),
            r.compliance.clone().unwrap_or_default(),
            r.band.unwrap_or_default().to_owned(),
            r.error
                .as_ref()
                .map(|(_, message)| message.clone())
                .unwrap_or_default(),
        ]);
        if sheet.has_flags {
            fields.push(r.cell.flags.join(";"));
        }
        if sheet.has_period {
            fields.extend([r.previous, r.variation, r.variation_pct].map(decimal));
        }
        if sheet.has_peers {
            fields.extend([
                r.peer_group.unwrap_or_default().to_owned(),
                count(r.peer_size),
                decimal(r.peer_mean),
                decimal(r.peer_median),
                decimal(r.from_peer_mean),
                decimal(r.from_peer_median),
                count(r.peer_rank),
            ]);
        }
        if sheet.has_matrices {
            fields.extend([
                count(r.rank),
                r.selected.map(|s| s.to_string()).unwrap_or_default(),
            ]);
        }
        csv.write_record(&fields)?;
    }
    Ok(())
}
