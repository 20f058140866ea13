#!/usr/bin/env python3
# Copied unchanged from the project's shared peer material (shared/peers/duckdb_indicators.py),
# where issue #15 measured against it; benches/peers/peers.py runs this copy.
"""Peer baseline: the six cooperative indicators with DuckDB SQL, end to end.

Reads long balances (entity,period,code,value) from CSV with DuckDB (code as
VARCHAR so "1", "11", "1401" stay strings; value as DECIMAL(18,2)), sums the
needed accounts per entity x period with conditional aggregates, computes the
indicators and their compliance against the standard, and writes
entity,period,indicator,value,compliance as CSV (ordered by entity, period,
indicator in the fixed order below).

Modes
  --mode sql    (default; what a user writes)  Sums are exact DECIMAL(38,2),
                but DuckDB binds DECIMAL / DECIMAL to DOUBLE: every ratio, and
                so every value and compliance, is an IEEE double (about 16
                significant digits, written in shortest round-trip form).
  --mode exact  Exact decimal arithmetic by hand: sums are turned into HUGEINT
                cents and each ratio is an integer division of scaled
                HUGEINTs, rounded half away from zero, emitted as
                DECIMAL(38,10): value and compliance have exactly 10 decimals.
  --read-only   I/O floor: only read the CSV into an in-memory table.
  --scan-only   scan floor: parse all four columns (typed) without storing
                them: SELECT count(*), max(entity), max(period), max(code),
                sum(value).  The indicator query streams like this, so this is
                the floor it can approach; --read-only also pays for
                materialising ~24M rows in memory.

Usage: duckdb_indicators.py BALANCES.csv --out RESULTS.csv [--threads N]
       [--mode sql|exact] [--read-only] [--verbose]
"""
import argparse
import sys
import time

import duckdb

PERF = ["1401", "1402", "1403", "1404", "1405", "1406", "1407", "1408"]
NPL = ["1411", "1412", "1413", "1414", "1421", "1422", "1423", "1424", "1426", "1427", "1428"]
SINGLE = ["1", "11", "1103", "16", "17", "18", "19", "1901", "190205", "190210", "190225",
          "190240", "1499", "3", "36", "45"]
STD = [("delinquency", "4"), ("coverage", "100"), ("non_earning", "5.52"), ("opex", "7"),
       ("roa", "1.67"), ("roe", "10.17")]


def q(codes):
    return ", ".join(f"'{c}'" for c in codes)


def reader(path):
    p = path.replace("'", "''")
    return (f"read_csv('{p}', header = true, auto_detect = false, delim = ',', quote = '\"', "
            "columns = {'entity': 'VARCHAR', 'period': 'VARCHAR', 'code': 'VARCHAR', "
            "'value': 'DECIMAL(18,2)'})")


def aggregate_sql(path, cents):
    """One row per entity x period with the account sums the indicators need."""
    wrap = (lambda e: f"CAST({e} * 100 AS HUGEINT)") if cents else (lambda e: e)
    cols = [f"{wrap(f'SUM(value) FILTER (WHERE code IN ({q(PERF)}))')} AS perf",
            f"{wrap(f'SUM(value) FILTER (WHERE code IN ({q(NPL)}))')} AS npl"]
    for c in SINGLE:
        cols.append(f"{wrap(f'SUM(value) FILTER (WHERE code = {chr(39)}{c}{chr(39)})')} AS a{c}")
    needed = PERF + NPL + SINGLE
    return (f"SELECT entity, period,\n  " + ",\n  ".join(cols) +
            f"\nFROM {reader(path)}\nWHERE code IN ({q(needed)})\nGROUP BY entity, period")


# numerator, denominator of each indicator (value = num / den * 100)
RATIOS = {
    "delinquency": ("npl", "(perf + npl)"),
    "coverage": ("abs(a1499)", "npl"),
    "non_earning": ("((a11 - a1103) + npl + a16 + a17 + a18 + "
                    "(a19 - a1901 - a190205 - a190210 - a190225 - a190240) + a1499)", "a1"),
    "opex": ("a45", "a1"),
    "roa": ("a36", "a1"),
    "roe": ("a36", "(a3 - a36)"),
}


def indicators_sql(path, mode):
    std_rows = ", ".join(f"('{k}', {i}, {v}::DECIMAL(18,2), "
                         f"{int(round(float(v) * 100))}::HUGEINT)" for i, (k, v) in enumerate(STD))
    if mode == "sql":
        # DECIMAL / DECIMAL -> DOUBLE in DuckDB: the natural formulation.
        ind = ",\n  ".join(f"{n} / {d} * 100 AS {k}" for k, (n, d) in RATIOS.items())
        value, compliance = "l.value", "l.value / s.standard * 100"
    else:
        # exact: v = num/den*100 rounded to 10 decimals = rdiv(num * 10^12, den);
        # compliance = v/std*100 = num * 10^4 / (den * std), std in hundredths (std_h):
        # compliance*10^10 = rdiv(num * 10^16, den * std_h)
        ind = ",\n  ".join(f"{n} AS n_{k}, {d} AS d_{k}" for k, (n, d) in RATIOS.items())
        value = "rdiv(l.num * 1000000000000::HUGEINT, l.den)::DECIMAL(38,0) * 0.0000000001"
        compliance = ("rdiv(l.num * 10000000000000000::HUGEINT, l.den * s.std_h)"
                      "::DECIMAL(38,0) * 0.0000000001")
    if mode == "sql":
        long = (f"SELECT entity, period, indicator, value FROM ind UNPIVOT "
                f"(value FOR indicator IN ({', '.join(RATIOS)}))")
    else:
        parts = [f"SELECT entity, period, '{k}' AS indicator, n_{k} AS num, d_{k} AS den FROM ind"
                 for k in RATIOS]
        long = "\n  UNION ALL ".join(parts)
    sel = f"{value} AS value, {compliance} AS compliance"
    return f"""
WITH agg AS (
{aggregate_sql(path, cents=(mode == 'exact'))}
),
ind AS (
SELECT entity, period,
  {ind}
FROM agg
),
long AS (
{long}
),
s(indicator, ord, standard, std_h) AS (VALUES {std_rows})
SELECT l.entity, l.period, l.indicator, {sel}
FROM long l JOIN s USING (indicator)
ORDER BY l.entity, l.period, s.ord
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--out")
    ap.add_argument("--threads", type=int, default=0, help="0 = DuckDB default (all cores)")
    ap.add_argument("--mode", choices=["sql", "exact"], default="sql")
    ap.add_argument("--read-only", action="store_true", help="I/O floor: CSV -> table only")
    ap.add_argument("--scan-only", action="store_true",
                    help="scan floor: parse every column, keep nothing")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--print-sql", action="store_true")
    a = ap.parse_args()
    t0 = time.perf_counter()
    con = duckdb.connect(":memory:")
    if a.threads:
        con.execute(f"SET threads = {a.threads}")
    con.execute("CREATE MACRO rdiv(n, d) AS CASE WHEN d = 0 THEN NULL "
                "ELSE sign(n) * sign(d) * ((2 * abs(n) + abs(d)) // (2 * abs(d))) END")
    if a.scan_only:
        r = con.execute(f"SELECT count(*), max(entity), max(period), max(code), sum(value) "
                        f"FROM {reader(a.csv)}").fetchone()
        if a.verbose:
            print(f"scanned {r[0]} rows in {time.perf_counter() - t0:.3f} s", file=sys.stderr)
        return
    if a.read_only:
        con.execute(f"CREATE TABLE balances AS SELECT * FROM {reader(a.csv)}")
        n = con.execute("SELECT count(*) FROM balances").fetchone()[0]
        if a.verbose:
            th = con.execute("SELECT current_setting('threads')").fetchone()[0]
            print(f"read {n} rows in {time.perf_counter() - t0:.3f} s (threads={th})",
                  file=sys.stderr)
        return
    sql = indicators_sql(a.csv, a.mode)
    if a.print_sql:
        print(sql)
        return
    out = a.out.replace("'", "''")
    con.execute(f"COPY ({sql}) TO '{out}' (HEADER, DELIMITER ',')")
    if a.verbose:
        print(f"{a.mode}: done in {time.perf_counter() - t0:.3f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
