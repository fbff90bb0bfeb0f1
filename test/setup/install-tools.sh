#!/usr/bin/env bash
# Installs every tool the test suites and benchmarks need, on a fresh Debian machine, and only what is missing:
#   Debian packages  docker-registry (CNCF distribution 2.8), skopeo, etcd-server, apache2-utils (htpasswd),
#                    nghttp2-client (h2load), wrk, time (GNU time: peak RSS of child processes), xz-utils (.tar.xz archives)
#   Go-built tools   crane, gcrane (go-containerregistry) into .cache/bin; kube-apiserver from test/e2e/kube/.
# A tool that cannot be installed stops the run here with the reason: no test silently skips for want of it.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
bin="$root/.cache/bin"
mkdir -p "$bin"

debian_packages=(docker-registry skopeo etcd-server apache2-utils nghttp2-client wrk time xz-utils)
missing=()
for package in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-tools: installing Debian packages: ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-tools: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian package starts a registry service on :5000; tests start their own on ephemeral ports.
if command -v systemctl >/dev/null && systemctl is-active --quiet docker-registry 2>/dev/null; then
  systemctl stop docker-registry || true
fi

command -v go >/dev/null || { echo "install-tools: Go is required to build crane and kube-apiserver" >&2; exit 1; }
ggcr_version=v0.22.1
for tool in crane gcrane; do
  if [ ! -x "$bin/$tool" ] || [ "$(cat "$bin/.$tool.version" 2>/dev/null)" != "$ggcr_version" ]; then
    echo "install-tools: building $tool $ggcr_version"
    GOBIN="$bin" go install "github.com/google/go-containerregistry/cmd/$tool@$ggcr_version"
    echo "$ggcr_version" > "$bin/.$tool.version"
  fi
done

if [ -x test/e2e/kube/build.sh ]; then
  test/e2e/kube/build.sh "$bin"
fi
echo "install-tools: ready ($bin)"
