#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Tracepoints: a known sequence of client operations produces exactly the
# expected events with the expected fields, read through tracefs,
# trace-cmd, bpftrace and a tp_btf BPF program; interrupt deliveries are
# counted exactly per device and vector.

. "$(dirname "$0")/lib.sh"

T=/sys/kernel/tracing
TRACE_TEST=$BUILD/trace-test

check "modules load" load_modules
check "edu0 bound to vfio-pci-bpf" bind "$EDU0" vfio-pci-bpf
check "tracefs lists the vfio_pci_bpf system" test -d $T/events/vfio_pci_bpf
n=$(ls -d $T/events/vfio_pci_bpf/vfio_pci_bpf_* | wc -l)
check "16 events in the system ($n)" test "$n" -eq 16

# The known sequence: open (2 config reads for the ids), then one of each.
SEQ="cfg-read:0x0:2 cfg-write:0x3c:1:0x5a bar-read:0x0 bar-write:0x4:0x0 msi-on msi-off do-reset bar-mmap"

# count EVENT FILE: lines of that event.
count() { grep -c "vfio_pci_bpf_$1:" "$2"; }
# has NAME FILE PATTERN: a PASS when an event line matches PATTERN.
has() { check "$1" grep -q -e "$3" "$2"; }

# --- tracefs (what perf and trace-cmd read) -------------------------------
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
	mmap:1 ioctl:18 set_irqs:2 irq_vector:2 mig_transition:0 mig_data:0; do
	e=${ev%:*} want=${ev#*:}
	got=$(count "$e" "$tr")
	check "tracefs: $e fired exactly $want times ($got)" test "$got" -eq "$want"
done
# The counting events: one per operation above (every kind but irq_vector),
# scalars only; kind 3 is config_read (include/vfio_trace.h).
n=$(count op "$tr")
check "op: one counting event per operation (30: $n)" test "$n" -eq 30
n=$(grep -c 'vfio_pci_bpf_op: 0000:00:04.0 slot=[0-9]* kind=3 ret=[0-9]* ns=0$' "$tr")
check "op: the 3 config reads, by kind, with their device and slot ($n)" test "$n" -eq 3
n=$(count op_timed "$tr")
check "op_timed: the same 30 operations ($n)" test "$n" -eq 30
n=$(grep -c 'vfio_pci_bpf_op_timed: 0000:00:04.0 slot=[0-9]* kind=3 ret=[0-9]* ns=[1-9][0-9]*$' "$tr")
check "op_timed: each config read timed by the module (ns > 0: $n)" test "$n" -eq 3
has "open: bdf, pid, comm and ret" "$tr" "vfio_pci_bpf_open: 0000:00:04.0 pid=$pid comm=vfio-client ret=0"
has "close: bdf, pid and comm" "$tr" "vfio_pci_bpf_close: 0000:00:04.0 pid=$pid comm=vfio-client ret=0"
has "config_read: the user's read, value and byte count" "$tr" \
	"vfio_pci_bpf_config_read: 0000:00:04.0 off=0x0 size=2 value=0x1234 ret=2"
has "config_write: value written and byte count" "$tr" \
	"vfio_pci_bpf_config_write: 0000:00:04.0 off=0x3c size=1 value=0x5a old=0x[0-9a-f]* new=0x[0-9a-f]* ret=1"
has "bar_read: bar, offset, size, value" "$tr" \
	"vfio_pci_bpf_bar_read: 0000:00:04.0 bar=0 off=0x0 size=4 value=0x10000ed ret=4"
has "bar_write: bar, offset, size, value" "$tr" \
	"vfio_pci_bpf_bar_write: 0000:00:04.0 bar=0 off=0x4 size=4 value=0x0 ret=4"
has "set_irqs: MSI armed with an eventfd" "$tr" \
	"vfio_pci_bpf_set_irqs: 0000:00:04.0 index=MSI start=0 count=1 action=TRIGGER data=EVENTFD ret=0"
has "set_irqs: MSI torn down" "$tr" \
	"vfio_pci_bpf_set_irqs: 0000:00:04.0 index=MSI start=0 count=0 action=TRIGGER data=NONE ret=0"
has "irq_vector: vector 0 armed on a host irq" "$tr" \
	"vfio_pci_bpf_irq_vector: 0000:00:04.0 index=1 vector=0 host_irq=[1-9][0-9]* armed"
has "irq_vector: the whole index disarmed" "$tr" \
	"vfio_pci_bpf_irq_vector: 0000:00:04.0 index=1 vector=4294967295 host_irq=-1 disarmed"
has "reset: function reset refused by the core (EINVAL)" "$tr" \
	"vfio_pci_bpf_reset: 0000:00:04.0 kind=function ret=-22"
has "mmap: BAR0, whole length" "$tr" \
	"vfio_pci_bpf_mmap: 0000:00:04.0 index=0 off=0x0 len=0x100000 ret=0"
has "ioctl: VFIO_DEVICE_SET_IRQS (nr 10) with its result" "$tr" \
	"vfio_pci_bpf_ioctl: 0000:00:04.0 cmd=0x3b6e nr=110 ret=0"
has "ioctl: failing VGA region info keeps its errno" "$tr" \
	"vfio_pci_bpf_ioctl: 0000:00:04.0 cmd=0x3b6c nr=108 ret=-22"

# A tracepoint filter on sbdf, as an operator would set one.
echo "sbdf == 0x20" >$T/events/vfio_pci_bpf/vfio_pci_bpf_config_read/filter
echo 1 >$T/events/vfio_pci_bpf/vfio_pci_bpf_config_read/enable
echo >$T/trace
echo 1 >$T/tracing_on
"$CLIENT" "$EDU0" cfg-read:0x3c:1 >/dev/null
echo 0 >$T/tracing_on
got=$(grep -c vfio_pci_bpf_config_read: $T/trace)
check "tracefs: sbdf filter passes edu0's 3 config reads ($got)" test "$got" -eq 3
echo 0 >$T/events/vfio_pci_bpf/vfio_pci_bpf_config_read/filter
echo 0 >$T/events/vfio_pci_bpf/vfio_pci_bpf_config_read/enable

# --- trace-cmd ------------------------------------------------------------
(cd /tmp && trace-cmd record -q -o /tmp/tc.dat -e vfio_pci_bpf:vfio_pci_bpf_config_read \
	"$CLIENT" "$EDU0" cfg-read:0x3c:1 >"$OUT/tc-record.txt" 2>&1)
trace-cmd report -i /tmp/tc.dat >"$OUT/tc-report.txt" 2>&1
got=$(grep -c 'vfio_pci_bpf_config_read:' "$OUT/tc-report.txt")
check "trace-cmd: records the 3 config reads ($got)" test "$got" -eq 3
has "trace-cmd: shows the fields" "$OUT/tc-report.txt" "off=0x3c size=1 value=0x[0-9a-f]* ret=1"

# --- bpftrace -----------------------------------------------------------------
bpftrace -q -e 'tracepoint:vfio_pci_bpf:vfio_pci_bpf_config_read { @reads[args->offset, args->size] = count(); }' \
	-c "$CLIENT $EDU0 cfg-read:0x3c:1" >"$OUT/bt-reads.txt" 2>&1
has "bpftrace: counts config reads by offset and size (0x3c)" "$OUT/bt-reads.txt" '^@reads\[60, 1\]: 1$'
has "bpftrace: counts config reads by offset and size (vendor)" "$OUT/bt-reads.txt" '^@reads\[0, 2\]: 1$'

# The bdf field is a string: str() prints it (Debian's bpftrace 0.17 would
# print the bare field as a number), as docs/tracepoints.md shows.
bpftrace -q -e 'tracepoint:vfio_pci_bpf:vfio_pci_bpf_config_read { printf("dev %s slot %u\n", str(args->bdf), args->slot); exit(); }' \
	-c "$CLIENT $EDU0 cfg-read:0x3c:1" >"$OUT/bt-bdf.txt" 2>&1
has "bpftrace: str(args->bdf) is the device's name, args->slot its slot" "$OUT/bt-bdf.txt" \
	"^dev $EDU0 slot [0-9]"

# --- tp_btf, and interrupt deliveries ----------------------------------------
run_traced() {	# run_traced NAME CLIENT-ARGS...: client under trace-test
	_n=$1; shift
	mkfifo "$OUT/$_n.fifo"
	"$TRACE_TEST" "$EDU0" <"$OUT/$_n.fifo" >"$OUT/$_n.bpf" 2>&1 &
	_t=$!
	exec 3>"$OUT/$_n.fifo"
	_i=0
	while ! grep -q ready "$OUT/$_n.bpf" && [ $_i -lt 600 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	"$CLIENT" "$EDU0" "$@" >"$OUT/$_n.client" 2>&1
	exec 3>&-
	wait $_t
}
# shellcheck disable=SC2086
run_traced seq $SEQ
b=$OUT/seq.bpf
check "tp_btf: programs attached to the module's tracepoints" grep -q ready "$b"
for ev in open:1 close:1 reset:1 config_read:3 config_write:1 bar_read:1 bar_write:1 \
	mmap:1 ioctl:18 set_irqs:2 irq_vector:2 mig_transition:0 mig_data:0; do
	e=${ev%:*} want=${ev#*:}
	check "tp_btf: $e counted $want times" grep -qx "$e $want" "$b"
done
has "tp_btf: arguments of the last config read" "$b" \
	"last_config_read off=0 size=2 value=0x1234 ret=2"
has "tp_btf: the sbdf argument is the pci_dev's bus and devfn, every event" "$b" \
	"^sbdf_mismatch 0$"
slot=$(sed -n 's/^last_slot //p' "$b")
check "tp_btf: the slot argument is below 4096 ($slot)" test "${slot:-9999}" -lt 4096

run_traced irq msi
check "the client's MSI check passed under tracing" grep -q '^PASS: msi: factorial completion interrupt' "$OUT/irq.client"
has "deliveries: exactly 2 MSI interrupts on vector 0 (raise + factorial)" "$OUT/irq.bpf" \
	"^delivered index=1 vector=0 count=2$"
run_traced intx intx
has "deliveries: exactly 2 INTx interrupts" "$OUT/intx.bpf" "^delivered index=0 vector=0 count=2$"

cat >"$OUT/deliveries.bt" <<'BT'
tracepoint:vfio_pci_bpf:vfio_pci_bpf_irq_vector /args->armed/ { @armed[args->host_irq] = 1; @vec[args->host_irq] = args->vector; }
tracepoint:irq:irq_handler_exit /args->ret == 1 && @armed[args->irq]/ { @deliveries[args->irq, @vec[args->irq]] = count(); }
END { clear(@armed); clear(@vec); }
BT
bpftrace -q "$OUT/deliveries.bt" -c "$CLIENT $EDU0 msi" >"$OUT/bt-irq.txt" 2>&1
has "bpftrace: the documented delivery one-liner counts 2 on vector 0" "$OUT/bt-irq.txt" \
	'^@deliveries\[[0-9]*, 0\]: 2$'

unbind "$EDU0"
! grep -q '^FAIL' "$RESULTS"
