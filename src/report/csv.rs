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
    let mut number = itoa::Buffer::new();
    for r in records {
        let mut text = |field: &str| csv.write_field(field);
        let decimal = |v: Option<_>| exact_or_none(v).unwrap_or_default();
        if sheet.has_levels {
            text(r.level)?;
        }
        text(r.entity)?;
        if sheet.has_period {
            text(r.period.unwrap_or_default())?;
        }
        text(&r.indicator.id)?;
        text(r.value.as_deref().unwrap_or_default())?;
        text(r.indicator.unit.as_str())?;
        text(r.standard.as_deref().unwrap_or_default())?;
        text(r.compliance.as_deref().unwrap_or_default())?;
        text(r.band.unwrap_or_default())?;
        text(r.error.as_ref().map_or("", |(_, message)| message.as_str()))?;
        if sheet.has_flags {
            text(&r.cell.flags.join(";"))?;
        }
        if sheet.has_period {
            for figure in [r.previous, r.variation, r.variation_pct] {
                text(&decimal(figure))?;
            }
        }
        let mut count = |v: Option<usize>| v.map_or("", |n| number.format(n)).to_owned();
        if sheet.has_peers {
            text(r.peer_group.unwrap_or_default())?;
            text(&count(r.peer_size))?;
            for figure in [
                r.peer_mean,
                r.peer_median,
                r.from_peer_mean,
                r.from_peer_median,
            ] {
                text(&decimal(figure))?;
            }
            text(&count(r.peer_rank))?;
        }
        if sheet.has_matrices {
            text(&count(r.rank))?;
            text(r.selected.map_or("", |s| if s { "true" } else { "false" }))?;
        }
        csv.write_record(None::<&[u8]>)?;
    }
    Ok(())
}
