#!/usr/bin/env bash
# The two-registry demo of background mirroring, on one machine, offline:
#   a "third-party" source registry on :5001 and your mirror on :5002 (Debian docker-registry),
#   an image in the source (built with crane append from a local tarball),
#   mirrorhook serve with swap: exists and copy: background,
#   the same Pod admitted twice: the first keeps its source image while the copy runs; the second is rewritten.
# Needs: docker-registry, crane (test/setup/install-tools.sh installs both), curl, a built mirrorhook (npm run build).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export PATH="$root/.cache/bin:$PATH"
src=${DEMO_SOURCE_PORT:-5001} dst=${DEMO_MIRROR_PORT:-5002} hook=${DEMO_WEBHOOK_PORT:-8444}

registry() { # name port
  mkdir -p "$work/$1"
  cat > "$work/$1.yaml" <<YAML
version: 0.1
storage: { filesystem: { rootdirectory: $work/$1 }, delete: { enabled: true } }
http: { addr: 127.0.0.1:$2 }
log: { level: error }
YAML
  docker-registry serve "$work/$1.yaml" >"$work/$1.log" 2>&1 &
  pids+=($!)
}
registry source "$src"
registry mirror "$dst"
sleep 1

echo '$ crane append -f app.tar -t localhost:5001/shop/app:v1      # the "third-party" image'
head -c 1048576 /dev/urandom > "$work/payload" && tar -C "$work" -cf "$work/app.tar" payload
crane append -f "$work/app.tar" -t "localhost:$src/shop/app:v1" 2>/dev/null

cat > "$work/mirrorhook.yaml" <<YAML
mirror:
  registry: localhost:$dst/mirror
swap: exists
copy: background
YAML
(cd "$work" && node "$root/dist/cli/main.js" serve --config mirrorhook.yaml --port "$hook" --log-level warn) &
pids+=($!)
for _ in $(seq 1 100); do curl -s --cacert "$work/certs/ca.crt" https://localhost:$hook/readyz >/dev/null 2>&1 && break; sleep 0.1; done

review() {
  sed 's#"image": "nginx:1.25.3"#"image": "localhost:'"$src"'/shop/app:v1"#' "$root/examples/admission-review.json" |
    node -e 'const r=JSON.parse(require("fs").readFileSync(0));r.request.object.spec.initContainers=[];r.request.object.spec.containers=r.request.object.spec.containers.slice(0,1);console.log(JSON.stringify(r))' |
    curl -s --cacert "$work/certs/ca.crt" https://localhost:$hook/mutate -H 'content-type: application/json' --data @- |
    node -e 'const r=JSON.parse(require("fs").readFileSync(0)).response;console.log(JSON.stringify({allowed:r.allowed,warnings:r.warnings,patch:r.patch&&JSON.parse(Buffer.from(r.patch,"base64"))},null,1))'
}

echo; echo '# 1. First Pod: the mirror lacks the image, so the Pod keeps its source image and the copy is queued'
review
for _ in $(seq 1 100); do crane digest --insecure localhost:$dst/mirror/localhost_$src/shop/app:v1 >/dev/null 2>&1 && break; sleep 0.1; done
echo; echo '# 2. The copy landed, byte for byte (same digest on both sides)'
echo "source: $(crane digest --insecure localhost:$src/shop/app:v1)"
echo "mirror: $(crane digest --insecure localhost:$dst/mirror/localhost_$src/shop/app:v1)"
echo; echo '# 3. Next Pod: rewritten to the mirror'
review
