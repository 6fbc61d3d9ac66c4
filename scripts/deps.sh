#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Install everything vfio-bpf needs on Debian 12, from Debian's archives only.
# Idempotent; run as root.  The guest kernel is downloaded and unpacked into
# .cache/, never installed: installing linux-headers would drag a kernel into
# this machine's /boot together with initramfs-tools and a udev upgrade.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/versions.env"
cache=${CACHE_DIR:-$top/.cache}
# Paths written into the unpacked trees are the real ones (.cache may be a
# symlink into another tree).
mkdir -p "$cache"
cache=$(cd "$cache" && pwd -P)

say() { printf 'deps: %s\n' "$*"; }
die() { printf 'deps: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (make deps installs Debian packages)"
[ -r /etc/debian_version ] || die "this script targets Debian 12 (bookworm)"

export DEBIAN_FRONTEND=noninteractive

# 1. The backports suite, for qemu 10, libbpf 1.4 and bpftool 7.5.
if ! grep -rqs "$BACKPORTS_SUITE" /etc/apt/sources.list /etc/apt/sources.list.d/; then
	say "adding $BACKPORTS_SUITE"
	cat >/etc/apt/sources.list.d/vfio-bpf-backports.sources <<EOT
Types: deb
URIs: http://deb.debian.org/debian
Suites: $BACKPORTS_SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
	need_update=1
fi
if ! grep -rqs "bookworm-security" /etc/apt/sources.list /etc/apt/sources.list.d/; then
	say "adding bookworm-security"
	cat >/etc/apt/sources.list.d/vfio-bpf-security.sources <<EOT
Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
	need_update=1
fi

lists_fresh() {
	# apt lists younger than a day, and containing the backports suite
	ls /var/lib/apt/lists/*"${BACKPORTS_SUITE}"*Packages* >/dev/null 2>&1 &&
		[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_InRelease' -mmin +1440 | head -1)" ]
}
if [ -n "${need_update:-}" ] || ! lists_fresh; then
	say "apt-get update"
	apt-get update -q >/dev/null || die "apt-get update failed"
fi

pkgs_main="make gcc gcc-12 libc6-dev pkg-config
	clang-$LLVM_VERSION llvm-$LLVM_VERSION lld-$LLVM_VERSION libclang-rt-$LLVM_VERSION-dev
	dwarves libelf-dev zlib1g-dev libzstd-dev
	libyaml-dev libmicrohttpd-dev
	curl jq prometheus python3 python3-yaml
	kmod busybox-static cpio zstd xz-utils file
	bpftrace trace-cmd
	bc bison flex libssl-dev perl patch
	scdoc groff-base man-db
	dkms dh-dkms debhelper dpkg-dev fakeroot"
# dkms builds the module here only into trees under build/ (tests/host/
# t-install.sh passes --dkmstree); its own postinst builds nothing, and
# its kernel hooks run only when a kernel is installed, which we never do.
# debhelper and dh-dkms turn debian/ into the .debs (make debs).
pkgs_bpo="qemu-system-x86 libbpf-dev bpftool linux-libc-dev"

missing=""
for p in $pkgs_main; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	say "installing:$missing"
	# The tests run Prometheus in the guest only: a package must not
	# start a service on this machine (policy-rc.d answers "not now").
	rcd=/usr/sbin/policy-rc.d
	[ -e "$rcd" ] || { printf '#!/bin/sh\nexit 101\n' >"$rcd"; chmod +x "$rcd"; ours=1; }
	rc=0
	apt-get install -y -q --no-install-recommends $missing >/dev/null || rc=$?
	[ -z "${ours:-}" ] || rm -f "$rcd"
	[ $rc -eq 0 ] || die "apt-get install failed for:$missing"
fi

# Backports packages: install from backports unless that version is there.
bpo_missing=""
for p in $pkgs_bpo; do
	inst=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || true)
	cand=$(apt-cache madison "$p" | awk -F'|' -v s="$BACKPORTS_SUITE" '
		$3 ~ s { gsub(/ /, "", $2); print $2; exit }')
	[ -n "$cand" ] || die "$p: not found in $BACKPORTS_SUITE"
	[ "$inst" = "$cand" ] || bpo_missing="$bpo_missing $p"
done
if [ -n "$bpo_missing" ]; then
	say "installing from backports:$bpo_missing"
	# -t lets apt take their dependencies (qemu-system-common, seabios,
	# libbpf1, libelf1) from backports too.
	apt-get install -y -q --no-install-recommends -t "$BACKPORTS_SUITE" \
		$bpo_missing >/dev/null ||
		die "apt-get install failed for:$bpo_missing"
fi

# 2. systemd-udevd for the services group, unpacked in .cache/, never
# installed: the udev package would start a daemon on this machine and
# move systemd with it.  Its private library comes along at the same
# version (the guest runs it with LD_LIBRARY_PATH), so the copy does not
# depend on which systemd this machine has.
udev_root=$cache/udev-$(printf %s "$UDEV_DEB_VERSION" | tr "~" _)
if [ -f "$udev_root/.unpacked" ]; then
	say "udev $UDEV_DEB_VERSION already unpacked in $udev_root"
else
	mkdir -p "$cache/debs" "$udev_root"
	for p in udev libsystemd-shared; do
		ls "$cache/debs/${p}_"*"_amd64.deb" 2>/dev/null | grep -qF "$(printf %s "$UDEV_DEB_VERSION" | sed 's/:/%3a/')" &&
			continue
		say "downloading $p=$UDEV_DEB_VERSION"
		(cd "$cache/debs" && apt-get download -q "$p=$UDEV_DEB_VERSION" >/dev/null 2>&1) ||
			die "$p=$UDEV_DEB_VERSION is not in the archive (apt-cache madison udev lists the versions); update UDEV_DEB_VERSION in versions.env"
	done
	for p in udev libsystemd-shared; do
		dpkg-deb -x "$cache/debs/${p}_$(printf %s "$UDEV_DEB_VERSION" | sed 's/:/%3a/')_amd64.deb" "$udev_root"
	done
	[ -x "$udev_root/bin/udevadm" ] ||
		die "no udevadm (systemd-udevd) in the udev package"
	touch "$udev_root/.unpacked"
	say "udev $UDEV_DEB_VERSION unpacked in $udev_root"
fi

# 3. The guest kernels: image, headers, common headers and kbuild of each,
# unpacked into .cache/kernel-<version>/ (never installed).  unpack_kernel
# DEB_VERSION ABI SERIES KBUILD_PACKAGE SOURCE(yes|no) META_PACKAGE
unpack_kernel() {
	debver=$1 abi=$2 series=$3 kbuild=$4 with_src=$5 meta=$6
	kdir_root=$cache/kernel-$(printf %s "$debver" | tr "~" _)
	stamp=$kdir_root/.unpacked
	if [ -f "$stamp" ]; then
		say "guest kernel $debver already unpacked in $kdir_root"
		return 0
	fi

	debs="linux-image-$abi-$KERNEL_FLAVOUR-unsigned
		linux-headers-$abi-$KERNEL_FLAVOUR
		linux-headers-$abi-common
		$kbuild"
	[ "$with_src" = no ] || debs="$debs linux-source-$series"

	dl=$cache/debs
	mkdir -p "$dl" "$kdir_root"
	for p in $debs; do
		if ls "$dl/${p}_${debver}_"*.deb >/dev/null 2>&1; then
			continue
		fi
		say "downloading $p=$debver"
		if ! (cd "$dl" && apt-get download -q "$p=$debver" >/dev/null 2>&1); then
			cur=$(apt-cache policy "$meta" | awk '/Candidate:/ { print $2 }')
			die "$p=$debver is not in the archive any more (the current $series is $cur); update versions.env"
		fi
	done

	for p in $debs; do
		deb=$(ls "$dl/${p}_${debver}_"*.deb)
		case $p in
		linux-source-*)
			# Only what we use from it: checkpatch and its data files.
			tmp=$cache/src.tmp
			rm -rf "$tmp"; mkdir -p "$tmp"
			dpkg-deb -x "$deb" "$tmp"
			tarball=$(ls "$tmp"/usr/src/linux-source-*.tar.xz)
			mkdir -p "$kdir_root/src"
			tar -xJf "$tarball" -C "$kdir_root/src" --strip-components=1 \
				--wildcards '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
				'*/scripts/const_structs.checkpatch' '*/drivers/vfio/*' \
				'*/include/linux/vfio*' '*/include/uapi/linux/vfio*' \
				'*/samples/vfio-mdev/*' '*/include/trace/events/iommu.h' \
				'*/samples/trace_events/*' \
				'*/tools/testing/selftests/bpf/bpf_testmod/*' \
				'*/tools/testing/selftests/vfio/*' 2>/dev/null || true
			rm -rf "$tmp"
			;;
		*)
			dpkg-deb -x "$deb" "$kdir_root"
			;;
		esac
	done

	# The headers' Makefile includes the common tree by absolute /usr/src
	# path; point it at our unpacked copy.
	hdr=$kdir_root/usr/src/linux-headers-$abi-$KERNEL_FLAVOUR
	[ -d "$hdr" ] || die "unpacked headers not found at $hdr"
	sed -i "s|/usr/src/linux-headers-$abi-common|$kdir_root/usr/src/linux-headers-$abi-common|g" \
		"$hdr/Makefile"
	# kbuild's scripts are a symlink into /usr/lib/linux-kbuild-*; same fix.
	for l in "$hdr"/scripts "$hdr"/tools; do
		[ -L "$l" ] || continue
		t=$(readlink "$l")
		case $t in /*) ln -sfn "$kdir_root$t" "$l" ;; esac
	done
	# 6.1's headers ship no vmlinux: without one, kbuild skips a module's
	# BTF, and no BPF program could attach to its tracepoints.  The image's
	# own .BTF (xz payload of the bzImage) is the base BTF, kept alone as
	# 6.12's headers ship it.
	if [ ! -f "$hdr/vmlinux" ]; then
		img=$kdir_root/boot/vmlinuz-$abi-$KERNEL_FLAVOUR
		off=$(LC_ALL=C grep -obUa "$(printf '\3757zXZ')" "$img" | head -1 | cut -d: -f1)
		[ -n "$off" ] || die "no xz payload in $img"
		# xz stops at the payload's end and complains about what follows.
		tail -c +$((off + 1)) "$img" | xz -dcq >"$hdr/vmlinux.full" 2>/dev/null || true
		objcopy --only-section=.BTF "$hdr/vmlinux.full" "$hdr/vmlinux" 2>/dev/null ||
			die "no .BTF in the $abi kernel image"
		rm -f "$hdr/vmlinux.full"
	fi
	# Nor resolve_btfids, which kbuild runs after pahole on every module
	# when vmlinux is there; the tool reads only ELF and BTF, so the
	# default kernel's copy serves.
	rb=tools/bpf/resolve_btfids/resolve_btfids
	if [ ! -e "$hdr/$rb" ]; then
		src=$(ls "$cache"/kernel-*/usr/lib/linux-kbuild-*/"$rb" 2>/dev/null | head -1)
		[ -n "$src" ] || die "no resolve_btfids to borrow for $abi (unpack the default kernel first)"
		mkdir -p "$hdr/$(dirname $rb)"
		cp "$src" "$hdr/$rb"
	fi
	kver=$abi-$KERNEL_FLAVOUR
	depmod -b "$kdir_root" "$kver" || die "depmod failed for the $kver modules"

	touch "$stamp"
	say "guest kernel $debver unpacked in $kdir_root"
}

# The default guest kernel (6.12, and the newest Debian packages: see
# versions.env), with the source for checkpatch and the patched core.
unpack_kernel "$KERNEL_DEB_VERSION" "$KERNEL_ABI" "$KERNEL_SERIES" \
	"linux-kbuild-$KERNEL_ABI" yes "linux-image-$KERNEL_SERIES-$KERNEL_FLAVOUR"
# bookworm's own kernel (6.1): the k61 group and KERNEL=6.1.  Its kbuild
# package is per series, not per ABI; no source (nothing is patched there).
unpack_kernel "$KERNEL61_DEB_VERSION" "$KERNEL61_ABI" 6.1 linux-kbuild-6.1 no \
	"linux-image-$KERNEL_FLAVOUR"
