#!/usr/bin/env bash
# Builds a real Debian image from Debian's own packages, with umoci computing the layer diffs:
#   layer 1: debootstrap --variant=minbase bookworm
#   layer 2: apt-get install curl python3-requests, apt-get purge a package, apt lists removed
# and writes it as an OCI archive and a docker-save archive (skopeo). Needs root, network to the
# Debian mirror, and: apt-get install -y debootstrap umoci skopeo.
# Usage: scripts/make-debian-image.sh OUT_DIR    (about 2–4 minutes)
set -euo pipefail
out=$(realpath -m "${1:?usage: make-debian-image.sh OUT_DIR}")
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=$(mktemp -d)
trap 'umount -R "$work/bundle/rootfs/proc" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$out"
cd "$work"
umoci init --layout img
umoci new --image img:debian
umoci unpack --image img:debian bundle
debootstrap --variant=minbase bookworm bundle/rootfs "$mirror" > debootstrap.log
umoci repack --image img:debian bundle
umoci config --image img:debian --config.cmd /bin/bash --history.created_by 'debootstrap --variant=minbase bookworm'
cp /etc/resolv.conf bundle/rootfs/etc/resolv.conf
mount -t proc proc bundle/rootfs/proc
chroot bundle/rootfs /bin/sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl python3-requests > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq e2fsprogs > /dev/null && rm -rf /var/lib/apt/lists/*'
umount bundle/rootfs/proc
rm bundle/rootfs/etc/resolv.conf
umoci repack --image img:debian bundle
umoci config --image img:debian --history.created_by 'apt-get install curl python3-requests && apt-get purge e2fsprogs' --config.label org.opencontainers.image.title=strata-debian
skopeo copy -q oci:img:debian oci-archive:"$out/debian.oci.tar":strata-debian:bookworm
skopeo copy -q oci:img:debian docker-archive:"$out/debian.docker.tar":strata-debian:bookworm
# what dpkg itself says is installed, for comparison with `strata analyze`
dpkg-query --admindir=bundle/rootfs/var/lib/dpkg -W -f='${Package}\t${Version}\t${db:Status-Abbrev}\n' > "$out/debian.dpkg-query.tsv"
ls -la "$out"
