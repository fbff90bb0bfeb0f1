#!/usr/bin/env bash
# CI smoke run of bench/copy: proves the benchmark runs end to end (2 small images); its figures are not the README's.
# Full run: node --import tsx bench/copy/run.ts
set -euo pipefail
cd "$(dirname "$0")/../.."
node --import tsx bench/copy/run.ts --smoke
