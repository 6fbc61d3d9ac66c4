#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A real `dkms build` of the module source make install lays out, for each
# kernel named, against its unpacked headers; nothing outside OUT is
# written (dkms gets its own trees, no signing key, no depmod).
#
#   scripts/dkms-build.sh OUT KVER=HEADERS-DIR...
#
# OUT/destdir: make install DESTDIR=OUT/destdir PREFIX=/usr (the source).
# OUT/KVER/tree: the dkms tree, OUT/KVER/build.log, OUT/KVER/rc (dkms's
# exit status), OUT/KVER/seconds; OUT/KVER/vfio-pci-bpf-VERSION-KVER.dkms.tar.gz,
# the built module as `dkms mktarball --binaries-only` packs it, which the
# packages group loads into the guest's dkms (dkms ldtarball).
# OUT/kernels lists the KVERs, OUT/kdirs the arguments.  A failed build is recorded, not fatal:
# tests/host/t-install.sh reports it.
set -eu

out=${1:?usage: dkms-build.sh OUT KVER=HEADERS-DIR...}
shift
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/versions.env"
v=$VFIO_BPF_VERSION
case $out in /*) ;; *) out=$(pwd)/$out ;; esac

rm -rf "$out"
mkdir -p "$out"
make -s -C "$top" install DESTDIR="$out/destdir" PREFIX=/usr >"$out/install.log" 2>&1
src=$out/destdir/usr/src
: >"$out/kernels"
: >"$out/kdirs"
for kk; do
	kver=${kk%%=*}
	kdir=${kk#*=}
	k=$out/$kver
	mkdir -p "$k/tree" "$k/inst/$kver"
	echo "$kver" >>"$out/kernels"
	echo "$kk" >>"$out/kdirs"
	t0=$(date +%s)
	rc=0
	# sign_file: a path that is not there, so dkms makes no signing key
	# (it would write one into /var/lib/dkms).
	sign_file=/nonexistent dkms build -m vfio-pci-bpf -v "$v" -k "$kver" \
		--dkmstree "$k/tree" --sourcetree "$src" --installtree "$k/inst" \
		--kernelsourcedir "$kdir" --no-depmod >"$k/build.log" 2>&1 || rc=$?
	echo $(( $(date +%s) - t0 )) >"$k/seconds"
	echo $rc >"$k/rc"
	[ $rc -eq 0 ] || continue
	sign_file=/nonexistent dkms mktarball -m vfio-pci-bpf -v "$v" -k "$kver" \
		--dkmstree "$k/tree" --sourcetree "$src" --installtree "$k/inst" \
		--kernelsourcedir "$kdir" --binaries-only \
		--archive "$k/vfio-pci-bpf-$v-$kver.dkms.tar.gz" >"$k/mktarball.log" 2>&1 ||
		echo "mktarball failed: $?" >>"$k/mktarball.log"
done
