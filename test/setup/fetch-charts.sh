#!/usr/bin/env bash
# Fetches real public Helm charts, pinned, for test/scan/real-charts.test.ts. There is no chart repository to
# reach from the test machines, but the Go module proxy serves the source of projects that keep their chart in the
# repository, so each chart comes from `go mod download` of its project at a pinned version and is copied to
# .cache/charts/<name>. Idempotent: a chart already fetched at its pinned version is left alone.
# Usage: test/setup/fetch-charts.sh [DEST]   (default .cache/charts)
set -euo pipefail
cd "$(dirname "$0")/../.."
dest="${1:-$PWD/.cache/charts}"
mkdir -p "$dest"
command -v go >/dev/null || { echo "fetch-charts: Go is required (go mod download fetches the charts)" >&2; exit 1; }

# name  module@version  chart folder inside the module
charts=(
  "cert-manager    github.com/cert-manager/cert-manager@v1.21.2              deploy/charts/cert-manager"
  "trust-manager   github.com/cert-manager/trust-manager@v0.25.0             deploy/charts/trust-manager"
  "kyverno         github.com/kyverno/kyverno@v1.19.1                        charts/kyverno"
  "external-secrets github.com/external-secrets/external-secrets@v1.3.2      deploy/charts/external-secrets"
  "metrics-server  sigs.k8s.io/metrics-server@v0.9.0                         charts/metrics-server"
  "descheduler     sigs.k8s.io/descheduler@v0.36.0                           charts/descheduler"
  "sealed-secrets  github.com/bitnami-labs/sealed-secrets@v0.40.0            helm/sealed-secrets"
  "gatekeeper      github.com/open-policy-agent/gatekeeper/v3@v3.23.1        charts/gatekeeper"
  "cilium          github.com/cilium/cilium@v1.20.2                          install/kubernetes/cilium"
)

# Module sources go to their own cache under .cache, not the user's GOMODCACHE; GOFLAGS=-mod=mod lets
# `go mod download` run outside a module and -modcacherw keeps the cache removable.
export GOMODCACHE="$PWD/.cache/gomod" GOFLAGS="-mod=mod -modcacherw" GOTOOLCHAIN=local
for line in "${charts[@]}"; do
  read -r name module folder <<<"$line"
  if [ "$(cat "$dest/.$name.version" 2>/dev/null)" = "$module" ] && [ -f "$dest/$name/Chart.yaml" ]; then continue; fi
  echo "fetch-charts: $name from $module"
  json=$(go mod download -json "$module" 2>&1) || true
  dir=$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  if [ -z "$dir" ] || [ ! -f "$dir/$folder/Chart.yaml" ]; then
    echo "fetch-charts: could not fetch $name ($module $folder): $json" >&2
    exit 1
  fi
  rm -rf "${dest:?}/$name"
  cp -R "$dir/$folder" "$dest/$name"
  chmod -R u+w "$dest/$name"   # the module cache is read-only; the copy must stay removable
  echo "$module" > "$dest/.$name.version"
done
echo "fetch-charts: ready ($dest)"
