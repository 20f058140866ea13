//! [`DataError`]: why a data file could not be read at all, for every reader.

/// Why a data file could not be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{source_name}: {error}")]
    Io {
        /// The file.
        source_name: String,
        /// The I/O error.
        #[source]
        error: std::io::Error,
    },
    /// The CSV could not be parsed.
    #[error("{source_name}:{line}: {message}")]
    Csv {
        /// The file.
        source_name: String,
        /// 1-based line.
        line: u64,
        /// What the CSV reader said.
        message: String,
    },
    /// A key column the pack needs is not in the header.
    #[error(
        "{source_name}:1: the header has no `{column}` column, which the pack's [data] section names as the {role}"
    )]
    MissingKeyColumn {
        /// The file.
        source_name: String,
        /// The missing header.
        column: String,
        /// `entity` or `period`.
        role: &'static str,
    },
    /// A column the pack reads is named twice in the header.
    #[error(
        "{source_name}:1:{second}: the header has `{column}` twice, in columns {first} and {second} ({source_name}:1:{first} and {source_name}:1:{second}); the pack reads `{column}` and will not guess which one is meant: rename or remove one of them"
    )]
    DuplicateColumn {
        /// The file.
        source_name: String,
        /// The repeated header.
        column: String,
        /// 1-based column of its first appearance.
        first: usize,
        /// 1-based column of its second appearance.
        second: usize,
    },
    /// A quoted field is still open at the end of the file.
    #[error(
        "{source_name}:{line}: a quoted field opened on this line is never closed, so everything after it to the end of the file would be one field: close the quote (a quote inside a quoted field is written twice, `\"\"`)"
    )]
    UnterminatedQuote {
        /// The file.
        source_name: String,
        /// 1-based line where the quote opened.
        line: u64,
    },
}

impl DataError {
    /// A `csv` crate error reading `source_name`: an I/O error, or a CSV
    /// one with its line.
    #[must_use]
    pub fn from_csv(error: csv::Error, source_name: &str) -> Self {
        let line = error.position().map_or(0, csv::Position::line);
        let message = error.to_string();
        match error.into_kind() {
            csv::ErrorKind::Io(error) => Self::Io {
                source_name: source_name.to_owned(),
                error,
            },
            _ => Self::Csv {
                source_name: source_name.to_owned(),
                line,
                message,
            },
        }
    }
}
