//! Expanding `[[matrix]]` tables into indicators: one per criterion
//! (`<matrix>_<criterion>`, the criterion's value on its scale) and the
//! score (`<matrix>`). The selection is applied to results by
//! [`crate::Analysis`].

use rust_decimal::Decimal;

use super::layer::{CriterionDraft, CriterionUse, Draft, MatrixDraft, Scale, ScoreRule, TieDraft};
use super::{Direction, FormulaSource, Matrix, Selection, TieRule, Unit};
use crate::diagnostic::{Diagnostic, DiagnosticCode};

/// The plugin whose functions (`on_scale`, `invert`) the generated formulas call.
pub(crate) const MATRIX_PLUGIN: &str = "matrix";

/// Appends the indicators of `matrix` to `drafts` (after checking what it reads).
pub(crate) fn expand(
    matrix: &MatrixDraft,
    drafts: &mut Vec<Draft>,
    fields: &[String],
    problems: &mut Vec<Diagnostic>,
) {
    let mut criterion_ids = Vec::new();
    for criterion in &matrix.criteria {
        let id = format!("{}_{}", matrix.id, criterion.id);
        let Some(value) = criterion_source(criterion, drafts, fields, problems) else {
            continue;
        };
        let scale = match criterion.scale {
            Scale::Inherit => matrix.scale,
            other => other,
        };
        let text = match (scale, criterion.invert) {
            (Scale::Bounds(min, max), true) => format!("invert({value}, {min}, {max})"),
            (Scale::Bounds(min, max), false) => format!("on_scale({value}, {min}, {max})"),
            (_, true) => format!("-({value})"),
            (_, false) => value,
        };
        drafts.push(generated(
            &id,
            &format!("{} — {}", matrix_name(matrix), criterion.id),
            text,
            criterion.location.clone(),
            &matrix.id,
        ));
        criterion_ids.push((criterion.id.clone(), id, criterion.weight));
    }
    let text = match &matrix.score {
        ScoreRule::Sum => criterion_ids
            .iter()
            .map(|(_, id, _)| id.clone())
            .collect::<Vec<_>>()
            .join(" + "),
        ScoreRule::WeightedSum => criterion_ids
            .iter()
            .map(|(_, id, w)| format!("{w} * {id}"))
            .collect::<Vec<_>>()
            .join(" + "),
        ScoreRule::Formula(formula, _) => rename_words(formula, &criterion_ids),
    };
    let location = match &matrix.score {
        ScoreRule::Formula(_, location) => location.clone(),
        _ => matrix.location.clone(),
    };
    let mut score = generated(&matrix.id, &matrix_name(matrix), text, location, &matrix.id);
    score.description = Some(matrix.description.clone());
    if let Some((_, _, false)) = matrix.selection {
        score.direction = score
            .direction
            .take()
            .map(|(_, l)| (Direction::LowerIsBetter, l));
    }
    drafts.push(score);
}

/// Resolves the selection and indicator indices once the pack's indicators are built.
pub(crate) fn finish(
    matrix: &MatrixDraft,
    ids: &[&str],
    problems: &mut Vec<Diagnostic>,
) -> Option<Matrix> {
    let index = |id: &str| ids.iter().position(|i| *i == id);
    let score = index(&matrix.id)?;
    let criteria: Vec<(String, usize)> = matrix
        .criteria
        .iter()
        .filter_map(|c| Some((c.id.clone(), index(&format!("{}_{}", matrix.id, c.id))?)))
        .collect();
    let Some((rule, ties, descending)) = matrix.selection.clone() else {
        problems.push(
            Diagnostic::error(
                DiagnosticCode::InvalidValue,
                format!("matrix `{}` has no [matrix.select]", matrix.id),
                Some(matrix.location.clone()),
            )
            .with_help(
                "say which items to select, e.g. `top_percent = 20` and `ties = \"include\"`",
            ),
        );
        return None;
    };
    let ties = match ties {
        TieDraft::Include => TieRule::Include,
        TieDraft::Exclude => TieRule::Exclude,
        TieDraft::BreakBy(name, location) => match criteria.iter().find(|(c, _)| *c == name) {
            Some((_, i)) => TieRule::BreakBy(*i),
            None => {
                let known: Vec<&str> = criteria.iter().map(|(c, _)| c.as_str()).collect();
                problems.push(
                    Diagnostic::error(
                        DiagnosticCode::UnknownName,
                        format!(
                            "`break_by:{name}` names no criterion of matrix `{}`",
                            matrix.id
                        ),
                        Some(location),
                    )
                    .with_help(format!("criteria: {}", known.join(", "))),
                );
                TieRule::Include
            }
        },
    };
    Some(Matrix {
        id: matrix.id.clone(),
        name: matrix_name(matrix),
        score,
        criteria,
        selection: Selection {
            rule,
            ties,
            descending,
        },
        location: matrix.location.clone(),
    })
}

fn matrix_name(matrix: &MatrixDraft) -> String {
    if matrix.name.is_empty() {
        matrix.id.clone()
    } else {
        matrix.name.clone()
    }
}

/// The expression a criterion reads, or `None` (with a problem) when it cannot.
fn criterion_source(
    criterion: &CriterionDraft,
    drafts: &[Draft],
    fields: &[String],
    problems: &mut Vec<Diagnostic>,
) -> Option<String> {
    let (from, location) = &criterion.from;
    let indicator = drafts.iter().find(|d| d.id == *from);
    if indicator.is_none() && !fields.contains(from) {
        problems.push(Diagnostic::error(
            DiagnosticCode::UnknownName,
            format!(
                "criterion `{}` reads `{from}`, which is neither a field nor an indicator",
                criterion.id
            ),
            Some(location.clone()),
        ));
        return None;
    }
    if criterion.use_ == CriterionUse::Value {
        return Some(from.clone());
    }
    let standard = indicator.and_then(|d| {
        let direction = d
            .direction
            .as_ref()
            .map_or(Direction::HigherIsBetter, |(d, _)| *d);
        match (direction, &d.standard, &d.standard_min, &d.standard_max) {
            (Direction::WithinRange, _, Some((min, _)), Some((max, _))) => {
                Some((direction, *min, *max))
            }
            (Direction::WithinRange, ..) => None,
            (_, Some((target, _)), ..) => Some((direction, *target, *target)),
            _ => None,
        }
    });
    let Some((direction, low, high)) = standard else {
        problems.push(
            Diagnostic::error(
                DiagnosticCode::InvalidValue,
                format!(
                    "criterion `{}` uses the standard of `{from}`, which has none",
                    criterion.id
                ),
                Some(location.clone()),
            )
            .with_help(
                "`use = \"compliance\"` and `use = \"unmet\"` need an indicator with a standard",
            ),
        );
        return None;
    };
    Some(match (criterion.use_, direction) {
        (CriterionUse::Compliance, _) if low.is_zero() => {
            problems.push(Diagnostic::error(
                DiagnosticCode::InvalidValue,
                format!("`{from}` has a zero standard: no compliance"),
                Some(location.clone()),
            ));
            return None;
        }
        (CriterionUse::Compliance, _) => format!("{from} / {low} * 100"),
        (_, Direction::LowerIsBetter) => format!("if {from} <= {low} {{ 0 }} else {{ 1 }}"),
        (_, Direction::WithinRange) => {
            format!("if {from} >= {low} && {from} <= {high} {{ 0 }} else {{ 1 }}")
        }
        _ => format!("if {from} >= {low} {{ 0 }} else {{ 1 }}"),
    })
}

fn generated(
    id: &str,
    name: &str,
    text: String,
    location: crate::source::Location,
    group: &str,
) -> Draft {
    Draft {
        id: id.to_owned(),
        location: location.clone(),
        name: Some(name.to_owned()),
        description: None,
        group: Some(group.to_owned()),
        unit: Some(Unit::Score),
        direction: Some((Direction::HigherIsBetter, location.clone())),
        standard: None,
        standard_min: None,
        standard_max: None,
        bands: None,
        frequency: None,
        decimals: Some(decimals_of(&text)),
        responsible: None,
        formula: Some(FormulaSource::Generated { text, location }),
        grain: None,
        overrides: Vec::new(),
    }
}

/// Scores are usually whole; show decimals only when weights have them.
fn decimals_of(text: &str) -> u32 {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|t| t.parse::<Decimal>().ok())
        .map(|d| d.scale())
        .max()
        .unwrap_or(0)
}

/// Replaces whole words of a score formula: criterion ids → their indicator ids.
fn rename_words(formula: &str, ids: &[(String, String, Decimal)]) -> String {
    let mut out = String::with_capacity(formula.len() * 2);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        match ids.iter().find(|(c, _, _)| c == word) {
            Some((_, id, _)) => out.push_str(id),
            None => out.push_str(word),
        }
        word.clear();
    };
    for c in formula.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_formulas_name_the_criterion_indicators() {
        let ids = vec![
            ("impacto".to_owned(), "m_impacto".to_owned(), Decimal::ONE),
            ("f".to_owned(), "m_f".to_owned(), Decimal::ONE),
        ];
        assert_eq!(
            rename_words("2 * impacto + f + impacto_x", &ids),
            "2 * m_impacto + m_f + impacto_x"
        );
    }
}
