#!/usr/bin/env bash
# Builds a real Debian image from Debian's own packages, with umoci computing the layer diffs:
#   layer 1: debootstrap --variant=minbase bookworm
#   layer 2: apt-get install curl python3-requests less
#   layer 3: apt-get purge less, apt lists removed
# and writes it as an OCI archive and a docker-save archive (skopeo), with what dpkg-query says
# the final filesystem has installed. Needs root, network to the Debian mirror, and
# apt-get install -y debootstrap umoci skopeo. Usage: scripts/make-debian-image.sh OUT_DIR (2–4 min)
set -euo pipefail
out=$(realpath -m "${1:?usage: make-debian-image.sh OUT_DIR}")
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=$(mktemp -d)
cleanup() { for b in "$work"/b*/rootfs/proc; do umount "$b" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$out"
cd "$work"
umoci init --layout img
umoci new --image img:debian

# one layer per step: unpack the image so far, change the rootfs, repack (umoci diffs against the
# unpacked state and writes whiteouts for what was removed), the step named in the history
step() { # step N CREATED_BY COMMAND...
  local n=$1 by=$2; shift 2
  umoci unpack --image img:debian "b$n" > /dev/null
  "$@" "b$n/rootfs"
  umoci repack --history.created_by "$by" --image img:debian "b$n"
  rm -rf "b$n"
}
in_chroot() { # in_chroot SCRIPT ROOTFS — with /proc and DNS, both gone again before umoci walks it
  local root=$2
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mount -t proc proc "$root/proc"
  chroot "$root" /bin/sh -c "$1" || { umount "$root/proc"; return 1; }
  umount "$root/proc"
  rm "$root/etc/resolv.conf"
}
base() { debootstrap --variant=minbase bookworm "$1" "$mirror" > debootstrap.log; }
install() { in_chroot 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl python3-requests less > /dev/null' "$1"; }
purge() { in_chroot 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq less > /dev/null && rm -rf /var/lib/apt/lists/*' "$1"; }

step 1 'debootstrap --variant=minbase bookworm' base
step 2 'apt-get update && apt-get install curl python3-requests less' install
step 3 'apt-get purge less && rm -rf /var/lib/apt/lists/*' purge
umoci config --no-history --image img:debian --config.cmd /bin/bash --config.label org.opencontainers.image.title=strata-debian

skopeo copy -q oci:img:debian oci-archive:"$out/debian.oci.tar":strata-debian:bookworm
skopeo copy -q oci:img:debian docker-archive:"$out/debian.docker.tar":strata-debian:bookworm
# what dpkg itself says the final filesystem has installed, to compare with `strata analyze`
umoci unpack --image img:debian final > /dev/null
dpkg-query --admindir=final/rootfs/var/lib/dpkg -W -f='${Package}\t${Version}\t${db:Status-Abbrev}\n' > "$out/debian.dpkg-query.tsv"
ls -la "$out"
