#!/usr/bin/env bash
# Installs every tool the test suites and benchmarks need, on a fresh Debian machine, and only what is missing:
#   Debian packages  docker-registry (CNCF distribution 2.8), skopeo, etcd-server, apache2-utils (htpasswd),
#                    nghttp2-client (h2load), wrk, time (GNU time: peak RSS of child processes), xz-utils (.tar.xz archives),
#                    chromium (headless browser tests of the report and status pages), containerd (proves hosts.toml),
#                    prometheus (its promtool checks and unit-tests deploy/monitoring's alerts; the daemon is not used)
#                    iproute2, util-linux (ip, unshare: the docs sandbox in a network namespace of its own)
#   Go-built tools   crane, gcrane (go-containerregistry), regsync, toxiproxy-server and helm into .cache/bin, each rebuilt only when its pinned
#                    version changes; kube-apiserver from test/e2e/kube/.
#   Go modules       CRDs into .cache/crds: OpenShift's ImageDigestMirrorSet/ImageTagMirrorSet (e2e) and the
#                    prometheus-operator's ServiceMonitor/PrometheusRule (deploy/monitoring checks).
#   Helm charts      real public charts into .cache/charts (test/setup/fetch-charts.sh).
# A tool that cannot be installed stops the run here with the reason: no test silently skips for want of it.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
bin="$root/.cache/bin"
mkdir -p "$bin"

debian_packages=(docker-registry skopeo etcd-server apache2-utils nghttp2-client wrk time xz-utils chromium containerd prometheus iproute2 util-linux)
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
for service in docker-registry containerd prometheus; do
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

# regsync (regclient): the peer bench/sync runs beside mirrorhook sync and skopeo sync.
regsync_version=v0.11.7
if [ ! -x "$bin/regsync" ] || [ "$(cat "$bin/.regsync.version" 2>/dev/null)" != "$regsync_version" ]; then
  echo "install-tools: building regsync $regsync_version"
  GOBIN="$bin" go install "github.com/regclient/regclient/cmd/regsync@$regsync_version"
  echo "$regsync_version" > "$bin/.regsync.version"
fi

# toxiproxy (Shopify): bench/copy puts it in front of the source registry to shape a WAN link (latency, bandwidth).
toxiproxy_version=v2.5.0
if [ ! -x "$bin/toxiproxy-server" ] || [ "$(cat "$bin/.toxiproxy-server.version" 2>/dev/null)" != "$toxiproxy_version" ]; then
  echo "install-tools: building toxiproxy-server $toxiproxy_version"
  toxiproxy_build=$(mktemp -d)
  GOBIN="$toxiproxy_build" go install "github.com/Shopify/toxiproxy/v2/cmd/server@$toxiproxy_version"
  mv "$toxiproxy_build/server" "$bin/toxiproxy-server"
  rmdir "$toxiproxy_build"
  echo "$toxiproxy_version" > "$bin/.toxiproxy-server.version"
fi

helm_version=v3.22.0
if [ ! -x "$bin/helm" ] || [ "$(cat "$bin/.helm.version" 2>/dev/null)" != "$helm_version" ]; then
  echo "install-tools: building helm $helm_version"
  GOBIN="$bin" go install "helm.sh/helm/v3/cmd/helm@$helm_version"
  echo "$helm_version" > "$bin/.helm.version"
fi

# OpenShift's published CRDs for ImageDigestMirrorSet and ImageTagMirrorSet (from github.com/openshift/api, through
# the Go module proxy): the e2e suite installs them in its API server, which validates what mirror-config openshift
# writes against their schemas. Pinned to the openshift/api commit machine-api-operator requires.
openshift_api_version=v0.0.0-20260213204242-d34f11c515b3
crds="$root/.cache/crds/openshift-api-$openshift_api_version"
if [ ! -f "$crds/imagetagmirrorsets.crd.yaml" ]; then
  echo "install-tools: fetching OpenShift mirror-set CRDs (github.com/openshift/api@$openshift_api_version)"
  module_dir=$(cd / && go mod download -json "github.com/openshift/api@$openshift_api_version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$module_dir" ] || { echo "install-tools: github.com/openshift/api@$openshift_api_version could not be downloaded" >&2; exit 1; }
  mkdir -p "$crds"
  for kind in imagedigestmirrorsets imagetagmirrorsets; do
    install -m 0644 "$module_dir/config/v1/zz_generated.crd-manifests/0000_10_config-operator_01_$kind.crd.yaml" "$crds/$kind.crd.yaml"
  done
fi
ln -sfn "openshift-api-$openshift_api_version" "$root/.cache/crds/openshift"

# The prometheus-operator CRDs (ServiceMonitor, PrometheusRule) that test/deploy/monitoring.test.ts checks
# deploy/monitoring against: taken from the operator's Go module, so the Go module proxy is the only source.
operator_version=v0.85.0
crds="$root/.cache/crds"
if [ "$(cat "$crds/.prometheus-operator.version" 2>/dev/null)" != "$operator_version" ]; then
  echo "install-tools: fetching prometheus-operator $operator_version CRDs"
  operator_dir=$(go mod download -json "github.com/prometheus-operator/prometheus-operator@$operator_version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$operator_dir" ] || { echo "install-tools: go mod download gave no directory for prometheus-operator" >&2; exit 1; }
  mkdir -p "$crds"
  for kind in servicemonitors prometheusrules; do
    install -m 0644 "$operator_dir/example/prometheus-operator-crd/monitoring.coreos.com_$kind.yaml" "$crds/"
  done
  echo "$operator_version" > "$crds/.prometheus-operator.version"
fi

# Real public charts for test/scan/real-charts.test.ts, pinned, from the Go module proxy.
test/setup/fetch-charts.sh "$root/.cache/charts"

if [ -x test/e2e/kube/build.sh ]; then
  test/e2e/kube/build.sh "$bin"
fi
echo "install-tools: ready ($bin)"
