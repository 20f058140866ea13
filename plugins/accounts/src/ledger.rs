//! The balances of one file held for lookups, and the balance rule.
//!
//! Every distinct code is stored once, sorted as text; an entry names its
//! code by rank in that order. Each entity × period keeps its entries sorted
//! by rank, so the sub-accounts of a code — the codes it prefixes — are one
//! contiguous run, found by two binary searches. Evaluating a query touches
//! no strings but the prefix test between an entry and the last top-most
//! entry, and hashes nothing.
//!
//! **Balance rule.** The balance of account `c` is its reported value when
//! the file has `c`; otherwise the sum of its top-most reported
//! descendants (reported codes starting with `c` with no reported code
//! strictly between); otherwise it has none. A range sums the balances of
//! its codes that have one, and is zero when none of them has (a range
//! names accounts an institution may not use). A pseudo-code has only its
//! own value.

use std::sync::Arc;

use rust_decimal::Decimal;

use crate::query::{CodeKind, Query, Sign, Term, classify};

/// One reported row: a code's value (`None` when it could not be read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    /// `None` when the file's value is not a number.
    pub value: Option<Decimal>,
    /// Rank of the code in [`Ledger::codes`].
    pub code: u32,
    /// 1-based line in the file.
    pub line: u64,
}

/// The rows of one entity × period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    /// Index into [`Ledger::entities`].
    pub entity: usize,
    pub period: String,
    /// Line of the block's first row.
    pub line: u64,
    /// Dimension values of the block's first row, in the pack's order.
    pub dimensions: Vec<String>,
    /// Sorted by code rank, one entry per code.
    pub entries: Vec<Entry>,
}

/// The distinct codes of a ledger, sorted as text, with what lookups need
/// to know about each without touching its text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Codes {
    /// The codes, sorted as text; a code's rank is its index here.
    text: Vec<Box<str>>,
    /// Per rank: the first rank past the codes this one prefixes (its
    /// sub-accounts, contiguous right after it in text order).
    subtree_end: Vec<u32>,
    /// Per rank: whether the code is an account (digits), not a pseudo-code.
    account: Vec<bool>,
}

impl Codes {
    /// Indexes `text`, which must be sorted and free of repeats.
    pub(crate) fn new(text: Vec<Box<str>>) -> Self {
        let rank = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        let mut subtree_end = vec![rank(text.len()); text.len()];
        // Open ancestors: each closes at the first code it does not prefix.
        let mut open: Vec<usize> = Vec::new();
        for (i, code) in text.iter().enumerate() {
            while let Some(&parent) = open.last() {
                if code.starts_with(text[parent].as_ref()) {
                    break;
                }
                subtree_end[parent] = rank(i);
                open.pop();
            }
            open.push(i);
        }
        let account = text
            .iter()
            .map(|c| classify(c) == Some(CodeKind::Account))
            .collect();
        Self {
            text,
            subtree_end,
            account,
        }
    }

    /// How many codes there are.
    pub(crate) fn len(&self) -> usize {
        self.text.len()
    }

    /// The rank of `code`, if it is one of these.
    pub(crate) fn find(&self, code: &str) -> Option<u32> {
        let at = self.text.binary_search_by(|c| c.as_ref().cmp(code)).ok()?;
        u32::try_from(at).ok()
    }

    /// The code of a rank (empty for a rank out of range).
    pub(crate) fn text(&self, rank: u32) -> &str {
        usize::try_from(rank)
            .ok()
            .and_then(|i| self.text.get(i))
            .map_or("", AsRef::as_ref)
    }

    /// The first rank past the sub-accounts of `rank`.
    pub(crate) fn subtree_end(&self, rank: u32) -> u32 {
        usize::try_from(rank)
            .ok()
            .and_then(|i| self.subtree_end.get(i))
            .copied()
            .unwrap_or(rank)
    }

    /// Whether `rank` is an account code (digits).
    pub(crate) fn is_account(&self, rank: u32) -> bool {
        usize::try_from(rank)
            .ok()
            .and_then(|i| self.account.get(i))
            .copied()
            .unwrap_or(false)
    }
}

/// Every balance of a file (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Ledger {
    /// The file, for messages.
    pub source: String,
    /// Distinct codes, sorted as text: at least those of the entries
    /// (a streamed file's batches share the codes of the file seen so far;
    /// a code without entries changes no balance).
    pub codes: Arc<Codes>,
    /// Entities in order of first appearance.
    pub entities: Vec<String>,
    /// Blocks by entity (first appearance), then period (sorted as text).
    pub blocks: Vec<Block>,
}

/// The entries a term reads: ranks `first..end`, codes at least `level`
/// long (a range skips the shorter codes that sort inside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    first: u32,
    end: u32,
    level: usize,
}

/// Why a term has no balance although the file reports something for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shortfall {
    /// A code the term needs has an unreadable value.
    Unreadable { code: u32, line: u64 },
    /// The sum does not fit in a decimal.
    Overflow,
}

impl Ledger {
    /// `entity `E` period `P``, for messages.
    pub(crate) fn describe(&self, block: &Block) -> String {
        format!(
            "entity `{}` period `{}`",
            self.entities[block.entity], block.period
        )
    }

    /// The balance of `query` in every block, in block order.
    pub(crate) fn balances(&self, query: &Query) -> Vec<Result<Decimal, String>> {
        let spans: Vec<(Sign, &Term, Span)> = query
            .terms()
            .iter()
            .map(|(sign, term)| (*sign, term, self.span(term)))
            .collect();
        self.blocks
            .iter()
            .map(|block| {
                let mut total = Decimal::ZERO;
                for &(sign, term, span) in &spans {
                    let value = match self.sum(block, span) {
                        Ok(Some(value)) => value,
                        // A range names the accounts a cooperative may use; one that uses
                        // none of them (no restructured loans, say) has nothing there.
                        Ok(None) if matches!(term, Term::Range { .. }) => Decimal::ZERO,
                        Ok(None) => return Err(self.no_balance(term, block)),
                        Err(Shortfall::Unreadable { code, line }) => {
                            return Err(self.unreadable(term, block, code, line));
                        }
                        Err(Shortfall::Overflow) => return Err(self.overflow(query, block)),
                    };
                    let next = match sign {
                        Sign::Plus => total.checked_add(value),
                        Sign::Minus => total.checked_sub(value),
                    };
                    total = next.ok_or_else(|| self.overflow(query, block))?;
                }
                Ok(total)
            })
            .collect()
    }

    /// The ranks a term reads, found once per file.
    fn span(&self, term: &Term) -> Span {
        let rank = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        match term {
            Term::Account(code) => self.digit_span(code, code),
            Term::Range { start, end } => self.digit_span(start, end),
            Term::Item(item) => match self.codes.text.binary_search_by(|c| c.as_ref().cmp(item)) {
                Ok(at) => Span {
                    first: rank(at),
                    end: rank(at + 1),
                    level: item.len(),
                },
                Err(_) => Span {
                    first: 0,
                    end: 0,
                    level: 0,
                },
            },
        }
    }

    /// Codes from `start` to `end` (same length) and everything below them.
    fn digit_span(&self, start: &str, end: &str) -> Span {
        let first = self.codes.text.partition_point(|c| c.as_ref() < start);
        let last = self
            .codes
            .text
            .partition_point(|c| c.as_ref() <= end || c.starts_with(end));
        let rank = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        Span {
            first: rank(first),
            end: rank(last),
            level: start.len(),
        }
    }

    /// Sum of the top-most entries of `span` in `block`; `None` when there is none.
    fn sum(&self, block: &Block, span: Span) -> Result<Option<Decimal>, Shortfall> {
        let entries = &block.entries;
        let from = entries.partition_point(|e| e.code < span.first);
        let to = entries.partition_point(|e| e.code < span.end);
        let mut total: Option<Decimal> = None;
        let mut at = from;
        while at < to {
            let entry = &entries[at];
            at += 1;
            if self.code(entry.code).len() < span.level {
                continue;
            }
            // A top-most entry: its sub-accounts are in it already, skip them.
            let past = self.codes.subtree_end(entry.code);
            at += entries[at..to].partition_point(|e| e.code < past);
            let Some(value) = entry.value else {
                return Err(Shortfall::Unreadable {
                    code: entry.code,
                    line: entry.line,
                });
            };
            total = Some(
                total
                    .unwrap_or(Decimal::ZERO)
                    .checked_add(value)
                    .ok_or(Shortfall::Overflow)?,
            );
        }
        Ok(total)
    }

    /// The code of a rank.
    pub(crate) fn code(&self, rank: u32) -> &str {
        self.codes.text(rank)
    }

    fn no_balance(&self, term: &Term, block: &Block) -> String {
        let row = self.describe(block);
        match term {
            Term::Account(code) => format!(
                "account {code} has no balance for {row} (neither the account nor any sub-account is in the file)"
            ),
            Term::Range { .. } => unreachable!("a range with no balance adds zero; see `balances`"),
            Term::Item(item) => {
                format!("item {item} has no value for {row} (it is not in the file)")
            }
        }
    }

    fn unreadable(&self, term: &Term, block: &Block, code: u32, line: u64) -> String {
        let what = match term {
            Term::Account(code) => format!("account {code}"),
            Term::Range { start, end } => format!("range {start}..{end}"),
            Term::Item(item) => format!("item {item}"),
        };
        let code = self.code(code);
        let kind = match classify(code) {
            Some(CodeKind::Item) => "item",
            _ => "account",
        };
        format!(
            "{what} has no usable balance for {}: {}:{line} gives {kind} {code} no readable value",
            self.describe(block),
            self.source
        )
    }

    fn overflow(&self, query: &Query, block: &Block) -> String {
        format!(
            "the balance of {query} for {} is too large for a decimal",
            self.describe(block)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load;
    use semaforo_core::DataShape;

    fn shape() -> DataShape {
        DataShape {
            period: Some("period".into()),
            ..DataShape::default()
        }
    }

    /// A ledger from `entity,period,code,value` lines.
    fn ledger(rows: &str) -> Ledger {
        let csv = format!("entity,period,code,value\n{rows}");
        load(csv.as_bytes(), "b.csv", &shape()).unwrap().0
    }

    fn balance(ledger: &Ledger, query: &str) -> Vec<Result<String, String>> {
        ledger
            .balances(&Query::parse(query).unwrap())
            .into_iter()
            .map(|r| r.map(|d| d.to_string()))
            .collect()
    }

    fn one(ledger: &Ledger, query: &str) -> Result<String, String> {
        let mut all = balance(ledger, query);
        assert_eq!(all.len(), 1);
        all.remove(0)
    }

    #[test]
    fn each_code_knows_where_its_sub_accounts_end() {
        let text = ["1", "11", "1101", "12", "2", "SOCIOS"];
        let codes = Codes::new(text.iter().map(|&c| c.into()).collect());
        let ends: Vec<u32> = (0..6).map(|r| codes.subtree_end(r)).collect();
        assert_eq!(ends, [4, 3, 3, 4, 5, 6]);
        let accounts: Vec<bool> = (0..6).map(|r| codes.is_account(r)).collect();
        assert_eq!(accounts, [true, true, true, true, true, false]);
    }

    #[test]
    fn a_reported_parent_wins_over_its_children() {
        let l = ledger("A,P,14,100.50\nA,P,1411,60\nA,P,1412,30\n");
        assert_eq!(one(&l, "14"), Ok("100.50".into()));
        assert_eq!(one(&l, "1411"), Ok("60".into()));
    }

    #[test]
    fn a_missing_parent_is_the_sum_of_its_children() {
        let l = ledger("A,P,1411,60.25\nA,P,1412,30\nA,P,15,7\n");
        assert_eq!(one(&l, "14"), Ok("90.25".into()));
        assert_eq!(one(&l, "1"), Ok("97.25".into()));
    }

    #[test]
    fn three_levels_with_only_leaves_reported() {
        // 1 → 14 → 1411 → 141105 / 141110, and 1499 → 149905.
        let l = ledger("A,P,141105,10\nA,P,141110,5\nA,P,141205,2\nA,P,149905,-4\n");
        assert_eq!(one(&l, "141105"), Ok("10".into()));
        assert_eq!(one(&l, "1411"), Ok("15".into()));
        assert_eq!(one(&l, "14"), Ok("13".into()));
        assert_eq!(one(&l, "1"), Ok("13".into()));
    }

    #[test]
    fn top_most_descendants_only_are_added() {
        // 1411 is reported: its children are not added again into 14.
        let l = ledger("A,P,1411,15\nA,P,141105,10\nA,P,141110,4\nA,P,1412,1\n");
        assert_eq!(one(&l, "14"), Ok("16".into()));
    }

    #[test]
    fn contra_accounts_keep_their_sign() {
        let l = ledger("A,P,1401,1000\nA,P,149905,-300\nA,P,149930,-72\n");
        assert_eq!(one(&l, "1499"), Ok("-372".into()));
        assert_eq!(one(&l, "14"), Ok("628".into()));
        assert_eq!(one(&l, "-1499"), Ok("372".into()));
        assert_eq!(one(&l, "14-1499"), Ok("1000".into()));
    }

    #[test]
    fn subtraction_and_leading_zeros() {
        let l = ledger("A,P,11,500\nA,P,1103,120\nA,P,0101,1\nA,P,101,2\n");
        assert_eq!(one(&l, "11-1103"), Ok("380".into()));
        assert_eq!(one(&l, "0101"), Ok("1".into()));
        assert_eq!(one(&l, "101"), Ok("2".into()));
    }

    #[test]
    fn ranges_skip_absent_codes() {
        let l = ledger(
            "A,P,1421,1\nA,P,1422,2\nA,P,1424,4\nA,P,142601,6\nA,P,1428,8\nA,P,1429,100\nA,P,142,1000\n",
        );
        // 1423, 1425 and 1427 are absent; 1426 is the sum of its child; 142 and 1429 are outside.
        assert_eq!(one(&l, "1421..1428"), Ok("21".into()));
        assert_eq!(
            one(&l, "1425..1425"),
            Ok("0".into()),
            "a range with no account in use adds nothing"
        );
        assert_eq!(
            one(&l, "1425"),
            Err("account 1425 has no balance for entity `A` period `P` (neither the account nor any sub-account is in the file)".into()),
            "a single account must be there"
        );
    }

    #[test]
    fn a_range_skips_shorter_codes_sorting_inside_it() {
        let l = ledger("A,P,15,1000\nA,P,1501,1\nA,P,1499,-5\nA,P,1530,9\n");
        // `15` sorts between 1421 and 1528 but is not a code of the range.
        assert_eq!(one(&l, "1421..1528"), Ok("-4".into()));
    }

    #[test]
    fn pseudo_codes_have_no_hierarchy() {
        let l = ledger("A,P,SOCIOS,3\nA,P,SOCIOS_TOTAL,62859\n");
        assert_eq!(one(&l, "SOCIOS_TOTAL"), Ok("62859".into()));
        assert_eq!(one(&l, "SOCIOS"), Ok("3".into()));
        assert_eq!(
            one(&l, "SOCIOS_T"),
            Err(
                "item SOCIOS_T has no value for entity `A` period `P` (it is not in the file)"
                    .into()
            )
        );
    }

    #[test]
    fn a_missing_account_fails_only_its_own_row() {
        let l = ledger("A,P,1411,1\nB,P,1412,2\n");
        assert_eq!(
            balance(&l, "1411+1412"),
            [
                Err("account 1412 has no balance for entity `A` period `P` (neither the account nor any sub-account is in the file)".into()),
                Err("account 1411 has no balance for entity `B` period `P` (neither the account nor any sub-account is in the file)".into()),
            ]
        );
        assert_eq!(balance(&l, "14"), [Ok("1".into()), Ok("2".into())]);
        assert!(balance(&l, "2")[0].is_err());
    }

    #[test]
    fn an_unreadable_value_is_unavailable_where_it_is_needed() {
        let l = ledger("A,P,1411,12x\nA,P,141105,3\nA,P,1412,2\nA,P,SOCIOS,\n");
        let expected = "account 14 has no usable balance for entity `A` period `P`: b.csv:2 gives account 1411 no readable value";
        assert_eq!(one(&l, "14"), Err(expected.into()));
        assert!(one(&l, "1411").unwrap_err().contains("b.csv:2"));
        assert!(
            one(&l, "1411..1412")
                .unwrap_err()
                .starts_with("range 1411..1412")
        );
        // Below the unreadable code, and beside it, balances are fine.
        assert_eq!(one(&l, "141105"), Ok("3".into()));
        assert_eq!(one(&l, "1412"), Ok("2".into()));
        assert_eq!(
            one(&l, "SOCIOS"),
            Err("item SOCIOS has no usable balance for entity `A` period `P`: b.csv:5 gives item SOCIOS no readable value".into())
        );
    }

    #[test]
    fn overflow_is_unavailable_not_a_panic() {
        let big = "79228162514264337593543950335";
        let l = ledger(&format!("A,P,11,{big}\nA,P,12,{big}\n"));
        assert_eq!(
            one(&l, "1"),
            Err("the balance of 1 for entity `A` period `P` is too large for a decimal".into())
        );
        assert_eq!(
            one(&l, "11+12"),
            Err("the balance of 11+12 for entity `A` period `P` is too large for a decimal".into())
        );
        assert_eq!(one(&l, "11-12"), Ok("0".into()));
    }
}
