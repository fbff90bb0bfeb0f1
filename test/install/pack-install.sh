#!/usr/bin/env bash
# The two ways a user installs the CLI, each into a throwaway prefix and run from a directory that is not the
# checkout (docs/install.md):
#   1. a fresh clone of this checkout's HEAD: `npm ci && npm install -g .` (prepare builds dist/ during npm ci);
#   2. `npm pack` (prepare builds dist/) and a global install of the tarball.
# Run by test/install/install.test.ts (unit tier) and on its own: npm run test:install.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
want=$(node -p "require('$here/package.json').version")

check() { # check PREFIX HOW
  local mirrorhook="$1/bin/mirrorhook" got
  [ -x "$mirrorhook" ] || { echo "FAIL ($2): $mirrorhook was not installed"; exit 1; }
  mkdir -p "$tmp/elsewhere" && cd "$tmp/elsewhere"
  got=$("$mirrorhook" --version)
  [ "$got" = "$want" ] || { echo "FAIL ($2): --version printed '$got', want '$want'"; exit 1; }
  "$mirrorhook" --help | grep -q '^  copy ' || { echo "FAIL ($2): --help from $PWD lists no copy command"; exit 1; }
  # A command that reads files, given a path outside the checkout: the bin finds its own modules from anywhere.
  printf 'FROM nginx:1.27\n' > Dockerfile
  got=$("$mirrorhook" scan Dockerfile)
  [ "$got" = "docker.io/library/nginx:1.27" ] || { echo "FAIL ($2): scan printed '$got'"; exit 1; }
  echo "ok ($2): mirrorhook $want installed into $1, ran from $PWD"
  cd "$here"
}

# 1. A fresh clone: nothing built, no node_modules.
git clone --quiet "$here" "$tmp/clone"
(cd "$tmp/clone" && npm ci --no-audit --no-fund --silent >/dev/null 2>&1) || { echo "FAIL (clone): npm ci failed in a fresh clone"; exit 1; }
[ -f "$tmp/clone/dist/cli/main.js" ] || { echo "FAIL (clone): npm ci did not build dist/ (prepare script)"; exit 1; }
(cd "$tmp/clone" && npm install -g --silent --prefix "$tmp/from-clone" . >/dev/null 2>&1) || { echo "FAIL (clone): npm install -g . failed"; exit 1; }
check "$tmp/from-clone" 'npm install -g . from a fresh clone'

# 2. The packed tarball, packed from that clean clone so it holds exactly what is committed.
(cd "$tmp/clone" && npm pack --silent --pack-destination "$tmp" >/dev/null 2>&1)
tgz=$(ls "$tmp"/mirrorhook-*.tgz)
listing=$(tar -tzf "$tgz")
grep -qx 'package/dist/cli/main.js' <<<"$listing" || { echo "FAIL (pack): $tgz has no dist/cli/main.js"; exit 1; }
if grep -qE '^package/(test|src|node_modules|certs)/' <<<"$listing"; then echo "FAIL (pack): $tgz ships test/, src/, node_modules/ or certs/"; exit 1; fi
npm install -g --silent --prefix "$tmp/from-tarball" "$tgz" >/dev/null 2>&1 || { echo "FAIL (pack): installing $tgz failed"; exit 1; }
check "$tmp/from-tarball" 'npm install -g of the npm pack tarball'
