//! A CSV file cut into chunks of whole entities, cheaply, so that the
//! records can be read out of them on any thread. The reading thread only
//! reads bytes, looks for a `"` (`memchr`), walks back over the last
//! entity's lines to cut the chunk where that entity starts, and counts the
//! chunk's line breaks; a chunk with quotes is cut at records the `csv`
//! crate finds. [`Chunk::records`] then reads a chunk's records as the `csv`
//! crate with a [`QuoteCheck`] reads them from the whole file (see
//! [`open_csv`] and [`each_record`]): each record on its line, a quote
//! still open at the end of the file an error at its line.

use std::io::Read;

use crate::data::error::DataError;
use crate::data::quotes::QuoteCheck;
use crate::data::records::{RecordBatch, each_record, open_csv};
use crate::data::shape::DataShape;

/// The chunks of a CSV file after its header, in file order.
pub(crate) struct Chunks<R> {
    input: R,
    /// Bytes read and not handed over yet; they start where a record may
    /// start, at the first line of an entity.
    pending: Vec<u8>,
    /// The line of `pending`'s first byte.
    line: u64,
    /// Whether `input` has nothing more.
    ended: bool,
    delimiter: u8,
    /// The size a chunk is cut at, at the latest entity boundary before it.
    size: usize,
    source: String,
}

/// Whole records of a CSV file, from the start of an entity's first
/// record to the end of the last record of an entity.
#[derive(Debug)]
pub(crate) struct Chunk {
    text: Vec<u8>,
    /// The line of the first byte of `text`.
    first_line: u64,
    delimiter: u8,
}

/// Reads `input`'s header, as [`open_csv`] does, and gets ready to cut the
/// rest into chunks of about `size` bytes.
///
/// # Errors
/// Those of [`open_csv`]; when nothing follows the header, those of
/// reading the records after it ([`each_record`]: a quote left open).
pub(crate) fn open_chunks<R: Read>(
    mut input: R,
    source: &str,
    shape: &DataShape,
    size: usize,
) -> Result<(Vec<String>, Chunks<R>), DataError> {
    let size = size.max(1);
    let mut pending = Vec::new();
    let mut want = size;
    loop {
        let ended = fill(&mut input, &mut pending, want, source)?;
        let (mut csv, header) = open_csv(&pending[..], source, shape)?;
        let end = usize::try_from(csv.position().byte()).unwrap_or(usize::MAX);
        // The header is known whole once a byte follows it, or the file ended.
        if end < pending.len() || ended {
            if end >= pending.len() {
                each_record(&mut csv, source, |_| Ok(None::<()>))?;
            }
            let end = end.min(pending.len());
            let line = 1 + line_breaks(&pending[..end]);
            pending.drain(..end);
            let chunks = Chunks {
                input,
                pending,
                line,
                ended,
                delimiter: shape.delimiter,
                size,
                source: source.to_owned(),
            };
            return Ok((header, chunks));
        }
        want = pending.len().saturating_mul(2);
    }
}

/// Reads `input` until `buf` holds `upto` bytes; whether the input ended first.
fn fill(
    input: &mut impl Read,
    buf: &mut Vec<u8>,
    upto: usize,
    source: &str,
) -> Result<bool, DataError> {
    let Some(want) = upto.checked_sub(buf.len()).filter(|&w| w > 0) else {
        return Ok(false);
    };
    buf.reserve(want);
    let read = input
        .take(want as u64)
        .read_to_end(buf)
        .map_err(|error| DataError::Io {
            source_name: source.to_owned(),
            error,
        })?;
    Ok(read < want)
}

fn line_breaks(text: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', text).count() as u64
}

impl<R: Read> Chunks<R> {
    /// The next chunk, cut after the last whole entity of field
    /// `entity_at` (trimmed) that fits the chunk size; an entity longer
    /// than that makes the chunk as long as the entity. `None` at the end.
    ///
    /// # Errors
    /// When the input cannot be read.
    pub(crate) fn next(&mut self, entity_at: usize) -> Result<Option<Chunk>, DataError> {
        let mut want = self.size;
        loop {
            if !self.ended {
                self.ended = fill(&mut self.input, &mut self.pending, want, &self.source)?;
            }
            if self.pending.is_empty() {
                return Ok(None);
            }
            // At the end, what is left is one chunk unless it is too long.
            let cut = if self.ended && self.pending.len() <= self.size {
                None
            } else if memchr::memchr(b'"', &self.pending).is_none() {
                unquoted_cut(&self.pending, self.delimiter, entity_at)
            } else {
                quoted_cut(&self.pending, self.delimiter, entity_at)
            };
            if cut.is_none() && self.ended {
                let text = std::mem::take(&mut self.pending);
                return Ok(Some(self.chunk(text)));
            }
            if let Some(cut) = cut {
                let mut rest = Vec::with_capacity(self.size.max(self.pending.len() - cut));
                rest.extend_from_slice(&self.pending[cut..]);
                let mut text = std::mem::replace(&mut self.pending, rest);
                text.truncate(cut);
                return Ok(Some(self.chunk(text)));
            }
            want = self.pending.len().saturating_mul(2);
        }
    }

    fn chunk(&mut self, text: Vec<u8>) -> Chunk {
        let first_line = self.line;
        self.line += line_breaks(&text);
        Chunk {
            text,
            first_line,
            delimiter: self.delimiter,
        }
    }
}

/// Where the last entity of `text` (with no `"`) whose last record is
/// whole starts: after the line end of the record before it, of another
/// entity. `None` when no record of another entity comes before it.
fn unquoted_cut(text: &[u8], delimiter: u8, entity_at: usize) -> Option<usize> {
    // Records end at `\n` or `\r`; empty ones are not records.
    let mut end = memchr::memrchr2(b'\n', b'\r', text)?;
    let mut last: Option<&[u8]> = None;
    loop {
        let start = memchr::memrchr2(b'\n', b'\r', &text[..end]).map_or(0, |i| i + 1);
        if start < end {
            let entity = nth_field(&text[start..end], delimiter, entity_at);
            match last {
                None => last = Some(entity),
                Some(last) if last != entity => return Some(end + 1),
                Some(_) => {}
            }
        }
        end = start.checked_sub(1)?;
    }
}

/// Field `at` of an unquoted record, trimmed; empty past its end.
fn nth_field(record: &[u8], delimiter: u8, at: usize) -> &[u8] {
    let mut rest = record;
    for _ in 0..at {
        match memchr::memchr(delimiter, rest) {
            Some(i) => rest = &rest[i + 1..],
            None => return &[],
        }
    }
    let end = memchr::memchr(delimiter, rest).unwrap_or(rest.len());
    rest[..end].trim_ascii()
}

/// [`unquoted_cut`] for a text with quotes: its records found by the `csv`
/// crate; the last one may be cut short by the end of `text`, so it does
/// not count.
fn quoted_cut(text: &[u8], delimiter: u8, entity_at: usize) -> Option<usize> {
    let mut csv = reader(after_cr(text), delimiter);
    let mut record = csv::ByteRecord::new();
    // The entity of the last record read (maybe cut short) and where that
    // record starts, once one is read.
    let mut previous: Option<(Vec<u8>, usize)> = None;
    // The entity of the last whole record, and where its run of records starts.
    let mut run: Option<(Vec<u8>, usize)> = None;
    while csv.read_byte_record(&mut record).ok()? {
        let start = record.position().map_or(0, csv::Position::byte);
        // Less the `\r` put before the text.
        let start = usize::try_from(start).ok()?.saturating_sub(1);
        let entity = record.get(entity_at).unwrap_or_default().trim_ascii();
        match &mut previous {
            Some((last, at)) => {
                if run.as_ref().is_none_or(|(entity, _)| entity != last) {
                    run = Some((last.clone(), *at));
                }
                last.clear();
                last.extend_from_slice(entity);
                *at = start;
            }
            None => previous = Some((entity.to_vec(), start)),
        }
    }
    run.map(|(_, at)| at).filter(|&at| at > 0)
}

/// `text`, which starts where a record may start, after a `\r`: a blank
/// line to the `csv` crate and no line to [`QuoteCheck`]. The crate skips a
/// byte-order mark at the very start of its input, which `text` is not.
fn after_cr(text: &[u8]) -> std::io::Chain<&'static [u8], &[u8]> {
    (&b"\r"[..]).chain(text)
}

/// A `csv` reader of records (no header) as [`open_csv`]'s reads them.
fn reader<R: Read>(input: R, delimiter: u8) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .delimiter(delimiter)
        .from_reader(input)
}

impl Chunk {
    /// The chunk's records, each on its line of the file, and whether the
    /// file can be read to their end: [`DataError::UnterminatedQuote`] when
    /// the chunk is the file's last and ends inside a quoted field (the
    /// records up to it are read all the same).
    ///
    /// A chunk without `"` is cut into records where it is held (see
    /// [`RecordBatch::from_unquoted`]); one with quotes is read by the
    /// `csv` crate.
    pub(crate) fn records(self, source: &str) -> (RecordBatch, Result<(), DataError>) {
        if memchr::memchr(b'"', &self.text).is_none() {
            let batch = RecordBatch::from_unquoted(self.text, self.delimiter, self.first_line);
            return (batch, Ok(()));
        }
        let check = QuoteCheck::continuing(after_cr(&self.text), self.delimiter, self.first_line);
        let mut csv = reader(check, self.delimiter);
        let mut batch = RecordBatch::default();
        let read = each_record(&mut csv, source, |record| {
            batch.push(record);
            Ok(None::<()>)
        });
        (batch, read.map(|_| ()))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::data::shape::DataShape;

    /// A record as read: its line and fields.
    type Read = (u64, Vec<Vec<u8>>);
    /// A file as read: header, records (per chunk or all), the error at the end.
    type File<R> = Result<(Vec<String>, R, Option<String>), String>;

    /// `text` read as today's whole-file reader reads it: header, records,
    /// and the error at the end, if any.
    fn whole(text: &[u8], shape: &DataShape) -> File<Vec<Read>> {
        let (mut csv, header) = open_csv(text, "d.csv", shape).map_err(|e| e.to_string())?;
        let mut records = Vec::new();
        let end = each_record(&mut csv, "d.csv", |record| {
            let line = record.position().map_or(0, csv::Position::line);
            records.push((line, record.iter().map(<[u8]>::to_vec).collect()));
            Ok(None::<()>)
        });
        Ok((header, records, end.err().map(|e| e.to_string())))
    }

    /// `text` cut into chunks of `size` at entities of field `entity_at`,
    /// each chunk's records read: header, records per chunk, the error.
    fn chunked(
        text: &[u8],
        shape: &DataShape,
        size: usize,
        entity_at: usize,
    ) -> File<Vec<Vec<Read>>> {
        let (header, mut chunks) =
            open_chunks(text, "d.csv", shape, size).map_err(|e| e.to_string())?;
        let mut all = Vec::new();
        let mut error = None;
        while let Some(chunk) = chunks.next(entity_at).map_err(|e| e.to_string())? {
            prop_assert_no_error(error.as_ref());
            let (batch, read) = chunk.records("d.csv");
            all.push(
                batch
                    .records()
                    .map(|r| {
                        (
                            r.line(),
                            (0..r.len()).map(|f| r.field(f).to_vec()).collect(),
                        )
                    })
                    .collect(),
            );
            error = read.err().map(|e| e.to_string());
        }
        Ok((header, all, error))
    }

    /// Only the last chunk may end in an error.
    fn prop_assert_no_error(error: Option<&String>) {
        assert!(error.is_none(), "an error before the last chunk: {error:?}");
    }

    /// A CSV text: a header, then per row an entity (of a few, in runs),
    /// a value of some kind, a line end and blank lines; then a tail of
    /// raw bytes (quotes left open, a lone `\r`, a byte-order mark).
    fn text(
        delimiter: u8,
        crlf_header: bool,
        rows: &[(u8, u8, u8, u8, u8)],
        tail: &[u8],
    ) -> Vec<u8> {
        let d = char::from(delimiter);
        let mut text = format!("entity{d}value{d}note").into_bytes();
        text.extend_from_slice(if crlf_header { b"\r\n" } else { b"\n" });
        for &(entity, run, value, end, blanks) in rows {
            let end: &[u8] = match end % 4 {
                0 | 1 => b"\n",
                2 => b"\r\n",
                _ => b"\r",
            };
            for _ in 0..run {
                let entity =
                    [" A", "B ", "C", "\u{feff}D", "\"E\"", "\"F\nG\""][usize::from(entity % 6)];
                let value = match value % 10 {
                    0 => "1".to_owned(),
                    1 => String::new(),
                    2 => format!("\"1{d}5\""),
                    3 => "\"x\"\"y\"".to_owned(),
                    4 => "\"two\r\nlines\"".to_owned(),
                    5 => "x\"y".to_owned(),
                    6 => format!("7{d}8{d}9"),
                    7 => format!("\"\"{d}"),
                    _ => "-2.5".to_owned(),
                };
                text.extend_from_slice(format!("{entity}{d}{value}").as_bytes());
                text.extend_from_slice(end);
                for _ in 0..blanks {
                    text.extend_from_slice(end);
                }
            }
        }
        text.extend_from_slice(tail);
        text
    }

    fn tail_byte() -> impl Strategy<Value = u8> {
        prop::sample::select(vec![
            b'"', b'\n', b'\r', b',', b';', b'A', b' ', 0xEF, 0xBB, 0xBF,
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn chunks_read_what_the_whole_file_reads(
            semicolon in any::<bool>(),
            crlf_header in any::<bool>(),
            rows in prop::collection::vec((0u8..6, 1u8..5, 0u8..10, 0u8..4, 0u8..2), 0..30),
            tail in prop::collection::vec(tail_byte(), 0..6),
            size in 1usize..200,
            entity_at in 0usize..3,
        ) {
            let delimiter = if semicolon { b';' } else { b',' };
            let shape = DataShape { delimiter, ..DataShape::default() };
            let text = text(delimiter, crlf_header, &rows, &tail);
            let expected = whole(&text, &shape);
            let got = chunked(&text, &shape, size, entity_at);
            match (expected, got) {
                (Ok((header, records, error)), Ok((chunk_header, chunks, chunk_error))) => {
                    prop_assert_eq!(chunk_header, header);
                    let entity = |r: &Read| r.1.get(entity_at).map_or(&[][..], |f| f.trim_ascii()).to_vec();
                    // Each chunk but the last ends where an entity does.
                    for pair in chunks.windows(2) {
                        if let (Some(last), Some(first)) = (pair[0].last(), pair[1].first()) {
                            prop_assert_ne!(entity(last), entity(first));
                        }
                        prop_assert!(!pair[0].is_empty() && !pair[1].is_empty());
                    }
                    prop_assert_eq!(chunks.concat(), records);
                    prop_assert_eq!(chunk_error, error);
                }
                (Err(a), Err(b)) => prop_assert_eq!(a, b),
                (a, b) => prop_assert!(false, "whole {:?}, chunked {:?}", a, b),
            }
        }
    }

    #[test]
    fn an_entity_longer_than_a_chunk_makes_the_chunk_longer() {
        let text = b"e,v\nA,1\nA,2\nA,3\nA,4\nB,1\nB,2\nC,1\n";
        let (_, mut chunks) = open_chunks(&text[..], "d.csv", &DataShape::default(), 4).unwrap();
        let mut cut = Vec::new();
        while let Some(chunk) = chunks.next(0).unwrap() {
            cut.push((chunk.first_line, String::from_utf8(chunk.text).unwrap()));
        }
        assert_eq!(
            cut,
            [
                (2, "A,1\nA,2\nA,3\nA,4\nB,1\nB,2\n".to_owned()),
                (8, "C,1\n".to_owned())
            ]
        );
    }

    #[test]
    fn a_quote_open_at_the_end_is_an_error_at_its_line() {
        let text = b"e,v\nA,1\nB,2\nC,\"3\n\nD,4\n";
        let (_, mut chunks) = open_chunks(&text[..], "d.csv", &DataShape::default(), 8).unwrap();
        let mut last = None;
        while let Some(chunk) = chunks.next(0).unwrap() {
            last = Some(chunk.records("d.csv"));
        }
        let (batch, read) = last.unwrap();
        assert_eq!(batch.record(batch.len() - 1).field(0), b"C");
        assert_eq!(
            read.unwrap_err().to_string(),
            "d.csv:4: ".to_owned() + &whole(text, &DataShape::default()).unwrap().2.unwrap()[9..]
        );
    }
}
