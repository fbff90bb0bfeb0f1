#!/usr/bin/env bash
# Runs every benchmark once at smoke size (bench/<name>/smoke.sh): proves each still runs and prints its table.
# Figures from a smoke run are not the README's figures; those come from full runs (see each bench's README).
# A benchmark never gates CI on its numbers, only on running at all.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.cache/bin:$PATH"
status=0
for script in bench/*/smoke.sh; do
  [ -e "$script" ] || continue
  echo "== $script"
  bash "$script" || { echo "bench smoke failed: $script" >&2; status=1; }
done
exit $status
