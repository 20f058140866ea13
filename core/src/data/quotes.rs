//! Noticing a quoted CSV field that is still open at the end of the input.
//! The `csv` crate ends such a field at the end of the file without a word,
//! so one stray quote would turn the rest of the file into one entity name;
//! [`QuoteCheck`] follows the quoting as the bytes go by (only quotes are
//! looked at, found with `memchr`) so the reader can refuse the file.
//!
//! It also notes where lines end, so a record can be given the line it is
//! really on: the `csv` crate dates a record from where it began looking for
//! it, which is before any blank lines above it, and, in a file with CRLF
//! line ends, before the previous record's `\n` — one line too early.

use std::collections::VecDeque;
use std::io::{self, Read};

use crate::data::error::DataError;

/// Where the bytes seen so far leave the CSV quoting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Outside any quoted field.
    Outside,
    /// Inside a quoted field.
    Inside,
    /// Inside a quoted field, just after a quote: it closes the field
    /// unless the next byte is a quote too (`""`, an escaped quote).
    QuoteInside,
}

/// A reader that passes its input through unchanged and follows the CSV
/// quoting as the `csv` crate reads it (a quote opens a field only at its
/// start; `""` inside is a quote), to tell at the end whether a quoted
/// field never closed.
///
/// ```
/// use semaforo_core::QuoteCheck;
/// use std::io::Read;
/// let mut input = QuoteCheck::new("entity,a\n\"X,1\nY,2\n".as_bytes(), b',');
/// std::io::copy(&mut input, &mut std::io::sink()).unwrap();
/// assert!(input.open_at_end());
/// let mut fine = QuoteCheck::new("entity,a\n\"X \"\"1\"\"\",1\nY\",2\n".as_bytes(), b',');
/// std::io::copy(&mut fine, &mut std::io::sink()).unwrap();
/// assert!(!fine.open_at_end());
/// ```
#[derive(Debug)]
pub struct QuoteCheck<R> {
    inner: R,
    delimiter: u8,
    state: State,
    /// The last byte seen (a line break before the first).
    previous: u8,
    /// Bytes seen before this read.
    offset: u64,
    /// Whether the bytes seen so far could be a UTF-8 byte-order mark,
    /// which the `csv` crate skips.
    bom: bool,
    ended: bool,
    /// Offsets of the `\n` bytes not yet counted: after the last record
    /// located, and among the last [`LINE_WINDOW`] bytes seen.
    newlines: VecDeque<u64>,
    /// `\n` bytes seen before those.
    newlines_dropped: u64,
}

/// How far back (in bytes) line ends are remembered: well past the `csv`
/// reader's buffer, so the record just read is always inside.
const LINE_WINDOW: u64 = 8 << 20;

impl<R> QuoteCheck<R> {
    /// Wraps `inner`, a CSV input whose fields are separated by `delimiter`.
    pub fn new(inner: R, delimiter: u8) -> Self {
        Self {
            inner,
            delimiter,
            state: State::Outside,
            previous: b'\n',
            offset: 0,
            bom: true,
            ended: false,
            newlines: VecDeque::new(),
            newlines_dropped: 0,
        }
    }

    /// Wraps `inner`, a piece of a CSV input that starts where a record may
    /// start (outside any quoted field, past the header) on 1-based line
    /// `line`: records are located on the lines of the whole input, and no
    /// byte-order mark is expected.
    pub fn continuing(inner: R, delimiter: u8, line: u64) -> Self {
        Self {
            bom: false,
            newlines_dropped: line.saturating_sub(1),
            ..Self::new(inner, delimiter)
        }
    }

    /// Gives `record` — just read, the `csv` reader now at `end` — the line
    /// its first field is on, counting every line break of the input.
    /// Records must be located in input order (each query counts the line
    /// breaks before it once). Left as it is when the record began before
    /// the remembered window (a single record over 8 MiB).
    pub fn locate(&mut self, record: &mut csv::ByteRecord, end: &csv::Position) {
        // The `csv` crate counts the bytes it reads, a skipped byte-order mark included.
        let Some(last_byte) = end.byte().checked_sub(1) else {
            return;
        };
        let window_start = self.offset.saturating_sub(LINE_WINDOW);
        if last_byte < window_start {
            return;
        }
        // The line of the record's last byte (its `\n`, `\r` or last character)…
        while self.newlines.front().is_some_and(|&n| n < last_byte) {
            self.newlines.pop_front();
            self.newlines_dropped += 1;
        }
        let last_line = 1 + self.newlines_dropped;
        // …less the line breaks inside its quoted fields (a field still open
        // at the end of the input may end with the input's last `\n`, which
        // is that last byte, not before it).
        let mut inside: usize = record
            .iter()
            .map(|f| memchr::memchr_iter(b'\n', f).count())
            .sum();
        if self.open_at_end() && end.byte() == self.offset && self.previous == b'\n' {
            inside = inside.saturating_sub(1);
        }
        let Some(line) = last_line.checked_sub(inside as u64) else {
            return;
        };
        let mut position = record
            .position()
            .cloned()
            .unwrap_or_else(csv::Position::new);
        position.set_line(line);
        record.set_position(Some(position));
    }

    /// The input being checked.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Whether the whole input was read and a quoted field was open at its end.
    #[must_use]
    pub fn open_at_end(&self) -> bool {
        self.ended && self.state == State::Inside
    }

    /// Refuses the input when a quoted field was open at its end; `last`
    /// is the last record the `csv` reader returned (the field that
    /// swallowed the rest of the file is its last one).
    ///
    /// # Errors
    /// [`DataError::UnterminatedQuote`], naming the line where the quote opened.
    pub fn finish(&self, last: &csv::ByteRecord, source_name: &str) -> Result<(), DataError> {
        if !self.open_at_end() {
            return Ok(());
        }
        let start = last.position().map_or(1, csv::Position::line);
        let before = last.len().saturating_sub(1);
        let breaks: usize = last
            .iter()
            .take(before)
            .map(|f| memchr::memchr_iter(b'\n', f).count())
            .sum();
        Err(DataError::UnterminatedQuote {
            source_name: source_name.to_owned(),
            line: start + breaks as u64,
        })
    }

    fn scan(&mut self, bytes: &[u8]) {
        const BOM: &[u8; 3] = b"\xEF\xBB\xBF";
        let mut at = 0;
        for (i, b) in bytes
            .iter()
            .enumerate()
            .take(3_u64.saturating_sub(self.offset) as usize)
        {
            self.bom &= BOM.get(self.offset as usize + i) == Some(b);
        }
        while at < bytes.len() {
            match self.state {
                State::Outside => {
                    let Some(found) = memchr::memchr(b'"', &bytes[at..]) else {
                        break;
                    };
                    let quote = at + found;
                    let before = if quote == 0 {
                        self.previous
                    } else {
                        bytes[quote - 1]
                    };
                    let after_bom = self.bom && self.offset + quote as u64 == 3;
                    if before == self.delimiter || before == b'\n' || before == b'\r' || after_bom {
                        self.state = State::Inside;
                    }
                    at = quote + 1;
                }
                State::Inside => {
                    let Some(found) = memchr::memchr(b'"', &bytes[at..]) else {
                        break;
                    };
                    self.state = State::QuoteInside;
                    at += found + 1;
                }
                State::QuoteInside => {
                    if bytes[at] == b'"' {
                        self.state = State::Inside;
                        at += 1;
                    } else {
                        self.state = State::Outside;
                    }
                }
            }
        }
        if let Some(&last) = bytes.last() {
            self.previous = last;
        }
        let base = self.offset;
        self.newlines
            .extend(memchr::memchr_iter(b'\n', bytes).map(|i| base + i as u64));
        self.offset += bytes.len() as u64;
        let window_start = self.offset.saturating_sub(LINE_WINDOW);
        while self.newlines.front().is_some_and(|&n| n < window_start) {
            self.newlines.pop_front();
            self.newlines_dropped += 1;
        }
    }
}

impl<R: Read> Read for QuoteCheck<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            if !buf.is_empty() {
                self.ended = true;
            }
        } else {
            self.scan(&buf[..n]);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_at_end(csv: &[u8], chunk: usize) -> bool {
        let mut check = QuoteCheck::new(csv, b';');
        let mut buf = vec![0; chunk];
        while check.read(&mut buf).unwrap() > 0 {}
        check.open_at_end()
    }

    #[test]
    fn follows_the_quoting_across_any_chunking() {
        for (csv, open) in [
            (&b"a;b\n\"x;y\";1\n"[..], false),
            (b"a;b\n\"x;y;1\n2;3\n", true),
            (b"a;b\nx\"y;1\n", false),
            (b"a;b\n\"x\"\"\";1\n", false),
            (b"a;b\n\"x\"\"", true),
            (b"a;b\n\"x\"z\"y;1\n", false),
            (b"a;b\r\"x", true),
            (b"\"a", true),
            (b"\xEF\xBB\xBF\"a\";b\n", false),
            (b"\xEF\xBB\xBF\"a;b\n", true),
            (b"a;\"\"\n", false),
            (b"a; \"b\n", false),
        ] {
            for chunk in [1, 2, 3, 64] {
                assert_eq!(
                    open_at_end(csv, chunk),
                    open,
                    "{csv:?} in chunks of {chunk}"
                );
            }
        }
    }

    #[test]
    fn not_at_end_until_the_input_is_exhausted() {
        let mut check = QuoteCheck::new(&b"\"a"[..], b',');
        let mut buf = [0; 8];
        assert_eq!(check.read(&mut buf).unwrap(), 2);
        assert!(!check.open_at_end());
        assert_eq!(check.read(&mut buf).unwrap(), 0);
        assert!(check.open_at_end());
    }
}

#[cfg(test)]
mod line_tests {
    use proptest::prelude::*;

    use crate::data::shape::DataShape;
    use crate::data::table::Table;

    /// A CSV text of `rows` (entity, a number, a text that may span lines),
    /// each preceded by its blank lines and ended by its line end, with the
    /// line each row starts on, counted independently.
    fn file(rows: &[(u8, bool, bool)]) -> (Vec<u8>, Vec<u64>) {
        let mut text = b"entity,a,note\r\n".to_vec();
        let mut line = 2;
        let mut starts = Vec::new();
        for (i, &(blanks, crlf, multiline)) in rows.iter().enumerate() {
            let end: &[u8] = if crlf { b"\r\n" } else { b"\n" };
            for _ in 0..blanks {
                text.extend_from_slice(end);
                line += 1;
            }
            starts.push(line);
            let note = if multiline { "\"one\ntwo\"" } else { "x" };
            text.extend_from_slice(format!("E{i},{i},{note}").as_bytes());
            text.extend_from_slice(end);
            line += 1 + u64::from(multiline);
        }
        (text, starts)
    }

    proptest! {
        #[test]
        fn every_row_is_on_the_line_it_is_written_on(
            rows in prop::collection::vec((0u8..4, any::<bool>(), any::<bool>()), 1..40)
        ) {
            let (text, starts) = file(&rows);
            let shape = DataShape {
                text_columns: vec!["note".to_owned()],
                ..DataShape::default()
            };
            let table = Table::from_csv_reader(&text[..], "d.csv", &shape).unwrap();
            let lines: Vec<u64> = (0..table.len()).map(|row| table.line(row)).collect();
            prop_assert_eq!(lines, starts);
        }
    }

    #[test]
    fn crlf_and_blank_lines_do_not_shift_lines() {
        let (text, starts) = file(&[
            (0, true, false),
            (3, true, false),
            (2, false, true),
            (0, false, false),
        ]);
        assert_eq!(starts, [2, 6, 9, 11]);
        let table = Table::from_csv_reader(
            &text[..],
            "d.csv",
            &DataShape {
                text_columns: vec!["note".to_owned()],
                ..DataShape::default()
            },
        )
        .unwrap();
        assert_eq!((0..4).map(|r| table.line(r)).collect::<Vec<_>>(), starts);
    }
}
