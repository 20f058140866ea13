//! Source files of a rule pack and the locations inside them.
//!
//! Locations are stored as byte spans; line and column are computed only when
//! a location is rendered (see [`SourceFile::line_col`]).

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// One file that went into a rule pack, with its full text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    path: PathBuf,
    text: String,
    /// Byte offset of each line's start, computed on first use, so locating
    /// many diagnostics in one large file costs a search each, not a scan.
    line_starts: OnceLock<Vec<usize>>,
}

impl PartialEq for SourceFile {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path && self.text == other.text
    }
}

impl Eq for SourceFile {}

impl SourceFile {
    /// Wraps a file's path and text.
    ///
    /// ```
    /// use semaforo_core::SourceFile;
    /// let file = SourceFile::new("pack.toml", "a = 1\nb = 2\n");
    /// assert_eq!(file.line_col(6), (2, 1));
    /// ```
    #[must_use]
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
            line_starts: OnceLock::new(),
        }
    }

    /// The path the file was read from, as given to the loader.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's text.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// 1-based line and column (in characters) of a byte offset.
    #[must_use]
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        // The last line starting at or before the offset.
        let index = starts.partition_point(|&start| start <= offset) - 1;
        let line_start = starts[index];
        let column = self.text[line_start..offset].chars().count() + 1;
        (index + 1, column)
    }

    /// Byte offset of a 1-based line and column (in characters), clamped to the file.
    #[must_use]
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        offset_in(&self.text, line, column)
    }
}

/// Byte offset of a 1-based line and column (in characters) in `text`, clamped.
pub(crate) fn offset_in(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let line_text = &text[start..];
    let line_end = line_text.find('\n').unwrap_or(line_text.len());
    line_text[..line_end]
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(start + line_end, |(i, _)| start + i)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// A span inside one source file of a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file the span is in.
    pub file: Arc<SourceFile>,
    /// Byte range inside the file's text.
    pub span: Range<usize>,
}

impl Location {
    /// 1-based line and column where the span starts.
    #[must_use]
    pub fn line_col(&self) -> (usize, usize) {
        self.file.line_col(self.span.start)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line, column) = self.line_col();
        write!(f, "{}:{line}:{column}", self.file.path().display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let file = SourceFile::new("p.toml", "name = \"Cumplió\"\nx = 1");
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(18), (2, 1));
        // "ó" is two bytes; the closing quote is the 16th character.
        assert_eq!(file.line_col(16), (1, 16));
    }

    #[test]
    fn offset_of_inverts_line_col() {
        let file = SourceFile::new("p.toml", "a\nbó c\n");
        let offset = file.offset_of(2, 3);
        assert_eq!(&file.text()[offset..], " c\n");
        assert_eq!(file.line_col(offset), (2, 3));
    }
}
