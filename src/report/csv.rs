//! `--format csv`: one record per entity (or group) × indicator, exact decimals.

use std::borrow::Cow;
use std::io::{self, Write};
use std::ops::Range;

use rayon::prelude::*;
use rust_decimal::Decimal;

use super::{Column, Columns, Record, Sheet, exact_into};

/// Rows formatted together by one thread.
const ROWS_PER_PIECE: usize = 64;
/// Pieces formatted at once before they are written: bounds memory.
const PIECES_AT_ONCE: usize = 32;

pub(super) fn write(sheet: &Sheet<'_>, out: &mut dyn Write) -> io::Result<()> {
    write_header(&sheet.columns, out)?;
    write_rows(
        &sheet.columns,
        sheet.results.rows().len(),
        |rows| sheet.row_records(rows),
        out,
    )?;
    write_tail(&sheet.columns, sheet.group_records(), out)
}

/// The header line.
pub(super) fn write_header(columns: &Columns, out: &mut dyn Write) -> io::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(columns.keyed().map(|(_, key)| key))?;
    csv.flush()
}

/// The records of `rows` rows, formatted on the rayon pool in pieces
/// (`records` gives those of a range of rows), written in order.
pub(super) fn write_rows<'r, I>(
    columns: &Columns,
    rows: usize,
    records: impl Fn(Range<usize>) -> I + Sync,
    out: &mut dyn Write,
) -> io::Result<()>
where
    I: Iterator<Item = Record<'r>>,
{
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
                write_records(columns, records(first..last), &mut piece)?;
                piece.into_inner().map_err(csv::IntoInnerError::into_error)
            })
            .collect();
        for piece in pieces {
            out.write_all(&piece?)?;
        }
    }
    Ok(())
}

/// Records on this thread: the groups' (the last), or a few small parts'.
pub(super) fn write_tail<'r>(
    columns: &Columns,
    records: impl Iterator<Item = Record<'r>>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    write_records(columns, records, &mut csv)?;
    csv.flush()
}

fn write_records<'r, W: Write>(
    columns: &Columns,
    records: impl Iterator<Item = Record<'r>>,
    csv: &mut csv::Writer<W>,
) -> io::Result<()> {
    let columns: Vec<Column> = columns.keyed().map(|(column, _)| column).collect();
    let mut number = itoa::Buffer::new();
    // The text of a record's other figures, one after the other.
    let mut figure = String::with_capacity(32);
    for r in records {
        for &column in &columns {
            let field: Cow<'_, str> = match column {
                Column::Level => r.level.into(),
                Column::Entity => r.entity.into(),
                Column::Period => r.period.unwrap_or_default().into(),
                Column::Indicator => r.indicator.id.as_str().into(),
                Column::Value => r.value.as_deref().unwrap_or_default().into(),
                Column::Unit => r.indicator.unit.as_str().into(),
                Column::Standard => r.standard.as_deref().unwrap_or_default().into(),
                Column::Compliance => r.compliance.as_deref().unwrap_or_default().into(),
                Column::Band => r.band.unwrap_or_default().into(),
                Column::Error => r
                    .error
                    .as_ref()
                    .map_or("", |(_, message)| message.as_str())
                    .into(),
                Column::Flags => r.cell.flags.join(";").into(),
                Column::Previous => figure_text(&mut figure, r.previous).into(),
                Column::Variation => figure_text(&mut figure, r.variation).into(),
                Column::VariationPct => figure_text(&mut figure, r.variation_pct).into(),
                Column::PeerGroup => r.peer_group.unwrap_or_default().into(),
                Column::PeerSize => r.peer_size.map_or("", |n| number.format(n)).into(),
                Column::PeerMean => figure_text(&mut figure, r.peer_mean).into(),
                Column::PeerMedian => figure_text(&mut figure, r.peer_median).into(),
                Column::FromPeerMean => figure_text(&mut figure, r.from_peer_mean).into(),
                Column::FromPeerMedian => figure_text(&mut figure, r.from_peer_median).into(),
                Column::PeerRank => r.peer_rank.map_or("", |n| number.format(n)).into(),
                Column::Rank => r.rank.map_or("", |n| number.format(n)).into(),
                Column::Selected => r
                    .selected
                    .map_or("", |s| if s { "true" } else { "false" })
                    .into(),
                // Only the workbook has these; `keyed` leaves them out.
                Column::Name | Column::ErrorKind => continue,
            };
            csv.write_field(field.as_ref())?;
        }
        csv.write_record(None::<&[u8]>)?;
    }
    Ok(())
}

/// `value` as [`super::exact`] writes it, in `text` (emptied first); empty for none.
fn figure_text(text: &mut String, value: Option<Decimal>) -> &str {
    text.clear();
    if let Some(value) = value {
        exact_into(text, value);
    }
    text
}
