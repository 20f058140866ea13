//! Records held as bytes: a batch of rows kept in one buffer, so a reader
//! can hand a few thousand rows to another thread without an allocation per
//! row or per field. CSV fields are text; a spreadsheet's or a JSON body's
//! numbers are held typed, as the exact decimal the source stores, and read
//! as they are — never written as text in a locale and parsed back.

use std::borrow::Cow;
use std::collections::HashMap;

use rust_decimal::Decimal;

use crate::data::encoding::TextEncoding;
use crate::data::error::DataError;
use crate::data::quotes::QuoteCheck;
use crate::data::shape::DataShape;
use crate::data::table::DataWarning;

/// Rows of an input as raw bytes, in input order, each field text or a
/// typed number ([`FieldValue`]).
///
/// Fields are neither trimmed nor decoded: the format that reads the batch
/// decides what a text field means. A typed number is read as it is, with
/// no number format; its bytes are the number's plain text (`-1234.5`), for
/// the readers that want a key's or a code's text.
///
/// ```
/// use semaforo_core::RecordBatch;
/// let mut csv = csv::ReaderBuilder::new().from_reader("entity,value\nA,1\nB,2\n".as_bytes());
/// let mut record = csv::ByteRecord::new();
/// let mut batch = RecordBatch::default();
/// while csv.read_byte_record(&mut record).unwrap() {
///     batch.push(&record);
/// }
/// assert_eq!(batch.len(), 2);
/// assert_eq!(batch.record(1).field(0), b"B");
/// assert_eq!(batch.record(1).line(), 3);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordBatch {
    /// Every field's bytes: one after the other, or a CSV text's bytes as
    /// they were read (delimiters and line ends between the fields).
    bytes: Vec<u8>,
    /// Start and end of each field in `bytes`.
    fields: Vec<(usize, usize)>,
    /// Per record, the index in `fields` of its first field; one more
    /// entry than records, closing the last.
    record_starts: Vec<usize>,
    /// Per record, its 1-based line in the input.
    lines: Vec<u64>,
    /// The typed numbers: index in `fields` and value, in field order
    /// (empty for CSV).
    numbers: Vec<(usize, Decimal)>,
}

/// One field of a record: text, or a number the source already typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValue<'a> {
    /// Text as the source holds it (empty for an empty cell), read with the
    /// declared number format where a number is wanted.
    Text(&'a [u8]),
    /// A number the source typed as one (a spreadsheet's number cell, a
    /// JSON number), exact.
    Number(Decimal),
}

impl RecordBatch {
    /// An empty batch with room for as much as `other` holds, so a batch
    /// like the previous one fills without growing.
    pub(crate) fn with_room_of(other: &Self) -> Self {
        Self {
            bytes: Vec::with_capacity(other.bytes.len()),
            fields: Vec::with_capacity(other.fields.len()),
            record_starts: Vec::with_capacity(other.record_starts.len()),
            lines: Vec::with_capacity(other.lines.len()),
            numbers: Vec::with_capacity(other.numbers.len()),
        }
    }

    /// Appends a record read by the `csv` crate, with its line.
    pub fn push(&mut self, record: &csv::ByteRecord) {
        if self.record_starts.is_empty() {
            self.record_starts.push(0);
        }
        for field in record {
            self.push_bytes(field);
        }
        self.record_starts.push(self.fields.len());
        self.lines
            .push(record.position().map_or(0, csv::Position::line));
    }

    /// Appends a record of typed fields at 1-based `line` of its source.
    ///
    /// ```
    /// use semaforo_core::{FieldValue, RecordBatch};
    /// let mut batch = RecordBatch::default();
    /// let amount = "1084203.65".parse().unwrap();
    /// batch.push_fields(4, [FieldValue::Text(b"A"), FieldValue::Number(amount)]);
    /// let record = batch.record(0);
    /// assert_eq!((record.line(), record.number(1)), (4, Some(amount)));
    /// assert_eq!((record.field(1), record.number(0)), (&b"1084203.65"[..], None));
    /// ```
    pub fn push_fields<'f>(&mut self, line: u64, fields: impl IntoIterator<Item = FieldValue<'f>>) {
        use std::io::Write as _;
        if self.record_starts.is_empty() {
            self.record_starts.push(0);
        }
        for field in fields {
            let start = self.bytes.len();
            match field {
                FieldValue::Text(bytes) => self.bytes.extend_from_slice(bytes),
                FieldValue::Number(value) => {
                    self.numbers.push((self.fields.len(), value));
                    // Writing to a Vec cannot fail.
                    let _ = write!(self.bytes, "{value}");
                }
            }
            self.fields.push((start, self.bytes.len()));
        }
        self.record_starts.push(self.fields.len());
        self.lines.push(line);
    }

    /// Appends a copy of `record` (of this batch or another), typed numbers kept.
    pub fn push_record(&mut self, record: &Record<'_>) {
        if self.record_starts.is_empty() {
            self.record_starts.push(0);
        }
        for i in 0..record.len() {
            if let Some(value) = record.number(i) {
                self.numbers.push((self.fields.len(), value));
            }
            // A number's text is copied too: it is written once.
            self.push_bytes(record.field(i));
        }
        self.record_starts.push(self.fields.len());
        self.lines.push(record.line());
    }

    /// Appends a copy of `field`'s bytes as the next field.
    fn push_bytes(&mut self, field: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(field);
        self.fields.push((start, self.bytes.len()));
    }

    /// The records of `text`, a piece of a CSV file without any `"` that
    /// starts where a record may start, on line `first_line`: taken as
    /// they are, without a copy. Fields end at `delimiter`, records at
    /// `\n`, `\r` or `\r\n`, and records with no byte (blank lines) are
    /// skipped but counted — as the `csv` crate reads such text after a
    /// header. A byte-order mark is a field's bytes here (the `csv` crate
    /// skips one only at the start of the file, before the header).
    ///
    /// ```
    /// use semaforo_core::RecordBatch;
    /// let batch = RecordBatch::from_unquoted(b"A;1\r\n\r\nB;;\rC\n".to_vec(), b';', 2);
    /// let rows: Vec<(u64, usize, &[u8])> =
    ///     batch.records().map(|r| (r.line(), r.len(), r.field(0))).collect();
    /// assert_eq!(rows, [(2, 2, &b"A"[..]), (4, 3, b"B"), (4, 1, b"C")]);
    /// ```
    ///
    /// # Panics
    /// In debug builds, when `text` holds a `"`.
    #[must_use]
    pub fn from_unquoted(text: Vec<u8>, delimiter: u8, first_line: u64) -> Self {
        debug_assert!(memchr::memchr(b'"', &text).is_none(), "a quote in {text:?}");
        let mut batch = Self {
            record_starts: vec![0],
            ..Self::default()
        };
        let mut line = first_line;
        let mut field_start = 0;
        // Whether the record being read has a field already (a delimiter seen).
        let mut open = false;
        let mut end_at = |at: usize, byte: u8| {
            if byte == delimiter {
                batch.fields.push((field_start, at));
                open = true;
            } else {
                if open || at > field_start {
                    batch.fields.push((field_start, at));
                    batch.record_starts.push(batch.fields.len());
                    batch.lines.push(line);
                    open = false;
                }
                line += u64::from(byte == b'\n');
            }
            field_start = at + 1;
        };
        // Fields are short: eight bytes at a time, each byte that ends a
        // field or a record marked by its high bit, beats a search per end.
        let words = text.chunks_exact(8);
        let tail = text.len() - words.remainder().len();
        let [ends_field, ends_line, ends_cr] =
            [delimiter, b'\n', b'\r'].map(|b| u64::from(b) * 0x0101_0101_0101_0101);
        for (w, word) in words.enumerate() {
            let mut bytes = [0; 8];
            bytes.copy_from_slice(word);
            let v = u64::from_le_bytes(bytes);
            let mut marks =
                zero_bytes(v ^ ends_field) | zero_bytes(v ^ ends_line) | zero_bytes(v ^ ends_cr);
            while marks != 0 {
                let at = w * 8 + (marks.trailing_zeros() / 8) as usize;
                end_at(at, text[at]);
                marks &= marks - 1;
            }
        }
        for (at, &byte) in text.iter().enumerate().skip(tail) {
            if byte == delimiter || byte == b'\n' || byte == b'\r' {
                end_at(at, byte);
            }
        }
        if open || text.len() > field_start {
            batch.fields.push((field_start, text.len()));
            batch.record_starts.push(batch.fields.len());
            batch.lines.push(line);
        }
        batch.bytes = text;
        batch
    }

    /// How many records the batch holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether the batch holds no record.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Bytes held, for sizing batches.
    #[must_use]
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// The record at `index` (in push order).
    ///
    /// # Panics
    /// When `index` is not below [`RecordBatch::len`].
    #[must_use]
    pub fn record(&self, index: usize) -> Record<'_> {
        assert!(index < self.len(), "record {index} of {}", self.len());
        Record { batch: self, index }
    }

    /// Every record, in push order.
    pub fn records(&self) -> impl ExactSizeIterator<Item = Record<'_>> {
        (0..self.len()).map(|index| Record { batch: self, index })
    }
}

/// The high bit of each byte of `v` that is zero, and no other bit.
fn zero_bytes(v: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // A byte's low seven bits plus 0x7f carry into its high bit unless
    // they are zero, and never into the next byte.
    !(((v & LOW7) + LOW7) | v | LOW7)
}

/// One record of a [`RecordBatch`].
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    batch: &'a RecordBatch,
    index: usize,
}

impl<'a> Record<'a> {
    /// The bytes of field `field`; empty when the record is shorter.
    #[must_use]
    #[inline]
    pub fn field(&self, field: usize) -> &'a [u8] {
        let batch = self.batch;
        let first = batch.record_starts[self.index];
        let end = batch.record_starts[self.index + 1];
        let at = first + field;
        if at >= end {
            return &[];
        }
        let (start, end) = batch.fields[at];
        &batch.bytes[start..end]
    }

    /// The typed number of field `field`; `None` for a text field (even
    /// one that reads as a number) and past the record's end.
    #[must_use]
    pub fn number(&self, field: usize) -> Option<Decimal> {
        let numbers = &self.batch.numbers;
        if numbers.is_empty() || field >= self.len() {
            return None;
        }
        let at = self.batch.record_starts[self.index] + field;
        numbers
            .binary_search_by_key(&at, |&(i, _)| i)
            .ok()
            .map(|i| numbers[i].1)
    }

    /// Field `field` as text or typed number (empty text past the end).
    #[must_use]
    pub fn value(&self, field: usize) -> FieldValue<'a> {
        match self.number(field) {
            Some(value) => FieldValue::Number(value),
            None => FieldValue::Text(self.field(field)),
        }
    }

    /// How many fields the record has.
    #[must_use]
    pub fn len(&self) -> usize {
        self.batch.record_starts[self.index + 1] - self.batch.record_starts[self.index]
    }

    /// Whether the record has no field.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The record's 1-based line in the input.
    #[must_use]
    pub fn line(&self) -> u64 {
        self.batch.lines[self.index]
    }
}

/// Reads the records of `csv` after its header, each at the line it is
/// written on ([`QuoteCheck::locate`]), and hands them to `each`; stops at
/// the first `Some` that `each` gives, and otherwise checks that the file
/// does not end inside a quoted field ([`QuoteCheck::finish`]).
///
/// ```
/// use semaforo_core::{QuoteCheck, each_record};
/// let text = "entity,a\nX,\"1\n2\"\nY,3\n";
/// let mut csv = csv::ReaderBuilder::new().from_reader(QuoteCheck::new(text.as_bytes(), b','));
/// let mut lines = Vec::new();
/// let stop: Option<()> = each_record(&mut csv, "d.csv", |record| {
///     lines.push(record.position().unwrap().line());
///     Ok(None)
/// })
/// .unwrap();
/// assert_eq!((stop, lines), (None, vec![2, 4]));
/// ```
///
/// # Errors
/// When the input cannot be read, ends inside a quoted field, or `each` fails.
pub fn each_record<R: std::io::Read, T>(
    csv: &mut csv::Reader<QuoteCheck<R>>,
    source: &str,
    mut each: impl FnMut(&csv::ByteRecord) -> Result<Option<T>, DataError>,
) -> Result<Option<T>, DataError> {
    let mut record = csv::ByteRecord::new();
    let mut last = csv::ByteRecord::new();
    while csv
        .read_byte_record(&mut record)
        .map_err(|e| DataError::from_csv(e, source))?
    {
        let end = csv.position().clone();
        csv.get_mut().locate(&mut record, &end);
        if let Some(stop) = each(&record)? {
            return Ok(Some(stop));
        }
        std::mem::swap(&mut record, &mut last);
    }
    csv.get_ref().finish(&last, source)?;
    Ok(None)
}

/// The read buffer of a CSV reader: large enough that the reading thread
/// makes few system calls on a gigabyte file.
const CSV_BUFFER: usize = 1 << 20;

/// A CSV reader over `input` as `shape` declares it — its delimiter,
/// records of any length, quotes followed so that one left open is an error
/// at its line (see [`each_record`]) — and the header's names decoded in
/// the declared encoding. Every CSV reader of the core and of plugins
/// starts here.
///
/// # Errors
/// When the header cannot be read, or its bytes do not fit the encoding.
pub fn open_csv<R: std::io::Read>(
    input: R,
    source: &str,
    shape: &DataShape,
) -> Result<(csv::Reader<QuoteCheck<R>>, Vec<String>), DataError> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .delimiter(shape.delimiter)
        .buffer_capacity(CSV_BUFFER)
        .from_reader(QuoteCheck::new(input, shape.delimiter));
    let header = decode_header(
        csv.byte_headers()
            .map_err(|e| DataError::from_csv(e, source))?,
        shape.encoding,
        source,
    )?;
    Ok((csv, header))
}

/// A header's names: decoded as UTF-8 (a byte that is not UTF-8 shown as
/// `\xHH`, never replaced), trimmed, without a byte-order mark.
#[must_use]
pub fn header_names(header: &csv::ByteRecord) -> Vec<String> {
    header
        .iter()
        .map(|h| {
            let text = TextEncoding::Utf8
                .decode(h)
                .map_or_else(|bad| bad.escaped, Cow::into_owned);
            text.trim_start_matches('\u{feff}').trim().to_owned()
        })
        .collect()
}

/// A header's names decoded in `encoding` (see [`header_names`]).
///
/// # Errors
/// When the file starts with a UTF-8 byte-order mark but `encoding` is
/// not UTF-8: the file says it is UTF-8, and reading it otherwise would
/// change every accented letter.
pub fn decode_header(
    header: &csv::ByteRecord,
    encoding: TextEncoding,
    source_name: &str,
) -> Result<Vec<String>, DataError> {
    if encoding == TextEncoding::Utf8 {
        return Ok(header_names(header));
    }
    if header
        .get(0)
        .is_some_and(|f| f.starts_with(b"\xEF\xBB\xBF"))
    {
        return Err(DataError::Csv {
            source_name: source_name.to_owned(),
            line: 1,
            message: format!(
                "the file starts with a UTF-8 byte-order mark, so it is UTF-8, but it is read as {}: drop the `--encoding` option or the pack's `[data] encoding`",
                encoding.name()
            ),
        });
    }
    Ok(header
        .iter()
        .map(|h| {
            encoding
                .decode(h)
                .map_or_else(|bad| bad.escaped, Cow::into_owned)
                .trim()
                .to_owned()
        })
        .collect())
}

/// Names the header holds more than once: each with the 1-based columns
/// of its first and second appearance, in header order.
#[must_use]
pub fn duplicate_headers(header: &[String]) -> Vec<(String, usize, usize)> {
    let mut first: HashMap<&str, usize> = HashMap::new();
    let mut twice = Vec::new();
    for (i, name) in header.iter().enumerate() {
        match first.get(name.as_str()) {
            Some(&at) => {
                if !twice
                    .iter()
                    .any(|(n, _, _): &(String, usize, usize)| n == name)
                {
                    twice.push((name.clone(), at + 1, i + 1));
                }
            }
            None => {
                first.insert(name, i);
            }
        }
    }
    twice
}

/// Checks a header's repeated names: one the format reads (`reads`) makes
/// the file unreadable — which column was meant is not guessed — and any
/// other is a warning.
///
/// # Errors
/// [`DataError::DuplicateColumn`] for the first repeated name the format reads.
pub fn check_duplicate_headers(
    header: &[String],
    source_name: &str,
    reads: &dyn Fn(&str) -> bool,
) -> Result<Vec<DataWarning>, DataError> {
    let mut warnings = Vec::new();
    for (column, first, second) in duplicate_headers(header) {
        if reads(&column) {
            return Err(DataError::DuplicateColumn {
                source_name: source_name.to_owned(),
                column,
                first,
                second,
            });
        }
        warnings.push(DataWarning {
            line: Some(1),
            kind: "repeated_header",
            message: format!(
                "the header has `{column}` twice, in columns {first} and {second} ({source_name}:1:{first} and {source_name}:1:{second}); the pack does not read it, so neither is used"
            ),
        });
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(csv: &str) -> RecordBatch {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(csv.as_bytes());
        let mut record = csv::ByteRecord::new();
        let mut batch = RecordBatch::default();
        while reader.read_byte_record(&mut record).unwrap() {
            batch.push(&record);
        }
        batch
    }

    #[test]
    fn fields_lines_and_short_records_read_back() {
        let batch = batch("a,b,c\n1,,3\n\"x,\ny\",2\n4,5,6,7\n");
        let rows: Vec<(u64, Vec<&[u8]>)> = batch
            .records()
            .map(|r| (r.line(), (0..4).map(|f| r.field(f)).collect()))
            .collect();
        assert_eq!(
            rows,
            [
                (2, vec![&b"1"[..], b"", b"3", b""]),
                (3, vec![&b"x,\ny"[..], b"2", b"", b""]),
                (5, vec![&b"4"[..], b"5", b"6", b"7"]),
            ]
        );
        assert_eq!(batch.record(1).len(), 2);
        assert_eq!(batch.byte_len(), 11);
        assert!(
            batch
                .records()
                .all(|r| (0..4).all(|f| r.number(f).is_none()))
        );
    }

    #[test]
    fn typed_numbers_stay_exact_and_copy_with_their_record() {
        let big: Decimal = "12345678901234567.89".parse().unwrap();
        let scaled: Decimal = "1.500".parse().unwrap();
        let mut batch = RecordBatch::default();
        batch.push_fields(7, [FieldValue::Text(b"A"), FieldValue::Number(big)]);
        batch.push_fields(
            9,
            [
                FieldValue::Number(scaled),
                FieldValue::Text(b"1,5"),
                FieldValue::Text(b""),
            ],
        );
        let second = batch.record(1);
        assert_eq!(second.value(0), FieldValue::Number(scaled));
        assert_eq!(second.field(0), b"1.500");
        assert_eq!(second.value(1), FieldValue::Text(b"1,5"));
        assert_eq!((second.number(2), second.number(3)), (None, None));
        assert_eq!(batch.record(0).number(1), Some(big));
        assert_eq!(batch.record(0).field(1), b"12345678901234567.89");
        let mut copy = RecordBatch::with_room_of(&batch);
        for record in batch.records() {
            copy.push_record(&record);
        }
        assert_eq!(copy, batch);
    }

    #[test]
    fn header_names_lose_the_bom_and_spaces() {
        let header = csv::ByteRecord::from(vec!["\u{feff}entity", " value "]);
        assert_eq!(header_names(&header), ["entity", "value"]);
        let latin1 = csv::ByteRecord::from(vec![&b"entity"[..], b"a\xf1o"]);
        assert_eq!(header_names(&latin1), ["entity", "a\\xF1o"]);
        let names = decode_header(&latin1, TextEncoding::Latin1, "d.csv").unwrap();
        assert_eq!(names, ["entity", "año"]);
        let bom = csv::ByteRecord::from(vec!["\u{feff}entity"]);
        let err = decode_header(&bom, TextEncoding::Windows1252, "d.csv").unwrap_err();
        assert_eq!(
            err.to_string(),
            "d.csv:1: the file starts with a UTF-8 byte-order mark, so it is UTF-8, but it is read as windows-1252: drop the `--encoding` option or the pack's `[data] encoding`"
        );
    }

    #[test]
    fn repeated_header_names_are_found_with_both_columns() {
        let header: Vec<String> = ["entity", "a", "b", "a", "a", "b"].map(String::from).into();
        assert_eq!(
            duplicate_headers(&header),
            [("a".to_owned(), 2, 4), ("b".to_owned(), 3, 6)]
        );
        let err = check_duplicate_headers(&header, "d.csv", &|c| c == "b").unwrap_err();
        assert_eq!(
            err.to_string(),
            "d.csv:1:6: the header has `b` twice, in columns 3 and 6 (d.csv:1:3 and d.csv:1:6); the pack reads `b` and will not guess which one is meant: rename or remove one of them"
        );
        let warnings = check_duplicate_headers(&header, "d.csv", &|_| false).unwrap();
        assert_eq!(warnings.len(), 2);
        assert_eq!(
            warnings[0].message,
            "the header has `a` twice, in columns 2 and 4 (d.csv:1:2 and d.csv:1:4); the pack does not read it, so neither is used"
        );
    }
}
