//! Reading balances CSV records into a [`Ledger`]: one pass over byte
//! records (a whole file, or a batch of whole entities), then one sort per
//! entity × period.
//!
//! Columns: the pack's entity and period columns, `code`, `value`, an
//! optional `name` (for people; not read) and the pack's dimensions. A bad
//! row is a warning, never fatal for the file.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use foldhash::fast::RandomState;
use rust_decimal::Decimal;
use semaforo_core::{DataError, DataShape, DataWarning, Record, header_names};

use crate::ledger::{Block, Codes, Entry, Ledger};
use crate::query::classify;

/// The header of the account-code column.
pub(crate) const CODE_COLUMN: &str = "code";
/// The header of the value column.
pub(crate) const VALUE_COLUMN: &str = "value";

/// Where each column the format reads sits in a record, found once per file.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    entity: usize,
    period: usize,
    code: usize,
    value: usize,
    /// One per pack dimension; `None` when the header lacks it.
    dimensions: Vec<Option<usize>>,
    /// The period column's name.
    period_column: String,
}

impl Layout {
    /// Finds the columns in `header`, with a warning per missing dimension.
    pub(crate) fn find(
        header: &[String],
        source: &str,
        shape: &DataShape,
    ) -> Result<(Self, Vec<DataWarning>), DataError> {
        let Some(period_column) = shape.period.as_deref() else {
            return Err(DataError::Csv {
                source_name: source.to_owned(),
                line: 1,
                message: "the `balances` format needs a period column: name it in the pack's [data] section, e.g. `period = \"period\"`".to_owned(),
            });
        };
        let find = |name: &str| header.iter().position(|h| h == name);
        let missing = |column: &str, role: &'static str| DataError::MissingKeyColumn {
            source_name: source.to_owned(),
            column: column.to_owned(),
            role,
        };
        let entity = find(&shape.entity).ok_or_else(|| missing(&shape.entity, "entity"))?;
        let period = find(period_column).ok_or_else(|| missing(period_column, "period"))?;
        let required = |name: &str| {
            find(name).ok_or_else(|| DataError::Csv {
                source_name: source.to_owned(),
                line: 1,
                message: format!(
                    "the header has no `{name}` column, which the `balances` format needs (it reads the entity and period columns, `code`, `value` and an optional `name`; this header has: {})",
                    header.join(", ")
                ),
            })
        };
        let code = required(CODE_COLUMN)?;
        let value = required(VALUE_COLUMN)?;
        let mut warnings = Vec::new();
        let mut dimensions = Vec::new();
        for dimension in &shape.dimensions {
            let at = find(dimension);
            if at.is_none() {
                warnings.push(DataWarning {
                    line: Some(1),
                    message: format!("the header has no `{dimension}` dimension column"),
                });
            }
            dimensions.push(at);
        }
        let layout = Self {
            entity,
            period,
            code,
            value,
            dimensions,
            period_column: period_column.to_owned(),
        };
        Ok((layout, warnings))
    }
}

/// A CSV record as the builder reads it: fields by position, and its line.
pub(crate) trait Fields {
    /// The bytes of field `i`; empty when the record is shorter.
    fn field(&self, i: usize) -> &[u8];
    /// The record's 1-based line.
    fn line(&self) -> u64;
}

impl Fields for csv::ByteRecord {
    fn field(&self, i: usize) -> &[u8] {
        self.get(i).unwrap_or_default()
    }
    fn line(&self) -> u64 {
        self.position().map_or(0, csv::Position::line)
    }
}

impl Fields for Record<'_> {
    fn field(&self, i: usize) -> &[u8] {
        Record::field(self, i)
    }
    fn line(&self) -> u64 {
        Record::line(self)
    }
}

/// Reads a whole balances file from `reader`; `source` names it in messages.
pub(crate) fn load(
    reader: impl Read,
    source: &str,
    shape: &DataShape,
) -> Result<(Ledger, Vec<DataWarning>), DataError> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .delimiter(shape.delimiter)
        .from_reader(reader);
    let header = header_names(
        csv.byte_headers()
            .map_err(|e| DataError::from_csv(e, source))?,
    );
    let (layout, header_warnings) = Layout::find(&header, source, shape)?;
    let mut builder = Builder::new(source, shape, &layout);
    builder.warnings = header_warnings;
    let mut record = csv::ByteRecord::new();
    while csv
        .read_byte_record(&mut record)
        .map_err(|e| DataError::from_csv(e, source))?
    {
        builder.row(&record)?;
    }
    Ok(builder.finish())
}

/// Reads a batch of records holding every row of their entities.
pub(crate) fn load_batch<'r>(
    records: impl Iterator<Item = Record<'r>>,
    source: &str,
    shape: &DataShape,
    layout: &Layout,
) -> Result<(Ledger, Vec<DataWarning>), DataError> {
    let mut builder = Builder::new(source, shape, layout);
    for record in records {
        builder.row(&record)?;
    }
    Ok(builder.finish())
}

/// A field as text (invalid UTF-8 replaced), trimmed; borrowed when valid.
fn text(bytes: &[u8]) -> Cow<'_, str> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Cow::Owned(String::from_utf8_lossy(bytes).trim().to_owned());
    };
    // Most fields start and end with a visible ASCII character: no trimming to do.
    let visible = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_graphic());
    if visible(bytes.first()) && visible(bytes.last()) {
        Cow::Borrowed(text)
    } else {
        Cow::Borrowed(text.trim())
    }
}

/// The ledger being read, with the indexes that find a row's block and code.
struct Builder<'a> {
    source: &'a str,
    shape: &'a DataShape,
    layout: &'a Layout,
    /// A code's bytes as the file writes them → its id (ids in order of
    /// first appearance, ranked in `finish`), or `None` for a code outside
    /// the grammar (warned once).
    code_ids: HashMap<Box<[u8]>, Option<u32>, RandomState>,
    /// Trimmed code text → id, for two spellings of one code.
    code_texts: HashMap<String, u32>,
    /// Per id, the code.
    codes: Vec<String>,
    entity_ids: BTreeMap<String, usize>,
    entities: Vec<String>,
    /// Per entity: period → block.
    periods: Vec<BTreeMap<String, usize>>,
    blocks: Vec<Block>,
    /// Per block: whether a differing dimension was already warned.
    dimension_warned: Vec<bool>,
    /// Raw entity and period of the previous row, and its block.
    last: Option<(Vec<u8>, Vec<u8>, usize)>,
    warnings: Vec<DataWarning>,
}

impl<'a> Builder<'a> {
    fn new(source: &'a str, shape: &'a DataShape, layout: &'a Layout) -> Self {
        Self {
            source,
            shape,
            layout,
            code_ids: HashMap::default(),
            code_texts: HashMap::new(),
            codes: Vec::new(),
            entity_ids: BTreeMap::new(),
            entities: Vec::new(),
            periods: Vec::new(),
            blocks: Vec::new(),
            dimension_warned: Vec::new(),
            last: None,
            warnings: Vec::new(),
        }
    }

    fn warn(&mut self, line: u64, message: String) {
        self.warnings.push(DataWarning {
            line: Some(line),
            message,
        });
    }

    fn row(&mut self, record: &impl Fields) -> Result<(), DataError> {
        let line = record.line();
        let block = self.block(record, line);
        let raw_code = record.field(self.layout.code);
        let id = match self.code_ids.get(raw_code) {
            Some(&id) => id,
            None => {
                let id = self.intern(raw_code, line)?;
                // A missing code is warned on every row: never remembered.
                if !text(raw_code).is_empty() {
                    self.code_ids.insert(raw_code.into(), id);
                }
                id
            }
        };
        let Some(id) = id else {
            return Ok(());
        };
        let raw = text(record.field(self.layout.value));
        let value: Option<Decimal> = self.shape.numbers.parse(&raw);
        if value.is_none() {
            let what = if raw.is_empty() {
                "no value".to_owned()
            } else {
                format!("the value `{raw}`, which is not a number")
            };
            let code = text(raw_code);
            let message = format!(
                "{}: code `{code}` has {what}; it has no usable balance",
                self.describe(block),
            );
            self.warn(line, message);
        }
        self.blocks[block].entries.push(Entry {
            value,
            code: id,
            line,
        });
        Ok(())
    }

    /// The block of a record's entity × period, created on first sight.
    fn block(&mut self, record: &impl Fields, line: u64) -> usize {
        let layout = self.layout;
        let (entity, period) = (record.field(layout.entity), record.field(layout.period));
        if let Some((last_entity, last_period, block)) = &self.last
            && last_entity.as_slice() == entity
            && last_period.as_slice() == period
        {
            let block = *block;
            self.check_dimensions(block, record, line);
            return block;
        }
        let entity_text = text(entity);
        let period_text = text(period);
        let entity_id = match self.entity_ids.get(entity_text.as_ref()) {
            Some(&id) => id,
            None => {
                let id = self.entities.len();
                self.entity_ids.insert(entity_text.to_string(), id);
                self.entities.push(entity_text.to_string());
                self.periods.push(BTreeMap::new());
                id
            }
        };
        let block = match self.periods[entity_id].get(period_text.as_ref()) {
            Some(&block) => {
                self.check_dimensions(block, record, line);
                block
            }
            None => {
                let block = self.blocks.len();
                self.periods[entity_id].insert(period_text.to_string(), block);
                let dimensions = layout
                    .dimensions
                    .iter()
                    .map(|at| {
                        at.map(|i| text(record.field(i)).into_owned())
                            .unwrap_or_default()
                    })
                    .collect();
                self.blocks.push(Block {
                    entity: entity_id,
                    period: period_text.to_string(),
                    line,
                    dimensions,
                    entries: Vec::new(),
                });
                self.dimension_warned.push(false);
                for (value, column) in [
                    (&entity_text, self.shape.entity.as_str()),
                    (&period_text, layout.period_column.as_str()),
                ] {
                    if value.is_empty() {
                        let message = format!("the row has an empty `{column}`");
                        self.warnings.push(DataWarning {
                            line: Some(line),
                            message,
                        });
                    }
                }
                block
            }
        };
        self.last = Some((entity.to_vec(), period.to_vec(), block));
        block
    }

    /// Warns, once per block, when a row's dimension differs from the block's first row.
    fn check_dimensions(&mut self, block: usize, record: &impl Fields, line: u64) {
        if self.dimension_warned[block] {
            return;
        }
        for (k, at) in self.layout.dimensions.iter().enumerate() {
            let Some(at) = *at else { continue };
            let value = text(record.field(at));
            let first = &self.blocks[block].dimensions[k];
            if value != first.as_str() {
                let message = format!(
                    "{}: `{}` is `{value}` here but `{first}` on line {}, the first row of this entity and period; the first value is kept",
                    self.describe(block),
                    self.shape.dimensions[k],
                    self.blocks[block].line
                );
                self.dimension_warned[block] = true;
                self.warn(line, message);
                return;
            }
        }
    }

    /// The id of a code met for the first time in this spelling, or `None`
    /// when the row is ignored: no code (warned each time), or a code
    /// outside the grammar (warned once).
    fn intern(&mut self, raw: &[u8], line: u64) -> Result<Option<u32>, DataError> {
        let code = text(raw);
        if code.is_empty() {
            self.warn(line, "the row has no code; it is ignored".to_owned());
            return Ok(None);
        }
        if let Some(&id) = self.code_texts.get(code.as_ref()) {
            return Ok(Some(id));
        }
        if classify(&code).is_none() {
            self.warn(
                line,
                format!(
                    "code `{code}` is neither an account code (digits) nor a pseudo-code (a letter or `_`, then letters, digits or `_`); its rows are ignored"
                ),
            );
            return Ok(None);
        }
        let id = u32::try_from(self.codes.len()).map_err(|_| DataError::Csv {
            source_name: self.source.to_owned(),
            line,
            message: format!("more than {} distinct codes", u32::MAX),
        })?;
        self.code_texts.insert(code.to_string(), id);
        self.codes.push(code.into_owned());
        Ok(Some(id))
    }

    /// The code of an id (before ranking).
    fn code(&self, id: u32) -> &str {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.codes.get(i))
            .map_or("", String::as_str)
    }

    fn describe(&self, block: usize) -> String {
        let block = &self.blocks[block];
        format!(
            "entity `{}` period `{}`",
            self.entities[block.entity], block.period
        )
    }

    /// Ranks the codes, sorts and deduplicates each block, orders the blocks.
    fn finish(mut self) -> (Ledger, Vec<DataWarning>) {
        let mut by_text: Vec<u32> = (0..self.codes.len())
            .filter_map(|id| u32::try_from(id).ok())
            .collect();
        by_text.sort_unstable_by(|&a, &b| self.code(a).cmp(self.code(b)));
        let mut rank_of = vec![0_u32; self.codes.len()];
        for (rank, &id) in by_text.iter().enumerate() {
            if let (Some(slot), Ok(rank)) = (
                usize::try_from(id).ok().and_then(|i| rank_of.get_mut(i)),
                u32::try_from(rank),
            ) {
                *slot = rank;
            }
        }
        let mut codes: Vec<Box<str>> = Vec::with_capacity(self.codes.len());
        let mut texts = std::mem::take(&mut self.codes);
        for &id in &by_text {
            let text = usize::try_from(id)
                .ok()
                .and_then(|i| texts.get_mut(i))
                .map(std::mem::take)
                .unwrap_or_default();
            codes.push(text.into_boxed_str());
        }
        let mut warnings = std::mem::take(&mut self.warnings);
        for block in &mut self.blocks {
            for entry in &mut block.entries {
                if let Some(&rank) = usize::try_from(entry.code)
                    .ok()
                    .and_then(|i| rank_of.get(i))
                {
                    entry.code = rank;
                }
            }
            // Stable: of two rows with one code, the first in the file stays first.
            block.entries.sort_by_key(|e| e.code);
            let entries = std::mem::take(&mut block.entries);
            let mut kept: Vec<Entry> = Vec::with_capacity(entries.len());
            for entry in entries {
                match kept.last() {
                    Some(first) if first.code == entry.code => {
                        let code = usize::try_from(entry.code)
                            .ok()
                            .and_then(|i| codes.get(i))
                            .map_or("", AsRef::as_ref);
                        warnings.push(DataWarning {
                            line: Some(entry.line),
                            message: format!(
                                "entity `{}` period `{}` repeats code `{code}` (first on line {}); the first value is kept",
                                self.entities[block.entity], block.period, first.line
                            ),
                        });
                    }
                    _ => kept.push(entry),
                }
            }
            block.entries = kept;
        }
        let mut blocks: Vec<Option<Block>> = self.blocks.into_iter().map(Some).collect();
        let ordered = self
            .periods
            .iter()
            .flat_map(BTreeMap::values)
            .filter_map(|&b| blocks.get_mut(b).and_then(Option::take))
            .collect();
        let ledger = Ledger {
            source: self.source.to_owned(),
            codes: Codes::new(codes),
            entities: self.entities,
            blocks: ordered,
        };
        (ledger, warnings)
    }
}
