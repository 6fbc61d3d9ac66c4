#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vfio-trace against a known workload: exact event counts and fields in
# JSON and text, device and event filters, statistics with interrupt
# deliveries, and clear errors without the module or with a wrong device.

. "$(dirname "$0")/lib.sh"

VT=$BUILD/vfio-trace

out=$("$VT" 2>&1); rc=$?
check "no module: vfio-trace exits 1" test $rc -eq 1
check "no module: it says to load vfio_pci_bpf" \
	sh -c "printf '%s' '$out' | grep -q 'the vfio_pci_bpf module is not loaded'"

# --- stock-kernel mode: no vfio_pci_bpf module at all --------------------------
check "stock vfio-pci loads" modprobe vfio-pci
check "edu1 bound to stock vfio-pci" bind "$EDU1" vfio-pci
SEQ="cfg-read:0x0:2 cfg-write:0x3c:1:0x5a bar-read:0x0 bar-write:0x4:0x0 msi-on msi-off do-reset bar-mmap"
"$VT" -k -j -d "$EDU1" >"$OUT/stock.out" 2>"$OUT/stock.err" &
VT_PID=$!
i=0
while ! grep -q tracing "$OUT/stock.err" && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
# shellcheck disable=SC2086
"$CLIENT" "$EDU1" $SEQ >/dev/null 2>&1
"$CLIENT" "$EDU1" msi >/dev/null 2>&1
kill -INT $VT_PID; wait $VT_PID
check "stock: exits cleanly" test $? -eq 0
k=$OUT/stock.out
# Two client runs: the sequence, then the MSI check (its own accesses).
for ev in open:2 close:2 reset:1 config_write:3 mmap:1 irq:2; do
	e=${ev%:*} want=${ev#*:}
	got=$(grep -c "\"event\":\"$e\"" "$k")
	check "stock: $e exactly $want ($got)" test "$got" -eq "$want"
done
check "stock: config_write fields under vfio-pci" \
	grep -q '"bdf":"0000:00:05.0","event":"config_write","pid":[0-9]*,"comm":"vfio-client","ret":1,"offset":60,"size":1,"value":90,' "$k"
check "stock: bar_read of the ident" grep -q '"event":"bar_read",.*"ret":4,"bar":0,"offset":0,"size":4,"value":16777453}' "$k"
check "stock: set_irqs arms MSI" grep -q '"event":"set_irqs",.*"index":"MSI","start":0,"count":1,"flags":36}' "$k"
check "stock: MSI deliveries named by vector" grep -q '"event":"irq",.*"index":"MSI","vector":0,' "$k"
check "stock: reset refused by the core" grep -q '"event":"reset",.*"ret":-22,"kind":"function"}' "$k"

check "modules load" load_modules
check "edu0 bound to vfio-pci-bpf" bind "$EDU0" vfio-pci-bpf
check "edu1 bound to vfio-pci-bpf" bind "$EDU1" vfio-pci-bpf

out=$("$VT" -d 0000:00:1f.7 2>&1); rc=$?
check "unknown device: exit 1 naming it" \
	sh -c "test $rc -eq 1 && printf '%s' '$out' | grep -q 'no PCI device 0000:00:1f.7'"

# vt_start NAME ARGS...: vfio-trace in the background until vt_stop.
vt_start() {
	_n=$1; shift
	"$VT" "$@" >"$OUT/$_n.out" 2>"$OUT/$_n.err" &
	VT_PID=$!
	_i=0
	while ! grep -q 'tracing' "$OUT/$_n.err" 2>/dev/null && [ $_i -lt 600 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
}
vt_stop() {
	kill -INT "$VT_PID"
	wait "$VT_PID"
}

SEQ="cfg-read:0x0:2 cfg-write:0x3c:1:0x5a bar-read:0x0 bar-write:0x4:0x0 msi-on msi-off do-reset bar-mmap"

# --- JSON lines, one device ---------------------------------------------------
vt_start json -j -d "$EDU0"
# shellcheck disable=SC2086
"$CLIENT" "$EDU0" $SEQ >/dev/null 2>&1
"$CLIENT" "$EDU1" cfg-read:0x0:2 >/dev/null 2>&1
if rmmod vfio_pci_bpf 2>/dev/null; then
	fail "rmmod must be refused while vfio-trace is attached"
	load_modules
else
	pass "rmmod refused while vfio-trace is attached"
fi
vt_stop
check "json: exits cleanly on SIGINT" test $? -eq 0
j=$OUT/json.out
for ev in open:1 close:1 reset:1 config_read:3 config_write:1 bar_read:1 bar_write:1 \
	mmap:1 ioctl:18 set_irqs:2 irq_vector:2 irq:0 mig_transition:0 mig_data:0; do
	e=${ev%:*} want=${ev#*:}
	got=$(grep -c "\"event\":\"$e\"" "$j")
	check "json: $e exactly $want ($got)" test "$got" -eq "$want"
done
check "json: the other device is filtered out" sh -c "! grep -q '0000:00:05.0' '$j'"
check "json: config_write fields" \
	grep -q '"bdf":"0000:00:04.0","event":"config_write","pid":[0-9]*,"comm":"vfio-client","ret":1,"offset":60,"size":1,"value":90,' "$j"
check "json: bar_read fields" \
	grep -q '"event":"bar_read",.*"ret":4,"bar":0,"offset":0,"size":4,"value":16777453}' "$j"
check "json: set_irqs arms MSI" \
	grep -q '"event":"set_irqs",.*"index":"MSI","start":0,"count":1,"flags":36}' "$j"
check "json: reset refused by the core" grep -q '"event":"reset",.*"ret":-22,"kind":"function"}' "$j"
check "json: every line is an object with ts_ns" \
	sh -c "test \$(grep -c '^{\"ts_ns\":[0-9]*,' '$j') -eq \$(wc -l <'$j')"
check "json: no events lost, and says so" grep -q 'events shown, 0 lost' "$OUT/json.err"

# --- text, event filter ----------------------------------------------------------
vt_start text -e config
"$CLIENT" "$EDU1" cfg-write:0x3c:1:0x7 bar-read:0x0 >/dev/null 2>&1
vt_stop
t=$OUT/text.out
check "text: header line" grep -q '^TIME(s) *BDF *COMM *PID EVENT *RET DETAIL$' "$t"
check "text: only config events with -e config" \
	sh -c "! grep -v '^TIME' '$t' | grep -qv ' config_'"
# The interrupt line is virtualized: the device's own byte stays, so the
# value written shows as w=.
check "text: config_write line: offset/size, device old>new, w=value written" \
	grep -q ' 00:05.0 vfio-client *[0-9]* config_write *1 0x3c/1 0x\([0-9a-f]*\)>0x\1 w=0x7$' "$t"
check "text: lines fit 80 columns" sh -c "! awk 'length > 80' '$t' | grep -q ."

# --- statistics and interrupt deliveries ---------------------------------------
vt_start stats -s -d "$EDU0"
"$CLIENT" "$EDU0" msi >/dev/null 2>&1
vt_stop
s=$OUT/stats.out
check "stats: MSI deliveries per vector (2)" grep -q '^0000:00:04.0 MSI *0 *2$' "$s"
check "stats: irq events counted (2)" grep -q '^0000:00:04.0 irq *2 *0$' "$s"
check "stats: set_irqs counted (2)" grep -q '^0000:00:04.0 set_irqs *2 *0$' "$s"

vt_start statsj -s -j -e irq
"$CLIENT" "$EDU1" intx >/dev/null 2>&1
vt_stop
check "stats json: INTx deliveries on edu1" \
	grep -q '{"bdf":"0000:00:05.0","index":"INTX","vector":0,"delivered":2}' "$OUT/statsj.out"

# --- latency histograms ---------------------------------------------------------
vt_start hist -s -H -d "$EDU0" -e config_read,ioctl
"$CLIENT" "$EDU0" cfg-read:0x0:2 >/dev/null 2>&1
vt_stop
h=$OUT/hist.out
check "hist: a config_read histogram for edu0" \
	grep -q '^0000:00:04.0 config_read latency through vfio_pci_core:$' "$h"
n=$(awk '/config_read latency/ { on = 1; next } /latency/ { on = 0 }
	on && / -> / { n += $5 } END { print n + 0 }' "$h")
check "hist: its buckets hold exactly the 3 config reads ($n)" test "$n" -eq 3
n=$(awk '/ioctl latency/ { on = 1; next } /latency/ { on = 0 }
	on && / -> / { n += $5 } END { print n + 0 }' "$h")
check "hist: the ioctl histogram holds the 15 ioctls of an open ($n)" test "$n" -eq 15

# --- duration, and a device unbound while traced --------------------------
"$VT" -D 3 -d "$EDU1" >"$OUT/dur.out" 2>&1 &
d=$!
i=0
while ! grep -q tracing "$OUT/dur.out" && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
"$CLIENT" "$EDU1" cfg-read:0x0:2 >/dev/null 2>&1
unbind "$EDU1"
wait $d
check "-D 3: stops by itself, cleanly, after the device was unbound" test $? -eq 0
check "the events before the unbind were shown" grep -q 'config_read' "$OUT/dur.out"
check "rebind after tracing" bind "$EDU1" vfio-pci-bpf

unbind "$EDU0"; unbind "$EDU1"
! grep -q '^FAIL' "$RESULTS"
