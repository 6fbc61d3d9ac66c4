#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The module built against Debian bookworm's 6.1 headers (make kmod-6.1),
# checked on the build machine: for that kernel, with BTF on 6.1's own
# base BTF, every symbol it needs exported by 6.1, and built without what
# 6.1 lacks (struct_ops hooks, migration).  Nothing is loaded here.
# usage: t-k61-build.sh RESULTS-FILE
set -u

r=$1
TOP=${TOP:?}
cd "$TOP"
. ./versions.env
KVER=$KERNEL61_ABI-$KERNEL_FLAVOUR
KO=build/kmod-$KVER/vfio_pci_bpf.ko
KC=.cache/kernel-$(printf %s "$KERNEL61_DEB_VERSION" | tr '~' _)
HDR=$KC/usr/src/linux-headers-$KVER

. "$TOP/tests/host/lib.sh"

check "k61: $KO built" test -s "$KO"
vm=$(modinfo -F vermagic "$KO" 2>/dev/null | cut -d' ' -f1)
check "k61: vermagic is bookworm's 6.1 ($KVER: $vm)" test "$vm" = "$KVER"
check "k61: the module carries BTF (.BTF section)" sh -c "readelf -S $KO | grep -q '\\.BTF'"
check "k61: the headers' vmlinux is 6.1's base BTF (from its image)" test -s "$HDR/vmlinux"
n=$(bpftool btf dump file "$KO" --base-btf "$HDR/vmlinux" 2>/dev/null |
	grep -c "TYPEDEF 'btf_trace_vfio_pci_bpf_")
check "k61: its split BTF on 6.1's vmlinux has the 16 tracepoints' types ($n)" test "$n" -eq 16
# Every symbol the module takes from the kernel, vfio and vfio_pci_core is
# one 6.1 exports (Module.symvers holds vmlinux's and its modules').
und=$(nm -u "$KO" | awk '{ print $2 }' | grep -v '^__this_module$' | sort -u)
missing=$(printf '%s\n' "$und" | awk 'NR == FNR { have[$2] = 1; next } !($1 in have)' \
	"$HDR/Module.symvers" - | tr '\n' ' ')
check "k61: every symbol it imports is exported by 6.1 (${missing:-all})" test -z "$missing"
check "k61: depends on vfio-pci-core and vfio only" \
	test "$(modinfo -F depends "$KO")" = "vfio-pci-core,vfio"
check "k61: no struct_ops (register_bpf_struct_ops is 6.9)" \
	sh -c "! nm '$KO' | grep -q 'register_bpf_struct_ops\|vfio_pci_bpf_struct_ops'"
check "k61: no migration (lm.c needs 6.3), which the 6.12 build has" \
	sh -c "! nm '$KO' | grep -q ' vfio_pci_bpf_lm_init\$' && nm kmod/vfio_pci_bpf.ko | grep -q ' vfio_pci_bpf_lm_init\$'"
check "k61: the tracepoints are built (16 __tracepoint_vfio_pci_bpf_*)" \
	test "$(nm "$KO" | grep -c ' __tracepoint_vfio_pci_bpf_')" -eq 16
# The newest kernel Debian packages for bookworm: when it is the default
# guest kernel, the default build (t-host.sh) is the one for it.
check "newest Debian kernel ($KERNEL_NEWEST_DEB_VERSION) is the default guest kernel, built as kmod/" \
	test "$KERNEL_NEWEST_DEB_VERSION" = "$KERNEL_DEB_VERSION"
hits=$(git grep -n -F -e "$KERNEL61_DEB_VERSION" -e "$KERNEL61_ABI" -- ':!versions.env' ':!*.md' 2>/dev/null)
check "k61: the 6.1 version is pinned in versions.env only" test -z "$hits"
# Each build its own .mod.c: one vermagic in each (a .mod.c linked into
# the 6.1 build directory once gave the 6.12 module both).
check "k61: one vermagic in the 6.1 build and one in the 6.12 build" \
	test "$(modinfo -F vermagic "$KO" | wc -l)$(modinfo -F vermagic kmod/vfio_pci_bpf.ko | wc -l)" = 11
