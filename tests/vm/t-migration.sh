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
# The exporter's migration families (docs/metrics.md) over the same
# sequence: it counts from its start, here, and vfio-mig scrapes it after
# every SET request (VFIO_MIG_EACH) for the state of both devices.
"$BUILD/vfio_exporter" >"$OUT/exp.out" 2>"$OUT/exp.err" &
exp=$!
_i=0
while ! grep -q serving "$OUT/exp.err" && [ $_i -lt 600 ] && kill -0 $exp 2>/dev/null; do
	sleep 0.1; _i=$((_i + 1))
done
check "exporter: serves (for the migration families)" grep -q serving "$OUT/exp.err"
export VFIO_MIG_EACH="curl -sf http://127.0.0.1:9466/metrics | grep '^vfio_migration_state{' >$OUT/arc-\$VFIO_MIG_ARC.txt"
mig trace trace "$EDU0" "$EDU1"
unset VFIO_MIG_EACH
curl -sf -o "$OUT/mig.prom" http://127.0.0.1:9466/metrics
kill -TERM $exp; wait $exp
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

# The exporter's page after the sequence, and between its arcs.
st() { printf 'vfio_migration_state{bdf="%s"} %s' "$1" "$2"; }
arcs_want="1:$(st $EDU0 3)
2:$(st $EDU0 2)
3:$(st $EDU0 2)
4:$(st $EDU0 2)|$(st $EDU1 4)
5:$(st $EDU0 2)|$(st $EDU1 2)"
for a in 1 2 3 4 5; do
	want=$(printf '%s\n' "$arcs_want" | sed -n "s/^$a://p")
	got=$(paste -sd'|' "$OUT/arc-$a.txt" 2>/dev/null)
	if [ "$got" = "$want" ]; then
		pass "exporter: vfio_migration_state after arc $a: $want"
	else
		fail "exporter: vfio_migration_state after arc $a is '$got', want '$want'"
	fi
done
# mval SERIES: its value on the last page ("missing" if absent).
mval() {
	awk -v s="$1 " 'index($0, s) == 1 { print substr($0, length(s) + 1); n++ }
		END { if (!n) print "missing" }' "$OUT/mig.prom"
}
mexpect() {
	for _sv in "$@"; do
		_s=${_sv%=*} _want=${_sv##*=}
		_got=$(mval "$_s")
		if [ "$_got" = "$_want" ]; then
			pass "exporter: $_s = $_want"
		else
			fail "exporter: $_s is '$_got', want $_want"
		fi
	done
}
arc() { printf 'vfio_migration_transition_duration_seconds_count{bdf="%s",from="%s",to="%s"}' "$@"; }
mexpect "vfio_migration_state_info{bdf=\"$EDU0\",state=\"RUNNING\"}=1" \
	"vfio_migration_state_info{bdf=\"$EDU1\",state=\"RUNNING\"}=1" \
	"vfio_migration_bytes_total{bdf=\"$EDU0\",direction=\"read\"}=64" \
	"vfio_migration_bytes_total{bdf=\"$EDU0\",direction=\"write\"}=0" \
	"vfio_migration_bytes_total{bdf=\"$EDU1\",direction=\"read\"}=0" \
	"vfio_migration_bytes_total{bdf=\"$EDU1\",direction=\"write\"}=64" \
	"$(arc $EDU0 RUNNING STOP_COPY)=1" "$(arc $EDU0 STOP_COPY RUNNING)=1" \
	"$(arc $EDU1 RUNNING RESUMING)=1" "$(arc $EDU1 RESUMING RUNNING)=1" \
	"vfio_migration_downtime_seconds_count{bdf=\"$EDU0\",target=\"$EDU1\"}=1" \
	"vfio_operations_total{bdf=\"$EDU0\",op=\"mig_transition\"}=3" \
	"vfio_operation_errors_total{bdf=\"$EDU0\",op=\"mig_transition\"}=1" \
	'vfio_exporter_collector_success{collector="migration"}=1'
check "exporter: 4 arcs, only the ones taken (the refused one is not)" \
	test "$(grep -c '^vfio_migration_transition_duration_seconds_count{' "$OUT/mig.prom")" -eq 4
check "exporter: one state_info series a device" \
	test "$(grep -c '^vfio_migration_state_info{' "$OUT/mig.prom")" -eq 2
check "exporter: one downtime pair, edu0 into edu1" \
	test "$(grep -c '^vfio_migration_downtime_seconds_count{' "$OUT/mig.prom")" -eq 1
check "exporter: the downtime is positive and under the run's length (< 60 s)" awk -v s="vfio_migration_downtime_seconds_sum{bdf=\"$EDU0\",target=\"$EDU1\"}" \
	'$1 == s { ok = ($2 > 0 && $2 < 60) } END { exit !ok }' "$OUT/mig.prom"
check "exporter: downtime buckets cumulative, +Inf = count" awk '
	/^vfio_migration_downtime_seconds_bucket\{/ { if ($2 < last) bad = 1; last = $2; n++ }
	END { exit !(n == 23 && !bad && last == 1) }' "$OUT/mig.prom"
check "exporter: the migration page passes promtool check metrics" \
	sh -c "promtool check metrics <'$OUT/mig.prom' >'$OUT/mig-promtool.out' 2>&1 && ! test -s '$OUT/mig-promtool.out'"

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
