//! Input functions: plugin functions whose calls with one literal text
//! argument are *inputs*, not computations. `saldo("14")` in a formula is
//! bound at compile time to a column named `saldo("14")` (the function and its
//! canonical argument), which a data reader fills before evaluation. Nothing
//! is parsed or looked up per cell.
//!
//! The compiler rewrites each such call, in the formula text, into a
//! variable of the same length, so rhai positions still point at the pack.

use rhai::{Engine, Position, Token};

/// A function whose literal calls are inputs (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct InputFunction {
    /// Name used in formulas, e.g. `saldo`.
    pub name: &'static str,
    /// Checks the literal argument and returns its canonical form, or says
    /// what is wrong with it (reported by `semaforo check` at the argument).
    pub canonicalize: fn(&str) -> Result<String, String>,
}

impl InputFunction {
    /// The column a call reads: `name("canonical")`.
    #[must_use]
    pub fn column(&self, canonical: &str) -> String {
        format!("{}(\"{canonical}\")", self.name)
    }
}

/// A formula with its input-function calls replaced by variables.
#[derive(Debug, Default)]
pub(crate) struct Rewritten {
    pub text: String,
    /// (variable, function, canonical argument), one per call site.
    pub calls: Vec<(String, InputFunction, String)>,
    /// Problems, each at a position of the original text.
    pub problems: Vec<(String, Position)>,
}

/// Replaces every `f("literal")` of an input function `f` by a variable
/// `_inN` padded with spaces (newlines kept), so the text keeps its layout.
pub(crate) fn rewrite(
    engine: &Engine,
    text: &str,
    functions: &[InputFunction],
    first_index: usize,
) -> Rewritten {
    let mut out = Rewritten::default();
    if functions.is_empty() {
        out.text = text.to_owned();
        return out;
    }
    let tokens = tokens(engine, text);
    let mut replacements: Vec<(usize, usize, String)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let function = match &tokens[i].0 {
            Token::Identifier(name) => functions.iter().find(|f| f.name == name.as_str()),
            _ => None,
        };
        let Some(function) = function else {
            i += 1;
            continue;
        };
        let at = tokens[i].1;
        match (tokens.get(i + 1), tokens.get(i + 2), tokens.get(i + 3)) {
            (
                Some((Token::LeftParen, _)),
                Some((Token::StringConstant(argument), _)),
                Some((Token::RightParen, close)),
            ) => {
                match (function.canonicalize)(argument) {
                    Ok(canonical) => {
                        let start = offset(text, at);
                        let end = offset(text, *close) + 1;
                        let variable = format!("_in{}", first_index + out.calls.len());
                        if text[start..end].chars().count() < variable.len() {
                            out.problems.push((
                                format!("`{}(…)` call is too short to rewrite", function.name),
                                at,
                            ));
                        } else {
                            replacements.push((start, end, variable.clone()));
                            out.calls.push((variable, *function, canonical));
                        }
                    }
                    Err(message) => out.problems.push((
                        format!("{}(\"{argument}\"): {message}", function.name),
                        tokens[i + 2].1,
                    )),
                }
                i += 4;
            }
            _ => {
                out.problems.push((
                    format!(
                        "`{}` takes one literal text argument, e.g. {}(\"14\")",
                        function.name, function.name
                    ),
                    at,
                ));
                i += 1;
            }
        }
    }
    out.text = replace_spans(text, replacements);
    out
}

/// The formula's tokens with their positions, as rhai reads them.
pub(crate) fn tokens(engine: &Engine, text: &str) -> Vec<(Token, Position)> {
    let inputs = [text];
    let (tokens, _control) = engine.lex(&inputs);
    tokens.take_while(|(t, _)| *t != Token::EOF).collect()
}

/// Replaces each `(start, end)` byte span by its variable, padded with spaces
/// (newlines kept) so every other token keeps its line and column.
/// The spans are in order and the variables no longer than their spans.
pub(crate) fn replace_spans(text: &str, replacements: Vec<(usize, usize, String)>) -> String {
    let mut rewritten = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end, variable) in replacements {
        rewritten.push_str(&text[last..start]);
        rewritten.push_str(&variable);
        rewritten.extend(
            text[start..end]
                .chars()
                .skip(variable.len())
                .map(|c| if c == '\n' { '\n' } else { ' ' }),
        );
        last = end;
    }
    rewritten.push_str(&text[last..]);
    rewritten
}

/// Byte offset of a rhai position (1-based line and character column) in `text`.
pub(crate) fn offset(text: &str, position: Position) -> usize {
    crate::source::offset_in(
        text,
        position.line().unwrap_or(1),
        position.position().unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::engine::build_engine;
    use crate::pack::limits::Limits;

    fn accounts(argument: &str) -> Result<String, String> {
        if argument.chars().all(|c| c.is_ascii_digit() || c == '+') && !argument.is_empty() {
            Ok(argument.replace(' ', ""))
        } else {
            Err("not an account code".into())
        }
    }

    const SALDO: InputFunction = InputFunction {
        name: "saldo",
        canonicalize: accounts,
    };

    #[test]
    fn literal_calls_become_variables_of_the_same_length() {
        let (engine, _) = build_engine(&Limits::default(), &[]);
        let text = "saldo(\"1411+1412\") / saldo( \"14\" ) * 100";
        let out = rewrite(&engine, text, &[SALDO], 0);
        assert_eq!(
            out.text,
            format!("_in0{}/ _in1{}* 100", " ".repeat(15), " ".repeat(10))
        );
        assert_eq!(out.text.len(), text.len());
        let calls: Vec<(&str, &str)> = out
            .calls
            .iter()
            .map(|(v, _, c)| (v.as_str(), c.as_str()))
            .collect();
        assert_eq!(calls, [("_in0", "1411+1412"), ("_in1", "14")]);
        assert!(out.problems.is_empty());
    }

    #[test]
    fn bad_arguments_are_reported_at_the_argument() {
        let (engine, _) = build_engine(&Limits::default(), &[]);
        let out = rewrite(&engine, "1 +\n saldo(\"1x\") + saldo(code)", &[SALDO], 0);
        let problems: Vec<(&str, Option<usize>, Option<usize>)> = out
            .problems
            .iter()
            .map(|(m, p)| (m.as_str(), p.line(), p.position()))
            .collect();
        assert_eq!(
            problems,
            [
                ("saldo(\"1x\"): not an account code", Some(2), Some(8)),
                (
                    "`saldo` takes one literal text argument, e.g. saldo(\"14\")",
                    Some(2),
                    Some(16)
                ),
            ]
        );
    }

    #[test]
    fn calls_across_lines_keep_the_line_breaks() {
        let (engine, _) = build_engine(&Limits::default(), &[]);
        let out = rewrite(&engine, "saldo(\n\"14\"\n) + x", &[SALDO], 3);
        assert_eq!(out.text, "_in3  \n    \n  + x");
    }
}
