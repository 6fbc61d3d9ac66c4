#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Cost per access, side by side in one guest run: stock vfio-pci, stock
# vfio-pci under bpftrace kprobes (what a user would reach for today), then
# vfio-pci-bpf with nothing attached, with an allow-all policy attached,
# with its tracepoints enabled into the ftrace buffer, and with tp_btf
# programs counting every event.  Run with VM_ICOUNT=1 (make bench does):
# the guest clock then counts instructions; BAR reads repeat to < 0.1 %,
# config reads to about 2 %.

. "$(dirname "$0")/lib.sh"

load_modules || { echo "bench: cannot load modules" >&2; exit 1; }
runs=${BENCH_RUNS:-7}
T=/sys/kernel/tracing

measure() {	# measure CONFIG-NAME
	i=0
	while [ $i -lt "$runs" ]; do
		"$CLIENT" "$EDU0" bench | sed -n "s/^  bench\.\([a-z0-9_]*\): /$1 \1 /p"
		i=$((i + 1))
	done
}

{
	bind "$EDU0" vfio-pci && measure vfio-pci
	# The alternative a user would pick today: bpftrace kprobes counting
	# calls into the core, on stock vfio-pci.
	bpftrace -e 'kprobe:vfio_pci_core_read,kprobe:vfio_pci_core_write,kprobe:vfio_pci_core_ioctl { @[probe] = count(); }' \
		>"$OUT/bpftrace.out" 2>&1 &
	bt=$!
	i=0
	while ! grep -q Attaching "$OUT/bpftrace.out" && [ $i -lt 600 ]; do
		sleep 0.1; i=$((i + 1))
	done
	sleep 1
	measure kprobe-bpftrace
	kill -INT $bt; wait $bt
	bind "$EDU0" vfio-pci-bpf && measure bpf-idle
	attach "$EDU0" bench && measure bpf-policy
	detach bench
	echo 1 >$T/events/vfio_pci_bpf/enable
	measure bpf-tracefs
	echo 0 >$T/events/vfio_pci_bpf/enable
	mkfifo "$OUT/bench.fifo"
	"$BUILD/trace-test" "$EDU0" <"$OUT/bench.fifo" >/dev/null 2>&1 &
	exec 3>"$OUT/bench.fifo"
	sleep 3
	measure bpf-tp_btf
	exec 3>&-
	wait
} >"$OUT/bench.raw"

# The median of the runs per configuration and path, and its ratio to
# vfio-pci.  Config reads keep about +-2 % of noise even under -icount
# (asynchronous runtime-PM work after each access), BAR reads < 0.1 %.
awk -v configs="vfio-pci kprobe-bpftrace bpf-idle bpf-policy bpf-tracefs bpf-tp_btf" '
{ v[$1 " " $2] = v[$1 " " $2] " " $3; paths[$2] = 1 }
function median(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
		if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return a[int((n + 1) / 2)]
}
END {
	nc = split(configs, c, " ")
	printf "%-20s", " path"
	for (k = 1; k <= nc; k++) printf " %13s", c[k]
	printf "\n"
	for (p in paths) {
		base = median(v["vfio-pci " p])
		printf "%-20s %13.1f", p, base
		for (k = 2; k <= nc; k++) {
			m = median(v[c[k] " " p])
			printf " %6.1f %5.3fx", m, m / base
		}
		printf "\n"
	}
}' "$OUT/bench.raw" | sort | tee "$OUT/bench.txt"
echo "(per access: guest instructions under make bench's -icount, else ns;"
echo " each vfio-pci-bpf column: value, and ratio to stock vfio-pci)"
unbind "$EDU0"
