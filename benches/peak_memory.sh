#!/usr/bin/env bash
# Peak memory of `semaforo eval` at supervisor scale: the shipped cooperative
# library over generated balances (examples/generate_balances, seed 42) of
# 500, 5,000 and 50,000 cooperatives x 1 month, and 5,000 x 12 months; with
# --big also 50,000 x 12 months (240 M rows: about 10 GB of input, 5 GB of
# results and several minutes; check the free disk first).
#
# Peak memory is the maximum resident set size of the process, as GNU time
# reports it (%M, in KiB: the kernel's high-water mark of the process's RSS).
# Wall time, the input's and the output's sizes are printed alongside. Run
# from the repository root:
#
#   benches/peak_memory.sh [--big]
#
# Needs GNU time at /usr/bin/time (Debian: apt-get install time).
set -euo pipefail
cd "$(dirname "$0")/.."
scenarios=(500x1 5000x1 50000x1 5000x12)
case "${1:-}" in
  "") ;;
  --big) scenarios+=(50000x12) ;;
  *) echo "usage: benches/peak_memory.sh [--big]" >&2; exit 2 ;;
esac
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install time" >&2; exit 2; }
cargo build --release --quiet --bin semaforo --example generate_balances
target=${CARGO_TARGET_DIR:-target}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf '%-16s %10s %14s %12s %12s %14s\n' scenario seconds "peak RSS MiB" "input MB" "output MB" "result rows"
for scenario in "${scenarios[@]}"; do
  entities=${scenario%x*}
  periods=${scenario#*x}
  "$target/release/examples/generate_balances" --entities "$entities" --periods "$periods" \
    --output "$dir/balances.csv" 2>/dev/null
  /usr/bin/time -f '%e %M' -o "$dir/time" "$target/release/semaforo" eval --quiet \
    --pack rules/cooperativas --data "$dir/balances.csv" --format csv --output "$dir/results.csv"
  read -r seconds kib < "$dir/time"
  rows=$(($(wc -l < "$dir/results.csv") - 1))
  input=$(($(stat -c %s "$dir/balances.csv") / 1000000))
  output=$(($(stat -c %s "$dir/results.csv") / 1000000))
  rm -f "$dir/balances.csv" "$dir/results.csv"
  printf '%-16s %10s %14s %12s %12s %14s\n' "$entities x $periods" "$seconds" "$((kib / 1024))" "$input" "$output" "$rows"
done
