//! `--format json`: an array of objects, decimals as JSON strings holding
//! the exact value, `null` where absent. Errors are `{ "kind", "message" }`.
//! Optional keys, as in CSV: `level` (packs with grain indicators),
//! `flags`, `previous`/`variation`/`variation_pct` (data with periods),
//! `peer_group`, `peer_size`, `peer_mean`, `peer_median`, `from_peer_mean`,
//! `from_peer_median`, `peer_rank` (packs with a peer group), `rank` and
//! `selected` (packs with a matrix).

use std::io::{self, Write};

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::{Column, Columns, Record, Sheet, exact_or_none};

/// One record as a JSON object: the sheet's keyed columns, in their order.
struct JsonRecord<'s, 'r> {
    columns: &'s Columns,
    record: Record<'r>,
}

/// A cell's error: `{ "kind", "message" }`.
#[derive(serde::Serialize)]
struct JsonError<'a> {
    kind: &'static str,
    message: &'a str,
}

impl Serialize for JsonRecord<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let r = &self.record;
        let mut object = serializer.serialize_map(None)?;
        for (column, key) in self.columns.keyed() {
            match column {
                Column::Level => object.serialize_entry(key, r.level)?,
                Column::Entity => object.serialize_entry(key, r.entity)?,
                Column::Period => object.serialize_entry(key, &r.period)?,
                Column::Indicator => object.serialize_entry(key, &r.indicator.id)?,
                Column::Value => object.serialize_entry(key, &r.value)?,
                Column::Unit => object.serialize_entry(key, r.indicator.unit.as_str())?,
                Column::Standard => object.serialize_entry(key, &r.standard)?,
                Column::Compliance => object.serialize_entry(key, &r.compliance)?,
                Column::Band => object.serialize_entry(key, &r.band)?,
                Column::Error => {
                    let error = r
                        .error
                        .as_ref()
                        .map(|(kind, message)| JsonError { kind, message });
                    object.serialize_entry(key, &error)?;
                }
                Column::Flags => object.serialize_entry(key, &r.cell.flags)?,
                Column::Previous => object.serialize_entry(key, &exact_or_none(r.previous))?,
                Column::Variation => object.serialize_entry(key, &exact_or_none(r.variation))?,
                Column::VariationPct => {
                    object.serialize_entry(key, &exact_or_none(r.variation_pct))?;
                }
                Column::PeerGroup => object.serialize_entry(key, &r.peer_group)?,
                Column::PeerSize => object.serialize_entry(key, &r.peer_size)?,
                Column::PeerMean => object.serialize_entry(key, &exact_or_none(r.peer_mean))?,
                Column::PeerMedian => {
                    object.serialize_entry(key, &exact_or_none(r.peer_median))?;
                }
                Column::FromPeerMean => {
                    object.serialize_entry(key, &exact_or_none(r.from_peer_mean))?;
                }
                Column::FromPeerMedian => {
                    object.serialize_entry(key, &exact_or_none(r.from_peer_median))?;
                }
                Column::PeerRank => object.serialize_entry(key, &r.peer_rank)?,
                Column::Rank => object.serialize_entry(key, &r.rank)?,
                Column::Selected => object.serialize_entry(key, &r.selected)?,
                // Only the workbook has these; `keyed` leaves them out.
                Column::Name | Column::ErrorKind => {}
            }
        }
        object.end()
    }
}

pub(super) fn write(sheet: &Sheet<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut array = Array::default();
    for record in sheet.records() {
        array.push(&sheet.columns, record, out)?;
    }
    array.end(out)
}

/// A JSON array written one record at a time, byte for byte as
/// `serde_json::to_writer_pretty` writes the whole array, then a new line.
#[derive(Default)]
pub(super) struct Array {
    /// Records written so far.
    written: usize,
    /// The record being written.
    buffer: Vec<u8>,
}

impl Array {
    /// Writes `record` as the array's next element.
    pub(super) fn push(
        &mut self,
        columns: &Columns,
        record: Record<'_>,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        out.write_all(if self.written == 0 {
            b"[\n  "
        } else {
            b",\n  "
        })?;
        self.written += 1;
        self.buffer.clear();
        serde_json::to_writer_pretty(&mut self.buffer, &JsonRecord { columns, record })?;
        // One level deeper: strings hold no raw line breaks, so every one
        // is the formatter's.
        for (i, line) in self.buffer.split(|&b| b == b'\n').enumerate() {
            if i > 0 {
                out.write_all(b"\n  ")?;
            }
            out.write_all(line)?;
        }
        Ok(())
    }

    /// Closes the array.
    pub(super) fn end(self, out: &mut dyn Write) -> io::Result<()> {
        if self.written == 0 {
            out.write_all(b"[]\n")
        } else {
            out.write_all(b"\n]\n")
        }
    }
}
