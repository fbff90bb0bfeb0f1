#!/usr/bin/env bash
# CI smoke run of bench/copy: proves the benchmark runs end to end (4 small images on loopback, 2 of them through the
# toxiproxy WAN link, one round); its figures are not docs/benchmarks.md's.
# Full run: node --import tsx bench/copy/run.ts (every set, both links; see --set, --link, --rounds)
set -euo pipefail
cd "$(dirname "$0")/../.."
node --import tsx bench/copy/run.ts --smoke
