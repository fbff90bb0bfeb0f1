#!/usr/bin/env bash
# Builds the pinned Kubernetes control plane for the e2e suite into BIN_DIR (default: .cache/bin):
#   BIN_DIR/kube                      one multi-call binary (main.go in this directory)
#   BIN_DIR/kube-apiserver, kube-controller-manager, kubectl   symbolic links to it
# It rebuilds only when the binary is missing or the pin changed: BIN_DIR/.kube.version holds a hash of go.mod,
# go.sum and main.go. A cold build compiles a large part of Kubernetes (tens of minutes on 2 cores); Go's build
# and module caches make later rebuilds much shorter.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin_dir="${1:-$here/../../../.cache/bin}"
mkdir -p "$bin_dir"
bin_dir="$(cd "$bin_dir" && pwd)"

command -v go >/dev/null || { echo "kube/build.sh: Go is required to build kube-apiserver" >&2; exit 1; }
kube_version="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v[0-9]+\.[0-9]+\.[0-9]+$/ { print $2 }' "$here/go.mod")"
[ -n "$kube_version" ] || { echo "kube/build.sh: no 'k8s.io/kubernetes vX.Y.Z' requirement in $here/go.mod" >&2; exit 1; }
stamp="$kube_version $(cat "$here/go.mod" "$here/go.sum" "$here/main.go" | sha256sum | cut -c1-16)"

names=(kube-apiserver kube-controller-manager kubectl)
up_to_date=1
[ -x "$bin_dir/kube" ] && [ "$(cat "$bin_dir/.kube.version" 2>/dev/null)" = "$stamp" ] || up_to_date=0
for name in "${names[@]}"; do [ "$(readlink "$bin_dir/$name" 2>/dev/null)" = kube ] || up_to_date=0; done
if [ "$up_to_date" = 1 ]; then
  exit 0
fi

echo "kube/build.sh: building kube-apiserver, kube-controller-manager and kubectl $kube_version into $bin_dir"
started=$(date +%s)
major="${kube_version#v}"; major="${major%%.*}"
minor="${kube_version#v*.}"; minor="${minor%%.*}"
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
ldflags="$ldflags -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
# Build to a temporary name and move it into place, so an interrupted build never leaves a broken binary.
tmp="$bin_dir/.kube.tmp.$$"
trap 'rm -f "$tmp"' EXIT
(cd "$here" && CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags "$ldflags" -o "$tmp" .)
mv -f "$tmp" "$bin_dir/kube"
for name in "${names[@]}"; do ln -sfn kube "$bin_dir/$name"; done
echo "$stamp" > "$bin_dir/.kube.version"
echo "kube/build.sh: built $kube_version in $(( $(date +%s) - started ))s"
