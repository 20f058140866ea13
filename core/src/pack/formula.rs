//! An indicator's formula as text for people: what `semaforo explain` and
//! the HTML report's legend show. Each caller lays the text out its own way
//! (indentation, escaping); what the text is, and where a function's source
//! comes from, is decided here.

use super::{FormulaSource, Indicator, RulePack};

/// What kind of formula an indicator has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormulaKind {
    /// A rhai expression written in `pack.toml`.
    Inline,
    /// A formula the pack builds itself (a matrix criterion or score).
    Generated,
    /// A function of one of the pack's `.rhai` files.
    Function,
}

/// An indicator's formula as text for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormulaText {
    /// What kind of formula it is.
    pub kind: FormulaKind,
    /// The expression as written, trimmed. For a function, its source in
    /// the pack's `.rhai` files, from `fn` to the brace closing its body;
    /// when no file has it, a sentence naming the function and the
    /// `pack.toml` that names it.
    pub text: String,
}

impl RulePack {
    /// The formula of `indicator` (one of this pack's) as text for people.
    #[must_use]
    pub fn formula_text(&self, indicator: &Indicator) -> FormulaText {
        match &indicator.formula {
            FormulaSource::Inline { text, .. } => FormulaText {
                kind: FormulaKind::Inline,
                text: text.trim().to_owned(),
            },
            FormulaSource::Generated { text, .. } => FormulaText {
                kind: FormulaKind::Generated,
                text: text.trim().to_owned(),
            },
            FormulaSource::Function { name, location } => FormulaText {
                kind: FormulaKind::Function,
                text: self.function_source(name).map_or_else(
                    || {
                        format!(
                            "function {name} (in the pack's .rhai files; named in {})",
                            location.file.path().display()
                        )
                    },
                    str::to_owned,
                ),
            },
        }
    }

    /// The source of `fn name(…) { … }` in the first of the pack's `.rhai`
    /// files (parents' included) that has it: from `fn` to the brace that
    /// closes its body. Braces are counted, so a brace inside a string or
    /// comment may cut it short, which only shortens what people are shown.
    fn function_source(&self, name: &str) -> Option<&str> {
        let needle = format!("fn {name}(");
        self.files
            .iter()
            .filter(|f| f.path().extension().is_some_and(|e| e == "rhai"))
            .find_map(|file| {
                let text = file.text();
                let start = text.match_indices(&needle).find_map(|(at, _)| {
                    let before = text[..at].chars().next_back();
                    before
                        .is_none_or(|c| c.is_whitespace() || c == ';' || c == '}')
                        .then_some(at)
                })?;
                let open = start + text[start..].find('{')?;
                let mut depth = 0_usize;
                for (offset, c) in text[open..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                return Some(&text[start..=open + offset]);
                            }
                        }
                        _ => {}
                    }
                }
                None
            })
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::{FormulaKind, FormulaText};
    use crate::RulePack;

    const PACK: &str = r#"[pack]
id = "formulas"
version = "1.0.0"
[fields]
npl = "non-performing loans"
loans = "gross loans"
[[indicator]]
id = "delinquency"
unit = "percent"
formula = """

    npl / loans
      * 100
"""
[[indicator]]
id = "coverage"
unit = "ratio"
function = "coverage"
[[indicator]]
id = "missing"
unit = "ratio"
function = "nowhere"
"#;

    const SCRIPT: &str = "// my_fn coverage(x) is not it\n\
fn not_coverage(npl) { npl }\n\
fn coverage(npl, loans) {\n    if loans == 0 { 0 } else { npl / loans }\n}\n\
fn after() { 1 }\n";

    #[test]
    fn formulas_read_as_written_and_functions_as_their_source() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        fs::write(dir.path().join("pack.toml"), PACK).expect("pack.toml written");
        fs::write(dir.path().join("helpers.rhai"), SCRIPT).expect("script written");
        let pack = RulePack::load(dir.path()).expect("the pack loads");
        let text = |id: &str| {
            let indicator = pack
                .indicators()
                .iter()
                .find(|i| i.id == id)
                .expect("the indicator exists");
            pack.formula_text(indicator)
        };
        assert_eq!(
            text("delinquency"),
            FormulaText {
                kind: FormulaKind::Inline,
                text: "npl / loans\n      * 100".to_owned(),
            }
        );
        assert_eq!(
            text("coverage"),
            FormulaText {
                kind: FormulaKind::Function,
                text: "fn coverage(npl, loans) {\n    if loans == 0 { 0 } else { npl / loans }\n}"
                    .to_owned(),
            }
        );
        let missing = text("missing");
        assert_eq!(missing.kind, FormulaKind::Function);
        assert_eq!(
            missing.text,
            format!(
                "function nowhere (in the pack's .rhai files; named in {})",
                dir.path().join("pack.toml").display()
            )
        );
    }
}
