#!/usr/bin/env bash
# The one test command (README): installs what the tests need, then type-checks, lints, and runs every suite:
# unit and integration (real loopback registries, real TLS), the end-to-end suite against a real kube-apiserver,
# and the benchmarks as smoke runs (figures printed, never a gate).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci
bash test/setup/install-tools.sh
export PATH="$PWD/.cache/bin:$PATH"
npm run --silent build
npm run --silent typecheck
npm run --silent lint
npx vitest run --project unit
bash test/e2e/run.sh
bash bench/smoke.sh
