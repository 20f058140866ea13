#!/usr/bin/env bash
# Regenerates the README's report screenshots with headless Chromium:
#   docs/report-sagrario.png      seed 001: rules/sagrario over examples/sagrario/balances.csv
#   docs/report-priorizacion.png  seed 002: rules/priorizacion-procesos over examples/coacsa/procesos.csv
# Needs chromium (Debian: apt-get install -y chromium) or chromium-browser on the PATH.
# Run from anywhere: docs/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "docs/screenshots.sh: no chromium or chromium-browser on the PATH" >&2
  exit 2
fi

cargo build --quiet --bin semaforo
semaforo=target/debug/semaforo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# name pack data height
shoot() {
  local name=$1 pack=$2 data=$3 height=$4
  "$semaforo" eval --pack "$pack" --data "$data" --format html --output "$work/$name.html" --quiet
  "$browser" --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
    --user-data-dir="$work/profile" --window-size="1280,$height" \
    --screenshot="docs/report-$name.png" "file://$work/$name.html" 2>/dev/null
  echo "docs/report-$name.png"
}

shoot sagrario rules/sagrario examples/sagrario/balances.csv 1500
shoot priorizacion rules/priorizacion-procesos examples/coacsa/procesos.csv 1500
