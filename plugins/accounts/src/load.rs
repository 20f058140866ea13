//! Reading balances CSV records into a [`Ledger`]: one pass over byte
//! records (a whole file, or a batch of whole entities), then one sort per
//! entity × period.
//!
//! Columns: the pack's entity and period columns, `code`, `value`, an
//! optional `name` (for people; not read) and the pack's dimensions. A bad
//! row is a warning, never fatal for the file. Text is decoded in the
//! pack's encoding; an entity, period or dimension that cannot be read
//! (bytes not valid UTF-8, a line break in a key) keeps its entity × period
//! with every value an error saying where ([`Loaded::problems`]), and two
//! different byte strings are never taken for one entity.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::{Arc, Mutex};

use foldhash::fast::RandomState;
use rust_decimal::Decimal;
use semaforo_core::{
    DataError, DataShape, DataWarning, Record, TextEncoding, check_duplicate_headers, each_record,
    open_csv,
};

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
        let reads = |column: &str| {
            [
                shape.entity.as_str(),
                period_column,
                CODE_COLUMN,
                VALUE_COLUMN,
            ]
            .contains(&column)
                || shape.dimensions.iter().any(|d| d == column)
        };
        let mut warnings = check_duplicate_headers(header, source, &reads)?;
        let mut dimensions = Vec::new();
        for dimension in &shape.dimensions {
            let at = find(dimension);
            if at.is_none() {
                warnings.push(DataWarning {
                    line: Some(1),
                    kind: "missing_column",
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

/// A record as the builder reads it: fields by position, and its line.
pub(crate) trait Fields {
    /// The bytes of field `i`; empty when the record is shorter.
    fn field(&self, i: usize) -> &[u8];
    /// The typed number of field `i` (a spreadsheet's number cell, a JSON
    /// number): read as it is, with no number format.
    fn number(&self, i: usize) -> Option<Decimal> {
        let _ = i;
        None
    }
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
    fn number(&self, i: usize) -> Option<Decimal> {
        Record::number(self, i)
    }
    fn line(&self) -> u64 {
        Record::line(self)
    }
}

/// A ledger read from balances, its warnings, and the entity × period
/// blocks whose keys could not be read.
pub(crate) struct Loaded {
    pub ledger: Ledger,
    pub warnings: Vec<DataWarning>,
    /// Per block of the ledger (in its order), why its values are not
    /// read, located; `None` for a sound block.
    pub problems: Vec<Option<String>>,
}

/// Reads a whole balances file from `reader`; `source` names it in messages.
#[cfg(test)]
pub(crate) fn load(
    reader: impl Read,
    source: &str,
    shape: &DataShape,
) -> Result<(Ledger, Vec<DataWarning>), DataError> {
    load_all(reader, source, shape).map(|loaded| (loaded.ledger, loaded.warnings))
}

/// Reads a whole balances file from `reader`; `source` names it in messages.
pub(crate) fn load_all(
    reader: impl Read,
    source: &str,
    shape: &DataShape,
) -> Result<Loaded, DataError> {
    let (mut csv, header) = open_csv(reader, source, shape)?;
    let (layout, header_warnings) = Layout::find(&header, source, shape)?;
    let mut builder = Builder::new(source, shape, &layout, Arc::default());
    builder.warnings = header_warnings;
    each_record::<_, ()>(&mut csv, source, |record| {
        builder.row(record).map(|()| None)
    })?;
    Ok(builder.finish(false).0)
}

/// Reads a batch of records holding every row of their entities (a CSV
/// file's, or typed records: a sheet's, a JSON body's), with the codes
/// of the file's batches read before ([`SharedCodes`]).
pub(crate) fn load_batch<'r>(
    records: impl Iterator<Item = Record<'r>>,
    source: &str,
    shape: &DataShape,
    layout: &Layout,
    shared: &SharedCodes,
) -> Result<Loaded, DataError> {
    let known = shared.snapshot();
    let mut builder = Builder::new(source, shape, layout, Arc::clone(&known));
    for record in records {
        builder.row(&record)?;
    }
    let (loaded, grown) = builder.finish(true);
    if let Some(grown) = grown {
        shared.offer(&known, grown);
    }
    Ok(loaded)
}

/// The codes of a file met so far, as its batches are read: a batch whose
/// codes are all known reads each one without hashing or decoding it,
/// ranks none, and shares these codes with the others. Results never
/// depend on it: a ledger may hold codes it has no entries for.
#[derive(Debug, Default)]
pub(crate) struct Dictionary {
    /// Every spelling of a valid code met (bytes as written), and the rank
    /// of its code in `codes`. Invalid codes are not kept: each batch
    /// warns of them itself.
    spellings: Vec<(Box<[u8]>, u32)>,
    /// A spelling's bytes → its index in `spellings`.
    spelling_at: HashMap<Box<[u8]>, u32, RandomState>,
    /// Per spelling: the spelling of the row that followed it last, or
    /// [`NO_SPELLING`] (the guess a batch starts with).
    next: Vec<u32>,
    /// The codes, sorted as text.
    codes: Arc<Codes>,
}

/// The most codes a [`Dictionary`] grows to; past it, a batch's new codes
/// stay its own (a file of ever new codes does not re-rank a growing list).
const DICTIONARY_LIMIT: usize = 1 << 14;

/// The [`Dictionary`] of a streamed file, shared by its pool threads.
#[derive(Debug, Default)]
pub(crate) struct SharedCodes(Mutex<Arc<Dictionary>>);

impl SharedCodes {
    /// The codes known now.
    fn snapshot(&self) -> Arc<Dictionary> {
        self.0
            .lock()
            .map(|known| Arc::clone(&known))
            .unwrap_or_default()
    }

    /// Replaces `old` by `grown` unless another batch replaced it first.
    fn offer(&self, old: &Arc<Dictionary>, grown: Dictionary) {
        if let Ok(mut known) = self.0.lock()
            && Arc::ptr_eq(&known, old)
        {
            *known = Arc::new(grown);
        }
    }
}

/// A field as text in `encoding`, trimmed; borrowed when already UTF-8.
/// `Err` holds the field shown with its bad bytes as `\xHH`.
fn decode(bytes: &[u8], encoding: TextEncoding) -> Result<Cow<'_, str>, String> {
    if encoding == TextEncoding::Utf8 {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Err(semaforo_core::escape_bytes(bytes.trim_ascii()));
        };
        // Most fields start and end with a visible ASCII character: no trimming to do.
        let visible = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_graphic());
        return Ok(if visible(bytes.first()) && visible(bytes.last()) {
            Cow::Borrowed(text)
        } else {
            Cow::Borrowed(text.trim())
        });
    }
    match encoding.decode(bytes) {
        Ok(Cow::Borrowed(text)) => Ok(Cow::Borrowed(text.trim())),
        Ok(Cow::Owned(text)) => Ok(Cow::Owned(text.trim().to_owned())),
        Err(bad) => Err(bad.escaped.trim().to_owned()),
    }
}

/// A field as text for messages and values that are not keys: its bad
/// bytes shown as `\xHH`, never replaced.
fn text(bytes: &[u8], encoding: TextEncoding) -> Cow<'_, str> {
    decode(bytes, encoding).unwrap_or_else(Cow::Owned)
}

/// A field as written, untrimmed, line breaks and other controls escaped.
fn shown(bytes: &[u8], encoding: TextEncoding) -> String {
    encoding
        .decode(bytes)
        .map_or_else(|bad| bad.escaped, |text| text.escape_debug().to_string())
}

/// What to tell a user whose UTF-8 file holds a byte that is not UTF-8.
const ENCODING_HELP: &str = "if the file was saved as Windows-1252 or Latin-1 (as spreadsheets often export), read it with `--encoding windows-1252` (or `latin1`), or declare `encoding = \"windows-1252\"` in the pack's [data] section";

/// No spelling: the index of none.
const NO_SPELLING: u32 = u32::MAX;

/// A code as a batch spells it (bytes, untrimmed) that its dictionary does
/// not know, and its id.
struct Spelling {
    raw: Box<[u8]>,
    /// The code's id (see [`Builder::codes`]), or `None` for a code outside
    /// the grammar (warned once).
    id: Option<u32>,
}

/// Whether two short byte strings are equal, without calling `memcmp`
/// (keys and codes are a few bytes, where the call costs more than the
/// comparison): up to 16 bytes as two overlapping words.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n >= 8 {
        if n > 16 {
            return a == b;
        }
        let word = |s: &[u8], at: usize| {
            s.get(at..at + 8)
                .and_then(|w| <[u8; 8]>::try_from(w).ok())
                .map(u64::from_le_bytes)
        };
        return word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8);
    }
    if n >= 4 {
        let word = |s: &[u8], at: usize| {
            s.get(at..at + 4)
                .and_then(|w| <[u8; 4]>::try_from(w).ok())
                .map(u32::from_le_bytes)
        };
        return word(a, 0) == word(b, 0) && word(a, n - 4) == word(b, n - 4);
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

/// The ledger being read, with the indexes that find a row's block and code.
struct Builder<'a> {
    source: &'a str,
    shape: &'a DataShape,
    layout: &'a Layout,
    /// Whether the header has any of the pack's dimension columns.
    has_dimensions: bool,
    /// The codes of the batches read before. Spellings are numbered after
    /// its own; a code id below `known.codes.len()` is a rank there.
    known: Arc<Dictionary>,
    /// Every spelling of a code met that `known` lacks, in order of first
    /// appearance. A missing code (no text) is warned on every row: never
    /// remembered.
    spellings: Vec<Spelling>,
    /// A spelling's bytes → its number.
    spelling_at: HashMap<Box<[u8]>, u32, RandomState>,
    /// Per spelling, known ones first: the spelling of the row that
    /// followed it last, or [`NO_SPELLING`]. The blocks of a file mostly
    /// list their codes in one order, so a row's code is guessed and
    /// checked with one comparison, without hashing.
    next: Vec<u32>,
    /// The spelling of the previous row's code, or [`NO_SPELLING`].
    previous: u32,
    /// Trimmed code text → id, for two spellings of a new code.
    code_texts: HashMap<String, u32, RandomState>,
    /// The codes `known` lacks: id `known.codes.len() + i` is `codes[i]`.
    codes: Vec<String>,
    /// An entity's key → its id. The key is the trimmed text's bytes, or
    /// the raw bytes when they are not text: different bytes never merge.
    entity_ids: HashMap<Vec<u8>, usize, RandomState>,
    entities: Vec<String>,
    /// Per entity: period key (as for entities; text order) → block.
    periods: Vec<BTreeMap<Vec<u8>, usize>>,
    blocks: Vec<Block>,
    /// Per block: why its values are not read (a key that cannot be read).
    problems: Vec<Option<String>>,
    /// Per block: whether a differing dimension was already warned.
    dimension_warned: Vec<bool>,
    /// Raw entity and period of the previous row (buffers reused), and its
    /// block (`None` before the first row).
    last_entity: Vec<u8>,
    last_period: Vec<u8>,
    last_block: Option<usize>,
    /// The raw dimension fields of the last row found to agree with the
    /// first row of block `agreed_block`: the same bytes agree again.
    agreed: Vec<Vec<u8>>,
    agreed_block: Option<usize>,
    warnings: Vec<DataWarning>,
}

impl<'a> Builder<'a> {
    fn new(
        source: &'a str,
        shape: &'a DataShape,
        layout: &'a Layout,
        known: Arc<Dictionary>,
    ) -> Self {
        Self {
            source,
            shape,
            layout,
            has_dimensions: layout.dimensions.iter().any(Option::is_some),
            next: known.next.clone(),
            known,
            spellings: Vec::new(),
            spelling_at: HashMap::default(),
            previous: NO_SPELLING,
            code_texts: HashMap::default(),
            codes: Vec::new(),
            entity_ids: HashMap::default(),
            entities: Vec::new(),
            periods: Vec::new(),
            blocks: Vec::new(),
            problems: Vec::new(),
            dimension_warned: Vec::new(),
            last_entity: Vec::new(),
            last_period: Vec::new(),
            last_block: None,
            agreed: vec![Vec::new(); layout.dimensions.len()],
            agreed_block: None,
            warnings: Vec::new(),
        }
    }

    fn warn(&mut self, line: u64, kind: &'static str, message: String) {
        self.warnings.push(DataWarning {
            line: Some(line),
            kind,
            message,
        });
    }

    fn row(&mut self, record: &impl Fields) -> Result<(), DataError> {
        let line = record.line();
        let block = self.block(record, line);
        let raw_code = record.field(self.layout.code);
        let Some(id) = self.code_id(raw_code, line)? else {
            return Ok(());
        };
        let value = match record.number(self.layout.value) {
            Some(typed) => Some(typed),
            None => {
                let bytes = record.field(self.layout.value);
                // A number in ASCII reads without decoding; anything else is
                // decoded, read as text, and warned when it is no number.
                match self.shape.numbers.parse_ascii(bytes) {
                    Some(value) => Some(value),
                    None => self.text_value(bytes, raw_code, block, line),
                }
            }
        };
        self.blocks[block].entries.push(Entry {
            value,
            code: id,
            line,
        });
        Ok(())
    }

    /// The id of a row's code (`None`: the row is ignored, see [`Builder::intern`]).
    #[inline]
    fn code_id(&mut self, raw: &[u8], line: u64) -> Result<Option<u32>, DataError> {
        let guess = self.next.get(self.previous as usize).copied();
        if let Some(guess) = guess
            && let Some((spelled, id)) = self.spelling(guess)
            && same(spelled, raw)
        {
            self.previous = guess;
            return Ok(id);
        }
        self.code_id_found(raw, line)
    }

    /// Spelling number `at`: its bytes and its code's id.
    #[inline]
    fn spelling(&self, at: u32) -> Option<(&[u8], Option<u32>)> {
        let at = usize::try_from(at).ok()?;
        let known = &self.known.spellings;
        match known.get(at) {
            Some((raw, rank)) => Some((raw, Some(*rank))),
            None => {
                let spelling = self.spellings.get(at - known.len())?;
                Some((&spelling.raw, spelling.id))
            }
        }
    }

    /// [`Builder::code_id`] when the guess is wrong: the code is looked up,
    /// or read for the first time, and becomes the guess after the previous row's.
    #[inline(never)]
    fn code_id_found(&mut self, raw: &[u8], line: u64) -> Result<Option<u32>, DataError> {
        let found = self
            .known
            .spelling_at
            .get(raw)
            .or_else(|| self.spelling_at.get(raw));
        let at = match found {
            Some(&at) => at,
            None => {
                let id = self.intern(raw, line)?;
                // A missing code is warned on every row: never remembered.
                if raw.trim_ascii().is_empty() {
                    return Ok(id);
                }
                let at = u32::try_from(self.known.spellings.len() + self.spellings.len())
                    .unwrap_or(NO_SPELLING);
                self.spellings.push(Spelling {
                    raw: raw.into(),
                    id,
                });
                self.spelling_at.insert(raw.into(), at);
                self.next.push(NO_SPELLING);
                at
            }
        };
        if let Some(next) = self.next.get_mut(self.previous as usize) {
            *next = at;
        }
        self.previous = at;
        Ok(self.spelling(at).and_then(|(_, id)| id))
    }

    /// A value that is not an ASCII number: read as text, warned when it
    /// has no usable balance.
    #[inline(never)]
    fn text_value(
        &mut self,
        bytes: &[u8],
        raw_code: &[u8],
        block: usize,
        line: u64,
    ) -> Option<Decimal> {
        let (value, what) = self.value(bytes);
        if let Some(what) = what {
            let code = text(raw_code, self.shape.encoding);
            let message = format!(
                "{}: code `{code}` has {what}; it has no usable balance",
                self.describe(block),
            );
            self.warn(line, "unusable_balance", message);
        }
        value
    }

    /// A value field's text as a number, or what it holds instead.
    fn value(&self, bytes: &[u8]) -> (Option<Decimal>, Option<String>) {
        match decode(bytes, self.shape.encoding) {
            Ok(raw) => match self.shape.numbers.parse(&raw) {
                Some(value) => (Some(value), None),
                None if raw.is_empty() => (None, Some("no value".to_owned())),
                None => (
                    None,
                    Some(format!("the value `{raw}`, which is not a number")),
                ),
            },
            Err(escaped) => (
                None,
                Some(format!(
                    "the value `{escaped}`, which is not valid UTF-8 (column {}; {ENCODING_HELP})",
                    self.layout.value + 1
                )),
            ),
        }
    }

    /// The block of a record's entity × period, created on first sight.
    #[inline]
    fn block(&mut self, record: &impl Fields, line: u64) -> usize {
        let layout = self.layout;
        let (entity, period) = (record.field(layout.entity), record.field(layout.period));
        if let Some(block) = self.last_block
            && same(&self.last_entity, entity)
            && same(&self.last_period, period)
        {
            if self.has_dimensions {
                self.check_dimensions(block, record, line);
            }
            return block;
        }
        let block = self.find_block(record, entity, period, line);
        self.last_entity.clear();
        self.last_entity.extend_from_slice(entity);
        self.last_period.clear();
        self.last_period.extend_from_slice(period);
        self.last_block = Some(block);
        block
    }

    /// [`Builder::block`] when the entity or period differs from the previous row's.
    #[inline(never)]
    fn find_block(
        &mut self,
        record: &impl Fields,
        entity: &[u8],
        period: &[u8],
        line: u64,
    ) -> usize {
        let layout = self.layout;
        // The blocks of a file are mostly alike: room for as many rows as the last one.
        let room = self.last_block.map_or(0, |b| self.blocks[b].entries.len());
        let mut problem = None;
        let (entity_key, entity_text) = self.key(entity, layout.entity, "entity", &mut problem);
        let (period_key, period_text) = self.key(period, layout.period, "period", &mut problem);
        let entity_id = match self.entity_ids.get(&entity_key) {
            Some(&id) => id,
            None => {
                let id = self.entities.len();
                self.entity_ids.insert(entity_key, id);
                self.entities.push(entity_text.clone());
                self.periods.push(BTreeMap::new());
                id
            }
        };
        match self.periods[entity_id].get(&period_key) {
            Some(&block) => {
                self.check_dimensions(block, record, line);
                block
            }
            None => {
                let block = self.blocks.len();
                self.periods[entity_id].insert(period_key, block);
                let encoding = self.shape.encoding;
                let mut dimensions = Vec::with_capacity(layout.dimensions.len());
                for (k, at) in layout.dimensions.iter().enumerate() {
                    let Some(at) = *at else {
                        dimensions.push(String::new());
                        continue;
                    };
                    match decode(record.field(at), encoding) {
                        Ok(value) => dimensions.push(value.into_owned()),
                        Err(escaped) => {
                            let name = &self.shape.dimensions[k];
                            problem.get_or_insert_with(|| (at + 1, format!(
                                "the `{name}` value `{escaped}` is not valid UTF-8, so the values of entity `{entity_text}` period `{period_text}` are not read; {ENCODING_HELP}"
                            )));
                            dimensions.push(escaped);
                        }
                    }
                }
                let problem = problem.map(|(column, what)| {
                    self.warn(line, "unreadable_key", format!("column {column}: {what}"));
                    format!("{}:{line}:{column}: {what}", self.source)
                });
                self.problems.push(problem);
                self.blocks.push(Block {
                    entity: entity_id,
                    period: period_text.clone(),
                    line,
                    dimensions,
                    entries: Vec::with_capacity(room),
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
                            kind: "empty_key",
                            message,
                        });
                    }
                }
                block
            }
        }
    }

    /// The key of an entity or period field and its text; a field that
    /// cannot be a key (bytes not valid text, a line break) keeps its own
    /// key, shown with its bad bytes as `\xHH`, and says why in `problem`.
    fn key(
        &self,
        bytes: &[u8],
        at: usize,
        role: &str,
        problem: &mut Option<(usize, String)>,
    ) -> (Vec<u8>, String) {
        match decode(bytes, self.shape.encoding) {
            Ok(text) => {
                if bytes.iter().any(|&b| b == b'\n' || b == b'\r') {
                    problem.get_or_insert_with(|| (at + 1, format!(
                        "the {role} `{}` holds a line break, so its values are not read: a key is one line (is a quote left open before it?)",
                        shown(bytes, self.shape.encoding)
                    )));
                }
                (text.as_bytes().to_vec(), text.into_owned())
            }
            Err(escaped) => {
                problem.get_or_insert_with(|| (at + 1, format!(
                    "the {role} `{escaped}` is not valid UTF-8, so its values are not read; {ENCODING_HELP}"
                )));
                (bytes.trim_ascii().to_vec(), escaped)
            }
        }
    }

    /// Warns, once per block, when a row's dimension differs from the block's first row.
    fn check_dimensions(&mut self, block: usize, record: &impl Fields, line: u64) {
        if self.dimension_warned[block] {
            return;
        }
        let dimensions = &self.layout.dimensions;
        if self.agreed_block == Some(block)
            && dimensions
                .iter()
                .zip(&self.agreed)
                .all(|(at, agreed)| at.is_none_or(|at| same(record.field(at), agreed)))
        {
            return;
        }
        for (k, at) in dimensions.iter().enumerate() {
            let Some(at) = *at else { continue };
            let value = text(record.field(at), self.shape.encoding);
            let first = &self.blocks[block].dimensions[k];
            if value != first.as_str() {
                let message = format!(
                    "{}: `{}` is `{value}` here but `{first}` on line {}, the first row of this entity and period; the first value is kept",
                    self.describe(block),
                    self.shape.dimensions[k],
                    self.blocks[block].line
                );
                self.dimension_warned[block] = true;
                self.warn(line, "dimension_changes", message);
                return;
            }
        }
        for (at, agreed) in dimensions.iter().zip(&mut self.agreed) {
            agreed.clear();
            if let Some(at) = *at {
                agreed.extend_from_slice(record.field(at));
            }
        }
        self.agreed_block = Some(block);
    }

    /// The id of a code met for the first time in this spelling, or `None`
    /// when the row is ignored: no code (warned each time), or a code
    /// outside the grammar (warned once).
    fn intern(&mut self, raw: &[u8], line: u64) -> Result<Option<u32>, DataError> {
        let column = self.layout.code + 1;
        let code = match decode(raw, self.shape.encoding) {
            Ok(code) => code,
            Err(escaped) => {
                let message = format!(
                    "column {column}: code `{escaped}` is not valid UTF-8; its rows are ignored; {ENCODING_HELP}"
                );
                self.warn(line, "unreadable_code", message);
                return Ok(None);
            }
        };
        if code.is_empty() {
            self.warn(
                line,
                "missing_code",
                "the row has no code; it is ignored".to_owned(),
            );
            return Ok(None);
        }
        if raw.iter().any(|&b| b == b'\n' || b == b'\r') {
            let message = format!(
                "column {column}: code `{}` holds a line break; its rows are ignored: a code is one line (is a quote left open before it?)",
                shown(raw, self.shape.encoding)
            );
            self.warn(line, "unreadable_code", message);
            return Ok(None);
        }
        if let Some(rank) = self.known.codes.find(&code) {
            return Ok(Some(rank));
        }
        if let Some(&id) = self.code_texts.get(code.as_ref()) {
            return Ok(Some(id));
        }
        if classify(&code).is_none() {
            self.warn(
                line,
                "invalid_code",
                format!(
                    "code `{code}` is neither an account code (digits) nor a pseudo-code (a letter or `_`, then letters, digits or `_`); its rows are ignored"
                ),
            );
            return Ok(None);
        }
        let id = u32::try_from(self.known.codes.len() + self.codes.len()).map_err(|_| {
            DataError::Csv {
                source_name: self.source.to_owned(),
                line,
                message: format!("more than {} distinct codes", u32::MAX),
            }
        })?;
        self.code_texts.insert(code.to_string(), id);
        self.codes.push(code.into_owned());
        Ok(Some(id))
    }

    /// The code of an id (before ranking).
    fn code(&self, id: u32) -> &str {
        let known = &self.known.codes;
        match usize::try_from(id)
            .ok()
            .and_then(|i| i.checked_sub(known.len()))
        {
            Some(i) => self.codes.get(i).map_or("", String::as_str),
            None => known.text(id),
        }
    }

    fn describe(&self, block: usize) -> String {
        let block = &self.blocks[block];
        format!(
            "entity `{}` period `{}`",
            self.entities[block.entity], block.period
        )
    }

    /// Ranks the codes, sorts and deduplicates each block, orders the
    /// blocks; with `share`, also the dictionary grown by this batch's
    /// codes, if it has new ones.
    fn finish(mut self, share: bool) -> (Loaded, Option<Dictionary>) {
        // With no new code, ids are ranks already and the codes are shared.
        let (codes, rank_of) = if self.codes.is_empty() {
            (Arc::clone(&self.known.codes), None)
        } else {
            let total = self.known.codes.len() + self.codes.len();
            let mut by_text: Vec<u32> =
                (0..total).filter_map(|id| u32::try_from(id).ok()).collect();
            by_text.sort_unstable_by(|&a, &b| self.code(a).cmp(self.code(b)));
            let mut rank_of = vec![0_u32; total];
            for (rank, &id) in by_text.iter().enumerate() {
                if let (Some(slot), Ok(rank)) = (
                    usize::try_from(id).ok().and_then(|i| rank_of.get_mut(i)),
                    u32::try_from(rank),
                ) {
                    *slot = rank;
                }
            }
            let codes: Vec<Box<str>> = by_text.iter().map(|&id| self.code(id).into()).collect();
            (Arc::new(Codes::new(codes)), Some(rank_of))
        };
        let rank = |id: u32| -> u32 {
            rank_of
                .as_ref()
                .and_then(|r| r.get(usize::try_from(id).ok()?).copied())
                .unwrap_or(id)
        };
        let grown = (share && !self.spellings.is_empty() && codes.len() <= DICTIONARY_LIMIT)
            .then(|| self.grown(&codes, rank));
        let mut warnings = std::mem::take(&mut self.warnings);
        for block in &mut self.blocks {
            let entries = &mut block.entries;
            let mut sorted = true;
            let mut before = None;
            for entry in entries.iter_mut() {
                entry.code = rank(entry.code);
                // Strictly increasing: sorted, and no code twice.
                sorted &= before.is_none_or(|b| b < entry.code);
                before = Some(entry.code);
            }
            if sorted {
                continue;
            }
            // Stable: of two rows with one code, the first in the file stays first.
            entries.sort_by_key(|e| e.code);
            let mut kept: usize = 0;
            for at in 0..entries.len() {
                let entry = entries[at];
                match kept.checked_sub(1).map(|k| entries[k]) {
                    Some(first) if first.code == entry.code => {
                        let code = codes.text(entry.code);
                        warnings.push(DataWarning {
                            line: Some(entry.line),
                            kind: "repeated_code",
                            message: format!(
                                "entity `{}` period `{}` repeats code `{code}` (first on line {}); the first value is kept",
                                self.entities[block.entity], block.period, first.line
                            ),
                        });
                    }
                    _ => {
                        entries[kept] = entry;
                        kept += 1;
                    }
                }
            }
            entries.truncate(kept);
        }
        let mut blocks: Vec<Option<Block>> = self.blocks.into_iter().map(Some).collect();
        let order: Vec<usize> = self
            .periods
            .iter()
            .flat_map(BTreeMap::values)
            .copied()
            .collect();
        let ordered = order
            .iter()
            .filter_map(|&b| blocks.get_mut(b).and_then(Option::take))
            .collect();
        let problems = order
            .iter()
            .map(|&b| self.problems.get_mut(b).and_then(Option::take))
            .collect();
        let ledger = Ledger {
            source: self.source.to_owned(),
            codes,
            entities: self.entities,
            blocks: ordered,
        };
        let loaded = Loaded {
            ledger,
            warnings,
            problems,
        };
        (loaded, grown)
    }

    /// The known dictionary with this batch's valid spellings added, its
    /// codes `codes` (ranked by `rank`), its guesses this batch's.
    fn grown(&self, codes: &Arc<Codes>, rank: impl Fn(u32) -> u32) -> Dictionary {
        let known = &self.known.spellings;
        let mut spellings: Vec<(Box<[u8]>, u32)> = known
            .iter()
            .map(|(raw, id)| (raw.clone(), rank(*id)))
            .collect();
        // This batch's spellings renumbered: invalid codes are left out.
        let mut number = Vec::with_capacity(self.spellings.len());
        for spelling in &self.spellings {
            match spelling.id {
                Some(id) => {
                    number.push(u32::try_from(spellings.len()).unwrap_or(NO_SPELLING));
                    spellings.push((spelling.raw.clone(), rank(id)));
                }
                None => number.push(NO_SPELLING),
            }
        }
        let renumber = |at: u32| match usize::try_from(at)
            .ok()
            .and_then(|at| at.checked_sub(known.len()))
        {
            Some(new) => number.get(new).copied().unwrap_or(NO_SPELLING),
            None => at,
        };
        let mut next = vec![NO_SPELLING; spellings.len()];
        for (at, &follows) in (0_u32..).zip(&self.next) {
            if let Some(slot) = usize::try_from(renumber(at))
                .ok()
                .and_then(|at| next.get_mut(at))
            {
                *slot = renumber(follows);
            }
        }
        let spelling_at = spellings
            .iter()
            .zip(0_u32..)
            .map(|((raw, _), at)| (raw.clone(), at))
            .collect();
        Dictionary {
            spellings,
            spelling_at,
            next,
            codes: Arc::clone(codes),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use proptest::test_runner::Config;
    use rust_decimal::Decimal;
    use semaforo_core::DataShape;

    use super::{Layout, Loaded, SharedCodes, load, load_batch, same};
    use crate::consistency;
    use crate::ledger::Ledger;
    use crate::query::Query;

    fn config() -> Config {
        Config {
            cases: 512,
            failure_persistence: None,
            ..Config::default()
        }
    }

    /// Spellings of codes: the bytes written, and the code they spell.
    const CODES: [(&str, &str); 9] = [
        ("14", "14"),
        (" 14", "14"),
        ("14 ", "14"),
        ("1411", "1411"),
        ("141105", "141105"),
        ("SOCIOS", "SOCIOS"),
        ("2", "2"),
        ("21", "21"),
        ("1412345678901234567", "1412345678901234567"),
    ];
    /// Values: the bytes written, and the number they are.
    const VALUES: [(&str, Option<&str>); 8] = [
        ("1", Some("1")),
        ("-2.50", Some("-2.50")),
        (" 3 ", Some("3")),
        ("12x", None),
        ("", None),
        ("1e5", None),
        ("123456789012345678901", Some("123456789012345678901")),
        (".5", Some("0.5")),
    ];

    /// A block as the model sees it: entity, period, first line, and per
    /// code its first value and line.
    type ModelBlock = (
        String,
        String,
        u64,
        BTreeMap<String, (Option<Decimal>, u64)>,
    );

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn short_byte_strings_compare_as_slices(
            a in proptest::collection::vec(0_u8..4, 0..20),
            b in proptest::collection::vec(0_u8..4, 0..20),
        ) {
            prop_assert_eq!(same(&a, &b), a == b);
            prop_assert!(same(&a, &a.clone()));
        }

        /// Rows in runs of one entity and period (as files are written),
        /// some runs revisited, codes spelled several ways and repeated,
        /// values good and bad: the ledger and its warnings are what an
        /// independent model of the format says.
        #[test]
        fn a_ledger_is_what_its_rows_say(
            runs in proptest::collection::vec(
                (0_usize..3, 0_usize..3, proptest::collection::vec((0..CODES.len(), 0..VALUES.len()), 1..12)),
                1..8,
            ),
        ) {
            let mut csv = String::from("entity,period,code,value\n");
            let mut line = 1;
            let mut order: Vec<String> = Vec::new();
            let mut model: BTreeMap<(String, String), ModelBlock> = BTreeMap::new();
            let mut expected_warnings = Vec::new();
            for (entity, period, rows) in &runs {
                let (entity, period) = (format!("E{entity}"), format!("2025-0{period}"));
                if !order.contains(&entity) {
                    order.push(entity.clone());
                }
                for &(code, value) in rows {
                    line += 1;
                    let ((spelling, code), (written, number)) = (CODES[code], VALUES[value]);
                    csv.push_str(&format!("{entity},{period},{spelling},{written}\n"));
                    let block = model
                        .entry((entity.clone(), period.clone()))
                        .or_insert_with(|| (entity.clone(), period.clone(), line, BTreeMap::new()));
                    let number = number.map(|n| n.parse::<Decimal>().unwrap_or_default());
                    if number.is_none() {
                        expected_warnings.push((line, "unusable_balance"));
                    }
                    if block.3.contains_key(code) {
                        expected_warnings.push((line, "repeated_code"));
                    } else {
                        block.3.insert(code.to_owned(), (number, line));
                    }
                }
            }
            let shape = DataShape { period: Some("period".into()), ..DataShape::default() };
            let (ledger, warnings) = load(csv.as_bytes(), "b.csv", &shape).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&ledger.entities, &order);
            let mut blocks = Vec::new();
            for entity in &order {
                // Periods of an entity in text order.
                blocks.extend(model.values().filter(|b| &b.0 == entity).cloned());
            }
            let read: Vec<ModelBlock> = ledger
                .blocks
                .iter()
                .map(|b| {
                    let entries = b
                        .entries
                        .iter()
                        .map(|e| (ledger.code(e.code).to_owned(), (e.value, e.line)))
                        .collect();
                    (ledger.entities[b.entity].clone(), b.period.clone(), b.line, entries)
                })
                .collect();
            prop_assert_eq!(read, blocks);
            let mut kinds: Vec<(u64, &str)> = warnings.iter().map(|w| (w.line.unwrap_or(0), w.kind)).collect();
            kinds.sort_unstable();
            expected_warnings.sort_unstable();
            prop_assert_eq!(kinds, expected_warnings);
        }

        /// Batches read with the codes of the batches before them give
        /// what each batch read on its own gives: entries, values, lines,
        /// warnings, consistency, balances.
        #[test]
        fn batches_sharing_codes_read_as_batches_alone(
            entities in proptest::collection::vec(
                proptest::collection::vec((0..SPELLINGS.len(), 0..VALUES.len()), 1..16),
                1..6,
            ),
        ) {
            let mut csv = String::from("entity,period,code,value\n");
            for (e, rows) in entities.iter().enumerate() {
                for (p, half) in rows.chunks(8).enumerate() {
                    for &(code, value) in half {
                        csv.push_str(&format!("E{e},P{p},{},{}\n", SPELLINGS[code], VALUES[value].0));
                    }
                }
            }
            let shape = DataShape { period: Some("period".into()), ..DataShape::default() };
            let mut reader = csv::ReaderBuilder::new().from_reader(csv.as_bytes());
            let header: Vec<String> = reader.headers().map_err(|e| TestCaseError::fail(e.to_string()))?.iter().map(str::to_owned).collect();
            let (layout, _) = Layout::find(&header, "b.csv", &shape).map_err(|e| TestCaseError::fail(e.to_string()))?;
            // One batch per entity.
            let mut batches: Vec<semaforo_core::RecordBatch> = Vec::new();
            let mut record = csv::ByteRecord::new();
            let mut last = Vec::new();
            while reader.read_byte_record(&mut record).map_err(|e| TestCaseError::fail(e.to_string()))? {
                if batches.is_empty() || record.get(0) != Some(&last[..]) {
                    batches.push(semaforo_core::RecordBatch::default());
                    last = record.get(0).unwrap_or_default().to_vec();
                }
                if let Some(batch) = batches.last_mut() {
                    batch.push(&record);
                }
            }
            let shared = SharedCodes::default();
            for batch in &batches {
                let read = |codes: &SharedCodes| load_batch(batch.records(), "b.csv", &shape, &layout, codes)
                    .map_err(|e| TestCaseError::fail(e.to_string()));
                let alone = read(&SharedCodes::default())?;
                let sharing = read(&shared)?;
                prop_assert_eq!(seen(&sharing), seen(&alone));
            }
        }
    }

    /// Spellings of codes the batch test mixes: valid, spaced, invalid, missing.
    const SPELLINGS: [&str; 12] = [
        "1", "14", "1411", "141105", "1412", " 14", "SOCIOS", "2", "21", "14.01", "", "3",
    ];

    /// What a reader of a loaded batch can see, codes as text.
    fn seen(loaded: &Loaded) -> String {
        let ledger: &Ledger = &loaded.ledger;
        let mut out = format!(
            "{:?}\n{:?}\n{:?}\n",
            ledger.entities, loaded.warnings, loaded.problems
        );
        for block in &ledger.blocks {
            let entries: Vec<(&str, Option<Decimal>, u64)> = block
                .entries
                .iter()
                .map(|e| (ledger.code(e.code), e.value, e.line))
                .collect();
            out.push_str(&format!(
                "{} {} {} {:?}\n",
                block.entity, block.period, block.line, entries
            ));
        }
        out.push_str(&format!("{:?}\n", consistency::check(ledger)));
        for query in ["14", "1", "1411..1412", "SOCIOS", "2-21", "3", "1499"] {
            let query = Query::parse(query).unwrap_or_else(|_| unreachable!());
            out.push_str(&format!("{query}: {:?}\n", ledger.balances(&query)));
        }
        out
    }
}
