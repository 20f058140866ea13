//! Noticing a quoted CSV field that is still open at the end of the input.
//! The `csv` crate ends such a field at the end of the file without a word,
//! so one stray quote would turn the rest of the file into one entity name;
//! [`QuoteCheck`] follows the quoting as the bytes go by (only quotes are
//! looked at, found with `memchr`) so the reader can refuse the file.

use std::io::{self, Read};

use crate::csv_input::DataError;

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
}

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
        }
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
        self.offset += bytes.len() as u64;
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
