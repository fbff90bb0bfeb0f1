#!/usr/bin/env bash
# Runs the docs sandbox suite (vitest project "sandbox") inside a network and mount namespace of its own, so the
# examples of README.md, docs/ and --help run exactly as written: localhost:5000, localhost:5001 and the past runs'
# ports are free there whatever the machine runs, and docker.io, quay.io, harbor.internal and Google's API names
# resolve to loopback servers that speak their protocols (test/sandbox/world.ts). Needs root (CI runs as root):
# without it this fails, it never skips.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${MIRRORHOOK_IN_SANDBOX:-}" != "1" ]; then
  command -v unshare >/dev/null || { echo "test/sandbox/run.sh: unshare (util-linux) is missing" >&2; exit 1; }
  exec unshare --net --mount --propagation private env MIRRORHOOK_IN_SANDBOX=1 bash "$0" "$@"
fi
ip link set lo up
hosts=$(mktemp)
cat > "$hosts" <<'HOSTS'
127.0.0.1 localhost
127.0.0.2 docker.io index.docker.io registry-1.docker.io
127.0.0.3 quay.io
127.0.0.4 harbor.internal
127.0.0.5 oauth2.googleapis.com artifactregistry.googleapis.com
HOSTS
mount --bind "$hosts" /etc/hosts
exec npx vitest run --project sandbox "$@"
