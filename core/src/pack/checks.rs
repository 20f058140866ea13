//! What only the whole pack can tell, checked once every layer is resolved:
//! one function per rule, each pushing its problems in the order the pack
//! is read. [`super::load`]'s `finalize` calls them in turn and builds the
//! [`RulePack`](super::RulePack).

use std::collections::{BTreeMap, BTreeSet};

use super::layer::{DataLayer, Draft, MatrixDraft};
use super::matrix;
use super::{BandSet, Direction, Field, Indicator, Matrix, Override, Parameter, Standard, Unit};
use crate::data::decimal::NumberFormat;
use crate::diagnostic::{Diagnostic, DiagnosticCode};
use crate::source::Location;

/// The entity column named by `[data] entity`, or `entity`.
pub(super) fn entity_column(data: &DataLayer) -> &str {
    data.entity.as_deref().unwrap_or("entity")
}

/// No field reads the entity or the period column: a key identifies rows
/// and is never a value.
pub(super) fn fields_are_not_keys(
    fields: &[(Field, Location)],
    data: &DataLayer,
    problems: &mut Vec<Diagnostic>,
) {
    let entity = entity_column(data);
    for (field, location) in fields {
        let role = if field.column == entity {
            Some(("entity", "[data] entity"))
        } else if data.period.as_ref() == Some(&field.column) {
            Some(("period", "[data] period"))
        } else {
            None
        };
        if let Some((role, key)) = role {
            problems.push(
                Diagnostic::error(
                    DiagnosticCode::InvalidValue,
                    format!(
                        "field `{}` reads column `{}`, which is the data's {role} key ({key}), not a value",
                        field.name, field.column
                    ),
                    Some(location.clone()),
                )
                .with_help(format!(
                    "a key column identifies rows and is never read as a value: remove the field, or, if the data's {role} is another column, say which with {key} = \"…\""
                )),
            );
        }
    }
}

/// Every matrix has the `matrix` plugin; each adds its generated
/// indicators to `indicators`.
pub(super) fn expand_matrices(
    matrices: &[MatrixDraft],
    plugins: &[(String, Location)],
    indicators: &mut Vec<Draft>,
    fields: &[Field],
    problems: &mut Vec<Diagnostic>,
) {
    let field_list: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
    for matrix in matrices {
        if !plugins.iter().any(|(p, _)| p == matrix::MATRIX_PLUGIN) {
            problems.push(
                Diagnostic::error(
                    DiagnosticCode::UnknownPlugin,
                    format!("matrix `{}` needs the `matrix` plugin", matrix.id),
                    Some(matrix.location.clone()),
                )
                .with_help("add \"matrix\" to [pack] plugins"),
            );
        }
        matrix::expand(matrix, indicators, &field_list, problems);
    }
}

/// A parameter's name is neither an indicator's nor a field's.
pub(super) fn parameters_have_their_own_names(
    parameters: &[Parameter],
    indicators: &[Draft],
    fields: &[Field],
    problems: &mut Vec<Diagnostic>,
) {
    let parameter_names: BTreeSet<&str> = parameters.iter().map(|p| p.name.as_str()).collect();
    for draft in indicators {
        if parameter_names.contains(draft.id.as_str()) {
            problems.push(Diagnostic::error(
                DiagnosticCode::DuplicateId,
                format!("`{}` is both a parameter and an indicator", draft.id),
                Some(draft.location.clone()),
            ));
        }
    }
    for parameter in parameters {
        if fields.iter().any(|f| f.name == parameter.name) {
            problems.push(Diagnostic::error(
                DiagnosticCode::DuplicateId,
                format!("`{}` is both a parameter and a field", parameter.name),
                Some(parameter.location.clone()),
            ));
        }
    }
}

/// The indicators, each checked in turn: its id, its standard, its band set
/// and its formula. An indicator without a formula is left out.
pub(super) fn indicators(
    drafts: Vec<Draft>,
    fields: &[Field],
    band_sets: &[BandSet],
    problems: &mut Vec<Diagnostic>,
) -> Vec<Indicator> {
    let band_index: BTreeMap<&str, usize> = band_sets
        .iter()
        .enumerate()
        .map(|(i, b)| (b.id.as_str(), i))
        .collect();
    let field_names: BTreeSet<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    let mut checked_orders = BTreeSet::new();
    let mut indicators = Vec::new();
    for draft in drafts {
        indicator_id_is_usable(&draft, &field_names, problems);
        let direction = draft
            .direction
            .as_ref()
            .map_or(Direction::HigherIsBetter, |(d, _)| *d);
        let standard = standard(&draft, direction, problems);
        let band_set = band_set(
            &draft,
            direction,
            band_sets,
            &band_index,
            &mut checked_orders,
            problems,
        );
        if let Some(indicator) = with_formula(draft, direction, standard, band_set, problems) {
            indicators.push(indicator);
        }
    }
    indicators
}

/// An indicator's id is not a field's name, and formulas can read it.
fn indicator_id_is_usable(
    draft: &Draft,
    field_names: &BTreeSet<&str>,
    problems: &mut Vec<Diagnostic>,
) {
    let id = &draft.id;
    if field_names.contains(id.as_str()) {
        problems.push(
            Diagnostic::error(
                DiagnosticCode::DuplicateId,
                format!("indicator `{id}` has the same name as a field"),
                Some(draft.location.clone()),
            )
            .with_help("formulas read both by name; rename one of them"),
        );
    } else if !rhai::is_valid_identifier(id) {
        problems.push(
            Diagnostic::error(
                DiagnosticCode::InvalidValue,
                format!("indicator id `{id}` cannot be used in formulas"),
                Some(draft.location.clone()),
            )
            .with_help("use letters, digits and `_`, starting with a letter"),
        );
    } else if let Some(why) = crate::pack::names::unusable(id) {
        problems.push(
            Diagnostic::error(
                DiagnosticCode::ReservedName,
                format!("indicator id `{id}` cannot be read by formulas: {why}"),
                Some(draft.location.clone()),
            )
            .with_help("give the indicator another id (its display `name` can still say anything)"),
        );
    }
}

/// The indicator's standard: one target, or for `range` a minimum not above
/// its maximum, never both kinds.
fn standard(
    draft: &Draft,
    direction: Direction,
    problems: &mut Vec<Diagnostic>,
) -> Option<Standard> {
    let id = &draft.id;
    let mut error = |message: String, location: &Location, help: Option<&str>| {
        let mut problem = Diagnostic::error(
            DiagnosticCode::InvalidValue,
            message,
            Some(location.clone()),
        );
        problem.help = help.map(str::to_owned);
        problems.push(problem);
    };
    if direction == Direction::WithinRange {
        if let Some((_, location)) = &draft.standard {
            error(
                format!("indicator `{id}` is `range` but has a single `standard`"),
                location,
                Some("give `standard_min` and `standard_max` instead"),
            );
            return None;
        }
        return match (&draft.standard_min, &draft.standard_max) {
            (Some((min, _)), Some((max, _))) if min <= max => Some(Standard::Range {
                min: *min,
                max: *max,
            }),
            (Some((min, location)), Some((max, _))) => {
                error(
                    format!("standard_min {min} is above standard_max {max}"),
                    location,
                    None,
                );
                None
            }
            (None, None) => None,
            _ => {
                error(
                    format!("indicator `{id}` needs both `standard_min` and `standard_max`"),
                    &draft.location,
                    None,
                );
                None
            }
        };
    }
    if let Some((_, location)) = draft.standard_min.as_ref().or(draft.standard_max.as_ref()) {
        error(
            format!(
                "`standard_min`/`standard_max` need `direction = \"range\"` (indicator `{id}`)"
            ),
            location,
            None,
        );
    }
    draft.standard.as_ref().map(|(d, _)| Standard::Target(*d))
}

/// The indicator's band set: defined, and its levels in the order its
/// direction needs (each set checked once per direction).
fn band_set(
    draft: &Draft,
    direction: Direction,
    band_sets: &[BandSet],
    band_index: &BTreeMap<&str, usize>,
    checked_orders: &mut BTreeSet<(usize, Direction)>,
    problems: &mut Vec<Diagnostic>,
) -> Option<usize> {
    let (name, location) = draft.bands.as_ref()?;
    match band_index.get(name.as_str()) {
        Some(&i) => {
            if checked_orders.insert((i, direction))
                && let Some(problem) = band_sets[i].order_problem(direction)
            {
                problems.push(Diagnostic::error(
                    DiagnosticCode::BadBandOrder,
                    format!("band set `{name}`: {problem} (used by `{}`)", draft.id),
                    Some(band_sets[i].location.clone()),
                ));
            }
            Some(i)
        }
        None => {
            let known: Vec<&str> = band_index.keys().copied().collect();
            problems.push(
                Diagnostic::error(
                    DiagnosticCode::UnknownBandSet,
                    format!("band set `{name}` is not defined"),
                    Some(location.clone()),
                )
                .with_help(if known.is_empty() {
                    "define it under [bands.NAME]".to_owned()
                } else {
                    format!("defined band sets: {}", known.join(", "))
                }),
            );
            None
        }
    }
}

/// The indicator, when it has a formula (a problem when not).
fn with_formula(
    draft: Draft,
    direction: Direction,
    standard: Option<Standard>,
    band_set: Option<usize>,
    problems: &mut Vec<Diagnostic>,
) -> Option<Indicator> {
    let id = draft.id;
    let Some(formula) = draft.formula else {
        problems.push(
            Diagnostic::error(DiagnosticCode::InvalidValue, format!("indicator `{id}` has no formula"), Some(draft.location))
                .with_help("add `formula = \"…\"` (a rhai expression) or `function = \"…\"` (a function of a .rhai file)"),
        );
        return None;
    };
    Some(Indicator {
        name: draft.name.unwrap_or_else(|| id.clone()),
        id,
        description: draft.description.unwrap_or_default(),
        group: draft.group.unwrap_or_default(),
        unit: draft.unit.unwrap_or(Unit::Ratio),
        direction,
        standard,
        band_set,
        frequency: draft.frequency.unwrap_or_default(),
        decimals: draft.decimals.unwrap_or(2),
        responsible: draft.responsible.unwrap_or_default(),
        formula,
        grain: draft.grain,
        location: draft.location,
        overrides: draft
            .overrides
            .into_iter()
            .map(|(keys, location)| Override { keys, location })
            .collect(),
    })
}

/// Every grain column is the entity, the period or a dimension.
pub(super) fn grain_columns_are_known(
    indicators: &[Indicator],
    data: &DataLayer,
    problems: &mut Vec<Diagnostic>,
) {
    for indicator in indicators {
        for column in indicator.grain.iter().flatten() {
            let known = *column == entity_column(data)
                || Some(column) == data.period.as_ref()
                || data.dimensions.iter().flatten().any(|d| d == column);
            if !known {
                problems.push(
                    Diagnostic::error(
                        DiagnosticCode::UnknownName,
                        format!("grain column `{column}` of `{}` is not the entity, the period or a dimension", indicator.id),
                        Some(indicator.location.clone()),
                    )
                    .with_help("list the column under [data] dimensions"),
                );
            }
        }
    }
}

/// The matrices whose criteria name indicators of the pack.
pub(super) fn matrices(
    drafts: &[MatrixDraft],
    indicators: &[Indicator],
    problems: &mut Vec<Diagnostic>,
) -> Vec<Matrix> {
    let ids: Vec<&str> = indicators.iter().map(|i| i.id.as_str()).collect();
    drafts
        .iter()
        .filter_map(|m| matrix::finish(m, &ids, problems))
        .collect()
}

/// The peer group, if any, is one of the data's dimensions.
pub(super) fn peer_group_is_a_dimension(data: &DataLayer, problems: &mut Vec<Diagnostic>) {
    if let Some((group, location)) = &data.peer_group
        && !data.dimensions.iter().flatten().any(|d| d == group)
    {
        problems.push(
            Diagnostic::error(
                DiagnosticCode::InvalidValue,
                format!("peer_group `{group}` is not one of the data's dimensions"),
                Some(location.clone()),
            )
            .with_help("list the column under [data] dimensions too"),
        );
    }
}

/// The data's number format, whose thousands separator is not its decimal
/// separator.
pub(super) fn number_format(data: &DataLayer, problems: &mut Vec<Diagnostic>) -> NumberFormat {
    let numbers = NumberFormat {
        decimal: data.decimal.as_ref().map_or('.', |(c, _)| *c),
        thousands: data.thousands.flatten(),
        exponent: data.exponent.unwrap_or(false),
    };
    if let (Some((_, location)), Some(thousands)) = (&data.decimal, numbers.thousands)
        && thousands == numbers.decimal
    {
        problems.push(Diagnostic::error(
            DiagnosticCode::InvalidValue,
            format!("the thousands separator `{thousands}` is also the decimal separator"),
            Some(location.clone()),
        ));
    }
    numbers
}
