//! CSV and JSON of a data file in memory that grows with the peer groups,
//! periods and matrices, not with the cells: [`Spool`] takes the parts
//! [`semaforo_core::evaluate_file_with`] hands over (pass 1), feeds the
//! analysis's [`Slots`], counts what the summary needs and stores each
//! part compactly — in memory up to a budget, beyond it in an anonymous
//! temporary file — then drops it. [`Spooled::write`] (pass 2) reads the
//! parts back in order and writes their records, byte for byte what
//! [`super::write`] writes of the whole result set.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};

use rayon::prelude::*;
use rust_decimal::Decimal;
use semaforo_core::{
    Cell, CompiledRuleSet, DataWarning, GroupResult, PeerRanks, ResultParts, ResultSet, RowKey,
    RulePack, SlotStats, Slots, Variation,
};

use super::{Columns, Format, Record, csv, json, selection_lines};

/// How many bytes of stored parts [`Spool`] keeps in memory before it
/// spills the rest to a temporary file.
pub const SPOOL_BUDGET: usize = 32 << 20;

/// The counts the summary line of `eval` and `--strict` need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// The pack's identity, as the summary names it.
    pub identity: String,
    /// Rows.
    pub rows: usize,
    /// Indicators with a cell per row (no grain).
    pub per_row: usize,
    /// Results of indicators with a grain.
    pub group_cells: usize,
    /// Cells, per row and per group, with an error.
    pub errors: usize,
    /// Cells written (per row, no grain, and per group) whose error is a division by zero.
    pub not_applicable: usize,
}

impl Tally {
    /// Nothing counted yet, for results of `pack`.
    #[must_use]
    pub fn new(pack: &RulePack) -> Self {
        Self {
            identity: pack.identity().to_string(),
            per_row: pack
                .indicators()
                .iter()
                .filter(|i| i.grain.is_none())
                .count(),
            ..Self::default()
        }
    }

    /// The counts of `results`.
    #[must_use]
    pub fn of(results: &ResultSet) -> Self {
        let mut tally = Self::new(results.pack());
        tally.add(results);
        tally
    }

    /// Counts `part` too.
    pub fn add(&mut self, part: &ResultSet) {
        self.rows += part.rows().len();
        self.group_cells += part.groups().len();
        self.errors += part.error_count();
        self.not_applicable += part
            .cells()
            .map(|(.., cell)| cell)
            .chain(part.groups().iter().map(|g| &g.cell))
            .filter(|cell| {
                cell.error
                    .as_ref()
                    .is_some_and(|e| e.kind() == "division_by_zero")
            })
            .count();
    }

    /// The summary line `eval` prints on stderr.
    #[must_use]
    pub fn line(&self) -> String {
        let groups = if self.group_cells == 0 {
            String::new()
        } else {
            format!(" + {} group cells", self.group_cells)
        };
        let not_applicable = if self.not_applicable > 0 {
            format!(
                " ({} of them not applicable: a zero base)",
                self.not_applicable
            )
        } else {
            String::new()
        };
        format!(
            "{}: {} rows × {} indicators = {} cells{groups}, {} with errors{not_applicable}",
            self.identity,
            self.rows,
            self.per_row,
            self.rows * self.per_row,
            self.errors
        )
    }
}

/// Pass 1 of writing CSV or JSON: takes the parts of the results as they
/// are evaluated (see the module docs).
pub struct Spool<'r> {
    rules: &'r CompiledRuleSet,
    slots: Slots,
    store: Store,
    /// The group results (a file read whole has them; they are few).
    groups: Vec<GroupResult>,
    tally: Tally,
    /// Some row has a period.
    period: bool,
    /// Some row has a peer group.
    peers: bool,
    /// The first error storing a part.
    failed: Option<io::Error>,
}

impl<'r> Spool<'r> {
    /// Nothing taken yet, for results of `rules`, keeping up to `budget`
    /// bytes of stored parts in memory ([`SPOOL_BUDGET`]; 0 spills every part).
    #[must_use]
    pub fn new(rules: &'r CompiledRuleSet, budget: usize) -> Self {
        Self {
            rules,
            slots: Slots::for_rules(rules),
            store: Store::new(budget),
            groups: Vec::new(),
            tally: Tally::new(rules.pack()),
            period: false,
            peers: false,
            failed: None,
        }
    }

    /// The analysis of every part taken: what pass 2 needs.
    ///
    /// # Errors
    /// When a part could not be stored (the temporary file).
    pub fn finish(self) -> io::Result<Spooled<'r>> {
        if let Some(error) = self.failed {
            return Err(error);
        }
        let pack = self.rules.pack();
        Ok(Spooled {
            pack,
            stats: self.slots.finish(),
            store: self.store,
            columns: Columns::new(pack, !self.groups.is_empty(), self.period, self.peers),
            groups: self.groups,
            tally: self.tally,
        })
    }
}

impl ResultParts for Spool<'_> {
    fn part(&mut self, part: ResultSet) {
        self.slots.add(&part);
        self.tally.add(&part);
        self.period |= part.rows().iter().any(|r| r.period.is_some());
        self.peers |= part.rows().iter().any(|r| r.peer_group.is_some());
        self.groups.extend_from_slice(part.groups());
        if self.failed.is_none()
            && let Err(error) = self.store.push(&part)
        {
            self.failed = Some(error);
        }
    }

    fn restart(&mut self) {
        *self = Self::new(self.rules, self.store.budget);
    }
}

/// Pass 2: the parts stored, with the figures they are written with.
pub struct Spooled<'r> {
    pack: &'r RulePack,
    stats: SlotStats,
    store: Store,
    columns: Columns,
    groups: Vec<GroupResult>,
    tally: Tally,
}

impl Spooled<'_> {
    /// Why some variations were not computed (see [`semaforo_core::Analysis::warnings`]).
    #[must_use]
    pub fn period_warnings(&self) -> &[DataWarning] {
        self.stats.warnings()
    }

    /// What the summary line counts.
    #[must_use]
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// As [`super::selection_summary`] of the whole results.
    #[must_use]
    pub fn selection_summary(&self) -> Vec<String> {
        selection_lines(self.pack, self.stats.cuts())
    }

    /// Writes the records in `format`, CSV or JSON, as [`super::write`] of
    /// the whole results would.
    ///
    /// # Errors
    /// When reading the stored parts or writing fails, or `format` is
    /// neither CSV nor JSON.
    pub fn write(self, format: Format, out: &mut dyn Write) -> io::Result<()> {
        let Self {
            pack,
            stats,
            store,
            columns,
            groups,
            ..
        } = self;
        let mut json = json::Array::default();
        match format {
            Format::Csv => csv::write_header(&columns, out)?,
            Format::Json => {}
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "only CSV and JSON are written part by part",
                ));
            }
        }
        let mut first = 0;
        let mut parts = store.read_back()?;
        let mut ranks = stats.ranks();
        // Small parts (a streamed batch) are formatted as CSV several at
        // once on the rayon pool; a large one (a file read whole) alone.
        let mut pending: Vec<(usize, Part)> = Vec::new();
        let mut pending_rows = 0;
        while let Some(mut part) = parts.next_part()? {
            part.take_ranks(&mut ranks);
            let rows = part.rows.len();
            match format {
                Format::Csv if rows >= CSV_ROWS_AT_ONCE => {
                    write_csv_parts(&columns, pack, &stats, &std::mem::take(&mut pending), out)?;
                    pending_rows = 0;
                    let records = |range| part.records(pack, &stats, first, range);
                    csv::write_rows(&columns, rows, records, out)?;
                }
                Format::Csv => {
                    pending.push((first, part));
                    pending_rows += rows;
                    if pending_rows >= CSV_ROWS_AT_ONCE {
                        write_csv_parts(
                            &columns,
                            pack,
                            &stats,
                            &std::mem::take(&mut pending),
                            out,
                        )?;
                        pending_rows = 0;
                    }
                }
                _ => {
                    for record in part.records(pack, &stats, first, 0..rows) {
                        json.push(&columns, record, out)?;
                    }
                }
            }
            first += rows;
        }
        write_csv_parts(&columns, pack, &stats, &pending, out)?;
        let group_records = groups.iter().map(|group| Record::of_group(pack, group));
        match format {
            Format::Csv => csv::write_tail(&columns, group_records, out),
            _ => {
                for record in group_records {
                    json.push(&columns, record, out)?;
                }
                json.end(out)
            }
        }
    }
}

/// Rows of small parts formatted together as CSV.
const CSV_ROWS_AT_ONCE: usize = 2048;

/// The CSV records of `parts` (each with the index of its first row),
/// each part formatted on the rayon pool, written in order.
fn write_csv_parts(
    columns: &Columns,
    pack: &RulePack,
    stats: &SlotStats,
    parts: &[(usize, Part)],
    out: &mut dyn Write,
) -> io::Result<()> {
    let pieces: Vec<io::Result<Vec<u8>>> = parts
        .par_iter()
        .map(|(first, part)| {
            let mut piece = Vec::new();
            let records = part.records(pack, stats, *first, 0..part.rows.len());
            csv::write_tail(columns, records, &mut piece)?;
            Ok(piece)
        })
        .collect();
    for piece in pieces {
        out.write_all(&piece?)?;
    }
    Ok(())
}

/// One part read back.
struct Part {
    rows: Vec<RowKey>,
    /// Row by row, every indicator; without their errors…
    cells: Vec<Cell>,
    /// …which are here: kind and message.
    errors: Vec<Option<(&'static str, String)>>,
    /// Row by row, every indicator: the cell's peer rank (0 for none).
    ranks: Vec<u32>,
    width: usize,
}

impl Part {
    /// Reads each cell's peer rank from `ranks`: parts are read back in
    /// the order they were added to the slots, so are their cells.
    fn take_ranks(&mut self, ranks: &mut PeerRanks<'_>) {
        self.ranks = self
            .rows
            .iter()
            .enumerate()
            .flat_map(|(row, key)| (0..self.width).map(move |indicator| (row, key, indicator)))
            .map(|(row, key, indicator)| {
                ranks.next(
                    key,
                    indicator,
                    self.cells[row * self.width + indicator].value,
                )
            })
            .collect();
    }

    /// The records of `rows`, whose first row is row `first` of the whole results.
    fn records<'a>(
        &'a self,
        pack: &'a RulePack,
        stats: &'a SlotStats,
        first: usize,
        rows: std::ops::Range<usize>,
    ) -> impl Iterator<Item = Record<'a>> + 'a {
        let indicators = pack.indicators();
        let width = self.width;
        rows.flat_map(move |row| {
            let key = &self.rows[row];
            // An entity's rows are all in one part: its previous row too.
            let previous = stats
                .previous_row(first + row)
                .and_then(|p| p.checked_sub(first));
            indicators
                .iter()
                .enumerate()
                .filter(|(_, indicator)| indicator.grain.is_none())
                .map(move |(index, indicator)| {
                    let at = row * width + index;
                    let cell = &self.cells[at];
                    let variation = previous.and_then(|p| {
                        Variation::between(self.cells[p * width + index].value, cell.value)
                    });
                    Record::of_row(
                        key,
                        Record::of_cell(pack, indicator, cell, self.errors[at].clone()),
                        variation,
                        stats.peer_standing(key, index, cell.value, self.ranks[at]),
                        stats.ranking(first + row, index),
                    )
                })
        })
    }
}

/// The parts, stored compactly, in order: the first in memory, the rest,
/// past the budget, in a temporary file.
struct Store {
    budget: usize,
    in_memory: Vec<Vec<u8>>,
    memory_bytes: usize,
    /// The temporary file, once the budget is spent.
    file: Option<BufWriter<File>>,
    /// The length of each part in the file.
    spilled: Vec<usize>,
    /// The error kinds met, by number.
    kinds: Vec<&'static str>,
}

/// Bits of a stored cell's first byte.
const VALUE: u8 = 1;
const COMPLIANCE: u8 = 2;
const BAND: u8 = 4;
const ERROR: u8 = 8;
const FLAGS: u8 = 16;
const MET: u8 = 32;
const MET_TRUE: u8 = 64;

impl Store {
    fn new(budget: usize) -> Self {
        Self {
            budget,
            in_memory: Vec::new(),
            memory_bytes: 0,
            file: None,
            spilled: Vec::new(),
            kinds: Vec::new(),
        }
    }

    /// Stores `part`: rows' keys, then each cell (value, compliance, met,
    /// band, error kind and message, flags).
    fn push(&mut self, part: &ResultSet) -> io::Result<()> {
        let mut bytes = Vec::new();
        let width = part.pack().indicators().len();
        put_len(&mut bytes, part.rows().len());
        put_len(&mut bytes, width);
        for key in part.rows() {
            put_text(&mut bytes, &key.entity);
            put_optional(&mut bytes, key.period.as_deref());
            bytes.extend_from_slice(&key.line.to_le_bytes());
            put_optional(&mut bytes, key.peer_group.as_deref());
        }
        for row in 0..part.rows().len() {
            for indicator in 0..width {
                self.put_cell(&mut bytes, part.cell(row, indicator));
            }
        }
        if self.file.is_none() && self.memory_bytes + bytes.len() <= self.budget {
            self.memory_bytes += bytes.len();
            self.in_memory.push(bytes);
            return Ok(());
        }
        if self.file.is_none() {
            self.file = Some(BufWriter::new(tempfile::tempfile()?));
        }
        if let Some(file) = &mut self.file {
            file.write_all(&bytes)?;
        }
        self.spilled.push(bytes.len());
        Ok(())
    }

    fn put_cell(&mut self, bytes: &mut Vec<u8>, cell: &Cell) {
        let mut head = 0;
        for (set, bit) in [
            (cell.value.is_some(), VALUE),
            (cell.compliance.is_some(), COMPLIANCE),
            (cell.band.is_some(), BAND),
            (cell.error.is_some(), ERROR),
            (!cell.flags.is_empty(), FLAGS),
            (cell.met.is_some(), MET),
            (cell.met == Some(true), MET_TRUE),
        ] {
            if set {
                head |= bit;
            }
        }
        bytes.push(head);
        for decimal in [cell.value, cell.compliance].into_iter().flatten() {
            bytes.extend_from_slice(&decimal.serialize());
        }
        if let Some(band) = cell.band {
            put_len(bytes, band);
        }
        if let Some(error) = &cell.error {
            let kind = error.kind();
            let number = match self.kinds.iter().position(|&k| k == kind) {
                Some(number) => number,
                None => {
                    self.kinds.push(kind);
                    self.kinds.len() - 1
                }
            };
            put_len(bytes, number);
            put_text(bytes, &error.to_string());
        }
        if !cell.flags.is_empty() {
            put_len(bytes, cell.flags.len());
            for flag in &cell.flags {
                put_text(bytes, flag);
            }
        }
    }

    /// The parts, in order, to read back once.
    fn read_back(mut self) -> io::Result<ReadBack> {
        let file = match self.file.take() {
            Some(file) => {
                let mut file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
                file.rewind()?;
                Some(BufReader::new(file))
            }
            None => None,
        };
        self.in_memory.reverse();
        self.spilled.reverse();
        Ok(ReadBack {
            in_memory: self.in_memory,
            file,
            spilled: self.spilled,
            kinds: self.kinds,
        })
    }
}

/// The stored parts, read back in order.
struct ReadBack {
    /// Still to read, last first.
    in_memory: Vec<Vec<u8>>,
    file: Option<BufReader<File>>,
    /// Lengths still to read, last first.
    spilled: Vec<usize>,
    kinds: Vec<&'static str>,
}

impl ReadBack {
    fn next_part(&mut self) -> io::Result<Option<Part>> {
        let bytes = if let Some(bytes) = self.in_memory.pop() {
            bytes
        } else if let (Some(len), Some(file)) = (self.spilled.pop(), &mut self.file) {
            let mut bytes = vec![0; len];
            file.read_exact(&mut bytes)?;
            bytes
        } else {
            return Ok(None);
        };
        decode(&bytes, &self.kinds).map(Some).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "a stored part of the results does not read back",
            )
        })
    }
}

fn decode(bytes: &[u8], kinds: &[&'static str]) -> Option<Part> {
    let mut input = Input(bytes);
    let rows = input.len()?;
    let width = input.len()?;
    let mut keys = Vec::with_capacity(rows);
    for _ in 0..rows {
        keys.push(RowKey {
            entity: input.text()?,
            period: input.optional()?,
            line: u64::from_le_bytes(input.take::<8>()?),
            peer_group: input.optional()?,
        });
    }
    let mut cells = Vec::with_capacity(rows * width);
    let mut errors = Vec::with_capacity(rows * width);
    for _ in 0..rows * width {
        let head = input.take::<1>()?[0];
        let mut decimal = |bit: u8| -> Option<Option<Decimal>> {
            if head & bit == 0 {
                return Some(None);
            }
            Some(Some(Decimal::deserialize(input.take::<16>()?)))
        };
        let value = decimal(VALUE)?;
        let compliance = decimal(COMPLIANCE)?;
        let band = if head & BAND == 0 {
            None
        } else {
            Some(input.len()?)
        };
        errors.push(if head & ERROR == 0 {
            None
        } else {
            Some((*kinds.get(input.len()?)?, input.text()?))
        });
        let mut flags = Vec::new();
        if head & FLAGS != 0 {
            for _ in 0..input.len()? {
                flags.push(input.text()?);
            }
        }
        cells.push(Cell {
            value,
            compliance,
            met: (head & MET != 0).then_some(head & MET_TRUE != 0),
            band,
            error: None,
            flags,
        });
    }
    Some(Part {
        rows: keys,
        cells,
        errors,
        ranks: Vec::new(),
        width,
    })
}

/// `len` in LEB128: 7 bits a byte, low first, the high bit set on all but the last.
fn put_len(bytes: &mut Vec<u8>, len: usize) {
    let mut rest = len;
    while rest >= 0x80 {
        bytes.push(u8::try_from(rest & 0x7f).unwrap_or_default() | 0x80);
        rest >>= 7;
    }
    bytes.push(u8::try_from(rest).unwrap_or_default());
}

fn put_text(bytes: &mut Vec<u8>, text: &str) {
    put_len(bytes, text.len());
    bytes.extend_from_slice(text.as_bytes());
}

fn put_optional(bytes: &mut Vec<u8>, text: Option<&str>) {
    match text {
        Some(text) => {
            bytes.push(1);
            put_text(bytes, text);
        }
        None => bytes.push(0),
    }
}

/// Stored bytes being read.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }

    /// A length [`put_len`] wrote.
    fn len(&mut self) -> Option<usize> {
        let mut len: usize = 0;
        for shift in (0..usize::BITS).step_by(7) {
            let byte = self.take::<1>()?[0];
            len |= usize::from(byte & 0x7f).checked_shl(shift)?;
            if byte & 0x80 == 0 {
                return Some(len);
            }
        }
        None
    }

    fn text(&mut self) -> Option<String> {
        let len = self.len()?;
        if len > self.0.len() {
            return None;
        }
        let (text, rest) = self.0.split_at(len);
        self.0 = rest;
        String::from_utf8(text.to_vec()).ok()
    }

    fn optional(&mut self) -> Option<Option<String>> {
        match self.take::<1>()?[0] {
            0 => Some(None),
            _ => self.text().map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Input, put_len};

    #[test]
    fn lengths_read_back_as_written() {
        let lengths = [0, 1, 127, 128, 255, 16_383, 16_384, 1 << 31, usize::MAX];
        let mut bytes = Vec::new();
        for &len in &lengths {
            put_len(&mut bytes, len);
        }
        assert_eq!(bytes[..4], [0, 1, 127, 0x80]);
        let mut input = Input(&bytes);
        for &len in &lengths {
            assert_eq!(input.len(), Some(len));
        }
        assert_eq!(input.len(), None, "nothing left");
        assert_eq!(Input(&[0x80, 0x80]).len(), None, "cut short");
    }
}
