//! Evaluating a data file as it is read. When the pack's format reads
//! batches (the wide format always; a plugin's through
//! [`DataReader::batches`]) and the file is grouped by entity (the normal
//! export order), the file is cut into batches of whole entities;
//! each batch is read into a table and evaluated on its own, on the rayon
//! pool while the next batch is read, and only its results are kept. Memory
//! then grows with the results, not with the input. A file that is not
//! grouped is read again whole, and the caller is told why. A spreadsheet
//! is read whole into typed records, then cut and evaluated the same way.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

use foldhash::fast::RandomState;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

use crate::compile::set::CompiledRuleSet;
use crate::data::chunks::{Chunk, Chunks, open_chunks};
use crate::data::error::DataError;
use crate::data::reader::{BatchReader, ReadRequest};
use crate::data::records::{Record, RecordBatch};
use crate::data::table::{DataWarning, Table};
use crate::data::warnings::Warnings;
use crate::data::workbook::{Sheet, read_sheet};
use crate::evaluate::evaluate;
use crate::evaluate::read::{batch_reader, read_data_from, read_records, typed_shape};
use crate::evaluate::result::ResultSet;

/// A CSV file is cut into chunks of about this many bytes, each ending
/// at an entity boundary, read into records and evaluated on the pool.
const CHUNK_BYTES: usize = 1 << 20;
/// A sheet's batch is handed over at the first entity boundary past this many records…
const BATCH_RECORDS: usize = 8 * 1024;
/// …or past this many bytes.
const BATCH_BYTES: usize = 4 << 20;
/// Batches read ahead of evaluation, per pool thread: bounds memory.
const BATCHES_AHEAD_PER_THREAD: usize = 2;

/// The results of a data file, its warnings and how it was read.
#[derive(Debug)]
pub struct FileEvaluation {
    /// Every row's results, in input order.
    pub results: ResultSet,
    /// Everything odd in the data, in input order: every warning counted,
    /// the first [`crate::KEPT_PER_KIND`] of each kind kept whole.
    pub warnings: Warnings,
    /// Whether the file was streamed, and if not, why.
    pub reading: Reading,
}

/// How [`evaluate_file`] read a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// In batches of whole entities, each evaluated as it was read.
    Streamed {
        /// How many batches.
        batches: usize,
    },
    /// Whole, into one table.
    Whole(WholeReason),
}

/// Why a file was read whole instead of streamed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WholeReason {
    /// The pack's data format only reads whole files.
    Format,
    /// The pack has indicators with a grain, which aggregate across entities.
    GroupIndicators,
    /// An entity's rows are not together in the file.
    NotGrouped {
        /// The entity.
        entity: String,
        /// The line where it appears again after other entities.
        line: u64,
        /// The line of its batch's first row.
        first_line: u64,
    },
}

impl fmt::Display for WholeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Format => f.write_str("the pack's data format reads whole files"),
            Self::GroupIndicators => f.write_str(
                "the pack has indicators with a grain, which aggregate over the whole file",
            ),
            Self::NotGrouped {
                entity,
                line,
                first_line,
            } => write!(
                f,
                "entity `{entity}` appears again on line {line} after other entities (first on line {first_line}): the file is not grouped by entity, so it was read whole and memory grows with the file; sort it by entity to stream it"
            ),
        }
    }
}

/// Reads and evaluates the data file at `path` in the pack's format,
/// streaming it when it can (see the module docs). `progress` is called
/// with the bytes read so far, from the start of each pass over the file
/// (for a spreadsheet, once, with the bytes its records hold).
///
/// The results are the same as [`crate::read_data`] then
/// [`crate::evaluate`], whatever the number of threads: the parts
/// [`evaluate_file_with`] hands over, as one set.
///
/// ```no_run
/// use semaforo_core::{evaluate_file, load_and_compile};
/// use std::path::Path;
/// let rules = load_and_compile(Path::new("rules/sagrario"), &[]).unwrap();
/// let done = evaluate_file(&rules, Path::new("examples/sagrario/balances.csv"), &|_| {}).unwrap();
/// println!("{} rows, read {:?}", done.results.rows().len(), done.reading);
/// ```
///
/// # Errors
/// When the file cannot be read, is not valid CSV or lacks a key column.
pub fn evaluate_file(
    rules: &CompiledRuleSet,
    path: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<FileEvaluation, DataError> {
    let mut parts: Vec<ResultSet> = Vec::new();
    let FileReading { warnings, reading } = evaluate_file_with(rules, path, progress, &mut parts)?;
    let results = if parts.len() == 1 {
        parts.pop().unwrap_or_else(|| unreachable!("one part"))
    } else {
        ResultSet::concat(rules.pack.clone(), parts)
    };
    Ok(FileEvaluation {
        results,
        warnings,
        reading,
    })
}

/// Where [`evaluate_file_with`] hands the results over, part by part.
pub trait ResultParts {
    /// The next part: the rows of whole entities (every row of an entity is
    /// in one part), in input order, after every part handed before it.
    /// A file read whole is one part, with the group results.
    fn part(&mut self, part: ResultSet);
    /// Forget every part handed over so far: the file is read again whole
    /// (an entity came back after its batch, see [`WholeReason::NotGrouped`]).
    fn restart(&mut self);
}

/// Gathers the parts, for one set.
impl ResultParts for Vec<ResultSet> {
    fn part(&mut self, part: ResultSet) {
        self.push(part);
    }
    fn restart(&mut self) {
        self.clear();
    }
}

/// How [`evaluate_file_with`] read a file, and what was odd in it.
#[derive(Debug)]
pub struct FileReading {
    /// As [`FileEvaluation::warnings`].
    pub warnings: Warnings,
    /// Whether the file was streamed, and if not, why.
    pub reading: Reading,
}

/// [`evaluate_file`] handing each evaluated batch to `parts` as soon as it
/// and every batch before it are done, instead of keeping them all: memory
/// then grows with what `parts` keeps.
///
/// # Errors
/// As [`evaluate_file`]; the parts before the error may have been handed over.
pub fn evaluate_file_with(
    rules: &CompiledRuleSet,
    path: &Path,
    progress: &(dyn Fn(u64) + Sync),
    parts: &mut dyn ResultParts,
) -> Result<FileReading, DataError> {
    let streamable = rules.pack.indicators.iter().all(|i| i.grain.is_none());
    if crate::data::workbook::is_workbook(path) {
        let sheet = read_sheet(path, &rules.pack.data)?;
        progress(sheet.records.byte_len() as u64);
        let why_whole = if streamable {
            match stream_sheet(rules, &sheet, parts)? {
                Streamed::Done(done) => return Ok(done),
                Streamed::Whole(reason) => reason,
            }
        } else {
            WholeReason::GroupIndicators
        };
        let table = read_records(rules, &sheet.header, &sheet.records, &sheet.source)?;
        return Ok(whole(rules, table, why_whole, parts));
    }
    let source = path.display().to_string();
    let why_whole = if streamable {
        match stream_csv(
            rules,
            open(path, &source, progress)?,
            &source,
            CHUNK_BYTES,
            parts,
        )? {
            Streamed::Done(done) => return Ok(done),
            Streamed::Whole(reason) => reason,
        }
    } else {
        WholeReason::GroupIndicators
    };
    let table = read_data_from(rules, &mut open(path, &source, progress)?, &source)?;
    Ok(whole(rules, table, why_whole, parts))
}

/// The evaluation of a table read whole, for `why`, handed to `parts` as one.
fn whole(
    rules: &CompiledRuleSet,
    mut table: Table,
    why: WholeReason,
    parts: &mut dyn ResultParts,
) -> FileReading {
    let warnings = std::mem::take(&mut table.warnings).into_iter().collect();
    parts.restart();
    parts.part(evaluate(rules, &table));
    FileReading {
        warnings,
        reading: Reading::Whole(why),
    }
}

/// A file reader that reports the bytes read so far.
struct Counted<'p> {
    file: File,
    read: u64,
    progress: &'p (dyn Fn(u64) + Sync),
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read += n as u64;
        (self.progress)(self.read);
        Ok(n)
    }
}

fn open<'p>(
    path: &Path,
    source: &str,
    progress: &'p (dyn Fn(u64) + Sync),
) -> Result<Counted<'p>, DataError> {
    let file = File::open(path).map_err(|error| DataError::Io {
        source_name: source.to_owned(),
        error,
    })?;
    Ok(Counted {
        file,
        read: 0,
        progress,
    })
}

enum Streamed {
    Done(FileReading),
    Whole(WholeReason),
}

/// One evaluated batch.
type Piece = Result<(ResultSet, Vec<DataWarning>), DataError>;

/// Streams a CSV file's records through the format's batch reader, in
/// chunks of about `chunk_bytes`.
fn stream_csv(
    rules: &CompiledRuleSet,
    input: impl Read,
    source: &str,
    chunk_bytes: usize,
    parts: &mut dyn ResultParts,
) -> Result<Streamed, DataError> {
    let shape = &rules.pack.data;
    let (header, chunks) = open_chunks(input, source, shape, chunk_bytes)?;
    let Some(batches) = batch_reader(rules, &header, source, rules.read_request())? else {
        return Ok(Streamed::Whole(WholeReason::Format));
    };
    stream(rules, &*batches, &header, source, ChunkFeed(chunks), parts)
}

/// Streams a sheet's records through the format's batch reader, as a CSV
/// file's (text as UTF-8, typed numbers as they are).
fn stream_sheet(
    rules: &CompiledRuleSet,
    sheet: &Sheet,
    parts: &mut dyn ResultParts,
) -> Result<Streamed, DataError> {
    let shape = typed_shape(rules);
    let request = ReadRequest {
        shape: &shape,
        fields: rules.read_request().fields,
    };
    let Some(batches) = batch_reader(rules, &sheet.header, &sheet.source, request)? else {
        return Ok(Streamed::Whole(WholeReason::Format));
    };
    stream(
        rules,
        &*batches,
        &sheet.header,
        &sheet.source,
        &sheet.records,
        parts,
    )
}

/// What [`stream`] hands to the pool: a batch of whole entities, or a
/// chunk of a CSV file whose records are read there.
enum Work {
    Batch(RecordBatch),
    Chunk(Chunk),
}

/// Where the work [`stream`] evaluates comes from.
trait Feed {
    /// Hands every piece of work over, in input order, while `hand_over`
    /// says to go on; stops at the first record of an entity that came
    /// back, with why.
    fn feed(
        self,
        entity_at: usize,
        hand_over: &dyn Fn(Work) -> bool,
    ) -> Result<Option<WholeReason>, DataError>;
}

/// The chunks of a CSV file, read as they are handed over; whether an
/// entity comes back is told by [`Grouping`] as their records are read.
struct ChunkFeed<R: Read>(Chunks<R>);

impl<R: Read> Feed for ChunkFeed<R> {
    fn feed(
        self,
        entity_at: usize,
        hand_over: &dyn Fn(Work) -> bool,
    ) -> Result<Option<WholeReason>, DataError> {
        let mut chunks = self.0;
        while let Some(chunk) = chunks.next(entity_at)? {
            if !hand_over(Work::Chunk(chunk)) {
                break;
            }
        }
        Ok(None)
    }
}

/// Records already read (a sheet's), cut into batches by a [`Splitter`].
impl Feed for &RecordBatch {
    fn feed(
        self,
        entity_at: usize,
        hand_over: &dyn Fn(Work) -> bool,
    ) -> Result<Option<WholeReason>, DataError> {
        let mut splitter = Splitter::new(entity_at, BATCH_RECORDS, BATCH_BYTES);
        let hand_over = |batch| {
            hand_over(Work::Batch(batch));
        };
        if let Some(reason) = self
            .records()
            .find_map(|record| splitter.offer(&record, &hand_over))
        {
            return Ok(Some(reason));
        }
        if let Some(batch) = splitter.finish() {
            hand_over(batch);
        }
        Ok(None)
    }
}

/// Evaluates what `feed` hands over, each piece read by `batches` and
/// evaluated on the pool while the next is cut.
fn stream(
    rules: &CompiledRuleSet,
    batches: &(dyn BatchReader + '_),
    header: &[String],
    source: &str,
    feed: impl Feed,
    parts: &mut dyn ResultParts,
) -> Result<Streamed, DataError> {
    let entity_column = &rules.pack.data.entity;
    let Some(entity_at) = header.iter().position(|h| h == entity_column) else {
        return Err(DataError::MissingKeyColumn {
            source_name: source.to_owned(),
            column: entity_column.clone(),
            role: "entity",
        });
    };
    let grouping = Grouping::default();
    // `None` when the file turned out not to be grouped: nothing to keep.
    let evaluate_work = |seq: usize, work: Work| -> Option<Piece> {
        let batch = match work {
            Work::Batch(batch) => batch,
            Work::Chunk(chunk) => {
                let (batch, read) = chunk.records(source);
                if !grouping.add(seq, entities(&batch, entity_at)) {
                    return None;
                }
                if let Err(error) = read {
                    return Some(Err(error));
                }
                batch
            }
        };
        let evaluated = batches.read_batch(&batch).map(|mut table| {
            let warnings = std::mem::take(&mut table.warnings);
            (evaluate(rules, &table), warnings)
        });
        Some(evaluated)
    };
    let pieces = Pieces::default();
    let ahead = Ahead::new(rayon::current_num_threads() * BATCHES_AHEAD_PER_THREAD);
    let parallel = rayon::current_num_threads() > 1;
    let handed = RefCell::new(Handed {
        parts,
        warnings: batches.header_warnings().into_iter().collect(),
        error: None,
        count: 0,
    });
    let outcome = rayon::in_place_scope(|scope| -> Result<Option<WholeReason>, DataError> {
        let hand_over = |work: Work| -> bool {
            if grouping.broken() {
                return false;
            }
            let seq = pieces.reserve();
            if parallel {
                ahead.acquire();
                let (pieces, ahead, evaluate_work) = (&pieces, &ahead, &evaluate_work);
                scope.spawn(move |_| {
                    if let Some(piece) = evaluate_work(seq, work) {
                        pieces.fill(seq, piece);
                    }
                    ahead.release();
                });
            } else if let Some(piece) = evaluate_work(seq, work) {
                pieces.fill(seq, piece);
            }
            handed.borrow_mut().take(pieces.ready());
            true
        };
        feed.feed(entity_at, &hand_over)
    })?;
    if let Some(reason) = outcome.or_else(|| grouping.reason()) {
        handed.into_inner().parts.restart();
        return Ok(Streamed::Whole(reason));
    }
    // The scope has ended: every piece is done.
    let mut handed = handed.into_inner();
    handed.take(pieces.ready());
    if let Some(error) = handed.error {
        return Err(error);
    }
    Ok(Streamed::Done(FileReading {
        warnings: handed.warnings,
        reading: Reading::Streamed {
            batches: handed.count,
        },
    }))
}

/// Entities, each with a line.
type Entities = Vec<(Vec<u8>, u64)>;

/// The entities of `batch`'s records (field `entity_at`, trimmed), each
/// once, in the order they first appear, with the line where they do.
fn entities(batch: &RecordBatch, entity_at: usize) -> Entities {
    let mut seen: HashMap<&[u8], (), RandomState> = HashMap::default();
    let mut list = Vec::new();
    let mut last: Option<&[u8]> = None;
    for record in batch.records() {
        let entity = record.field(entity_at).trim_ascii();
        if last == Some(entity) {
            continue;
        }
        last = Some(entity);
        if seen.insert(entity, ()).is_none() {
            list.push((entity.to_vec(), record.line()));
        }
    }
    list
}

/// Whether the entities of the chunks read so far came each in one chunk:
/// the chunks' entities are checked in file order as they arrive (in any
/// order, from any thread), against those of the chunks before.
#[derive(Default)]
struct Grouping {
    state: Mutex<GroupingState>,
    /// Whether an entity came back (then the rest need not be read).
    broken: AtomicBool,
}

#[derive(Default)]
struct GroupingState {
    /// The next chunk to check.
    next: usize,
    /// Per chunk from `next` on, its entities once its records are read.
    waiting: Vec<Option<Entities>>,
    /// Entities of the chunks checked, with the line of their first record.
    seen: HashMap<Vec<u8>, u64, RandomState>,
    reason: Option<WholeReason>,
}

impl Grouping {
    /// Adds chunk `seq`'s entities (see [`entities`]); whether every
    /// entity checked so far is in one chunk.
    fn add(&self, seq: usize, entities: Entities) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let state = &mut *state;
        let at = seq - state.next.min(seq);
        if state.waiting.len() <= at {
            state.waiting.resize_with(at + 1, || None);
        }
        state.waiting[at] = Some(entities);
        while state.reason.is_none() && state.waiting.first().is_some_and(Option::is_some) {
            let entities = state.waiting.remove(0).unwrap_or_default();
            state.next += 1;
            for (entity, line) in entities {
                if let Some(&first_line) = state.seen.get(&entity) {
                    state.reason = Some(WholeReason::NotGrouped {
                        entity: String::from_utf8_lossy(&entity).into_owned(),
                        line,
                        first_line,
                    });
                    self.broken.store(true, Ordering::Relaxed);
                    break;
                }
                state.seen.insert(entity, line);
            }
        }
        state.reason.is_none()
    }

    fn broken(&self) -> bool {
        self.broken.load(Ordering::Relaxed)
    }

    /// Why the file is not grouped, if it is not.
    fn reason(self) -> Option<WholeReason> {
        self.state
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .reason
    }
}

/// The evaluated batches handed over so far, in order.
struct Handed<'p> {
    parts: &'p mut dyn ResultParts,
    warnings: Warnings,
    /// The first batch that failed: no part after it is handed over.
    error: Option<DataError>,
    count: usize,
}

impl Handed<'_> {
    /// Hands `ready` (the next pieces, in order) over.
    fn take(&mut self, ready: Vec<Piece>) {
        for piece in ready {
            self.count += 1;
            if self.error.is_some() {
                continue;
            }
            match piece {
                Ok((results, warnings)) => {
                    self.warnings.extend(warnings);
                    self.parts.part(results);
                }
                Err(error) => self.error = Some(error),
            }
        }
    }
}

/// A record the [`Splitter`] cuts (a sheet's).
trait Splittable {
    /// The bytes of field `at` (empty past the end).
    fn field_bytes(&self, at: usize) -> &[u8];
    /// The record's 1-based line.
    fn line(&self) -> u64;
    /// Appends the record to `batch`.
    fn append_to(&self, batch: &mut RecordBatch);
}

impl Splittable for Record<'_> {
    fn field_bytes(&self, at: usize) -> &[u8] {
        self.field(at)
    }
    fn line(&self) -> u64 {
        Record::line(self)
    }
    fn append_to(&self, batch: &mut RecordBatch) {
        batch.push_record(self);
    }
}

/// What became of a record pushed to the [`Splitter`].
enum Split {
    /// It joined the batch being filled.
    Same,
    /// It starts a new entity and the batch before it is full: here it is.
    Full(RecordBatch),
    /// Its entity was handed over in an earlier batch.
    NotGrouped(WholeReason),
}

/// Cuts records into batches of whole entities and notices when an entity
/// comes back after its batch was handed over.
struct Splitter {
    entity_at: usize,
    /// A batch is full at this many records…
    max_records: usize,
    /// …or bytes.
    max_bytes: usize,
    batch: RecordBatch,
    /// The entity of the last record.
    last: Option<Vec<u8>>,
    /// Entities of the batch being filled, with the line of their first row.
    filling: HashMap<Vec<u8>, u64, RandomState>,
    /// Entities already handed over, with the line of their first row.
    handed_over: HashMap<Vec<u8>, u64, RandomState>,
}

impl Splitter {
    fn new(entity_at: usize, max_records: usize, max_bytes: usize) -> Self {
        Self {
            entity_at,
            max_records,
            max_bytes,
            batch: RecordBatch::default(),
            last: None,
            filling: HashMap::default(),
            handed_over: HashMap::default(),
        }
    }

    fn push(&mut self, record: &impl Splittable) -> Split {
        let entity = record.field_bytes(self.entity_at).trim_ascii();
        if self.last.as_deref() == Some(entity) {
            record.append_to(&mut self.batch);
            return Split::Same;
        }
        let line = record.line();
        if let Some(&first_line) = self.handed_over.get(entity) {
            return Split::NotGrouped(WholeReason::NotGrouped {
                entity: String::from_utf8_lossy(entity).into_owned(),
                line,
                first_line,
            });
        }
        let mut split = Split::Same;
        // An entity may come back within the batch being filled: the format
        // gathers its rows there; only a return across batches matters.
        if !self.filling.contains_key(entity) {
            if self.batch.len() >= self.max_records || self.batch.byte_len() >= self.max_bytes {
                split = Split::Full(self.take());
            }
            self.filling.insert(entity.to_vec(), line);
        }
        self.last = Some(entity.to_vec());
        record.append_to(&mut self.batch);
        split
    }

    /// Pushes `record`, handing a full batch over; why not, when its
    /// entity was handed over already.
    fn offer(
        &mut self,
        record: &impl Splittable,
        hand_over: &dyn Fn(RecordBatch),
    ) -> Option<WholeReason> {
        match self.push(record) {
            Split::Same => None,
            Split::Full(batch) => {
                hand_over(batch);
                None
            }
            Split::NotGrouped(reason) => Some(reason),
        }
    }

    /// The batch being filled, its entities marked as handed over.
    fn take(&mut self) -> RecordBatch {
        self.handed_over.extend(self.filling.drain());
        let next = RecordBatch::with_room_of(&self.batch);
        std::mem::replace(&mut self.batch, next)
    }

    fn finish(self) -> Option<RecordBatch> {
        (!self.batch.is_empty()).then_some(self.batch)
    }
}

/// Evaluated batches by sequence number, filled from any thread, taken in order.
#[derive(Default)]
struct Pieces(Mutex<PieceQueue>);

#[derive(Default)]
struct PieceQueue {
    /// Pieces from sequence number `taken` on (`None`: not done yet).
    waiting: VecDeque<Option<Piece>>,
    /// How many were taken.
    taken: usize,
}

impl Pieces {
    fn reserve(&self) -> usize {
        let mut queue = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        queue.waiting.push_back(None);
        queue.taken + queue.waiting.len() - 1
    }

    fn fill(&self, seq: usize, piece: Piece) {
        let mut queue = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let at = seq - queue.taken;
        queue.waiting[at] = Some(piece);
    }

    /// The pieces done, in order, up to the first not done yet.
    fn ready(&self) -> Vec<Piece> {
        let mut queue = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut ready = Vec::new();
        while let Some(Some(_)) = queue.waiting.front() {
            ready.extend(queue.waiting.pop_front().flatten());
        }
        queue.taken += ready.len();
        ready
    }
}

/// A count of batches read but not yet evaluated, bounded.
struct Ahead {
    count: Mutex<usize>,
    changed: Condvar,
    limit: usize,
}

impl Ahead {
    fn new(limit: usize) -> Self {
        Self {
            count: Mutex::new(0),
            changed: Condvar::new(),
            limit: limit.max(1),
        }
    }

    /// Waits until fewer than `limit` batches are ahead, then counts one more.
    fn acquire(&self) {
        let mut count = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        while *count >= self.limit {
            count = self
                .changed
                .wait(count)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *count += 1;
    }

    fn release(&self) {
        let mut count = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        *count -= 1;
        self.changed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The entities of each batch a splitter of `max_records` cuts `rows`
    /// (`entity,value` lines) into, or why it gave up.
    fn split(rows: &str, max_records: usize) -> Result<Vec<String>, WholeReason> {
        let records = RecordBatch::from_unquoted(rows.as_bytes().to_vec(), b',', 2);
        let mut splitter = Splitter::new(0, max_records, usize::MAX);
        let mut batches = Vec::new();
        let entities = |batch: &RecordBatch| {
            let names: Vec<String> = batch
                .records()
                .map(|r| String::from_utf8_lossy(r.field(0)).into_owned())
                .collect();
            names.join(" ")
        };
        for record in records.records() {
            match splitter.push(&record) {
                Split::Same => {}
                Split::Full(batch) => batches.push(entities(&batch)),
                Split::NotGrouped(reason) => return Err(reason),
            }
        }
        batches.extend(splitter.finish().as_ref().map(entities));
        Ok(batches)
    }

    #[test]
    fn batches_end_at_entity_boundaries_once_full() {
        let rows = "A,1\nA,2\nA,3\nB,1\nC,1\nC,2\n D ,1\n";
        assert_eq!(split(rows, 2).unwrap(), ["A A A", "B C C", " D "]);
        assert_eq!(split(rows, 100).unwrap(), ["A A A B C C  D "]);
    }

    #[test]
    fn an_entity_may_come_back_within_its_batch() {
        let rows = "A,1\nB,1\nA,2\nC,1\nC,2\n";
        assert_eq!(split(rows, 3).unwrap(), ["A B A", "C C"]);
    }

    #[test]
    fn an_entity_back_after_its_batch_was_handed_over_stops_the_split() {
        let rows = "A,1\nA,2\nB,1\nA,3\n";
        assert_eq!(
            split(rows, 2),
            Err(WholeReason::NotGrouped {
                entity: "A".into(),
                line: 5,
                first_line: 2
            })
        );
        assert_eq!(
            WholeReason::NotGrouped {
                entity: "A".into(),
                line: 5,
                first_line: 2
            }
            .to_string(),
            "entity `A` appears again on line 5 after other entities (first on line 2): the file is not grouped by entity, so it was read whole and memory grows with the file; sort it by entity to stream it"
        );
    }
}

#[cfg(test)]
mod chunk_tests {
    use proptest::prelude::*;

    use super::*;
    use crate::compile::compile;
    use crate::data::records::{each_record, open_csv};
    use crate::evaluate::read::read_data_from;
    use crate::pack::RulePack;
    use crate::source::SourceFile;

    /// A wide pack reading fields separated by `delimiter`: a ratio (an
    /// error where `b` is zero) and `a` negated.
    fn rules(delimiter: u8) -> CompiledRuleSet {
        let d = char::from(delimiter);
        let manifest = format!(
            r#"[pack]
id = "chunks"
version = "1"
[data]
entity = "entity"
delimiter = "{d}"
dimensions = ["segment"]
[fields]
a = "a"
b = "b"
[[indicator]]
id = "ratio"
formula = "a / b"
[[indicator]]
id = "negated"
formula = "-a"
"#
        );
        let pack = RulePack::from_sources(SourceFile::new("pack.toml", manifest), vec![]).unwrap();
        let rules = compile(pack, &[]).unwrap();
        assert_eq!(rules.pack.data_shape().delimiter, delimiter);
        rules
    }

    fn cells(results: &ResultSet) -> Vec<String> {
        results
            .cells()
            .map(|(_, row, _, indicator, cell)| format!("{row:?} {} {cell:?}", indicator.id))
            .collect()
    }

    /// A wide CSV text: per row an entity (in runs, maybe coming back), a
    /// segment that may be quoted over lines, `a` and `b` of some kind, a
    /// line end and blank lines; then raw bytes (a quote left open…).
    fn text(d: char, rows: &[(u8, u8, u8, u8, u8)], tail: &[u8]) -> Vec<u8> {
        let mut text = format!("entity{d}segment{d}a{d}b\n").into_bytes();
        for &(entity, run, kind, end, blanks) in rows {
            let end = ["\n", "\n", "\r\n", "\r"][usize::from(end % 4)];
            for i in 0..run {
                let entity = ["A", " B", "\"C\"", "D\"d", "\"E\nF\""][usize::from(entity % 5)];
                let (segment, a, b) = match (kind + i) % 8 {
                    0 => ("s", "1".to_owned(), "2".to_owned()),
                    1 => ("\"s\r\nt\"", "-3.5".to_owned(), "0".to_owned()),
                    2 => ("s", "x".to_owned(), "4".to_owned()),
                    3 => ("\"s\"\"\"", String::new(), "7".to_owned()),
                    4 => ("t", format!("\"1{d}5\""), "1".to_owned()),
                    5 => ("s", "2".to_owned(), format!("3{d}9")),
                    6 => ("", "10".to_owned(), "4".to_owned()),
                    _ => ("u", "8".to_owned(), "2".to_owned()),
                };
                text.extend_from_slice(format!("{entity}{d}{segment}{d}{a}{d}{b}{end}").as_bytes());
                text.extend_from_slice(end.repeat(usize::from(blanks)).as_bytes());
            }
        }
        text.extend_from_slice(tail);
        text
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn streaming_in_small_chunks_gives_what_reading_whole_gives(
            semicolon in any::<bool>(),
            rows in prop::collection::vec((0u8..5, 1u8..5, 0u8..8, 0u8..4, 0u8..2), 0..25),
            tail in prop::collection::vec(prop::sample::select(b"\"\n\r,;A1 ".to_vec()), 0..5),
            size in 1usize..160,
            threads in 1usize..3,
        ) {
            let delimiter = if semicolon { b';' } else { b',' };
            let rules = rules(delimiter);
            let text = text(char::from(delimiter), &rows, &tail);
            let whole = read_data_from(&rules, &mut &text[..], "d.csv");
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let mut parts: Vec<ResultSet> = Vec::new();
            let streamed = pool.install(|| stream_csv(&rules, &text[..], "d.csv", size, &mut parts));
            match (streamed, whole) {
                (Ok(Streamed::Done(done)), Ok(table)) => {
                    let results = ResultSet::concat(rules.pack.clone(), parts);
                    prop_assert_eq!(cells(&results), cells(&evaluate(&rules, &table)));
                    let warnings: Warnings = table.warnings().iter().cloned().collect();
                    prop_assert_eq!(done.warnings, warnings);
                }
                // Then `evaluate_file` reads it whole, whatever that gives.
                (Ok(Streamed::Whole(WholeReason::NotGrouped { entity, line, first_line })), _) => {
                    // The entity is on both lines, with another between them.
                    let (mut csv, _) = open_csv(&text[..], "d.csv", rules.pack.data_shape()).unwrap();
                    let mut records = Vec::new();
                    // Those before a quote left open, if one is.
                    let _ = each_record(&mut csv, "d.csv", |r| {
                        let name = String::from_utf8_lossy(r.get(0).unwrap_or_default().trim_ascii());
                        records.push((r.position().unwrap().line(), name.into_owned()));
                        Ok(None::<()>)
                    });
                    // Its first record is on `first_line`; one on `line` comes after another entity's.
                    let first = records.iter().position(|r| r.1 == entity);
                    prop_assert_eq!(first.map(|f| records[f].0), Some(first_line), "{:?}", records);
                    let first = first.unwrap_or_default();
                    let other = records[first..].iter().position(|r| r.1 != entity).map_or(records.len(), |o| first + o);
                    prop_assert!(
                        records[other..].iter().any(|r| *r == (line, entity.clone())),
                        "`{}` back on line {}: {:?}", entity, line, records
                    );
                }
                (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
                (a, b) => prop_assert!(false, "streamed {:?}, whole {:?}", a.map(|_| ()), b.map(|_| ())),
            }
        }
    }
}
