//! The assessment of a value against its standard: compliance ratio,
//! whether the standard is met, and band (see `pack::standard` for how
//! levels and thresholds are read).

use rust_decimal::Decimal;

use crate::pack::standard::{BandBasis, BandSet, Direction, Standard};

/// A value read against its standard and band set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Assessment {
    /// `value / standard × 100`; for a range, 100 inside and `value / violated bound × 100` outside.
    /// `None` without a standard or over a zero standard.
    pub compliance: Option<Decimal>,
    /// Whether the standard is met (equality counts as met). `None` without a standard.
    pub met: Option<bool>,
    /// Index of the band level, if the indicator has a band set and the score falls in one.
    pub band: Option<usize>,
}

const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

fn percent_of(value: Decimal, base: Decimal) -> Option<Decimal> {
    if base.is_zero() {
        return None;
    }
    value.checked_div(base)?.checked_mul(HUNDRED)
}

/// Assesses `value` against an optional standard and band set.
///
/// ```
/// use rust_decimal::Decimal;
/// use semaforo_core::{assess, Direction, Standard};
/// // El Sagrario 2008: delinquency 2.8733 % against a 4 % lower-is-better standard.
/// let value: Decimal = "2.873254".parse().unwrap();
/// let a = assess(value, Direction::LowerIsBetter, Some(Standard::Target(Decimal::from(4))), None);
/// assert_eq!(a.met, Some(true));
/// assert_eq!(a.compliance.unwrap().round_dp(2).to_string(), "71.83");
/// ```
#[must_use]
pub fn assess(
    value: Decimal,
    direction: Direction,
    standard: Option<Standard>,
    bands: Option<&BandSet>,
) -> Assessment {
    let Some(standard) = standard else {
        let band = bands
            .filter(|b| b.basis == BandBasis::Value)
            .and_then(|b| b.level_for(value, direction));
        return Assessment {
            band,
            ..Assessment::default()
        };
    };
    let (compliance, met, distance) = match standard {
        Standard::Target(target) => {
            let met = match direction {
                Direction::LowerIsBetter => value <= target,
                Direction::HigherIsBetter | Direction::WithinRange => value >= target,
            };
            (percent_of(value, target), met, None)
        }
        Standard::Range { min, max } => {
            if value < min {
                (percent_of(value, min), false, Some(min - value))
            } else if value > max {
                (percent_of(value, max), false, Some(value - max))
            } else {
                (Some(HUNDRED), true, Some(Decimal::ZERO))
            }
        }
    };
    let score = bands.and_then(|b| score_of(b.basis, direction, value, compliance, distance));
    let band = bands
        .zip(score)
        .and_then(|(b, (s, _))| b.level_for(s, direction));
    Assessment {
        compliance,
        met: Some(met),
        band,
    }
}

/// What a band set's thresholds are compared with for an assessed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BandScore {
    /// The value itself.
    Value,
    /// The compliance ratio, in percent.
    Compliance,
    /// For a range on values: how far the value is outside the range (0 inside).
    DistanceOutsideRange,
    /// For a range on compliance: how far the compliance is from 100 (`|compliance − 100|`).
    ComplianceOffTarget,
}

/// The score [`assess`] compares with `bands`' thresholds for `value`, and
/// what it is; `None` when it compares nothing (e.g. compliance without a
/// standard, or over a zero standard).
pub(crate) fn band_score(
    value: Decimal,
    direction: Direction,
    standard: Option<Standard>,
    bands: &BandSet,
) -> Option<(Decimal, BandScore)> {
    let Some(standard) = standard else {
        return (bands.basis == BandBasis::Value).then_some((value, BandScore::Value));
    };
    let assessment = assess(value, direction, Some(standard), None);
    let distance = match standard {
        Standard::Target(_) => None,
        Standard::Range { min, .. } if value < min => Some(min - value),
        Standard::Range { max, .. } if value > max => Some(value - max),
        Standard::Range { .. } => Some(Decimal::ZERO),
    };
    score_of(
        bands.basis,
        direction,
        value,
        assessment.compliance,
        distance,
    )
}

/// The band score from its parts (see [`band_score`]).
fn score_of(
    basis: BandBasis,
    direction: Direction,
    value: Decimal,
    compliance: Option<Decimal>,
    distance: Option<Decimal>,
) -> Option<(Decimal, BandScore)> {
    match (basis, direction) {
        (BandBasis::Compliance, Direction::WithinRange) => {
            compliance.map(|c| ((c - HUNDRED).abs(), BandScore::ComplianceOffTarget))
        }
        (BandBasis::Compliance, _) => compliance.map(|c| (c, BandScore::Compliance)),
        (BandBasis::Value, Direction::WithinRange) => {
            distance.map(|d| (d, BandScore::DistanceOutsideRange))
        }
        (BandBasis::Value, _) => Some((value, BandScore::Value)),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::pack::standard::BandLevel;
    use crate::source::{Location, SourceFile};

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn set(basis: BandBasis, thresholds: &[Option<&str>]) -> BandSet {
        BandSet {
            id: "b".into(),
            basis,
            levels: thresholds
                .iter()
                .enumerate()
                .map(|(i, t)| BandLevel {
                    label: format!("L{i}"),
                    threshold: t.map(d),
                    colour: None,
                    color: None,
                })
                .collect(),
            location: Location {
                file: Arc::new(SourceFile::new("pack.toml", "")),
                span: 0..0,
            },
        }
    }

    #[test]
    fn sagrario_roe_compliance_uses_the_unrounded_value() {
        // DOMAIN.md §0: 1,254,785.82 / 9,095,104.12 = 13.796…% against 10.17 % gives 135.66 %, CUMPLIO.
        let value = d("1254785.82") / d("9095104.12") * Decimal::ONE_HUNDRED;
        let met = set(BandBasis::Compliance, &[Some("100"), None]);
        let a = assess(
            value,
            Direction::HigherIsBetter,
            Some(Standard::Target(d("10.17"))),
            Some(&met),
        );
        assert_eq!(a.compliance.unwrap().round_dp(2), d("135.66"));
        assert_eq!((a.met, a.band), (Some(true), Some(0)));
    }

    #[test]
    fn lower_is_better_reads_thresholds_as_at_most() {
        // Non-earning assets 6.6168 % against 5.52 %: compliance 119.87 %, a gap.
        let value = d("3023635.32") / d("45695911.55") * Decimal::ONE_HUNDRED;
        let met = set(BandBasis::Compliance, &[Some("100"), None]);
        let a = assess(
            value,
            Direction::LowerIsBetter,
            Some(Standard::Target(d("5.52"))),
            Some(&met),
        );
        assert_eq!(a.compliance.unwrap().round_dp(2), d("119.87"));
        assert_eq!((a.met, a.band), (Some(false), Some(1)));
    }

    #[test]
    fn equality_meets_the_standard_in_both_directions() {
        for direction in [Direction::HigherIsBetter, Direction::LowerIsBetter] {
            let a = assess(d("4"), direction, Some(Standard::Target(d("4"))), None);
            assert_eq!((a.met, a.compliance), (Some(true), Some(d("100"))));
        }
    }

    #[test]
    fn zero_standard_has_no_compliance_but_is_still_judged() {
        let a = assess(
            d("1"),
            Direction::LowerIsBetter,
            Some(Standard::Target(Decimal::ZERO)),
            None,
        );
        assert_eq!((a.compliance, a.met), (None, Some(false)));
    }

    #[test]
    fn range_scores_distance_outside_the_range() {
        let bands = set(BandBasis::Value, &[Some("0"), Some("5"), None]);
        let range = Some(Standard::Range {
            min: d("10"),
            max: d("20"),
        });
        let inside = assess(d("15"), Direction::WithinRange, range, Some(&bands));
        assert_eq!(
            (inside.compliance, inside.met, inside.band),
            (Some(d("100")), Some(true), Some(0))
        );
        let near = assess(d("23"), Direction::WithinRange, range, Some(&bands));
        assert_eq!(
            (near.compliance, near.met, near.band),
            (Some(d("115")), Some(false), Some(1))
        );
        let far = assess(d("4"), Direction::WithinRange, range, Some(&bands));
        assert_eq!((far.compliance, far.band), (Some(d("40")), Some(2)));
    }

    #[test]
    fn three_level_semaphore_on_compliance() {
        let bands = set(BandBasis::Compliance, &[Some("90"), Some("75"), None]);
        let standard = Some(Standard::Target(d("100")));
        let band = |v: &str| assess(d(v), Direction::HigherIsBetter, standard, Some(&bands)).band;
        assert_eq!(
            [band("90"), band("89.99"), band("75"), band("10")],
            [Some(0), Some(1), Some(1), Some(2)]
        );
    }

    #[test]
    fn band_score_gives_the_level_assess_gives() {
        let range = Some(Standard::Range {
            min: d("10"),
            max: d("20"),
        });
        let target = Some(Standard::Target(d("4")));
        for basis in [BandBasis::Compliance, BandBasis::Value] {
            let bands = set(basis, &[Some("0"), Some("5"), None]);
            for (direction, standard) in [
                (Direction::WithinRange, range),
                (Direction::LowerIsBetter, target),
                (Direction::HigherIsBetter, target),
                (Direction::HigherIsBetter, None),
            ] {
                for v in ["-3", "0", "4", "4.5", "15", "23", "100"] {
                    let band = assess(d(v), direction, standard, Some(&bands)).band;
                    let score = band_score(d(v), direction, standard, &bands);
                    assert_eq!(
                        score.and_then(|(s, _)| bands.level_for(s, direction)),
                        band,
                        "{basis:?} {direction:?} {standard:?} {v}"
                    );
                }
            }
        }
    }

    #[test]
    fn band_order_depends_on_direction() {
        let descending = set(BandBasis::Compliance, &[Some("90"), Some("75"), None]);
        assert_eq!(descending.order_problem(Direction::HigherIsBetter), None);
        let problem = descending.order_problem(Direction::LowerIsBetter).unwrap();
        assert!(
            problem.contains("thresholds 90 then 75 are out of order"),
            "{problem}"
        );
        assert!(problem.contains("strictly ascending"), "{problem}");
    }
}
