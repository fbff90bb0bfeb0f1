#!/usr/bin/env bash
# CI smoke run of bench/scan: a 600-file tree, one run each; proves the benchmark runs. Figures are not the README's.
set -euo pipefail
cd "$(dirname "$0")/../.."
node --import tsx bench/scan/run.ts --smoke
