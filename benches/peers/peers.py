#!/usr/bin/env python3
"""Semáforo against its peer, DuckDB, on the supervisor's job (issue #15).

Makes a file of long balances with the shared generator (gen_scale.py: N
cooperatives x P months x ~C account codes, grouped by entity, seed 1), then
runs, alternating, --rounds times:

  duckdb six    duckdb_indicators.py --threads 2: six indicators, CSV out
  semaforo six  `semaforo eval` with six/pack.toml (rules/cooperativas with
                every other indicator disabled), 2 threads, CSV out
  semaforo all  `semaforo eval` with rules/cooperativas (27 indicators, peer
                statistics), 2 threads, CSV out
  semaforo all, 1 thread   the same with RAYON_NUM_THREADS=1

each under GNU time (`/usr/bin/time -f '%e %U %M'`: wall and user seconds,
peak RSS), and prints a markdown table of the medians, the ratio to DuckDB,
and the speed-up of 2 threads over 1, with the load average seen (the
machine is shared: compare within one run). Then a sanity line: semaforo's six values
against DuckDB's (DuckDB divides in DOUBLE, so they are compared to 10
significant digits) and the record counts.

DuckDB is installed with pip (pinned, below) into a virtual environment
under the cargo target directory (target/peers-venv); `cargo test` never
does this. Standard library only here.

  benches/peers/peers.py                       # 5,000 x 12 x 400: 24 M rows, 819 MB
  benches/peers/peers.py --institutions 50 --periods 2 --rounds 1    # a smoke run
  benches/peers/peers.py --data FILE           # an existing file instead of generating

Needs python3 with venv, GNU time at /usr/bin/time and cargo. The generated
file and the outputs go to a temporary directory (or --dir), removed at the
end unless --keep.
"""
import argparse
import csv
import decimal
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

DUCKDB = "duckdb==2.0.1"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
# semaforo's indicator for each of DuckDB's.
SIX = {
    "delinquency": "morosidad",
    "coverage": "cobertura",
    "non_earning": "activos_improductivos",
    "opex": "gastos_operacion_pct",
    "roa": "roa",
    "roe": "roe",
}
DIGITS = 10


def say(message):
    print(message, file=sys.stderr, flush=True)


def run(command, **kwargs):
    """Runs `command`, failing loudly with what it printed."""
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        sys.exit(f"peers: {' '.join(map(str, command))} failed ({done.returncode}):\n"
                 f"{done.stdout}{done.stderr}")
    return done


def target_dir():
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def duckdb_python():
    """The venv's python, with DuckDB at the pinned version installed once."""
    venv = target_dir() / "peers-venv"
    python = venv / "bin" / "python"
    version = DUCKDB.split("==")[1]
    check = [str(python), "-c", "import duckdb; print(duckdb.__version__)"]
    if python.exists():
        done = subprocess.run(check, capture_output=True, text=True)
        if done.returncode == 0 and done.stdout.strip() == version:
            return python
    say(f"installing {DUCKDB} into {venv}")
    run([sys.executable, "-m", "venv", str(venv)])
    run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", DUCKDB])
    return python


def semaforo_binary(given):
    if given:
        return Path(given).resolve()
    say("cargo build --release --bin semaforo")
    run(["cargo", "build", "--release", "--quiet", "--bin", "semaforo"], cwd=ROOT)
    return target_dir() / "release" / "semaforo"


def timed(command, work, env=None):
    """(wall seconds, user seconds, peak RSS KiB) of `command` under GNU time."""
    times = work / "time"
    run(["/usr/bin/time", "-f", "%e %U %M", "-o", str(times), *map(str, command)],
        env={**os.environ, **(env or {})})
    wall, user, kib = times.read_text().split()[-3:]
    return float(wall), float(user), int(kib)


def significant(text):
    """`text` rounded to DIGITS significant digits, or None when empty."""
    if text == "":
        return None
    value = decimal.Decimal(text)
    if value == 0 or not value.is_finite():
        return value
    exponent = value.adjusted() - DIGITS + 1
    return value.quantize(decimal.Decimal(1).scaleb(exponent), rounding=decimal.ROUND_HALF_EVEN)


def sanity(semaforo_csv, duckdb_csv):
    """One line: semaforo's six values against DuckDB's."""
    decimal.getcontext().prec = 60
    ours = {}
    with open(semaforo_csv, newline="") as f:
        for row in csv.DictReader(f):
            ours[(row["entity"], row["period"], row["indicator"])] = row["value"]
    theirs, agree, differ, first = 0, 0, 0, None
    with open(duckdb_csv, newline="") as f:
        for row in csv.DictReader(f):
            theirs += 1
            key = (row["entity"], row["period"], SIX[row["indicator"]])
            ours_value = ours.get(key)
            if ours_value is not None and significant(ours_value) == significant(row["value"]):
                agree += 1
            else:
                differ += 1
                first = first or f"{key}: semaforo {ours_value!r}, duckdb {row['value']!r}"
    counts = "agree" if len(ours) == theirs else "DIFFER"
    line = (f"sanity: record counts {counts} (semaforo {len(ours)}, duckdb {theirs}); "
            f"{agree} of {theirs} values equal to {DIGITS} significant digits")
    if differ:
        line += f", {differ} not (first: {first})"
    return line


def mib(kib):
    return kib / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--institutions", type=int, default=5000)
    ap.add_argument("--periods", type=int, default=12)
    ap.add_argument("--codes-per-period", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dir", help="where the file and outputs go (default: a temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep the directory")
    ap.add_argument("--data", help="an existing balances file instead of generating one")
    ap.add_argument("--semaforo", help="this semaforo binary instead of building the release one")
    a = ap.parse_args()
    if not os.access("/usr/bin/time", os.X_OK):
        sys.exit("peers: needs GNU time at /usr/bin/time (Debian: apt-get install time)")

    python = duckdb_python()
    semaforo = semaforo_binary(a.semaforo)
    work = Path(a.dir).resolve() if a.dir else Path(tempfile.mkdtemp(prefix="semaforo-peers-"))
    work.mkdir(parents=True, exist_ok=True)
    written = [work / "time"]
    try:
        if a.data:
            data = Path(a.data).resolve()
            scale = f"{data.name}"
        else:
            data = work / "balances.csv"
            written.append(data)
            say(f"generating {a.institutions} x {a.periods} x {a.codes_per_period} into {data}")
            run([sys.executable, HERE / "gen_scale.py", "--institutions", str(a.institutions),
                 "--periods", str(a.periods), "--codes-per-period", str(a.codes_per_period),
                 "--grouped", "--seed", "1", "--out", data])
            scale = f"{a.institutions} x {a.periods} x {a.codes_per_period}"
        with open(data, "rb") as f:
            rows = sum(1 for _ in f) - 1
        size = data.stat().st_size

        def eval_job(pack, threads):
            out = work / f"semaforo-{pack.name}-{threads}.csv"
            written.append(out)
            command = [semaforo, "eval", "--quiet", "--pack", pack, "--data", data,
                       "--format", "csv", "--output", out]
            return command, {"RAYON_NUM_THREADS": str(threads)}, out

        duck_out = work / "duckdb-six.csv"
        written.append(duck_out)
        jobs = {
            "duckdb six": ([python, HERE / "duckdb_indicators.py", data, "--out", duck_out,
                            "--threads", "2"], None, duck_out),
            "semaforo six": eval_job(HERE / "six", 2),
            "semaforo all": eval_job(ROOT / "rules" / "cooperativas", 2),
            "semaforo all, 1 thread": eval_job(ROOT / "rules" / "cooperativas", 1),
        }
        measured = {name: [] for name in jobs}
        load = [os.getloadavg()[0]]
        for round_ in range(a.rounds):
            for name, (command, env, _) in jobs.items():
                wall, user, kib = timed(command, work, env)
                measured[name].append((wall, user, kib))
                say(f"round {round_ + 1}/{a.rounds}: {name}: {wall:.2f} s, {user:.2f} s user, "
                    f"{mib(kib):.0f} MiB")
                load.append(os.getloadavg()[0])

        def median(name):
            """Median wall, user and peak RSS of the job's runs."""
            return tuple(statistics.median(run[i] for run in measured[name]) for i in range(3))

        def cell(wall, user, kib):
            return f"{wall:.2f} s ({user:.2f} s user), {mib(kib):.0f} MiB"

        duck = median("duckdb six")
        print(f"\n{scale}: {rows:,} rows, {size / 1e6:.0f} MB; medians of {a.rounds} "
              f"alternating run(s), 2 threads each unless said; {semaforo} vs {DUCKDB}; "
              f"load average {min(load):.1f}–{max(load):.1f} on {os.cpu_count()} cores\n")
        print("| job | semaforo | DuckDB (six) | ratio (wall, RSS) |")
        print("|---|---|---|---|")
        for name, label in [("semaforo six", "same six indicators, CSV out"),
                            ("semaforo all", "whole library (27, peer statistics), CSV out")]:
            ours = median(name)
            print(f"| {label} | {cell(*ours)} | {cell(*duck)} | "
                  f"{ours[0] / duck[0]:.2f}x, {ours[2] / duck[2]:.2f}x |")
        one, two = median("semaforo all, 1 thread"), median("semaforo all")
        print(f"| whole library, 1 thread | {cell(*one)} | — | "
              f"2 threads {one[0] / two[0]:.2f}x faster than 1 |")
        out_size = jobs["semaforo all"][2].stat().st_size
        print(f"\nwhole library output: {out_size / 1e6:.0f} MB")
        print(sanity(jobs["semaforo six"][2], duck_out))
    finally:
        if a.keep:
            say(f"kept {work}")
        elif a.dir:
            # A given directory: only what this run wrote there.
            for path in written:
                path.unlink(missing_ok=True)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
