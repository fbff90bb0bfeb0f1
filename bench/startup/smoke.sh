#!/usr/bin/env bash
# CI smoke run of bench/startup: three commands, three rounds (a few seconds); proves the benchmark runs. Figures
# are not the docs' figures: those come from a full run, `node --import tsx bench/startup/run.ts`.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f dist/cli/main.js ] || npm run --silent build
node --import tsx bench/startup/run.ts --smoke
