#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages (make debs) installed and removed with dpkg in the
# guest, whose root is an overlay with a tmpfs upper layer over the host's:
# dpkg's database and everything it writes are thrown away at power-off.
#
# The guest has no headers for its kernel (like a host without the
# linux-headers package), so vfio-bpf-dkms's postinst registers the source
# with dkms and builds nothing: a build in this TCG guest takes minutes, and
# the same dkms build runs on the build machine (make dkms-build, the
# install group).  That build comes in as dkms's binaries-only tarball
# (dkms ldtarball); `dkms install` then puts it into the guest kernel's
# /lib/modules/KVER/updates/dkms/ and runs depmod, modprobe loads it from
# there and binds edu0 to it.  dpkg -r runs the prerm (dkms remove), dpkg -P
# the purge; afterwards nothing of ours is left but an operator's
# policy.yaml.  The whole transcript is in /out/transcript.txt.

. "$(dirname "$0")/lib.sh"

V=$(sed -n 's/^VFIO_BPF_VERSION=//p' "$TOP/versions.env")
KVER=$(uname -r)
DEB=$BUILD/deb/vfio-bpf_${V}_amd64.deb
DKMSDEB=$BUILD/deb/vfio-bpf-dkms_${V}_all.deb
TARBALL=$BUILD/dkms-test/$KVER/vfio-pci-bpf-$V-$KVER.dkms.tar.gz
DKODIR=/lib/modules/$KVER/updates/dkms
T=$OUT/transcript.txt
: >"$T"

# run CMD...: into the transcript, with its status.
run() {
	echo "# $*" >>"$T"
	_t0=$(cut -d' ' -f1 /proc/uptime)
	"$@" >>"$T" 2>&1
	_rc=$?
	echo "# exit $_rc ($(awk -v a="$_t0" '{ printf "%.1f", $1 - a }' /proc/uptime) s)" >>"$T"
	return $_rc
}

check "the .debs and the dkms tarball are there (make debs dkms-build)" \
	test -s "$DEB" -a -s "$DKMSDEB" -a -s "$TARBALL"
check "before: neither package is installed" sh -c '! dpkg -s vfio-bpf >/dev/null 2>&1 && ! dpkg -s vfio-bpf-dkms >/dev/null 2>&1'
check "before: no headers for $KVER in the guest (/lib/modules/$KVER/build)" test ! -e "/lib/modules/$KVER/build"
# man-db's trigger would rebuild the whole index in this TCG guest.
rm -f /var/lib/man-db/auto-update
# As an unattended install runs (no terminal: debconf would try three
# front ends first).
export DEBIAN_FRONTEND=noninteractive
# dkms uses bash's <(...), which needs /dev/fd; udev makes it on a real
# host, the guest's bare devtmpfs has none.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
# dkms install and remove run depmod -a, which decompresses every one of
# the kernel's few thousand modules: minutes in this TCG guest.  The
# guest's module tree is therefore cut down to the VFIO stack (what
# modprobe vfio-pci and vfio_iommu_type1 load), in a copy over
# /lib/modules/KVER; dkms and depmod run on it unchanged.
M=/lib/modules/$KVER
small=$(mktemp -d)
cp "$M"/modules.order "$M"/modules.builtin "$M"/modules.builtin.modinfo "$small"/
for m in vfio-pci vfio_iommu_type1; do
	modprobe --show-depends "$m" | sed -n "s|^insmod $M/||p" | sed 's/ .*//'
done | sort -u | while read -r f; do
	mkdir -p "$small/$(dirname "$f")"
	cp "$M/$f" "$small/$f"
done
mount --bind "$small" "$M"
t0=$(date +%s)
depmod -a
check "the cut-down module tree: $(find "$M" -name '*.ko*' | wc -l) modules, depmod -a in $(( $(date +%s) - t0 )) s" \
	sh -c "modinfo -n vfio_pci_core | grep -q '^$M/'"

run dpkg -i "$DEB" "$DKMSDEB"
check "dpkg -i vfio-bpf vfio-bpf-dkms succeeds" test $_rc -eq 0
st=$(dpkg-query -W -f='${Package} ${Status} ${Version};' vfio-bpf vfio-bpf-dkms 2>&1)
check "dpkg: both installed at $V ($st)" \
	test "$st" = "vfio-bpf install ok installed $V;vfio-bpf-dkms install ok installed $V;"
for f in /usr/sbin/vfio-bpf /usr/sbin/vfio-trace /usr/sbin/vfio_exporter; do
	check "installed: $f (755)" test "$(stat -c %a "$f" 2>/dev/null)" = 755
done
for f in /etc/vfio-bpf/policy.example.yaml /lib/udev/rules.d/90-vfio-bpf.rules \
	/usr/src/vfio-pci-bpf-$V/dkms.conf /usr/src/vfio-pci-bpf-$V/kmod/main.c; do
	check "installed: $f" test -f "$f"
done
for f in /lib/systemd/system/vfio-bpf.service /lib/systemd/system/vfio_exporter.service \
	/usr/share/man/man8/vfio-bpf.8.gz /usr/share/man/man5/vfio-bpf-policy.5.gz \
	/usr/share/man/man4/vfio_pci_bpf.4.gz; do
	check "installed: $f" test -f "$f"
done
check "the unit runs the packaged vfio-bpf" grep -q '^ExecStart.*=/usr/sbin/vfio-bpf ' /lib/systemd/system/vfio-bpf.service
check "no service was enabled by the package (the operator does, after writing policy.yaml)" \
	sh -c '! ls /etc/systemd/system/*.wants/vfio* 2>/dev/null'
check "every file dpkg lists for vfio-bpf is there" \
	sh -c 'dpkg -L vfio-bpf | while read -r f; do [ -e "$f" ] || { echo "missing $f"; exit 1; }; done'
check "no /etc/vfio-bpf/policy.yaml was made for the operator" test ! -e /etc/vfio-bpf/policy.yaml
run /usr/sbin/vfio-bpf --help
check "/usr/sbin/vfio-bpf --help runs" test $_rc -eq 0
check "/usr/sbin/vfio-bpf --version is $V" sh -c "/usr/sbin/vfio-bpf --version | grep -qx 'vfio-bpf $V'"
check "/usr/sbin/vfio_exporter --version is $V" sh -c "/usr/sbin/vfio_exporter --version | grep -qx 'vfio_exporter $V'"
run /usr/sbin/vfio-bpf policy check /etc/vfio-bpf/policy.example.yaml
check "/usr/sbin/vfio-bpf policy check /etc/vfio-bpf/policy.example.yaml" test $_rc -eq 0

# The postinst handed the source to dkms and skipped the build (no headers).
# (Each dkms run costs seconds of TCG: its tree is read directly here.)
check "postinst: dkms has vfio-pci-bpf/$V added, not built (no headers)" \
	sh -c "[ -d /var/lib/dkms/vfio-pci-bpf/$V ] && [ ! -e /var/lib/dkms/vfio-pci-bpf/$V/$KVER ]"
check "postinst: it said why it built nothing" grep -q "headers for this kernel do not seem to be installed" "$T"
check "postinst: dkms's source link is the package's /usr/src/vfio-pci-bpf-$V" \
	test "$(readlink -f /var/lib/dkms/vfio-pci-bpf/$V/source)" = "/usr/src/vfio-pci-bpf-$V"

# The build machine's dkms build of the same source for this kernel.
# ldtarball copies the built module in, then tries to add the source
# again and says it already is (exit 3): dkms's status is the verdict.
run dkms ldtarball --force "$TARBALL"
check "dkms ldtarball: the build machine's build of $V for $KVER is in dkms's tree" \
	test -f "/var/lib/dkms/vfio-pci-bpf/$V/$KVER/x86_64/module/vfio_pci_bpf.ko"
run dkms install -m vfio-pci-bpf -v "$V" -k "$KVER"
check "dkms install for $KVER" test $_rc -eq 0
run dkms status
check "dkms status: vfio-pci-bpf/$V, $KVER: installed" \
	grep -q "^vfio-pci-bpf/$V, $KVER, x86_64: installed" "$T"
# .ko as built, or .ko.xz when dkms compresses like the kernel's own.
DKO=$(ls "$DKODIR"/vfio_pci_bpf.ko* 2>/dev/null | head -n 1)
check "the module is in $DKODIR/ (${DKO##*/})" test -f "$DKO"
check "depmod ran: modprobe finds it there (modinfo -n)" test "$(modinfo -n vfio_pci_bpf 2>/dev/null)" = "$DKO"
run modprobe vfio_pci_bpf
check "modprobe vfio_pci_bpf (and with it Debian's vfio-pci-core)" \
	sh -c "grep -q '^vfio_pci_bpf ' /proc/modules && grep -q '^vfio_pci_core ' /proc/modules"
modprobe vfio_iommu_type1
check "the loaded module is the dkms one (srcversion)" \
	test "$(cat /sys/module/vfio_pci_bpf/srcversion 2>/dev/null)" = "$(modinfo -F srcversion "$DKO")"
check "the loaded module is version $V" test "$(cat /sys/module/vfio_pci_bpf/version 2>/dev/null)" = "$V"
check "edu0: bind to vfio-pci-bpf" bind "$EDU0" vfio-pci-bpf
client dkms/edu0 "$EDU0" info config bar >/dev/null
check "edu0 computes factorial(10) through the dkms module" \
	grep -q '^PASS: bar: factorial(10)' "$OUT/dkms/edu0.txt"
/usr/sbin/vfio-bpf status >"$OUT/status.txt" 2>&1
{ echo "# /usr/sbin/vfio-bpf status"; cat "$OUT/status.txt"; } >>"$T"
check "/usr/sbin/vfio-bpf status names edu0" grep -q "$EDU0" "$OUT/status.txt"
unbind "$EDU0"
echo "" >"/sys/bus/pci/devices/$EDU0/driver_override"
run rmmod vfio_pci_bpf
check "rmmod vfio_pci_bpf" test $_rc -eq 0

# An operator's policy, which no removal may take.
echo "# the operator's" >/etc/vfio-bpf/policy.yaml
run dpkg -r vfio-bpf-dkms vfio-bpf
check "dpkg -r vfio-bpf-dkms vfio-bpf succeeds" test $_rc -eq 0
check "prerm: dkms remove took the module out of $DKODIR" sh -c "! ls '$DKODIR'/vfio_pci_bpf.ko* 2>/dev/null"
check "prerm: dkms no longer knows vfio-pci-bpf (/var/lib/dkms/vfio-pci-bpf gone)" test ! -e /var/lib/dkms/vfio-pci-bpf
check "dpkg -r: /usr/src/vfio-pci-bpf-$V is gone" test ! -e "/usr/src/vfio-pci-bpf-$V"
check "depmod after removal: modprobe no longer finds vfio_pci_bpf" sh -c '! modinfo -n vfio_pci_bpf >/dev/null 2>&1'
check "dpkg -r: the tools are gone" sh -c '! ls /usr/sbin/vfio-bpf /usr/sbin/vfio-trace /usr/sbin/vfio_exporter 2>/dev/null'
check "dpkg -r: the example policies stay until purge (conffiles)" test -f /etc/vfio-bpf/policy.example.yaml
run dpkg -P vfio-bpf vfio-bpf-dkms
check "dpkg -P vfio-bpf vfio-bpf-dkms succeeds" test $_rc -eq 0
check "purged: the example policies are gone" sh -c '! ls /etc/vfio-bpf/*example* /etc/vfio-bpf/policy-*.yaml 2>/dev/null'
check "purged: the operator's policy.yaml is still there" grep -qx "# the operator's" /etc/vfio-bpf/policy.yaml
check "purged: dpkg knows neither package" \
	sh -c '! dpkg -s vfio-bpf >/dev/null 2>&1 && ! dpkg -s vfio-bpf-dkms >/dev/null 2>&1'
check "purged: the udev rule and the module source are gone" \
	sh -c "[ ! -e /lib/udev/rules.d/90-vfio-bpf.rules ] && [ ! -e /usr/src/vfio-pci-bpf-$V ]"
check "purged: the units and man pages are gone" \
	sh -c '! ls /lib/systemd/system/vfio* /usr/share/man/man8/vfio* 2>/dev/null'
umount "$M"
