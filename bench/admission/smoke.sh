#!/usr/bin/env bash
# CI smoke run of bench/admission: proves the benchmark runs end to end; its figures are not the README's.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f dist/cli/main.js ] || npm run --silent build
node --import tsx bench/admission/run.ts --smoke
