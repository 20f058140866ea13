//! A file checked against itself: every reported account that also has
//! reported sub-accounts should equal the sum of its top-most ones. One pass
//! per entity × period over the sorted codes, with a stack of open parents.

use rust_decimal::Decimal;
use semaforo_core::DataWarning;

use crate::ledger::{Block, Entry, Ledger};

/// What the direct (top-most) sub-accounts of a parent add up to so far.
#[derive(Debug, Clone, Copy)]
enum ChildSum {
    /// No reported sub-account yet.
    Nothing,
    Sum(Decimal),
    /// A sub-account is unreadable, or the sum overflows: nothing to compare.
    Unknown,
}

/// A reported account whose sub-accounts are being read.
struct Parent {
    /// Its entry in the block.
    at: usize,
    /// The first code rank past its sub-accounts.
    subtree_end: u32,
    children: ChildSum,
}

/// One warning per reported account whose reported sub-accounts add up to
/// something else, at the account's line; unreadable values are skipped
/// (they have their own warning). Signs are kept: a contra account's
/// sub-accounts are negative like it.
pub(crate) fn check(ledger: &Ledger) -> Vec<DataWarning> {
    let mut warnings = Vec::new();
    let mut open: Vec<Parent> = Vec::new();
    for block in &ledger.blocks {
        let entries = &block.entries;
        // Compares a parent that closes with what its sub-accounts add up to.
        let mut close = |parent: &Parent| {
            if let ChildSum::Sum(sum) = parent.children
                && let Some(entry) = entries.get(parent.at)
                && let Some(value) = entry.value
                && value != sum
            {
                warnings.push(disagreement(ledger, block, entry, value, sum));
            }
        };
        for (at, entry) in entries.iter().enumerate() {
            if !ledger.codes.is_account(entry.code) {
                continue;
            }
            while let Some(parent) = open.last() {
                if entry.code < parent.subtree_end {
                    break;
                }
                close(parent);
                open.pop();
            }
            if let Some(parent) = open.last_mut() {
                parent.children = match (parent.children, entry.value) {
                    (ChildSum::Unknown, _) | (_, None) => ChildSum::Unknown,
                    (ChildSum::Nothing, Some(value)) => ChildSum::Sum(value),
                    (ChildSum::Sum(sum), Some(value)) => sum
                        .checked_add(value)
                        .map_or(ChildSum::Unknown, ChildSum::Sum),
                };
            }
            open.push(Parent {
                at,
                subtree_end: ledger.codes.subtree_end(entry.code),
                children: ChildSum::Nothing,
            });
        }
        while let Some(parent) = open.pop() {
            close(&parent);
        }
    }
    // Parents close after their sub-accounts; report them in file order.
    warnings.sort_by_key(|w| w.line);
    warnings
}

/// The warning of an account that reports `value` while its sub-accounts add up to `sum`.
#[cold]
fn disagreement(
    ledger: &Ledger,
    block: &Block,
    entry: &Entry,
    value: Decimal,
    sum: Decimal,
) -> DataWarning {
    let difference = value
        .checked_sub(sum)
        .map_or_else(|| "too large for a decimal".to_owned(), |d| d.to_string());
    DataWarning {
        line: Some(entry.line),
        kind: "sub_accounts_disagree",
        message: format!(
            "{}: account `{}` reports {value} but its sub-accounts add up to {sum} (difference {difference})",
            ledger.describe(block),
            ledger.code(entry.code)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load;
    use semaforo_core::DataShape;

    fn warnings(rows: &str) -> Vec<(u64, String)> {
        let shape = DataShape {
            period: Some("period".into()),
            ..DataShape::default()
        };
        let csv = format!("entity,period,code,value\n{rows}");
        let (ledger, _) = load(csv.as_bytes(), "b.csv", &shape).unwrap();
        check(&ledger)
            .into_iter()
            .map(|w| (w.line.unwrap(), w.message))
            .collect()
    }

    #[test]
    fn a_parent_that_disagrees_with_its_children_is_reported_exactly() {
        let found = warnings(
            "COAC,2008-12,14,37734583.53\nCOAC,2008-12,1401,37000000.00\nCOAC,2008-12,1402,734000.00\n",
        );
        assert_eq!(
            found,
            [(
                2,
                "entity `COAC` period `2008-12`: account `14` reports 37734583.53 but its sub-accounts add up to 37734000.00 (difference 583.53)".to_owned()
            )]
        );
    }

    #[test]
    fn agreeing_hierarchies_are_quiet_and_only_top_most_children_count() {
        // 1 = 14 + 15; 14 = 1411 + 1499 (contra, negative); 1411 = 141105 + 141110.
        let found = warnings(
            "A,P,1,95\nA,P,14,90\nA,P,1411,100\nA,P,141105,60\nA,P,141110,40\nA,P,1499,-10\nA,P,15,5\nA,P,SOCIOS,3\n",
        );
        assert_eq!(found, []);
    }

    #[test]
    fn contra_sub_accounts_keep_their_sign() {
        let found = warnings("A,P,1499,-372158\nA,P,149905,-300000\nA,P,149930,-72000\n");
        assert_eq!(
            found,
            [(
                2,
                "entity `A` period `P`: account `1499` reports -372158 but its sub-accounts add up to -372000 (difference -158)".to_owned()
            )]
        );
    }

    #[test]
    fn every_level_is_checked_and_unreadable_values_are_skipped() {
        let found = warnings(
            "A,P,1,10\nA,P,14,9\nA,P,1411,5\nA,P,1412,3\nA,P,2,x\nA,P,21,4\nA,P,3,1\nA,P,31,y\n",
        );
        assert_eq!(
            found,
            [
                (
                    2,
                    "entity `A` period `P`: account `1` reports 10 but its sub-accounts add up to 9 (difference 1)".to_owned()
                ),
                (
                    3,
                    "entity `A` period `P`: account `14` reports 9 but its sub-accounts add up to 8 (difference 1)".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn each_entity_and_period_is_checked_on_its_own() {
        let found = warnings("A,P,14,5\nB,P,1411,4\nA,Q,1411,1\nA,P,1411,5\n");
        assert_eq!(found, []);
    }
}
