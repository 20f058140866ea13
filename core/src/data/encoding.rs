//! The text encoding of a data file: declared, never guessed, and applied
//! exactly to each field as it is read (no whole-file conversion), so
//! reading streams in any encoding. Bytes that are not valid in the
//! declared encoding are never replaced: the field is an error where it is.

use std::borrow::Cow;
use std::fmt::Write as _;

/// How the text of a data file is encoded. Declared in the pack's `[data]
/// encoding` (`"utf-8"`, the default, `"windows-1252"` or `"latin1"`) or by
/// `--encoding`.
///
/// ```
/// use semaforo_core::TextEncoding;
/// let latin1 = TextEncoding::from_name("latin1").unwrap();
/// assert_eq!(latin1.decode(b"A\xf1o").unwrap(), "Año");
/// let windows = TextEncoding::from_name("windows-1252").unwrap();
/// assert_eq!(windows.decode(b"\x80 5").unwrap(), "€ 5");
/// let bad = TextEncoding::Utf8.decode(b"A\xff").unwrap_err();
/// assert_eq!((bad.valid_up_to, bad.escaped.as_str()), (1, "A\\xFF"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TextEncoding {
    /// UTF-8 (the default); a UTF-8 byte-order mark at the start is skipped.
    #[default]
    Utf8,
    /// Windows-1252 as the WHATWG Encoding Standard defines it (what
    /// spreadsheets on Windows export as "ANSI"), decoded with `encoding_rs`.
    Windows1252,
    /// ISO-8859-1: each byte is the Unicode code point of the same number.
    Latin1,
}

/// The names a pack or flag may give, each with its encoding.
pub const ENCODING_NAMES: [(&str, TextEncoding); 3] = [
    ("utf-8", TextEncoding::Utf8),
    ("windows-1252", TextEncoding::Windows1252),
    ("latin1", TextEncoding::Latin1),
];

/// A field whose bytes are not valid in the declared encoding (only UTF-8
/// can be invalid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotDecodable {
    /// How many bytes of the field are valid before the first bad one.
    pub valid_up_to: usize,
    /// The field shown with each bad byte as `\xHH` (and `\` as `\\`), so
    /// two different byte strings never look alike.
    pub escaped: String,
}

impl TextEncoding {
    /// The encoding of a name in [`ENCODING_NAMES`] (ASCII case ignored;
    /// `utf8`, `cp1252`, `iso-8859-1` also accepted).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.trim().to_ascii_lowercase();
        let found = ENCODING_NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, e)| *e);
        found.or(match name.as_str() {
            "utf8" => Some(Self::Utf8),
            "cp1252" => Some(Self::Windows1252),
            "iso-8859-1" | "latin-1" => Some(Self::Latin1),
            _ => None,
        })
    }

    /// The encoding's name as a pack writes it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Utf8 => "utf-8",
            Self::Windows1252 => "windows-1252",
            Self::Latin1 => "latin1",
        }
    }

    /// The text of one field, borrowed when the bytes are already UTF-8
    /// text of the same characters (always for ASCII).
    ///
    /// # Errors
    /// With UTF-8, when the bytes are not valid UTF-8; the other encodings
    /// decode every byte.
    pub fn decode(self, bytes: &[u8]) -> Result<Cow<'_, str>, NotDecodable> {
        if bytes.is_ascii() {
            // Every supported encoding is ASCII-compatible.
            return Ok(Cow::Borrowed(
                std::str::from_utf8(bytes).unwrap_or_default(),
            ));
        }
        match self {
            Self::Utf8 => match std::str::from_utf8(bytes) {
                Ok(text) => Ok(Cow::Borrowed(text)),
                Err(error) => Err(NotDecodable {
                    valid_up_to: error.valid_up_to(),
                    escaped: escape_bytes(bytes),
                }),
            },
            Self::Windows1252 => {
                let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
                Ok(text)
            }
            Self::Latin1 => Ok(Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect())),
        }
    }

    /// `text` written in this encoding, so that [`TextEncoding::decode`]
    /// gives it back unchanged.
    ///
    /// ```
    /// use semaforo_core::TextEncoding;
    /// assert_eq!(*TextEncoding::Windows1252.encode("€ 5").unwrap(), *b"\x80 5");
    /// assert_eq!(*TextEncoding::Latin1.encode("Año").unwrap(), *b"A\xf1o");
    /// assert_eq!(TextEncoding::Latin1.encode("A → B").unwrap_err(), '→');
    /// ```
    ///
    /// # Errors
    /// The first character this encoding cannot write (never with UTF-8).
    pub fn encode(self, text: &str) -> Result<Cow<'_, [u8]>, char> {
        if text.is_ascii() {
            return Ok(Cow::Borrowed(text.as_bytes()));
        }
        match self {
            Self::Utf8 => Ok(Cow::Borrowed(text.as_bytes())),
            Self::Windows1252 => {
                let mut bytes = Vec::with_capacity(text.len());
                let mut one = [0; 4];
                for c in text.chars() {
                    let (encoded, _, unmappable) =
                        encoding_rs::WINDOWS_1252.encode(c.encode_utf8(&mut one));
                    if unmappable {
                        return Err(c);
                    }
                    bytes.extend_from_slice(&encoded);
                }
                Ok(Cow::Owned(bytes))
            }
            Self::Latin1 => text
                .chars()
                .map(|c| u8::try_from(u32::from(c)).map_err(|_| c))
                .collect::<Result<Vec<u8>, char>>()
                .map(Cow::Owned),
        }
    }
}

/// `bytes` as text: valid UTF-8 as is, except that `\` is written `\\`,
/// and each byte that is not valid UTF-8 as `\xHH`. Different byte
/// strings give different texts, and no replacement character appears.
#[must_use]
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02X}");
        }
    }
    out
}

/// What to tell a user whose UTF-8 file holds a byte that is not UTF-8.
pub(crate) const ENCODING_HELP: &str = "if the file was saved as Windows-1252 or Latin-1 (as spreadsheets often export), read it with `--encoding windows-1252` (or `latin1`), or declare `encoding = \"windows-1252\"` in the pack's [data] section";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_never_replaces_and_different_bytes_stay_different() {
        let a = TextEncoding::Utf8.decode(b"A\xff").unwrap_err();
        let b = TextEncoding::Utf8.decode(b"A\xfe").unwrap_err();
        assert_ne!(a.escaped, b.escaped);
        assert_eq!(escape_bytes(b"\\xFF\xff"), "\\\\xFF\\xFF");
        assert_eq!(TextEncoding::Utf8.decode("Año".as_bytes()).unwrap(), "Año");
    }

    #[test]
    fn single_byte_encodings_decode_every_byte_exactly() {
        let all: Vec<u8> = (0..=255).collect();
        let latin1 = TextEncoding::Latin1.decode(&all).unwrap();
        assert!(latin1.chars().map(u32::from).eq(0..=255));
        let windows = TextEncoding::Windows1252.decode(&all).unwrap();
        assert_eq!(windows.chars().count(), 256);
        assert_eq!(windows.chars().nth(0x80), Some('€'));
        assert_eq!(windows.chars().nth(0xf1), Some('ñ'));
    }

    #[test]
    fn names() {
        for (name, encoding) in ENCODING_NAMES {
            assert_eq!(TextEncoding::from_name(name), Some(encoding));
            assert_eq!(encoding.name(), name);
        }
        assert_eq!(TextEncoding::from_name("UTF8"), Some(TextEncoding::Utf8));
        assert_eq!(TextEncoding::from_name("ebcdic"), None);
    }
}
