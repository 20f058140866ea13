//! `semaforo explain`: why one indicator has its value for one entity (and
//! period) — the formula and where it is defined and overridden, every input
//! it read down to the raw data, the result, and the band with its reason.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use rust_decimal::Decimal;
use semaforo::{
    BandReason, BandScore, Direction, Explanation, FormulaSource, Indicator, IndicatorExplanation,
    InputValue, RulePack, Standard, Table, round_for_display,
};

use crate::DataLayout;

/// What to explain, as given on the command line.
pub(crate) struct Target<'a> {
    pub entity: &'a str,
    pub indicator: &'a str,
    pub period: Option<&'a str>,
}

/// Loads the pack and the data, finds the row and the indicator, and
/// prints the explanation on stdout.
pub(crate) fn run(
    dir: &Path,
    data: &Path,
    layout: &DataLayout,
    target: &Target<'_>,
) -> anyhow::Result<ExitCode> {
    let rules = match semaforo::load(dir) {
        Ok(rules) => layout.apply(rules),
        Err(diagnostics) => return crate::refuse(&diagnostics),
    };
    let indicator = find_indicator(rules.pack(), target.indicator)?;
    let table = semaforo::read_data(&rules, data)?;
    crate::print_warnings(table.source(), &table.warnings().iter().cloned().collect());
    let format = rules.pack().data_shape().period_format;
    let (row, chosen) = find_row(&table, target.entity, target.period, format)?;
    let explanation = semaforo::explain(&rules, &table, row, indicator);
    let mut out = BufWriter::new(io::stdout().lock());
    write(&mut out, rules.pack(), &explanation, chosen.as_deref())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The index of the indicator with id `id`, or an error naming the near ones.
fn find_indicator(pack: &RulePack, id: &str) -> anyhow::Result<usize> {
    let ids: Vec<&str> = pack.indicators().iter().map(|i| i.id.as_str()).collect();
    ids.iter().position(|i| *i == id).ok_or_else(|| {
        anyhow::anyhow!(
            "pack `{}` has no indicator `{id}`; {}",
            pack.identity().id,
            suggest(id, &ids, "indicators")
        )
    })
}

/// The row of `entity` in `period` (default: the entity's last period),
/// and, when the period was chosen here, a note saying so.
fn find_row(
    table: &Table,
    entity: &str,
    period: Option<&str>,
    format: semaforo::PeriodFormat,
) -> anyhow::Result<(usize, Option<String>)> {
    let rows: Vec<usize> = (0..table.len())
        .filter(|&r| table.entity(r) == entity)
        .collect();
    if rows.is_empty() {
        let mut entities: Vec<&str> = (0..table.len()).map(|r| table.entity(r)).collect();
        entities.sort_unstable();
        entities.dedup();
        anyhow::bail!(
            "{} has no entity `{entity}`; {}",
            table.source(),
            suggest(entity, &entities, "entities")
        );
    }
    if !table.has_periods() {
        if let Some(period) = period {
            anyhow::bail!(
                "{} has no periods (the pack names no period column), so --period {period} cannot be chosen",
                table.source()
            );
        }
        return Ok((rows[0], None));
    }
    let mut periods: Vec<(&str, usize)> = rows
        .iter()
        .map(|&r| (table.period(r).unwrap_or_default(), r))
        .collect();
    // Periods in order, like the variation from the previous period; a
    // period listed twice keeps its first row.
    periods.sort_by_key(|&(p, _)| p);
    periods.dedup_by_key(|&mut (p, _)| p);
    // In time order when the periods can be placed in time (`1/2009` after `12/2008`).
    if let Some(keys) = semaforo::time_keys(periods.iter().map(|&(p, _)| p), format) {
        let mut keyed: Vec<_> = keys.into_iter().zip(periods).collect();
        keyed.sort_by_key(|&(key, _)| key);
        periods = keyed.into_iter().map(|(_, period)| period).collect();
    }
    let names: Vec<&str> = periods.iter().map(|&(p, _)| p).collect();
    match period {
        Some(period) => periods
            .iter()
            .find(|&&(p, _)| p == period)
            .map(|&(_, r)| (r, None))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{} has no period `{period}` for entity `{entity}`; {}",
                    table.source(),
                    suggest(period, &names, "its periods")
                )
            }),
        None => {
            let &(last, row) = periods
                .last()
                .ok_or_else(|| anyhow::anyhow!("entity `{entity}` has no rows"))?;
            let others = if names.len() > 1 {
                format!(
                    "; --period picks another: {}",
                    names[..names.len() - 1].join(", ")
                )
            } else {
                String::new()
            };
            Ok((
                row,
                Some(format!(
                    "period {last} (the entity's last, chosen as no --period was given{others})"
                )),
            ))
        }
    }
}

/// "did you mean …" with the names near `wanted`, else the available ones.
fn suggest(wanted: &str, names: &[&str], what: &str) -> String {
    const SHOWN: usize = 30;
    let lower = wanted.to_lowercase();
    let mut near: Vec<(usize, &str)> = names
        .iter()
        .map(|name| (distance(&lower, &name.to_lowercase()), *name))
        .filter(|&(d, name)| {
            let name = name.to_lowercase();
            d <= (lower.chars().count() / 3).max(2)
                || (lower.chars().count() >= 3 && (name.contains(&lower) || lower.contains(&name)))
        })
        .collect();
    near.sort_unstable();
    if !near.is_empty() {
        let near: Vec<&str> = near.iter().take(5).map(|&(_, n)| n).collect();
        return format!("did you mean: {}?", near.join(", "));
    }
    if names.is_empty() {
        return format!("there are no {what}");
    }
    let more = names
        .len()
        .checked_sub(SHOWN)
        .filter(|&m| m > 0)
        .map(|m| format!(" … and {m} more"))
        .unwrap_or_default();
    let shown: Vec<&str> = names.iter().take(SHOWN).copied().collect();
    format!("{what}: {}{more}", shown.join(", "))
}

/// Levenshtein distance, in characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// Writes the explanation as readable text.
fn write(
    out: &mut dyn Write,
    pack: &RulePack,
    why: &Explanation,
    chosen_period: Option<&str>,
) -> io::Result<()> {
    let step = &why.indicator;
    let indicator = &step.indicator;
    let heading = if indicator.name == indicator.id {
        indicator.id.clone()
    } else {
        format!("{} — {}", indicator.id, indicator.name)
    };
    writeln!(out, "{heading}")?;
    writeln!(
        out,
        "  unit {}, {}, evaluated by {}",
        indicator.unit.as_str(),
        direction_words(indicator.direction),
        path_words(step.path)
    )?;
    let period = match (&why.period, chosen_period) {
        (_, Some(chosen)) => format!(", {chosen}"),
        (Some(period), None) => format!(", period {period}"),
        (None, None) => String::new(),
    };
    writeln!(out, "  entity {}{period}", why.entity)?;
    writeln!(out, "  row at {}:{}", why.source, why.line)?;
    writeln!(out)?;
    writeln!(
        out,
        "formula  {}",
        formula_text(pack, indicator, "         ")
    )?;
    write_origin(out, step, "  ")?;
    writeln!(out)?;
    if step.inputs.is_empty() {
        writeln!(out, "inputs   none")?;
    } else {
        writeln!(out, "inputs")?;
        write_inputs(out, pack, step, 1)?;
    }
    writeln!(out)?;
    write_result(out, pack, step)
}

/// Where the indicator and its formula are defined, and each override.
fn write_origin(out: &mut dyn Write, step: &IndicatorExplanation, indent: &str) -> io::Result<()> {
    let indicator = &step.indicator;
    writeln!(out, "{indent}defined in {}", indicator.location)?;
    if let Some(at) = formula_location(&indicator.formula)
        && (at.file.path() != indicator.location.file.path()
            || !indicator.overrides.is_empty()
            || matches!(indicator.formula, FormulaSource::Function { .. }))
    {
        writeln!(out, "{indent}formula at {at}")?;
    }
    for change in &indicator.overrides {
        writeln!(
            out,
            "{indent}overridden in {}: {}",
            change.location,
            change.keys.join(", ")
        )?;
    }
    if let Some(grain) = &indicator.grain {
        let columns = if grain.is_empty() {
            "the whole table".to_owned()
        } else {
            grain.join(", ")
        };
        writeln!(
            out,
            "{indent}grain [{columns}]: computed per group; the result is the row's group's"
        )?;
    }
    Ok(())
}

/// Every input of `step`, one per line, indicators explained beneath theirs.
fn write_inputs(
    out: &mut dyn Write,
    pack: &RulePack,
    step: &IndicatorExplanation,
    depth: usize,
) -> io::Result<()> {
    let indent = "  ".repeat(depth);
    for input in &step.inputs {
        match &input.value {
            InputValue::Field {
                column,
                call,
                value,
                stand_in,
            } => {
                let what = match call {
                    Some((function, _)) => format!("input function `{function}`"),
                    None if *column == input.name => "field".to_owned(),
                    None => format!("field, column `{column}`"),
                };
                match value {
                    Ok(value) => {
                        let stand_in = if *stand_in {
                            " (empty cell: the field's when_missing value)"
                        } else {
                            ""
                        };
                        writeln!(out, "{indent}{} = {value}   [{what}]{stand_in}", input.name)?;
                    }
                    Err(problem) => {
                        writeln!(
                            out,
                            "{indent}{} = no value   [{what}] problem: {problem}",
                            input.name
                        )?;
                    }
                }
            }
            InputValue::Parameter { value, location } => {
                writeln!(
                    out,
                    "{indent}{} = {value}   [parameter, {location}]",
                    input.name
                )?;
            }
            InputValue::Indicator(inner) => {
                let ind = &inner.indicator;
                match (inner.cell.value, &inner.cell.error) {
                    (Some(value), _) => writeln!(
                        out,
                        "{indent}{} = {} ({})   [indicator, {}]",
                        input.name,
                        value.normalize(),
                        shown(pack, inner, value),
                        inner.path
                    )?,
                    (None, Some(error)) => writeln!(
                        out,
                        "{indent}{} = no value   [indicator, {}] error ({}): {error}",
                        input.name,
                        inner.path,
                        error.kind()
                    )?,
                    (None, None) => writeln!(
                        out,
                        "{indent}{} = no value   [indicator, {}]",
                        input.name, inner.path
                    )?,
                }
                let deeper = "  ".repeat(depth + 1);
                let continued = format!("{deeper}        ");
                writeln!(
                    out,
                    "{deeper}formula {}",
                    formula_text(pack, ind, &continued)
                )?;
                write_origin(out, inner, &deeper)?;
                write_inputs(out, pack, inner, depth + 1)?;
            }
            InputValue::Aggregate => {
                writeln!(
                    out,
                    "{indent}{}   [aggregate over the group's rows]",
                    input.name
                )?;
            }
            _ => writeln!(out, "{indent}{}", input.name)?,
        }
    }
    Ok(())
}

/// The result, the standard and compliance, and the band with its reason.
fn write_result(
    out: &mut dyn Write,
    pack: &RulePack,
    step: &IndicatorExplanation,
) -> io::Result<()> {
    let indicator = &step.indicator;
    let cell = &step.cell;
    let Some(value) = cell.value else {
        match &cell.error {
            Some(error) => writeln!(out, "result   error ({}): {error}", error.kind())?,
            None => writeln!(out, "result   none")?,
        }
        return Ok(());
    };
    writeln!(
        out,
        "result   {}   (exact {})",
        shown(pack, step, value),
        value.normalize()
    )?;
    if !cell.flags.is_empty() {
        writeln!(out, "flags    {}", cell.flags.join(", "))?;
    }
    match indicator.standard {
        Some(standard) => {
            let what = match standard {
                Standard::Range { .. } => "range",
                _ => "target",
            };
            let compliance = cell.compliance.map_or_else(
                || "none (a zero standard)".to_owned(),
                |c| format!("{}% (exact {})", round_for_display(c, 2), c.normalize()),
            );
            let met = match cell.met {
                Some(true) => "yes",
                Some(false) => "no",
                None => "—",
            };
            writeln!(
                out,
                "standard {standard} ({what}, {})",
                direction_words(indicator.direction)
            )?;
            writeln!(out, "         compliance {compliance}, met: {met}")?;
        }
        None => writeln!(out, "standard none")?,
    }
    match &step.band {
        Some(reason) => write_band(out, reason, indicator.direction),
        None => writeln!(out, "band     none (the indicator has no band set)"),
    }
}

fn write_band(out: &mut dyn Write, reason: &BandReason, direction: Direction) -> io::Result<()> {
    let label = reason
        .reached()
        .map_or("none", |(level, _)| level.label.as_str());
    writeln!(out, "band     {label}")?;
    let basis = match reason.basis {
        semaforo::BandBasis::Value => "value",
        _ => "compliance",
    };
    writeln!(
        out,
        "         band set `{}` ({}), on {basis}, {}: a level applies when the score is {} its threshold",
        reason.set,
        reason.location,
        direction_words(direction),
        if reason.at_least {
            "at least"
        } else {
            "at most"
        }
    )?;
    let Some((score, kind)) = reason.score else {
        return writeln!(
            out,
            "         no score to compare: the band set reads the compliance, and there is none (no standard, or a zero one)"
        );
    };
    let name = match kind {
        BandScore::Value => "value",
        BandScore::Compliance => "compliance",
        BandScore::DistanceOutsideRange => "distance outside the range",
        BandScore::ComplianceOffTarget => "|compliance − 100|",
        _ => "score",
    };
    let (reach, miss) = if reason.at_least {
        ("≥", "<")
    } else {
        ("≤", ">")
    };
    let before = |index: usize| -> Option<String> {
        let previous = reason.levels.get(index.checked_sub(1)?)?;
        let threshold = previous.threshold?;
        Some(format!(
            "; not {}: {} {miss} {threshold}",
            previous.label,
            score_text(score, threshold)
        ))
    };
    let because = match (reason.level, reason.reached()) {
        (Some(index), Some((level, Some(threshold)))) => format!(
            "{name} {} {reach} {threshold} → {} (first level whose threshold it reaches){}",
            score_text(score, threshold),
            level.label,
            before(index).unwrap_or_default()
        ),
        (Some(index), Some((level, None))) => {
            let last = reason.levels[..index]
                .iter()
                .rev()
                .find_map(|l| l.threshold);
            match last {
                Some(threshold) => format!(
                    "{name} {} {miss} {threshold}, the last threshold → {} (it reaches no threshold: the last level takes the rest)",
                    score_text(score, threshold),
                    level.label
                ),
                None => format!("{name} {score} → {} (the only level)", level.label),
            }
        }
        _ => format!(
            "{name} {} is past every threshold: no level",
            round_for_display(score, 2)
        ),
    };
    writeln!(out, "         {because}")
}

/// A score next to a threshold: rounded to 2 decimals, exact when rounding
/// would make it look equal to the threshold.
fn score_text(score: Decimal, threshold: Decimal) -> String {
    let rounded = round_for_display(score, 2);
    if score != threshold && rounded.parse::<Decimal>().ok() == Some(threshold) {
        score.normalize().to_string()
    } else {
        rounded
    }
}

/// A value rounded for display with its unit's suffix.
fn shown(pack: &RulePack, step: &IndicatorExplanation, value: Decimal) -> String {
    let indicator = &step.indicator;
    format!(
        "{}{}",
        round_for_display(value, indicator.decimals),
        pack.labels().unit_suffix(indicator.unit)
    )
}

/// The formula as written, on as many lines as it has (each line trimmed),
/// continuation lines aligned under the first after `indent`; a function
/// by its name.
fn formula_text(pack: &RulePack, indicator: &Indicator, indent: &str) -> String {
    if let FormulaSource::Function { name, .. } = &indicator.formula {
        return format!("function `{name}` of the pack's .rhai files");
    }
    let formula = pack.formula_text(indicator);
    let lines: Vec<&str> = formula
        .text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join(&format!("\n{indent}"))
}

fn formula_location(formula: &FormulaSource) -> Option<&semaforo::Location> {
    match formula {
        FormulaSource::Inline { location, .. }
        | FormulaSource::Function { location, .. }
        | FormulaSource::Generated { location, .. } => Some(location),
        _ => None,
    }
}

fn direction_words(direction: Direction) -> &'static str {
    match direction {
        Direction::HigherIsBetter => "higher is better",
        Direction::LowerIsBetter => "lower is better",
        _ => "within the range is better",
    }
}

fn path_words(path: &str) -> &'static str {
    if path == "native" {
        "the native evaluator"
    } else {
        "rhai"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_names_are_suggested_else_all() {
        let names = ["morosidad", "morosidad_micro", "roe", "roe_real"];
        assert_eq!(
            suggest("morosidd", &names, "indicators"),
            "did you mean: morosidad?"
        );
        assert_eq!(
            suggest("real", &names, "indicators"),
            "did you mean: roe_real?"
        );
        assert_eq!(
            suggest("xyz_unknown_thing", &names, "indicators"),
            "indicators: morosidad, morosidad_micro, roe, roe_real"
        );
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
