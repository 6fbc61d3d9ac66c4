#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Build the test bed's initramfs: busybox and the modules needed to mount
# the host's root over 9p and stack a writable overlay on it.  Everything
# else the guest runs comes from the host's root file system.
#
# usage: mkinitramfs.sh KMODDIR KVER OUTPUT
set -eu

kroot=$1	# directory holding lib/modules/$kver
kver=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)

die() { printf 'mkinitramfs: error: %s\n' "$*" >&2; exit 1; }

bb=$(command -v busybox || true)
[ -n "$bb" ] && file -L "$bb" | grep -q 'statically linked' ||
	die "need a static busybox (package busybox-static; run make deps)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/lib/modules" "$tmp/proc" "$tmp/sys" "$tmp/dev" \
	"$tmp/lower" "$tmp/rw" "$tmp/newroot"
cp "$bb" "$tmp/bin/busybox"

# Modules in load order, decompressed: busybox's insmod does not read .xz
# (6.12's are .ko.xz, 6.1's plain .ko).
: >"$tmp/modules.order"
# virtio_pci is built in on 6.12 (modprobe says "builtin"), a module on 6.1.
for m in virtio_pci 9pnet_virtio 9p overlay; do
	modprobe -d "$kroot" -S "$kver" --show-depends "$m" ||
		die "module $m not found for $kver under $kroot"
done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | while read -r ko; do
	name=$(basename "$ko" .xz)
	case $ko in
	*.xz) xz -dc "$ko" >"$tmp/lib/modules/$name" ;;
	*) cp "$ko" "$tmp/lib/modules/$name" ;;
	esac
	echo "$name" >>"$tmp/modules.order"
done

cp "$here/initramfs-init" "$tmp/init"
chmod +x "$tmp/init"

(cd "$tmp" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
