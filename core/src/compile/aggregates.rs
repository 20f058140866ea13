//! Aggregate calls of indicators with a grain — `sum(x)`, `mean(x)`,
//! `weighted_mean(x, w)`, `minimum(x)`, `maximum(x)`, `count()` — rewritten
//! into variables (as input functions are); `evaluate::groups` computes them
//! from each group's rows before the formula runs.

use rhai::{Engine, Position, Token};

use crate::compile::inputs::{offset, replace_spans, tokens};

/// An aggregate over a group's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AggregateFn {
    Sum,
    Mean,
    WeightedMean,
    Minimum,
    Maximum,
    Count,
}

impl AggregateFn {
    const ALL: [(&'static str, AggregateFn, usize); 6] = [
        ("sum", Self::Sum, 1),
        ("mean", Self::Mean, 1),
        ("weighted_mean", Self::WeightedMean, 2),
        ("minimum", Self::Minimum, 1),
        ("maximum", Self::Maximum, 1),
        ("count", Self::Count, 0),
    ];

    fn named(name: &str) -> Option<(Self, usize)> {
        Self::ALL
            .iter()
            .find(|(n, ..)| *n == name)
            .map(|&(_, f, arity)| (f, arity))
    }

    /// The name used in formulas.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, f, _)| *f == self)
            .map_or("", |(n, ..)| n)
    }
}

/// One aggregate call of a grain formula, rewritten into `variable`.
#[derive(Debug, Clone)]
pub(crate) struct AggregateCall {
    pub variable: String,
    pub function: AggregateFn,
    /// The names it aggregates (none for `count()`; value then weight).
    pub arguments: Vec<String>,
    pub position: Position,
}

/// A grain formula with its aggregate calls replaced by variables `_agN`.
#[derive(Debug, Default)]
pub(crate) struct Aggregated {
    pub text: String,
    pub calls: Vec<AggregateCall>,
    pub problems: Vec<(String, Position)>,
}

/// Rewrites every aggregate call of `text`; a call whose arguments are not
/// plain names is a problem at its position.
pub(crate) fn rewrite_aggregates(engine: &Engine, text: &str, first_index: usize) -> Aggregated {
    let tokens = tokens(engine, text);
    let mut out = Aggregated::default();
    let mut replacements = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let named = match &tokens[i].0 {
            Token::Identifier(name)
                if matches!(tokens.get(i + 1), Some((Token::LeftParen | Token::Unit, _))) =>
            {
                AggregateFn::named(name)
            }
            _ => None,
        };
        let Some((function, arity)) = named else {
            i += 1;
            continue;
        };
        let at = tokens[i].1;
        // rhai reads `()` as one token, the unit value: `count()`.
        if let Some((Token::Unit, unit)) = tokens.get(i + 1) {
            if arity == 0 {
                let variable = format!("_ag{}", first_index + out.calls.len());
                replacements.push((offset(text, at), offset(text, *unit) + 2, variable.clone()));
                out.calls.push(AggregateCall {
                    variable,
                    function,
                    arguments: Vec::new(),
                    position: at,
                });
            } else {
                out.problems.push((format!("write `{}(x)` with a field or indicator name: aggregates read the group's rows", function.name()), at));
            }
            i += 2;
            continue;
        }
        let mut arguments = Vec::new();
        let mut j = i + 2;
        let mut well_formed = true;
        loop {
            match tokens.get(j) {
                Some((Token::RightParen, _)) => break,
                Some((Token::Identifier(name), _)) if arguments.len() < arity => {
                    arguments.push(name.to_string());
                    j += 1;
                    match tokens.get(j) {
                        Some((Token::Comma, _)) => j += 1,
                        Some((Token::RightParen, _)) => {}
                        _ => well_formed = false,
                    }
                }
                _ => well_formed = false,
            }
            if !well_formed {
                break;
            }
        }
        if !well_formed || arguments.len() != arity {
            let shape = match arity {
                0 => format!("{}()", function.name()),
                1 => format!("{}(x)", function.name()),
                _ => format!("{}(x, w)", function.name()),
            };
            out.problems.push((format!("write `{shape}` with field or indicator names: aggregates read the group's rows"), at));
            i += 1;
            continue;
        }
        let variable = format!("_ag{}", first_index + out.calls.len());
        let (start, end) = (offset(text, at), offset(text, tokens[j].1) + 1);
        replacements.push((start, end, variable.clone()));
        out.calls.push(AggregateCall {
            variable,
            function,
            arguments,
            position: at,
        });
        i = j + 1;
    }
    out.text = replace_spans(text, replacements);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::engine::build_engine;
    use crate::pack::limits::Limits;

    #[test]
    fn aggregate_calls_become_variables() {
        let (engine, _) = build_engine(&Limits::default(), &[]);
        let out = rewrite_aggregates(
            &engine,
            "sum(ejecutado) / sum(programado) * 100 + count() + weighted_mean(c, w)",
            0,
        );
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(
            out.text,
            "_ag0           / _ag1            * 100 + _ag2    + _ag3               "
        );
        let calls: Vec<(&str, AggregateFn, Vec<String>)> = out
            .calls
            .iter()
            .map(|c| (c.variable.as_str(), c.function, c.arguments.clone()))
            .collect();
        assert_eq!(
            calls[1],
            ("_ag1", AggregateFn::Sum, vec!["programado".to_owned()])
        );
        assert_eq!(calls[3].2, ["c", "w"]);
    }

    #[test]
    fn aggregates_need_plain_names() {
        let (engine, _) = build_engine(&Limits::default(), &[]);
        let out = rewrite_aggregates(&engine, "sum(a + b) + mean()", 0);
        let messages: Vec<&str> = out.problems.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(
            messages,
            [
                "write `sum(x)` with field or indicator names: aggregates read the group's rows",
                "write `mean(x)` with a field or indicator name: aggregates read the group's rows"
            ]
        );
    }
}
