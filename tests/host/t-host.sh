#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Checks that run on the build machine: nothing here loads a module or a
# BPF program.  usage: t-host.sh RESULTS-FILE
set -u

r=$1
TOP=${TOP:?}
cd "$TOP"
. ./versions.env
KO=kmod/vfio_pci_bpf.ko
CLIENT=build/vfio-client

. "$TOP/tests/host/lib.sh"

# --- the module ---------------------------------------------------------

if [ -r "${CHECKPATCH:-}" ]; then
	check "kmod: checkpatch --strict clean (make checkpatch)" \
		make -s checkpatch CHECKPATCH="$CHECKPATCH"
else
	fail "kmod: checkpatch.pl not found at '${CHECKPATCH:-}' (run make deps)"
fi

check "kmod: vfio_pci_bpf.ko built" test -s "$KO"
check "kmod: module carries BTF (.BTF section)" sh -c "readelf -S $KO | grep -q '\\.BTF'"
vm=$(modinfo -F vermagic "$KO" 2>/dev/null | cut -d' ' -f1)
check "kmod: vermagic is the guest kernel ($KERNEL_ABI-$KERNEL_FLAVOUR)" \
	test "$vm" = "$KERNEL_ABI-$KERNEL_FLAVOUR"
check "kmod: binds only through driver_override (vfio_pci: alias)" \
	sh -c "modinfo -F alias $KO | grep -q '^vfio_pci:v\\*d\\*'"
check "kmod: depends on vfio-pci-core only" \
	test "$(modinfo -F depends "$KO")" = "vfio-pci-core,vfio"
check "kmod: module parameter enable_sriov documented" \
	sh -c "modinfo -F parm $KO | grep -q '^enable_sriov:'"

# --- the VFIO client's error handling -----------------------------------

out=$($CLIENT 0000:7f:1f.7 2>&1); rc=$?
check "client: unknown device exits 2" test $rc -eq 2
contains() { printf '%s' "$1" | grep -q -e "$2"; }
check "client: unknown device is named in the error" \
	contains "$out" '0000:7f:1f.7: no such PCI device'

out=$($CLIENT 0000:00:00.0 frobnicate 2>&1); rc=$?
check "client: unknown check exits 2" test $rc -eq 2
check "client: unknown check is named" contains "$out" "unknown check 'frobnicate'"
check "client: --help ends with EXAMPLES" \
	sh -c "$CLIENT --help | grep -A3 '^EXAMPLES' | grep -q vfio-client"

# --- vfio_exporter's arguments (nothing loaded: it stops before) --------

EXPORTER=build/vfio_exporter
has() { printf '%s' "$1" | grep -qF -e "$2"; }
check "exporter: --help ends with EXAMPLES" \
	sh -c "$EXPORTER --help | sed -n '/^EXAMPLES/,\$p' | tail -n 1 | grep -q 'vfio_exporter\\|curl'"
check "exporter: --help names the default address" \
	sh -c "$EXPORTER --help | grep -q '127.0.0.1:9466'"
for l in 127.0.0.1 127.0.0.1:0 127.0.0.1:65536 localhost:9466 1.2.3:9466 '[::1:9466' '::1:9466' 127.0.0.1:94x6; do
	out=$($EXPORTER -l "$l" 2>&1); rc=$?
	check "exporter: bad -l '$l' exits 2 ($rc)" test $rc -eq 2
	check "exporter: bad -l '$l' is named" has "$out" "'$l' is not ADDR:PORT"
done
for o in '--max-connections 1' '--max-per-client 0' '--idle-timeout x' '--max-connections 5000'; do
	out=$($EXPORTER $o 2>&1); rc=$?
	check "exporter: bad $o exits 2 ($rc)" test $rc -eq 2
	check "exporter: bad $o is named" has "$out" "'${o#* }' is not a number"
done
check "exporter: --help names the connection limits" \
	sh -c "$EXPORTER --help | grep -q -- '--max-per-client' && $EXPORTER --help | grep -q -- '--idle-timeout'"
out=$($EXPORTER stray 2>&1); rc=$?
check "exporter: a stray argument exits 2 ($rc)" test $rc -eq 2
# Formatting, sysfs reading and -l parsing, from the exporter's own source.
if [ -x build/exporter-unit ]; then
	build/exporter-unit >build/exporter-unit.out 2>&1; rc=$?
	sed -n 's/^\(PASS\|FAIL\): /\1: exporter unit: /p' build/exporter-unit.out | tee -a "$r"
	if [ $rc -ne 0 ] && ! grep -q '^FAIL' build/exporter-unit.out; then
		fail "exporter unit: exited $rc without a verdict"
	fi
else
	fail "exporter unit: build/exporter-unit not built (make host-tests)"
fi

# --- the repository -------------------------------------------------------

# Versions live in versions.env only.
hits=$(git grep -n -F "$KERNEL_DEB_VERSION" -- ':!versions.env' ':!*.md' 2>/dev/null)
check "versions: the kernel version is pinned in versions.env only" test -z "$hits"
for f in tests/vm/run tests/vm/guest-init scripts/deps.sh tests/run-tests \
	tests/vm/*.sh tests/host/*.sh .ci/run; do
	check "shell syntax: $f" sh -n "$f"
done

# --- unit tests (user space only) --------------------------------------------

if [ -x build/test-policy ]; then
	build/test-policy | sed -n 's/^\(PASS\|FAIL\): /\1: policy compiler: /p' | tee -a "$r"
else
	fail "unit tests: build/test-policy not built (make unit-tests)"
fi
if [ -x build/test-lib ]; then
	build/test-lib | sed -n 's/^\(PASS\|FAIL\): /\1: libvfiobpf: /p' | tee -a "$r"
else
	fail "unit tests: build/test-lib not built (make unit-tests)"
fi
if [ -x build/test-pins ]; then
	build/test-pins | sed -n 's/^\(PASS\|FAIL\): /\1: pin tree: /p' | tee -a "$r"
else
	fail "unit tests: build/test-pins not built (make unit-tests)"
fi

# --- the policy compiler under libFuzzer (make fuzz, briefly) -----------------

# A short run from the committed seeds: any crash, leak or undefined
# behaviour fails it, and so does a fuzzer that executed nothing.
FUZZ=build/fuzz-policy
if [ -x "$FUZZ" ]; then
	fz=build/fuzz-smoke
	rm -rf "$fz"; mkdir -p "$fz/corpus"
	"$FUZZ" -max_total_time="${FUZZ_SMOKE_TIME:-15}" -timeout=10 -print_final_stats=1 \
		-dict=tests/fuzz/policy.dict -artifact_prefix="$fz/" \
		"$fz/corpus" tests/fuzz/corpus >"$fz/log" 2>&1; rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$fz/log")
	crash=$(ls "$fz" | grep -E '^(crash|leak|timeout|oom)-' | head -n 1)
	check "fuzz: policy compiler survives ${FUZZ_SMOKE_TIME:-15} s of libFuzzer (exit $rc${crash:+, $crash})" \
		sh -c "test $rc -eq 0 && test -z '$crash' || { grep -m 3 -E 'ERROR|SUMMARY|broken promise' '$fz/log'; false; }"
	check "fuzz: the fuzzer really ran (${execs:-no} execs)" test "${execs:-0}" -gt 0
else
	fail "fuzz: $FUZZ not built (make host-tests)"
fi

# --- the tools' command lines ---------------------------------------------------

for t in vfio-trace vfio-bpf; do
	check "$t: --help ends with EXAMPLES" sh -c "build/$t --help | grep -A2 '^EXAMPLES' | grep -q '$t'"
done
build/vfio-trace -e nosuch >/dev/null 2>&1; rc=$?
check "vfio-trace: an unknown event exits 2" test $rc -eq 2
for sz in 1000 3K 0 2G 16Q; do
	msg=$(build/vfio-trace -b "$sz" 2>&1 >/dev/null); rc=$?
	case $msg in *"must be a power of two"*) said=1 ;; *) said=0 ;; esac
	check "vfio-trace: ring buffer size '$sz' refused (exit $rc, says why)" \
		test "$rc" -eq 2 -a "$said" -eq 1
done
for b in 0:04.0 00:04.0x 0000:00:20.0 0x00:00:04.0; do
	build/vfio-trace -d "$b" >/dev/null 2>&1; rc=$?
	check "vfio-trace: a malformed BDF '$b' exits 2 ($rc)" test $rc -eq 2
done
# lspci's short form, as vfio-trace prints it, is a device: past the
# arguments, it stops for want of BTF or the module (1), not usage (2).
build/vfio-trace -d 00:04.0 -D 1 >/dev/null 2>&1; rc=$?
check "vfio-trace: -d 00:04.0 (the printed form) is accepted ($rc)" test $rc -ne 2
build/vfio-trace -s -T >/dev/null 2>&1; rc=$?
check "vfio-trace: -T without -i exits 2 ($rc)" test $rc -eq 2
build/vfio-bpf -d 00:4.0 status >/dev/null 2>&1; rc=$?
check "vfio-bpf: a malformed -d exits 2 ($rc)" test $rc -eq 2
build/vfio-bpf frob >/dev/null 2>&1; rc=$?
check "vfio-bpf: an unknown command exits 2" test $rc -eq 2

# --- the operator's guide names every message ---------------------------------

# Each error and warning the tools can print has a line saying what to do
# (docs/operations.md, docs/policy.md).  The list is taken from the code,
# so a new message without its line fails here.
msgs=$(python3 scripts/messages.py list | wc -l)
check "docs: the message catalogue found the tools' messages ($msgs)" test "$msgs" -ge 100
check "docs: every message of the tools is in docs/operations.md or docs/policy.md" \
	python3 scripts/messages.py check docs/operations.md docs/policy.md
: >build/empty.md
python3 scripts/messages.py check build/empty.md >/dev/null 2>&1; rc=$?
check "docs: the catalogue check fails against a guide without them ($rc)" test $rc -eq 1
