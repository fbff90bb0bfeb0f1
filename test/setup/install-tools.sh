#!/usr/bin/env bash
# Installs every tool the test suites and benchmarks need, on a fresh Debian machine, and only what is missing:
#   Debian packages  docker-registry (CNCF distribution 2.8), skopeo, etcd-server, apache2-utils (htpasswd),
#                    nghttp2-client (h2load), wrk, time (GNU time: peak RSS of child processes), xz-utils (.tar.xz archives),
#                    chromium (headless browser tests of the report and status pages), containerd (proves hosts.toml)
#   Go-built tools   crane, gcrane (go-containerregistry) and helm into .cache/bin, each rebuilt only when its pinned
#                    version changes; kube-apiserver from test/e2e/kube/.
#   Helm charts      real public charts into .cache/charts (test/setup/fetch-charts.sh).
# A tool that cannot be installed stops the run here with the reason: no test silently skips for want of it.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
bin="$root/.cache/bin"
mkdir -p "$bin"

debian_packages=(docker-registry skopeo etcd-server apache2-utils nghttp2-client wrk time xz-utils chromium containerd)
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
# The Debian packages start a registry service on :5000 and a containerd daemon; tests start their own.
for service in docker-registry containerd; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$service" 2>/dev/null; then
    systemctl stop "$service" || true
  fi
done

command -v go >/dev/null || { echo "install-tools: Go is required to build crane and kube-apiserver" >&2; exit 1; }
ggcr_version=v0.22.1
for tool in crane gcrane; do
  if [ ! -x "$bin/$tool" ] || [ "$(cat "$bin/.$tool.version" 2>/dev/null)" != "$ggcr_version" ]; then
    echo "install-tools: building $tool $ggcr_version"
    GOBIN="$bin" go install "github.com/google/go-containerregistry/cmd/$tool@$ggcr_version"
    echo "$ggcr_version" > "$bin/.$tool.version"
  fi
done

helm_version=v3.22.0
if [ ! -x "$bin/helm" ] || [ "$(cat "$bin/.helm.version" 2>/dev/null)" != "$helm_version" ]; then
  echo "install-tools: building helm $helm_version"
  GOBIN="$bin" go install "helm.sh/helm/v3/cmd/helm@$helm_version"
  echo "$helm_version" > "$bin/.helm.version"
fi

# Real public charts for test/scan/real-charts.test.ts, pinned, from the Go module proxy.
test/setup/fetch-charts.sh "$root/.cache/charts"

if [ -x test/e2e/kube/build.sh ]; then
  test/e2e/kube/build.sh "$bin"
fi
echo "install-tools: ready ($bin)"
