#!/usr/bin/env bash
# CI smoke run of bench/push: proves the benchmark runs end to end (16 MiB image); its figures are not the README's.
# Full run: node --import tsx bench/push/run.ts
set -euo pipefail
cd "$(dirname "$0")/../.."
node --import tsx bench/push/run.ts --smoke
