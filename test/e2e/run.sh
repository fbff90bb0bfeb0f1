#!/usr/bin/env bash
# The end-to-end suite alone (`npm run test:e2e`; test/run-all.sh runs it too): builds the pinned control plane
# into .cache/bin when it is missing or its pin changed (test/e2e/kube/build.sh), builds mirrorhook (the tests run
# `node dist/cli/main.js`), then runs the e2e vitest project, whose global setup starts etcd, kube-apiserver and
# kube-controller-manager on loopback and always stops them. Extra arguments go to vitest (e.g. a file filter).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v etcd >/dev/null || { echo "test/e2e/run.sh: etcd is missing: run bash test/setup/install-tools.sh" >&2; exit 1; }
test/e2e/kube/build.sh .cache/bin
export PATH="$PWD/.cache/bin:$PATH"
npm run --silent build
exec npx vitest run --project e2e "$@"
