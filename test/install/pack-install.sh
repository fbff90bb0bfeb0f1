#!/usr/bin/env bash
# The published path: `npm pack` (prepack builds dist/) then a global install of the tarball into a
# throwaway prefix; the installed bin must run from a directory that is not the checkout.
# Slow (tsc build + dependency install, ~90 s), so it has its own script: npm run test:install.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$here" && npm pack --silent --pack-destination "$tmp" >/dev/null)
tgz=$(ls "$tmp"/mirrorhook-*.tgz)
tar -tzf "$tgz" | grep -x 'package/dist/cli/main.js' >/dev/null || { echo "FAIL: $tgz has no dist/cli/main.js (prepack did not build)"; exit 1; }
npm install -g --silent --prefix "$tmp/prefix" "$tgz" >/dev/null 2>&1
cd "$tmp"
want=$(node -p "require('$here/package.json').version")
got=$("$tmp/prefix/bin/mirrorhook" --version)
[ "$got" = "$want" ] || { echo "FAIL: --version printed '$got', want '$want'"; exit 1; }
"$tmp/prefix/bin/mirrorhook" --help | grep 'copy' >/dev/null || { echo "FAIL: --help from $tmp lists no commands"; exit 1; }
echo "ok: packed, installed into a temporary prefix, ran mirrorhook $got from $tmp"
