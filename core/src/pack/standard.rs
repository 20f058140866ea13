//! How an indicator's value is judged, as the pack writes it: its
//! [`Direction`], its [`Standard`], and band sets (traffic-light levels).
//! `evaluate::assess` applies them to a value.
//!
//! Levels are listed best first. Each level but the last has a threshold; a
//! level without one catches everything left. Thresholds are read with the
//! indicator's direction: for *higher is better* a level applies when the
//! score is **at least** its threshold (so thresholds descend); for *lower is
//! better* and *within a range* when the score is **at most** its threshold
//! (so thresholds ascend). The score is the compliance ratio or the value,
//! as the band set's `on` says; for a range it is the distance outside the
//! range (0 inside).

use std::fmt;

use rust_decimal::Decimal;

use crate::pack::colour::Colour;
use crate::source::Location;

/// What a band set's thresholds are compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BandBasis {
    /// The compliance ratio, in percent (`value / standard × 100`).
    Compliance,
    /// The indicator's value itself.
    Value,
}

/// One level of a band set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BandLevel {
    /// The pack's word for this level, e.g. `CUMPLIO`.
    pub label: String,
    /// Where the level starts (see the module docs); `None` for the catch-all last level.
    pub threshold: Option<Decimal>,
    /// Colour for reports, checked when the pack loads (`#rrggbb`, `#rgb`
    /// or a CSS colour name in `pack.toml`).
    pub colour: Option<Colour>,
    /// The same colour as `#rrggbb` text, for report writers.
    pub color: Option<String>,
}

/// Ordered levels applied to a value or its compliance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BandSet {
    /// Name the indicators use.
    pub id: String,
    /// What the thresholds compare with.
    pub basis: BandBasis,
    /// Levels, best first.
    pub levels: Vec<BandLevel>,
    /// Where the band set is defined.
    pub location: Location,
}

impl BandSet {
    /// Why the thresholds are not in best-first order for `direction`, if they are not.
    #[must_use]
    pub fn order_problem(&self, direction: Direction) -> Option<String> {
        let thresholds: Vec<Decimal> = self.levels.iter().filter_map(|l| l.threshold).collect();
        let descending = direction == Direction::HigherIsBetter;
        let bad = thresholds.windows(2).find(|w| {
            if descending {
                w[0] <= w[1]
            } else {
                w[0] >= w[1]
            }
        })?;
        let (order, reading) = if descending {
            ("strictly descending", "at least")
        } else {
            ("strictly ascending", "at most")
        };
        Some(format!(
            "thresholds {} then {} are out of order: for a {}-is-better indicator each level applies \
             when the score is {reading} its threshold, so thresholds listed best first must be {order}",
            bad[0],
            bad[1],
            direction.as_str()
        ))
    }

    /// Index of the level the score falls in, or `None` when it is past every threshold.
    #[must_use]
    pub fn level_for(&self, score: Decimal, direction: Direction) -> Option<usize> {
        self.levels.iter().position(|level| match level.threshold {
            None => true,
            Some(t) if direction == Direction::HigherIsBetter => score >= t,
            Some(t) => score <= t,
        })
    }
}

/// Which way is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Direction {
    /// The value should be at least the standard.
    HigherIsBetter,
    /// The value should be at most the standard.
    LowerIsBetter,
    /// The value should lie within `[min, max]`.
    WithinRange,
}

impl Direction {
    /// The word used in `pack.toml`: `higher`, `lower` or `range`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HigherIsBetter => "higher",
            Self::LowerIsBetter => "lower",
            Self::WithinRange => "range",
        }
    }

    /// Parses the `pack.toml` word.
    #[must_use]
    pub fn parse(word: &str) -> Option<Self> {
        [Self::HigherIsBetter, Self::LowerIsBetter, Self::WithinRange]
            .into_iter()
            .find(|d| d.as_str() == word)
    }
}

/// The target an indicator is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Standard {
    /// One target value (higher- or lower-is-better).
    Target(Decimal),
    /// An acceptable range, both ends included.
    Range {
        /// Lowest acceptable value.
        min: Decimal,
        /// Highest acceptable value.
        max: Decimal,
    },
}

impl fmt::Display for Standard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Target(v) => write!(f, "{v}"),
            Self::Range { min, max } => write!(f, "{min}..{max}"),
        }
    }
}
