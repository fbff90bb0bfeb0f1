#!/usr/bin/env bash
# The one test command (README): installs what the tests need, then type-checks, lints, and runs every suite:
# unit and integration (real loopback registries, real TLS), the end-to-end suite against a real kube-apiserver,
# the docs' registry examples as written in a network namespace with simulated registries (test/sandbox),
# and the benchmarks as smoke runs (figures printed, never a gate). Ends with one "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci
bash test/setup/install-tools.sh
export PATH="$PWD/.cache/bin:$PATH"
results=.cache/test-results
rm -rf "$results" && mkdir -p "$results"
npm run --silent build
npm run --silent typecheck
npm run --silent lint
npx vitest run --project unit --project integration --reporter=default --reporter=json --outputFile.json="$results/unit.json"
bash test/e2e/run.sh --reporter=default --reporter=json --outputFile.json="$results/e2e.json"
bash test/sandbox/run.sh --reporter=default --reporter=json --outputFile.json="$results/sandbox.json"
bash bench/smoke.sh
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0;
  for (const file of fs.readdirSync(process.argv[1])) {
    const report = JSON.parse(fs.readFileSync(`${process.argv[1]}/${file}`, "utf8"));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
' "$results"
