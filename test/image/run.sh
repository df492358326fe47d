#!/usr/bin/env bash
# npm run test:image — builds the image from docker/Dockerfile with podman (no Docker daemon needed) and runs it
# as docker/docker-compose.yml and docker/k8s/daemonset.yml run it, against the test Elasticsearch on loopback
# (test/image/*.image.ts). As root: podman runs rootful, with test/image/containers.conf.
#
#   1. base: node:22-bookworm-slim made locally when podman lacks it (test/image/base.sh: debootstrap + Node from
#      the npm registry); kept in podman's storage, so later runs skip it (LOGSHIP_REBUILD_BASE=1 remakes it)
#   2. build: `podman build -f docker/Dockerfile` exactly as `docker build` runs it, with podman's layer cache
#   3. test: the image's settings, the compose service, the compose service as the image's user, the DaemonSet
#      (test/image/*.image.ts: not *.test.ts, so that `npm test` leaves them out)
#
# Installs what it needs from Debian when missing (podman, runc, catatonit for `init: true`, debootstrap).
# Needs `npm ci` done (tsx, yaml) and Debian's python3-pythonjsonlogger (the Django log writer).
# Clean up afterwards with `podman rmi localhost/logship:test docker.io/library/node:22-bookworm-slim` and
# `podman image prune` (the build cache).
set -euo pipefail
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" != 0 ]; then
  echo "test:image: run as root (podman runs rootful here)" >&2
  exit 1
fi
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
command -v catatonit >/dev/null || missing+=(catatonit)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if ((${#missing[@]} > 0)); then
  echo "test:image: apt-get install ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

export CONTAINERS_CONF=$PWD/test/image/containers.conf
image=${LOGSHIP_TEST_IMAGE:-localhost/logship:test}
base=docker.io/library/node:22-bookworm-slim
export LOGSHIP_TEST_IMAGE=$image LOGSHIP_BASE_IMAGE=$base
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }

echo "test:image: $(podman --version), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(now)
bash test/image/base.sh
t1=$(now)

# --format docker: an OCI image config has no HEALTHCHECK, podman would drop it. --pull=never: the base is local.
# --network host: the build's `npm ci` reaches the npm registry as this host does. --ignorefile: BuildKit reads
# docker/Dockerfile.dockerignore by its name, podman 4.3 needs to be told. --jobs 2: the build and deps stages
# side by side, as BuildKit runs them (their `npm ci` wait on the network).
echo "test:image: podman build -f docker/Dockerfile -t $image ."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! podman build --jobs 2 --format docker --pull=never --network host --ignorefile docker/Dockerfile.dockerignore \
  -f docker/Dockerfile -t "$image" . >"$log" 2>&1; then
  tail -60 "$log" >&2
  echo "test:image: the image build failed" >&2
  exit 1
fi
cached=$(grep -c '^--> Using cache' "$log" || true)
steps=$(grep '^\[[0-9]/[0-9]\] STEP' "$log" | grep -vc ': FROM ' || true)
t2=$(now)
size=$(podman image inspect --format '{{.Size}}' "$image")
base_size=$(podman image inspect --format '{{.Size}}' "$base")
echo "test:image: built in $(secs "$t1" "$t2") s ($cached of $steps steps cached); image $(mb "$size"), of which logship's layers $(mb $((size - base_size))) over the base's $(mb "$base_size")"

node --import tsx --test --test-concurrency=1 --test-reporter=spec test/image/*.image.ts
t3=$(now)
echo "test:image: base $(secs "$t0" "$t1") s, build $(secs "$t1" "$t2") s, tests $(secs "$t2" "$t3") s, total $(secs "$t0" "$t3") s"
