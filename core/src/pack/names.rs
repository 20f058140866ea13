//! Whether a name from `pack.toml` (a field, a parameter, an indicator id)
//! can be read by formulas: rhai must read it as one plain identifier, not
//! as a keyword (`if`, `fn`, `let`, `true`, `this`, …) or a word rhai keeps
//! for itself (`print`, `type_of`, `async`, …).

use std::sync::OnceLock;

use rhai::{Engine, Token};

/// Why a name cannot be read by formulas, if it cannot.
pub(crate) fn unusable(name: &str) -> Option<&'static str> {
    if !rhai::is_valid_identifier(name) {
        return Some("it is not an identifier (letters, digits and `_`, starting with a letter)");
    }
    // Semáforo's engine turns `eval` off, which makes it reserved there.
    if name == "eval" || Token::lookup_symbol_from_syntax(name).is_some() {
        return Some("it is a keyword of the formula language");
    }
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    let engine = ENGINE.get_or_init(Engine::new_raw);
    let inputs = [name];
    let (mut tokens, _) = engine.lex(&inputs);
    match (tokens.next(), tokens.next()) {
        (Some((Token::Identifier(read), _)), Some((Token::EOF, _))) if read.as_str() == name => {
            None
        }
        _ => Some("it is a word the formula language reserves"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_and_reserved_words_are_unusable() {
        for word in [
            "if",
            "fn",
            "let",
            "true",
            "this",
            "loop",
            "print",
            "type_of",
            "eval",
            "async",
            "Fn",
            "call",
            "curry",
            "const",
            "in",
            "return",
            "is_def_var",
            "static",
        ] {
            assert!(unusable(word).is_some(), "{word}");
        }
        for word in ["entity", "npl", "roe_real", "_x1", "saldo"] {
            assert_eq!(unusable(word), None, "{word}");
        }
        assert!(unusable("2x").is_some());
        assert!(unusable("a-b").is_some());
    }
}
