#!/usr/bin/env bash
# CI smoke run of bench/sync: proves the benchmark runs end to end (3 repositories, one rerun); its figures are not the docs'.
# Full run: node --import tsx bench/sync/run.ts
set -euo pipefail
cd "$(dirname "$0")/../.."
node --import tsx bench/sync/run.ts --smoke
