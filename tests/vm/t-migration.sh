#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Migration: VFIO migration v2 of edu0 into edu1 under vfio-pci-bpf (the
# edu provider), the FSM's refusals, corrupt images, the mig tracepoints,
# and no migration at all for devices without a provider.

. "$(dirname "$0")/lib.sh"

MIG=$BUILD/vfio-mig
TRACING=/sys/kernel/tracing
EVENTS=$TRACING/events/vfio_pci_bpf

# mig LABEL ARGS...: run vfio-mig, keep its transcript in $OUT/LABEL.txt and
# report each of its verdicts prefixed with LABEL.
mig() {
	label=$1; shift
	"$MIG" "$@" >"$OUT/$label.txt" 2>"$OUT/$label.err"
	rc=$?
	sed -n "s#^\(PASS\|FAIL\): #\1: $label: #p" "$OUT/$label.txt" | tee -a "$RESULTS"
	if [ $rc -eq 2 ]; then
		fail "$label: vfio-mig could not open the device: $(tr '\n' ' ' <"$OUT/$label.err")"
	fi
	return $rc
}

check "modules: vfio-pci and vfio_pci_bpf load" load_modules
check "edu0: bind to vfio-pci-bpf" bind "$EDU0" vfio-pci-bpf
check "edu1: bind to vfio-pci-bpf" bind "$EDU1" vfio-pci-bpf

mig migrate migrate "$EDU0" "$EDU1"
mig precopy precopy "$EDU0" "$EDU1"
mig errors errors "$EDU1"
mig stress stress "$EDU0"

# The policy's veto: a mig_transition hook that denies every arc.
attach "$EDU0" mig --deny-mig
mig veto veto "$EDU0"
detach mig
mig after-veto migrate "$EDU0" "$EDU1" >/dev/null
check "migration works again once the vetoing policy is gone" \
	sh -c "grep -q '^PASS' '$OUT/after-veto.txt' && ! grep -q '^FAIL' '$OUT/after-veto.txt'"

# The tracepoints: one mig_transition per SET request, failed ones
# included, and one mig_data per read or write on the data fd.
echo 0 >"$TRACING/tracing_on"
echo >"$TRACING/trace"
echo 1 >"$EVENTS/vfio_pci_bpf_mig_transition/enable"
echo 1 >"$EVENTS/vfio_pci_bpf_mig_data/enable"
echo 1 >"$TRACING/tracing_on"
mig trace trace "$EDU0" "$EDU1"
echo 0 >"$TRACING/tracing_on"
echo 0 >"$EVENTS/vfio_pci_bpf_mig_transition/enable"
echo 0 >"$EVENTS/vfio_pci_bpf_mig_data/enable"
cat "$TRACING/trace" >"$OUT/trace.txt"

sed -n 's/.*vfio_pci_bpf_mig_transition: //p' "$OUT/trace.txt" |
	sed 's/ duration_ns=[0-9]*$//' >"$OUT/trace-transition.txt"
cat >"$OUT/trace-transition.want" <<WANT
$EDU0 from=RUNNING to=STOP_COPY ret=0
$EDU0 from=STOP_COPY to=RUNNING ret=0
$EDU0 from=RUNNING to=0x63 ret=-22
$EDU1 from=RUNNING to=RESUMING ret=0
$EDU1 from=RESUMING to=RUNNING ret=0
WANT
if diff -u "$OUT/trace-transition.want" "$OUT/trace-transition.txt" >"$OUT/trace-transition.diff"; then
	pass "trace: mig_transition: 5 events with the right from, to and ret"
else
	fail "trace: mig_transition events differ: $(tr '\n' ' ' <"$OUT/trace-transition.diff")"
fi
check "trace: mig_transition: RUNNING -> STOP_COPY has a duration" \
	grep -q "vfio_pci_bpf_mig_transition: $EDU0 from=RUNNING to=STOP_COPY ret=0 duration_ns=[1-9]" "$OUT/trace.txt"

sed -n 's/.*vfio_pci_bpf_mig_data: //p' "$OUT/trace.txt" >"$OUT/trace-data.txt"
cat >"$OUT/trace-data.want" <<WANT
$EDU0 read off=0 bytes=40
$EDU0 read off=40 bytes=24
$EDU0 read off=64 bytes=0
$EDU1 write off=0 bytes=40
$EDU1 write off=40 bytes=24
WANT
if diff -u "$OUT/trace-data.want" "$OUT/trace-data.txt" >"$OUT/trace-data.diff"; then
	pass "trace: mig_data: 5 events with the right direction, offset and bytes"
else
	fail "trace: mig_data events differ: $(tr '\n' ' ' <"$OUT/trace-data.diff")"
fi

# No provider, no migration: edu under stock vfio-pci, an igb VF under
# vfio-pci-bpf.
check "edu0: bind to vfio-pci" bind "$EDU0" vfio-pci
mkdir -p "$OUT/none"
mig none/edu0-vfio-pci none "$EDU0"
check "igb: modprobe" modprobe igb
echo 0 >"/sys/bus/pci/devices/$IGB/sriov_drivers_autoprobe"
check "igb: create 1 VF" sh -c "echo 1 >/sys/bus/pci/devices/$IGB/sriov_numvfs"
vf0=$(basename "$(readlink "/sys/bus/pci/devices/$IGB/virtfn0")")
check "vf0: bind to vfio-pci-bpf" bind "$vf0" vfio-pci-bpf
mig none/vf0-vfio-pci-bpf none "$vf0"
unbind "$vf0"
check "igb: remove VFs" sh -c "echo 0 >/sys/bus/pci/devices/$IGB/sriov_numvfs"

unbind "$EDU0"; unbind "$EDU1"
check "rmmod vfio_pci_bpf" rmmod vfio_pci_bpf
! grep -q '^FAIL' "$RESULTS"
