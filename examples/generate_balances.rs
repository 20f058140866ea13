//! Generates synthetic chart-of-accounts balances of savings and credit
//! cooperatives in the `balances` format of the `accounts` plugin, for
//! benchmarks and for trying `rules/cooperativas` at scale:
//!
//! ```sh
//! cargo run --release --example generate_balances -- --entities 5000 --periods 12 --seed 42 --output balances.csv
//! cargo run --release -- eval --pack rules/cooperativas --data balances.csv --format csv --output results.csv
//! ```
//!
//! Each cooperative × month (2024-01, 2024-02, …) gets about 400 accounts of
//! an Ecuador SBS-style chart (*Catálogo Único de Cuentas*): classes 1..7,
//! 2-digit groups, 4-digit accounts, 6-digit sub-accounts. Every account the
//! library reads is present; every parent is reported and equals the sum of
//! its children, to the cent; contra accounts (1399, 1499, 1699, 1799, 1899,
//! 1999) are negative; assets 1 = liabilities 2 + equity 3, where 36 holds
//! the result of the year to date (= 5 − 4; income and expenses accumulate
//! from January, as in the supervisor's monthly balances, so flow ratios such
//! as ROA grow through the year and December holds the full year).
//! Pseudo-codes: `SOCIOS_TOTAL`, `SOCIOS_ACTIVOS`,
//! `SOCIOS_INACTIVOS` (members) and `INFLACION` (a synthetic annual
//! inflation, in %, the same for every cooperative of a period).
//!
//! Columns: `entity,period,code,value,grupo` (`--with-names` adds the
//! account name after the code). `grupo` is the peer group by initial size:
//! `grandes` (≥ US$ 100 M of assets), `medianas` (≥ 20 M), `pequeñas`
//! (≥ 5 M), `muy pequeñas`. Values carry 2 decimals. Rows are grouped by
//! entity, then period, codes in chart order. Some cooperatives (about one
//! in seven) have no commercial portfolio: their commercial accounts are
//! 0.00, so their commercial delinquency and coverage are not applicable.
//!
//! The output is deterministic for a seed and streamed: memory does not
//! grow with `--entities` or `--periods`. 5000 × 12 is about 24 million rows
//! (≈ 1 GB).

use std::error::Error;
use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;

use clap::Parser;

#[path = "support/balances.rs"]
mod balances;

/// Generate synthetic cooperative balances (long format, `balances`).
#[derive(Debug, Parser)]
struct Args {
    /// Number of cooperatives.
    #[arg(long, default_value_t = 100)]
    entities: u32,
    /// Number of consecutive months, from 2024-01.
    #[arg(long, default_value_t = 12)]
    periods: u32,
    /// Seed of the random generator: the same seed gives the same file.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Output file; `-` writes to standard output.
    #[arg(long, short)]
    output: PathBuf,
    /// Add a `name` column with the account names.
    #[arg(long)]
    with_names: bool,
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let sink: Box<dyn Write> = if args.output.as_os_str() == "-" {
        Box::new(io::stdout().lock())
    } else {
        Box::new(File::create(&args.output).map_err(|e| format!("{}: {e}", args.output.display()))?)
    };
    let options = balances::Options {
        entities: args.entities,
        periods: args.periods,
        seed: args.seed,
        with_names: args.with_names,
    };
    let rows = balances::write_balances(options, sink)?;
    eprintln!(
        "{rows} rows: {} cooperatives × {} months × {} codes",
        args.entities,
        args.periods,
        balances::CODES
    );
    Ok(())
}
