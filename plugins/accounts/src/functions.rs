//! The input functions formulas call — `saldo`, `saldo_anterior`,
//! `saldo_promedio` — and what each computes from a query's balances.

use rust_decimal::Decimal;
use semaforo_core::{CellProblem, InputFunction};

use crate::ledger::Ledger;
use crate::query::Query;

/// A balance function of formulas. Its one argument is a literal
/// [`Query`], checked when the pack compiles; each call reads a column the
/// `balances` reader fills (see [`crate::BalancesReader`]).
///
/// ```
/// use semaforo_accounts::BalanceFunction;
/// let saldo = BalanceFunction::Saldo.input_function();
/// assert_eq!((saldo.canonicalize)("11 - 1103"), Ok("11-1103".to_owned()));
/// assert_eq!(saldo.column("11-1103"), "saldo(\"11-1103\")");
/// assert!((saldo.canonicalize)("11 1103").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum BalanceFunction {
    /// `saldo(q)`: the balance of query `q` for the row's entity and period.
    ///
    /// Example: `saldo("11-1103")` is account 11 minus account 1103.
    ///
    /// Errors: unavailable when a term of `q` has no balance for that
    /// entity and period, or needs a value the file could not read.
    Saldo,
    /// `saldo_anterior(q)`: the balance of `q` in the entity's previous
    /// period — the largest of its periods that sorts before the row's.
    ///
    /// Example: for period `2008-12`, `saldo_anterior("36")` is account 36
    /// in `2007-12` when that is the entity's period before.
    ///
    /// Errors: unavailable when the entity has no earlier period, or as
    /// `saldo` in that period.
    SaldoAnterior,
    /// `saldo_promedio(q)`: `(saldo(q) + saldo_anterior(q)) / 2`, exactly.
    ///
    /// Example: `saldo_promedio("1")`, the average total assets for ROA.
    ///
    /// Errors: those of `saldo`, then those of `saldo_anterior`.
    SaldoPromedio,
}

impl BalanceFunction {
    /// Every function, in the order they are registered.
    pub const ALL: [Self; 3] = [Self::Saldo, Self::SaldoAnterior, Self::SaldoPromedio];

    /// The name formulas call.
    ///
    /// ```
    /// use semaforo_accounts::BalanceFunction;
    /// assert_eq!(BalanceFunction::SaldoPromedio.name(), "saldo_promedio");
    /// ```
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Saldo => "saldo",
            Self::SaldoAnterior => "saldo_anterior",
            Self::SaldoPromedio => "saldo_promedio",
        }
    }

    /// The function formulas call by `name`, if it is one of these.
    ///
    /// ```
    /// use semaforo_accounts::BalanceFunction;
    /// assert_eq!(BalanceFunction::from_name("saldo_anterior"), Some(BalanceFunction::SaldoAnterior));
    /// assert_eq!(BalanceFunction::from_name("ratio"), None);
    /// ```
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The declaration the plugin registers.
    ///
    /// ```
    /// use semaforo_accounts::BalanceFunction;
    /// let f = BalanceFunction::SaldoAnterior.input_function();
    /// assert_eq!(f.name, "saldo_anterior");
    /// assert_eq!((f.canonicalize)("1421..1428"), Ok("1421..1428".to_owned()));
    /// ```
    #[must_use]
    pub fn input_function(self) -> InputFunction {
        InputFunction {
            name: self.name(),
            canonicalize,
        }
    }

    /// The column of this function, from the query's balances in every
    /// block (`current`, in the ledger's block order).
    pub(crate) fn column(
        self,
        ledger: &Ledger,
        current: &[Result<Decimal, String>],
    ) -> Vec<Result<Decimal, CellProblem>> {
        let previous = |row: usize| -> Result<Decimal, String> {
            let block = &ledger.blocks[row];
            match row.checked_sub(1) {
                Some(before) if ledger.blocks[before].entity == block.entity => {
                    current[before].clone()
                }
                _ => Err(format!(
                    "no period before `{}` for entity `{}`",
                    block.period, ledger.entities[block.entity]
                )),
            }
        };
        (0..current.len())
            .map(|row| {
                match self {
                    Self::Saldo => current[row].clone(),
                    Self::SaldoAnterior => previous(row),
                    Self::SaldoPromedio => current[row].clone().and_then(|now| {
                        let before = previous(row)?;
                        now.checked_add(before)
                            .and_then(|sum| sum.checked_div(Decimal::TWO))
                            .ok_or_else(|| {
                                format!(
                                    "the average of {now} and {before} is too large for a decimal"
                                )
                            })
                    }),
                }
                .map_err(CellProblem::Unavailable)
            })
            .collect()
    }
}

/// Checks a call's argument and returns its canonical query text.
fn canonicalize(argument: &str) -> Result<String, String> {
    Query::parse(argument)
        .map(|query| query.to_string())
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load;
    use semaforo_core::DataShape;

    fn column(function: BalanceFunction, rows: &str, query: &str) -> Vec<Result<String, String>> {
        let shape = DataShape {
            period: Some("period".into()),
            ..DataShape::default()
        };
        let csv = format!("entity,period,code,value\n{rows}");
        let (ledger, _) = load(csv.as_bytes(), "b.csv", &shape).unwrap();
        let current = ledger.balances(&Query::parse(query).unwrap());
        function
            .column(&ledger, &current)
            .into_iter()
            .map(|cell| {
                cell.map(|d| d.to_string()).map_err(|p| match p {
                    CellProblem::Unavailable(reason) => reason,
                    other => format!("{other:?}"),
                })
            })
            .collect()
    }

    // Periods out of order in the file; rows come out A 2007, A 2008, A 2009, B 2008.
    const ROWS: &str =
        "A,2008-12,36,1254785.82\nA,2007-12,36,1062288\nB,2008-12,36,7\nA,2009-12,1,1\n";

    #[test]
    fn saldo_reads_the_rows_own_period() {
        assert_eq!(
            column(BalanceFunction::Saldo, ROWS, "36"),
            [
                Ok("1062288".into()),
                Ok("1254785.82".into()),
                Err("account 36 has no balance for entity `A` period `2009-12` (neither the account nor any sub-account is in the file)".into()),
                Ok("7".into()),
            ]
        );
    }

    #[test]
    fn saldo_anterior_reads_the_entitys_previous_period() {
        assert_eq!(
            column(BalanceFunction::SaldoAnterior, ROWS, "36"),
            [
                Err("no period before `2007-12` for entity `A`".into()),
                Ok("1062288".into()),
                Ok("1254785.82".into()),
                Err("no period before `2008-12` for entity `B`".into()),
            ]
        );
    }

    #[test]
    fn saldo_promedio_is_the_exact_average() {
        assert_eq!(
            column(BalanceFunction::SaldoPromedio, ROWS, "36"),
            [
                Err("no period before `2007-12` for entity `A`".into()),
                Ok("1158536.91".into()),
                Err("account 36 has no balance for entity `A` period `2009-12` (neither the account nor any sub-account is in the file)".into()),
                Err("no period before `2008-12` for entity `B`".into()),
            ]
        );
        let odd = column(BalanceFunction::SaldoPromedio, "A,1,1,1\nA,2,1,2\n", "1");
        let average: Decimal = odd[1].clone().unwrap().parse().unwrap();
        assert_eq!(average, Decimal::new(15, 1));
    }

    #[test]
    fn an_unavailable_previous_period_says_which_period() {
        let found = column(BalanceFunction::SaldoAnterior, "A,1,2,1\nA,2,1,2\n", "1");
        assert_eq!(
            found[1],
            Err("account 1 has no balance for entity `A` period `1` (neither the account nor any sub-account is in the file)".into())
        );
    }

    #[test]
    fn canonicalize_reports_bad_queries() {
        assert_eq!(canonicalize(" 14 "), Ok("14".into()));
        assert_eq!(
            canonicalize("14.5"),
            Err("unexpected `.` after `14`: a range is written `1421..1428`".into())
        );
    }

    #[test]
    fn names_round_trip() {
        for function in BalanceFunction::ALL {
            assert_eq!(BalanceFunction::from_name(function.name()), Some(function));
            assert_eq!(function.input_function().name, function.name());
        }
    }
}
