#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Debian bookworm's own kernel (6.1, KERNEL61_* in versions.env), booted
# with VM_KERNEL=6.1: the module built against its headers loads on its
# stock vfio-pci-core, behaves as vfio-pci does for a VFIO user (parity),
# traces (tracefs, with the fields), counts (vfio-bpf load, and load
# --stock for a device on stock vfio-pci, read back through the exporter),
# and, since 6.1 has no struct_ops for modules, says it cannot enforce and
# refuses policies and require_policy; no device advertises migration.

. "$(dirname "$0")/lib.sh"
. "$TOP/versions.env"

VB=$BUILD/vfio-bpf
EXP=$BUILD/vfio_exporter
URL=http://127.0.0.1:9466
T=/sys/kernel/tracing
DRV=/sys/bus/pci/drivers/vfio-pci-bpf
NO_HOOKS="this kernel (6.1) has no struct_ops for modules: vfio-pci-bpf observes but cannot enforce; policies need 6.9 or later"

has() { check "$1" grep -q -e "$3" "$2"; }

check "kernel: the guest runs bookworm's $KERNEL61_ABI-$KERNEL_FLAVOUR ($(uname -r))" \
	test "$(uname -r)" = "$KERNEL61_ABI-$KERNEL_FLAVOUR"
check "module: the 6.1 build is the one lib.sh loads" \
	test "$KMOD" = "$BUILD/kmod-$(uname -r)/vfio_pci_bpf.ko"
check "modules: stock vfio-pci-core, vfio-pci and vfio_pci_bpf load" load_modules
check "module: BTF in /sys/kernel/btf/vfio_pci_bpf" test -s /sys/kernel/btf/vfio_pci_bpf
check "module: says once at load that it observes but cannot enforce" \
	test "$(dmesg | grep -cF "vfio_pci_bpf: $NO_HOOKS")" -eq 1
check "module: driver file hooks is 'none'" test "$(cat $DRV/hooks)" = none
check "module: driver file core is 'stock'" test "$(cat $DRV/core)" = stock
if echo 1 >/sys/module/vfio_pci_bpf/parameters/require_policy 2>/dev/null; then
	fail "require_policy=1 accepted where nothing enforces"
else
	pass "require_policy=1 refused"
fi
check "require_policy stays N" test "$(cat /sys/module/vfio_pci_bpf/parameters/require_policy)" = N
check "... and the kernel log says why" sh -c "dmesg | grep -qF 'require_policy refused: $NO_HOOKS'"

# --- parity: the client's checks, on edu and on an igb VF ---------------------
for drv in vfio-pci vfio-pci-bpf; do
	check "edu0: bind to $drv" bind "$EDU0" "$drv"
	client "edu0/$drv" "$EDU0"
done
same_transcript "parity: edu0 identical under vfio-pci and vfio-pci-bpf" \
	edu0/vfio-pci edu0/vfio-pci-bpf

check "igb: modprobe" modprobe igb
echo 0 >"/sys/bus/pci/devices/$IGB/sriov_drivers_autoprobe"
check "igb: create 1 VF" sh -c "echo 1 >/sys/bus/pci/devices/$IGB/sriov_numvfs"
vf0=$(basename "$(readlink "/sys/bus/pci/devices/$IGB/virtfn0")")
for drv in vfio-pci vfio-pci-bpf; do
	check "vf0: bind to $drv" bind "$vf0" "$drv"
	client "vf0/$drv" "$vf0" info config bar mmap reset
done
same_transcript "parity: igb VF identical under vfio-pci and vfio-pci-bpf" \
	vf0/vfio-pci vf0/vfio-pci-bpf
unbind "$vf0"
echo 0 >"/sys/bus/pci/devices/$IGB/sriov_numvfs"

# --- tracepoints: a known sequence, through tracefs -------------------------
check "edu0 bound to vfio-pci-bpf" bind "$EDU0" vfio-pci-bpf
check "tracefs lists the vfio_pci_bpf system" test -d $T/events/vfio_pci_bpf
n=$(ls -d $T/events/vfio_pci_bpf/vfio_pci_bpf_* | wc -l)
check "16 events in the system ($n)" test "$n" -eq 16
SEQ="cfg-read:0x0:2 cfg-write:0x3c:1:0x5a bar-read:0x0 bar-write:0x4:0x0 msi-on msi-off do-reset bar-mmap"
echo 0 >$T/tracing_on
echo >$T/trace
echo 1 >$T/events/vfio_pci_bpf/enable
echo 1 >$T/tracing_on
# shellcheck disable=SC2086
"$CLIENT" "$EDU0" $SEQ >"$OUT/seq.txt" 2>&1 &
pid=$!
wait $pid
echo 0 >$T/tracing_on
cat $T/trace >"$OUT/trace.txt"
echo 0 >$T/events/vfio_pci_bpf/enable
tr=$OUT/trace.txt
for ev in open:1 close:1 reset:1 config_read:3 config_write:1 bar_read:1 bar_write:1 \
	mmap:1 set_irqs:2 irq_vector:2 mig_transition:0 mig_data:0; do
	e=${ev%:*} want=${ev#*:}
	got=$(grep -c "vfio_pci_bpf_$e:" "$tr")
	check "tracefs: $e fired exactly $want times ($got)" test "$got" -eq "$want"
done
note "ioctl events: $(grep -c 'vfio_pci_bpf_ioctl:' "$tr") (18 on 6.12)"
has "open: bdf, pid, comm and ret" "$tr" "vfio_pci_bpf_open: 0000:00:04.0 pid=$pid comm=vfio-client ret=0"
has "config_read: the user's read, value and byte count" "$tr" \
	"vfio_pci_bpf_config_read: 0000:00:04.0 off=0x0 size=2 value=0x1234 ret=2"
has "config_write: value written and byte count" "$tr" \
	"vfio_pci_bpf_config_write: 0000:00:04.0 off=0x3c size=1 value=0x5a old=0x[0-9a-f]* new=0x[0-9a-f]* ret=1"
has "bar_read: bar, offset, size, value" "$tr" \
	"vfio_pci_bpf_bar_read: 0000:00:04.0 bar=0 off=0x0 size=4 value=0x10000ed ret=4"
has "set_irqs: MSI armed with an eventfd" "$tr" \
	"vfio_pci_bpf_set_irqs: 0000:00:04.0 index=MSI start=0 count=1 action=TRIGGER data=EVENTFD ret=0"
has "mmap: BAR0, whole length" "$tr" \
	"vfio_pci_bpf_mmap: 0000:00:04.0 index=0 off=0x0 len=0x100000 ret=0"
n=$(grep -c 'vfio_pci_bpf_op: 0000:00:04.0 slot=[0-9]* kind=3 ret=[0-9]* ns=0$' "$tr")
check "op: the 3 config reads, by kind, with their device and slot ($n)" test "$n" -eq 3

# --- counters: the exporter reads what the BPF counters counted -------------
exp_start() {	# exp_start NAME: vfio_exporter in the background, serving
	"$EXP" >"$OUT/$1.out" 2>"$OUT/$1.err" &
	EXP_PID=$!
	_i=0
	while ! grep -q 'serving' "$OUT/$1.err" 2>/dev/null && [ $_i -lt 300 ] &&
		kill -0 "$EXP_PID" 2>/dev/null; do
		sleep 0.1; _i=$((_i + 1))
	done
	grep -q 'serving' "$OUT/$1.err"
}
# counted NAME WHAT BDF OP=N...: a scrape's vfio_operations_total for BDF.
counted() {
	_n=$1 _what=$2 _bdf=$3; shift 3
	if ! curl -sf -o "$OUT/$_n.prom" "$URL/metrics"; then
		fail "$_what: scrape failed"
		return
	fi
	for _ov in "$@"; do
		_s="vfio_operations_total{bdf=\"$_bdf\",op=\"${_ov%=*}\"}"
		_got=$(awk -v s="$_s " 'index($0, s) == 1 { print substr($0, length(s) + 1) }' "$OUT/$_n.prom")
		check "$_what: ${_ov%=*} = ${_ov#*=} (${_got:-missing})" test "$_got" = "${_ov#*=}"
	done
}
reads=""
for i in 1 2 3 4 5 6 7 8 9 10; do reads="$reads cfg-read:0x0:4"; done

"$VB" load >"$OUT/load.txt" 2>&1
check "vfio-bpf load: the module's counters (tp_btf) load and pin on 6.1" \
	grep -qx 'counters loaded, pinned at /sys/fs/bpf/vfio-bpf/counters' "$OUT/load.txt"
# shellcheck disable=SC2086
"$CLIENT" "$EDU0" $reads >/dev/null 2>&1
if exp_start exp-module; then
	counted m1 "module counters, edu0: one open, 12 config reads" "$EDU0" \
		open=1 close=1 config_read=12 config_write=0
	kill -TERM "$EXP_PID"; wait "$EXP_PID"
else
	fail "vfio_exporter (module counters) did not serve: $(tail -c 300 "$OUT/exp-module.err")"
fi
check "vfio-bpf unload" sh -c "'$VB' unload | grep -qx 'counters unloaded'"
unbind "$EDU0"

check "edu1 bound to stock vfio-pci" bind "$EDU1" vfio-pci
"$VB" load --stock >"$OUT/load-stock.txt" 2>&1
check "vfio-bpf load --stock: fexit counters on 6.1's vfio_pci_core" \
	grep -qx 'stock-kernel counters loaded, pinned at /sys/fs/bpf/vfio-bpf/counters' \
	"$OUT/load-stock.txt"
# shellcheck disable=SC2086
"$CLIENT" "$EDU1" $reads >/dev/null 2>&1
if exp_start exp-stock; then
	counted s1 "stock counters, edu1 on vfio-pci: one open, 12 config reads" "$EDU1" \
		open=1 close=1 config_read=12 config_write=0
	kill -TERM "$EXP_PID"; wait "$EXP_PID"
else
	fail "vfio_exporter (stock counters) did not serve: $(tail -c 300 "$OUT/exp-stock.err")"
fi
check "vfio-bpf unload (stock)" sh -c "'$VB' unload | grep -qx 'counters unloaded'"
unbind "$EDU1"

# --- no enforcement: vfio-bpf says so and refuses policies ------------------
check "edu0 bound to vfio-pci-bpf again" bind "$EDU0" vfio-pci-bpf
# The edu provider is not built on 6.1 (compat.h): 6.12 answers 0x7 here.
expect "no migration on 6.1: edu does not advertise it (ENOTTY)" "error ENOTTY" "$EDU0" mig-flags
cat >"$OUT/deny.yaml" <<'YAML'
version: 1
policies:
  - name: edu-deny-irq-line
    match: { vendor: 0x1234, device: 0x11e8 }
    config:
      - { offset: 0x3c, size: 1, write: deny }
YAML
check "policy check: the file itself is valid" "$VB" policy check "$OUT/deny.yaml"
"$VB" policy apply "$OUT/deny.yaml" >"$OUT/apply.txt" 2>&1; rc=$?
check "policy apply: exits 3, not supported here ($rc)" test $rc -eq 3
check "policy apply: says the kernel cannot enforce, and what it needs" \
	grep -qxF "vfio-bpf: $NO_HOOKS" "$OUT/apply.txt"
check "policy apply: nothing was attached" test "$(cat $DRV/policies)" = ""
# vfio-bpf.service's watch: status 3 stops the unit instead of a restart loop.
timeout 20 "$VB" policy watch "$OUT/deny.yaml" >"$OUT/watch.txt" 2>&1; rc=$?
check "policy watch: exits 3 at once, says why ($rc)" \
	sh -c "test $rc -eq 3 && grep -qxF 'vfio-bpf: $NO_HOOKS' '$OUT/watch.txt'"
"$VB" status >"$OUT/status.txt" 2>&1
check "status: says no enforcement on this kernel" grep -qxF "hooks: none: $NO_HOOKS" "$OUT/status.txt"
check "status: lists edu0 without a policy" grep -q "^  $EDU0 1234:11e8 policy: none" "$OUT/status.txt"

unbind "$EDU0"
check "rmmod vfio_pci_bpf" rmmod vfio_pci_bpf
! grep -q '^FAIL' "$RESULTS"
