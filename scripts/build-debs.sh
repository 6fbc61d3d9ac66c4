#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Build the Debian packages from the tracked files, in a copy, so that
# dpkg-buildpackage writes nothing outside the tree: its ../ is OUT.
#
#   scripts/build-debs.sh OUT VMLINUX_BTF
#
# OUT/src is the copy (git ls-files: what is tracked, as it is in the
# work tree now); OUT gets vfio-bpf_VERSION_amd64.deb,
# vfio-bpf-dkms_VERSION_all.deb, the .buildinfo and .changes, and
# build.log.
set -eu

out=${1:?usage: build-debs.sh OUT VMLINUX_BTF}
btf=${2:?usage: build-debs.sh OUT VMLINUX_BTF}
top=$(cd "$(dirname "$0")/.." && pwd)
case $out in /*) ;; *) out=$(pwd)/$out ;; esac

cd "$top"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
	{ echo "build-debs: $top is not a git work tree (the copy is its tracked files)" >&2; exit 2; }
rm -rf "$out"
mkdir -p "$out/src"
# Tracked files that exist now (a deletion not yet committed is gone).
git ls-files -z | xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
	tar --null -T - -cf - | tar -xf - -C "$out/src"

cd "$out/src"
jobs=$(nproc 2>/dev/null || echo 1)
if ! VMLINUX_BTF=$btf DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=$jobs" \
	dpkg-buildpackage -us -uc -b >"$out/build.log" 2>&1; then
	tail -n 30 "$out/build.log" >&2
	echo "build-debs: dpkg-buildpackage failed; the log is $out/build.log" >&2
	exit 1
fi
ls "$out"/*.deb
