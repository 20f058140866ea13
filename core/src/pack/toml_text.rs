//! A `pack.toml`'s raw text, looked at where the TOML parser gives no
//! place: the bytes as UTF-8, and the deepest key path (a table header
//! or a dotted key).

use std::ops::Range;

/// The text of a file, or where its first byte that is not UTF-8 is (the
/// text then read with that byte and any later bad ones replaced).
pub(crate) fn utf8(bytes: Vec<u8>) -> Result<String, (usize, String)> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        (at, String::from_utf8_lossy(e.as_bytes()).into_owned())
    })
}

/// The key path with the most dotted parts (at least two), as the span of
/// the line holding it: a header `[a.b.c]` or a key `a.b.c = …`. Quoted
/// parts may hold dots; values are not looked at.
pub(crate) fn deepest_key(text: &str) -> Option<Range<usize>> {
    let mut best: Option<(usize, Range<usize>)> = None;
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let dots = key_dots(line);
        if dots > 0 && best.as_ref().is_none_or(|(most, _)| dots > *most) {
            let indent = line.len() - line.trim_start().len();
            let end = start + line.trim_end().len();
            best = Some((dots, start + indent..end));
        }
        start += line.len();
    }
    best.map(|(_, span)| span)
}

/// Dots between the parts of the key path a line starts with.
fn key_dots(line: &str) -> usize {
    let key = line.trim_start();
    let key = key.trim_start_matches('[');
    let mut dots = 0;
    let mut quote: Option<char> = None;
    for c in key.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '.') => dots += 1,
            (None, '=' | ']' | '#') => break,
            (None, _) => {}
        }
    }
    dots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deepest_key_path_is_found_in_headers_and_keys() {
        let text = "[pack]\nid = \"x\"\n[a.b]\n  c.d.e = 1.5\n[\"q.q\".r]\n";
        let span = deepest_key(text).unwrap();
        assert_eq!(&text[span], "c.d.e = 1.5");
        assert_eq!(deepest_key("[pack]\nx = 1.5\n"), None);
    }

    #[test]
    fn the_first_bad_byte_is_located() {
        let (at, text) = utf8(b"ab\n\xffcd".to_vec()).unwrap_err();
        assert_eq!(at, 3);
        assert_eq!(text, "ab\n\u{fffd}cd");
        assert_eq!(utf8(b"ok".to_vec()).unwrap(), "ok");
    }
}
