//! The warnings of one run, bounded: every warning is counted by its kind,
//! and only the first few of each kind are kept whole, so a file with a
//! million odd rows costs a count, not a million messages.

use std::collections::BTreeMap;

use crate::data::table::DataWarning;

/// How many warnings of each kind [`Warnings`] keeps by default.
pub const KEPT_PER_KIND: usize = 20;

/// Warnings in input order, at most a fixed number kept per kind, the rest
/// counted.
///
/// ```
/// use semaforo_core::{DataWarning, Warnings};
/// let mut warnings = Warnings::with_limit(2);
/// for line in 1..=5 {
///     warnings.push(DataWarning { line: Some(line), kind: "repeated_row", message: format!("row {line}") });
/// }
/// assert_eq!(warnings.kept().len(), 2);
/// assert_eq!(warnings.total(), 5);
/// assert_eq!(warnings.omitted().collect::<Vec<_>>(), [("repeated_row", 3)]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warnings {
    limit: usize,
    kept: Vec<DataWarning>,
    /// Per kind: how many were seen (kept or not).
    seen: BTreeMap<&'static str, u64>,
}

impl Default for Warnings {
    fn default() -> Self {
        Self::with_limit(KEPT_PER_KIND)
    }
}

impl Warnings {
    /// Keeps at most `limit` warnings of each kind.
    #[must_use]
    pub fn with_limit(limit: usize) -> Self {
        Self {
            limit,
            kept: Vec::new(),
            seen: BTreeMap::new(),
        }
    }

    /// Counts `warning`, and keeps it if fewer than the limit of its kind are kept.
    pub fn push(&mut self, warning: DataWarning) {
        let seen = self.seen.entry(warning.kind).or_insert(0);
        *seen += 1;
        if *seen <= self.limit as u64 {
            self.kept.push(warning);
        }
    }

    /// The warnings kept, in the order they were pushed.
    #[must_use]
    pub fn kept(&self) -> &[DataWarning] {
        &self.kept
    }

    /// How many warnings were pushed, kept or not.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.seen.values().sum()
    }

    /// Whether no warning was pushed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Each kind with warnings that were counted but not kept, and how many.
    pub fn omitted(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        self.seen
            .iter()
            .filter(|&(_, &seen)| seen > self.limit as u64)
            .map(|(&kind, &seen)| (kind, seen - self.limit as u64))
    }
}

impl Extend<DataWarning> for Warnings {
    fn extend<I: IntoIterator<Item = DataWarning>>(&mut self, warnings: I) {
        for warning in warnings {
            self.push(warning);
        }
    }
}

impl FromIterator<DataWarning> for Warnings {
    fn from_iter<I: IntoIterator<Item = DataWarning>>(warnings: I) -> Self {
        let mut all = Self::default();
        all.extend(warnings);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warning(kind: &'static str, line: u64) -> DataWarning {
        DataWarning {
            line: Some(line),
            kind,
            message: format!("{kind} on line {line}"),
        }
    }

    #[test]
    fn keeps_the_first_of_each_kind_in_input_order_and_counts_the_rest() {
        let mut warnings = Warnings::with_limit(2);
        for line in 1..=1000 {
            warnings.push(warning("sub_accounts_disagree", line));
            if line % 100 == 0 {
                warnings.push(warning("repeated_row", line));
            }
        }
        let kept: Vec<_> = warnings.kept().iter().map(|w| (w.kind, w.line)).collect();
        assert_eq!(
            kept,
            [
                ("sub_accounts_disagree", Some(1)),
                ("sub_accounts_disagree", Some(2)),
                ("repeated_row", Some(100)),
                ("repeated_row", Some(200)),
            ]
        );
        assert_eq!(warnings.total(), 1010);
        assert_eq!(
            warnings.omitted().collect::<Vec<_>>(),
            [("repeated_row", 8), ("sub_accounts_disagree", 998)]
        );
    }

    #[test]
    fn under_the_limit_nothing_is_omitted() {
        let warnings: Warnings = (1..=3).map(|l| warning("extra_fields", l)).collect();
        assert_eq!(warnings.kept().len(), 3);
        assert_eq!(warnings.omitted().count(), 0);
        assert!(!warnings.is_empty());
        assert!(Warnings::default().is_empty());
    }
}
