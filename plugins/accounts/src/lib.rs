//! # semaforo-accounts
//!
//! Chart-of-accounts balances for Semáforo: the `balances` data format (one
//! CSV row per entity × period × account code) and the formula functions
//! `saldo`, `saldo_anterior` and `saldo_promedio` that read it.
//!
//! ```
//! use semaforo_accounts::{AccountsPlugin, BalancesReader};
//! use semaforo_core::{compile, evaluate, DataReader, RulePack, SourceFile};
//! let pack = RulePack::from_sources(SourceFile::new("pack.toml", r#"
//! [pack]
//! id = "coop"
//! version = "1"
//! plugins = ["accounts"]
//! [data]
//! format = "balances"
//! period = "period"
//! [[indicator]]
//! id = "delinquency"
//! formula = "saldo(\"1411..1414 + 1421..1424\") / saldo(\"14\") * 100"
//! "#), vec![]).unwrap();
//! let rules = compile(pack, &[&AccountsPlugin]).unwrap();
//! let csv = "entity,period,code,value\nCOAC,2008-12,1401,950\nCOAC,2008-12,1412,30\nCOAC,2008-12,1422,20\n";
//! let table = BalancesReader.read_from(&mut csv.as_bytes(), "inline", rules.read_request()).unwrap();
//! let results = evaluate(&rules, &table);
//! assert_eq!(results.cell(0, 0).value.unwrap().round_dp(2).to_string(), "5.00");
//! ```
//!
//! ## Queries
//!
//! The argument of each function is a literal [`Query`], checked when the
//! pack compiles: terms joined by `+` or `-` (a hyphen is subtraction,
//! never a range), the first one optionally signed (`-1499`). A term is an
//! account code (digits; leading zeros count, `0101` ≠ `101`), a range of
//! codes of one length (`1421..1428`), or a pseudo-code for a figure that
//! is not an account (`SOCIOS_TOTAL`: a letter or `_`, then letters, digits
//! or `_`). Spaces may surround terms and signs but never split a code.
//!
//! ## The balance rule
//!
//! For one entity and period, the balance of account `c` is
//! 1. its value in the file, when the file has `c`; otherwise
//! 2. the sum of its top-most reported sub-accounts — reported codes that
//!    start with `c` with no reported code between `c` and them (so `14` is
//!    `1411 + 1412 + …`, or `141105 + …` where `1411` is absent); otherwise
//! 3. unavailable: that cell (only that entity's) is an error.
//!
//! A range adds the balances of its codes that have one (a code without one
//! is absent), and adds zero when none has: a range names accounts an
//! institution may not use, while a single account must be there. Pseudo-codes have
//! no sub-accounts. Signs are the file's: contra accounts such as `1499`
//! are negative. A code whose value cannot be read makes every term that
//! needs it unavailable, naming the line.
//!
//! ## Functions
//!
//! See [`BalanceFunction`]: `saldo(q)` in the row's period,
//! `saldo_anterior(q)` in the entity's previous period (periods sort as
//! text), `saldo_promedio(q)` the exact average of the two.
//!
//! ## The file
//!
//! See [`BalancesReader`]: the pack's entity and period columns, `code`,
//! `value`, optional `name`, and the pack's dimensions. Oddities — bad
//! values, repeated codes, dimensions that change within an entity and
//! period, and accounts whose sub-accounts add up to something else — are
//! [`semaforo_core::DataWarning`]s.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod consistency;
mod functions;
mod ledger;
mod load;
mod query;
mod reader;

use semaforo_core::{DataReader, Plugin, Registry};

pub use functions::BalanceFunction;
pub use query::{Query, QueryError, Sign, Term};
pub use reader::{BALANCES_FORMAT, BalancesReader};

/// The `accounts` plugin: list it in a pack as `plugins = ["accounts"]` and
/// read the data with `[data] format = "balances"`.
///
/// ```
/// use semaforo_accounts::AccountsPlugin;
/// use semaforo_core::Plugin;
/// assert_eq!(AccountsPlugin.name(), "accounts");
/// assert_eq!(AccountsPlugin.data_reader().unwrap().format(), "balances");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AccountsPlugin;

impl Plugin for AccountsPlugin {
    fn name(&self) -> &'static str {
        "accounts"
    }

    fn description(&self) -> &'static str {
        "chart-of-accounts balances: saldo, saldo_anterior, saldo_promedio; data format `balances`"
    }

    fn register(&self, registry: &mut Registry<'_>) {
        for function in BalanceFunction::ALL {
            registry.input_function(function.input_function());
        }
    }

    fn data_reader(&self) -> Option<&dyn DataReader> {
        Some(&BalancesReader)
    }
}
