#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make install / make uninstall into a DESTDIR (PREFIX=/usr and /usr/local),
# a real `dkms build` of the installed module source against each kernel's
# unpacked headers in .cache (the test bed's 6.12, and Debian's 6.1 when
# versions.env names it and it is unpacked), and the Debian packages that
# `make debs` (a prerequisite of make check) built in build/deb/.  Nothing
# here is loaded, and nothing is written outside build/: dkms gets its own
# trees (--dkmstree, --sourcetree, --installtree) and no depmod.
#
#   usage: t-install.sh RESULTS-FILE
set -u

r=$1
TOP=${TOP:?}
cd "$TOP"
. ./versions.env
V=$VFIO_BPF_VERSION
W=$TOP/build/t-install
rm -rf "$W"
mkdir -p "$W"

. "$TOP/tests/host/lib.sh"
same() {	# same FILE-EXPECTED FILE-ACTUAL: the lists agree, or the diff
	diff -u "$1" "$2" >"$2.diff" && return 0
	grep '^[-+]/' "$2.diff" | head -n 8
	return 1
}

# Where an install with DESTDIR forgotten would land on this machine:
# their state before and after must be the same.
outside="/usr/sbin/vfio-bpf /usr/local/sbin/vfio-bpf /etc/vfio-bpf /usr/src/vfio-pci-bpf-$V
	/usr/local/src/vfio-pci-bpf-$V /usr/share/vfio-bpf /usr/local/share/vfio-bpf
	/usr/lib/udev/rules.d/90-vfio-bpf.rules /usr/local/lib/udev/rules.d/90-vfio-bpf.rules"
state() { for p in $outside; do [ -e "$p" ] && ls -ld --time-style=+%s "$p"; done; true; }
state >"$W/outside.before"

# expected PREFIX: the file list (path and mode) make install must write.
expected() {
	p=$1
	{
		for t in vfio-bpf vfio-trace vfio_exporter; do echo "$p/sbin/$t 755"; done
		for f in etc/*.yaml; do echo "/etc/vfio-bpf/$(basename "$f") 644"; done
		for f in build/udev/*.rules; do echo "$p/lib/udev/rules.d/$(basename "$f") 644"; done
		for f in build/systemd/*.service build/systemd/*.socket build/systemd/*.timer; do
			[ -f "$f" ] && echo "$p/lib/systemd/system/$(basename "$f") 644"
		done
		for f in build/man/*.[458]; do
			[ -f "$f" ] && echo "$p/share/man/man${f##*.}/$(basename "$f") 644"
		done
		s=$p/src/vfio-pci-bpf-$V
		echo "$s/dkms.conf 644"
		echo "$s/versions.env 644"
		for f in kmod/Kbuild kmod/Makefile kmod/*.c kmod/*.h; do
			case $f in *.mod.c) continue ;; esac
			echo "$s/kmod/$(basename "$f") 644"
		done
		for f in include/*.h; do echo "$s/include/$(basename "$f") 644"; done
		echo "$p/share/vfio-bpf/install.manifest 644"
	} | sort
}
# installed DESTDIR: what is there (files and links), with modes.
installed() { (cd "$1" && find . ! -type d -printf '/%P %m\n' | sort); }

for prefix in /usr /usr/local; do
	tag=$(echo "$prefix" | tr / _)
	D=$W/destdir$tag
	L="PREFIX=$prefix"
	# The build (tools) is make check's; install only copies.
	if ! make -s install DESTDIR="$D" PREFIX="$prefix" >"$W/install$tag.log" 2>&1; then
		fail "$L: make install DESTDIR=... failed: $(tail -n 3 "$W/install$tag.log" | tr '\n' ' ')"
		continue
	fi
	pass "$L: make install DESTDIR=... succeeded"
	expected "$prefix" >"$W/expected$tag"
	installed "$D" >"$W/installed$tag"
	check "$L: the files and their modes are exactly the expected $(wc -l <"$W/expected$tag")" \
		same "$W/expected$tag" "$W/installed$tag"
	check "$L: directories are 755" \
		sh -c "[ -z \"\$(find '$D' -type d ! -perm 755)\" ]"
	sed 's/ [0-9]*$//' "$W/installed$tag" >"$W/listed$tag.want"
	sort "$D$prefix/share/vfio-bpf/install.manifest" >"$W/listed$tag"
	check "$L: the manifest lists what is there" same "$W/listed$tag.want" "$W/listed$tag"
	sb=$D$prefix/sbin
	check "$L: the udev rule runs this install's vfio-bpf" \
		grep -q "RUN+=\"$prefix/sbin/vfio-bpf policy apply" "$D$prefix"/lib/udev/rules.d/90-vfio-bpf.rules
	for t in vfio-bpf vfio-trace vfio_exporter; do
		check "$L: installed $t --help runs" sh -c "'$sb/$t' --help >/dev/null"
		check "$L: installed $t --version is $V" \
			sh -c "'$sb/$t' --version | grep -qx '$t $V'"
	done
	# The BPF objects are in the binaries (skeletons): with the build
	# tree hidden, the installed vfio-bpf still compiles every example.
	# (A private mount namespace: the mounts are this check's alone.)
	if unshare -m --propagation private true 2>/dev/null; then
		for f in "$D"/etc/vfio-bpf/*.yaml; do
			n=$(basename "$f")
			check "$L: installed vfio-bpf policy check $n, build/ hidden" \
				unshare -m --propagation private sh -c \
				"mount --bind '$D' /mnt && mount -t tmpfs none '$TOP/build' && /mnt$prefix/sbin/vfio-bpf policy check /mnt/etc/vfio-bpf/$n"
		done
	else
		for f in "$D"/etc/vfio-bpf/*.yaml; do
			check "$L: installed vfio-bpf policy check $(basename "$f")" \
				"$sb/vfio-bpf" policy check "$f"
		done
	fi
	for t in vfio-bpf vfio-trace vfio_exporter; do
		objcopy --strip-debug "$sb/$t" "$W/$t.stripped"
	done
	# (The embedded BPF objects' line info names their sources: not read.)
	check "$L: no path into build/ in the installed binaries (debug info aside)" \
		sh -c "! strings -a '$W'/*.stripped | grep -F '$TOP/build'"

	# An operator's policy.yaml survives an install over it and uninstall.
	echo "# the operator's" >"$D/etc/vfio-bpf/policy.yaml"
	make -s install DESTDIR="$D" PREFIX="$prefix" >>"$W/install$tag.log" 2>&1
	check "$L: a second install keeps the operator's policy.yaml" \
		grep -qx "# the operator's" "$D/etc/vfio-bpf/policy.yaml"
	installed "$D" | grep -v '^/etc/vfio-bpf/policy.yaml ' >"$W/again$tag"
	check "$L: a second install writes the same files" same "$W/installed$tag" "$W/again$tag"
	if make -s uninstall DESTDIR="$D" PREFIX="$prefix" >"$W/uninstall$tag.log" 2>&1; then
		pass "$L: make uninstall DESTDIR=... succeeded"
	else
		fail "$L: make uninstall failed: $(tail -n 3 "$W/uninstall$tag.log" | tr '\n' ' ')"
	fi
	installed "$D" >"$W/left$tag"
	check "$L: uninstall leaves only the operator's policy.yaml" \
		test "$(cat "$W/left$tag")" = "/etc/vfio-bpf/policy.yaml 644"
	check "$L: uninstall removes our directories (src/vfio-pci-bpf-$V, share/vfio-bpf)" \
		sh -c "[ ! -e '$D$prefix/src/vfio-pci-bpf-$V' ] && [ ! -e '$D$prefix/share/vfio-bpf' ]"
done

# An upgrade: 0.0.1's DKMS source goes when the current version installs.
D=$W/destdir-upgrade
make -s install DESTDIR="$D" PREFIX=/usr VFIO_BPF_VERSION=0.0.1 >"$W/upgrade.log" 2>&1
check "upgrade: the old version's module source was installed" test -f "$D/usr/src/vfio-pci-bpf-0.0.1/dkms.conf"
make -s install DESTDIR="$D" PREFIX=/usr >>"$W/upgrade.log" 2>&1
check "upgrade: installing $V removes 0.0.1's source" test ! -e "$D/usr/src/vfio-pci-bpf-0.0.1"
installed "$D" >"$W/upgraded"
check "upgrade: the files are those of a fresh install of $V" same "$W/installed_usr" "$W/upgraded"

state >"$W/outside.after"
check "nothing was installed outside DESTDIR ($(echo $outside | wc -w) paths checked)" \
	diff "$W/outside.before" "$W/outside.after"

# --- the version, one value everywhere -----------------------------------

check "version: debian/changelog is $V" test "$(dpkg-parsechangelog -S Version)" = "$V"
check "version: dkms.conf PACKAGE_VERSION is $V" \
	grep -qx "PACKAGE_VERSION=\"$V\"" "$W/destdir-upgrade/usr/src/vfio-pci-bpf-$V/dkms.conf"
check "version: the tree's module says modinfo version $V" \
	test "$(modinfo -F version kmod/vfio_pci_bpf.ko 2>/dev/null)" = "$V"

# --- DKMS: a real dkms build for each kernel in .cache -------------------

# make dkms-build (a prerequisite of make check) ran `dkms build` of the
# installed source for each kernel (scripts/dkms-build.sh); here: what it
# made, and dkms install/remove on a copy of its tree.
O=build/dkms-test
K61=${KERNEL61_ABI:+$KERNEL61_ABI-$KERNEL_FLAVOUR}
check "dkms: built for the test bed kernel $KERNEL_ABI-$KERNEL_FLAVOUR" \
	grep -qx "$KERNEL_ABI-$KERNEL_FLAVOUR" "$O/kernels"
if [ -n "$K61" ]; then
	check "dkms: built for Debian's 6.1 ($K61, named in versions.env)" grep -qx "$K61" "$O/kernels"
fi
for kver in $(cat "$O/kernels" 2>/dev/null); do
	k=$O/$kver
	if [ "$(cat "$k/rc")" = 0 ]; then
		pass "dkms build for $kver succeeded ($(cat "$k/seconds") s)"
	else
		fail "dkms build for $kver failed ($(cat "$k/rc")): $(tail -n 5 "$k/build.log" | tr '\n' ' ') $(tail -n 8 "$k"/tree/vfio-pci-bpf/"$V"/build/make.log 2>/dev/null | tr '\n' ' ')"
		continue
	fi
	ko=$k/tree/vfio-pci-bpf/$V/$kver/x86_64/module/vfio_pci_bpf.ko
	check "dkms $kver: vermagic is $kver" \
		test "$(modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)" = "$kver"
	check "dkms $kver: the module has a .BTF section" sh -c "readelf -S '$ko' | grep -q ' \\.BTF '"
	check "dkms $kver: modinfo version $V" test "$(modinfo -F version "$ko" 2>/dev/null)" = "$V"
	check "dkms $kver: built from the installed source (make install's dkms.conf)" \
		cmp "$k/tree/vfio-pci-bpf/$V/source/dkms.conf" "$O/destdir/usr/src/vfio-pci-bpf-$V/dkms.conf"
	check "dkms $kver: mktarball --binaries-only packed it" \
		sh -c "tar -tzf '$k/vfio-pci-bpf-$V-$kver.dkms.tar.gz' | grep -q 'dkms_main_tree/$kver/x86_64/module/vfio_pci_bpf.ko'"
	T=$W/dkms-$kver
	mkdir -p "$T/inst/$kver"
	cp -a "$k/tree" "$T/tree"
	dk() { sign_file=/nonexistent dkms "$@" -m vfio-pci-bpf -v "$V" -k "$kver" \
		--dkmstree "$T/tree" --sourcetree "$TOP/$O/destdir/usr/src" --installtree "$T/inst" \
		--kernelsourcedir "$(sed -n "s|^$kver=||p" "$O/kdirs" 2>/dev/null || true)" --no-depmod; }
	dk status >"$T/status.built" 2>&1
	check "dkms $kver: dkms status says built" \
		grep -q "vfio-pci-bpf/$V, $kver, x86_64: built" "$T/status.built"
	dk install >"$T/install.log" 2>&1
	check "dkms $kver: dkms install puts it in updates/dkms/ of the install tree" \
		cmp "$ko" "$T/inst/$kver/updates/dkms/vfio_pci_bpf.ko"
	dk status >"$T/status.installed" 2>&1
	check "dkms $kver: dkms status says installed" \
		grep -q "vfio-pci-bpf/$V, $kver, x86_64: installed" "$T/status.installed"
	dk remove >"$T/remove.log" 2>&1
	dk status >"$T/status.removed" 2>&1
	check "dkms $kver: dkms remove takes it out again" \
		sh -c "[ ! -e '$T/inst/$kver/updates/dkms/vfio_pci_bpf.ko' ] && ! grep -q vfio-pci-bpf '$T/status.removed'"
done
check "dkms: /var/lib/dkms untouched (empty)" test -z "$(ls -A /var/lib/dkms 2>/dev/null)"

# --- the Debian packages (make debs) ---------------------------------------

DEB=build/deb/vfio-bpf_${V}_amd64.deb
DKMSDEB=build/deb/vfio-bpf-dkms_${V}_all.deb
check "debs: $DEB and $DKMSDEB were built" test -s "$DEB" -a -s "$DKMSDEB"
check "debs: nothing was written beside the tree (no ../*.deb)" \
	sh -c "! ls '$TOP'/../vfio-bpf*.deb '$TOP'/../vfio-bpf*.changes >/dev/null 2>&1"
contents() {	# contents DEB: its files, as installed paths with modes
	dpkg-deb -c "$1" | awk '$1 !~ /^d/ {
		m = 0; p = substr($1, 2)
		for (i = 0; i < 9; i++) if (substr(p, i + 1, 1) != "-") m += 2 ^ (8 - i)
		f = $6; sub(/^\./, "", f); printf "%s %o\n", f, m }' | sort
}
contents "$DEB" >"$W/deb.contents"
contents "$DKMSDEB" >"$W/dkmsdeb.contents"
# The package holds make install PREFIX=/usr's list, man pages compressed,
# units and rule in /lib (debian/rules), less the module source (the -dkms
# package) and the manifest, plus docs.
{
	grep -v "^/usr/src/\|/install.manifest " "$W/expected_usr" |
		sed -e 's|^\(/usr/share/man/.*\) 644$|\1.gz 644|' \
		    -e 's|^/usr/lib/systemd/|/lib/systemd/|' -e 's|^/usr/lib/udev/|/lib/udev/|'
	echo "/usr/share/doc/vfio-bpf/changelog.gz 644"
	echo "/usr/share/doc/vfio-bpf/copyright 644"
} | sort >"$W/deb.expected"
check "debs: vfio-bpf holds exactly the expected $(wc -l <"$W/deb.expected") files" \
	same "$W/deb.expected" "$W/deb.contents"
{
	grep "^/usr/src/" "$W/expected_usr"
	echo "/usr/share/doc/vfio-bpf-dkms/changelog.gz 644"
	echo "/usr/share/doc/vfio-bpf-dkms/copyright 644"
} | sort >"$W/dkmsdeb.expected"
check "debs: vfio-bpf-dkms holds exactly the module source and dkms.conf ($(wc -l <"$W/dkmsdeb.expected") files)" \
	same "$W/dkmsdeb.expected" "$W/dkmsdeb.contents"
field() { dpkg-deb -f "$1" "$2"; }
check "debs: both at version $V" test "$(field "$DEB" Version) $(field "$DKMSDEB" Version)" = "$V $V"
check "debs: vfio-bpf depends on the libraries it links (shlibs)" \
	sh -c "dpkg-deb -f '$DEB' Depends | grep -q libbpf1 && dpkg-deb -f '$DEB' Depends | grep -q libyaml && dpkg-deb -f '$DEB' Depends | grep -q libmicrohttpd"
check "debs: vfio-bpf-dkms depends on dkms" sh -c "dpkg-deb -f '$DKMSDEB' Depends | grep -q '^dkms'"
dpkg-deb -e "$DKMSDEB" "$W/dkmsdeb.control"
check "debs: vfio-bpf-dkms's postinst hands vfio-pci-bpf $V to dkms (dh_dkms)" \
	sh -c "grep -q '^DKMS_NAME=vfio-pci-bpf' '$W/dkmsdeb.control/postinst' && grep -q '^DKMS_VERSION=$V' '$W/dkmsdeb.control/postinst' && grep -q common.postinst '$W/dkmsdeb.control/postinst'"
# dh_installsystemd --no-enable: an enable only for a unit the operator
# had enabled before (an upgrade), and deb-systemd-invoke starts only
# enabled units.
dpkg-deb -e "$DEB" "$W/deb.control"
check "debs: vfio-bpf's postinst enables no service on a new install (the operator does)" \
	sh -c "! grep -qs 'deb-systemd-helper enable' '$W/deb.control/postinst' || grep -q 'deb-systemd-helper debian-installed' '$W/deb.control/postinst'"
check "debs: vfio-bpf-dkms's prerm removes it from dkms" \
	grep -q 'dkms remove -m $DKMS_NAME -v $DKMS_VERSION --all' "$W/dkmsdeb.control/prerm"
dpkg-deb -x "$DEB" "$W/deb.x"
check "debs: the packaged vfio-bpf runs (--version)" \
	sh -c "'$W/deb.x/usr/sbin/vfio-bpf' --version | grep -qx 'vfio-bpf $V'"
check "debs: the packaged binaries are hardened (BIND_NOW, RELRO)" \
	sh -c "readelf -d '$W/deb.x/usr/sbin/vfio-bpf' | grep -q BIND_NOW && readelf -lW '$W/deb.x/usr/sbin/vfio-bpf' | grep -q GNU_RELRO"
