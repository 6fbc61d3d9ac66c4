#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Cost per access, side by side in one guest run: stock vfio-pci, stock
# vfio-pci under bpftrace kprobes (what a user would reach for today),
# stock vfio-pci on the patched core (docs/upstream/), then
# vfio-pci-bpf with nothing attached, with an allow-all policy attached,
# with its tracepoints enabled into the ftrace buffer, and with tp_btf
# programs counting every event.  Run with VM_ICOUNT=1 (make bench does):
# the guest clock then counts instructions; BAR reads repeat to < 0.1 %,
# config reads to about 2 %.

. "$(dirname "$0")/lib.sh"

# Stock vfio-pci first on Debian's own vfio_pci_core, the zero-overhead
# limit; everything after on the patched core vfio-pci-bpf enforces with.
VFIO_CORE=stock load_modules || { echo "bench: cannot load modules" >&2; exit 1; }
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
	# The same vfio-pci on the core with the kernel-copy entry points.
	unbind "$EDU0"
	rmmod vfio_pci_bpf vfio_pci vfio_pci_core || exit 1
	load_modules || { echo "bench: cannot load the patched core" >&2; exit 1; }
	bind "$EDU0" vfio-pci && measure vfio-pci-patched
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
awk -v configs="vfio-pci kprobe-bpftrace vfio-pci-patched bpf-idle bpf-policy bpf-tracefs bpf-tp_btf" '
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

# vfio-trace keeping up: config reads as fast as one client can make them,
# streamed as JSON to /dev/null; how many arrived, how many were lost.
now() { cut -d' ' -f1 /proc/uptime; }
"$BUILD/vfio-trace" -j -d "$EDU0" -e config_read >/dev/null 2>"$OUT/vt-bench.err" &
vt=$!
i=0
while ! grep -q tracing "$OUT/vt-bench.err" && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
t0=$(now)
"$CLIENT" "$EDU0" bench >/dev/null
t1=$(now)
kill -INT $vt; wait $vt
awk -v t0="$t0" -v t1="$t1" '/events shown/ {
	printf "vfio-trace: %d config_read events in %.2f s of guest time (%.0f/s), %d lost\n",
	       $2, t1 - t0, $2 / (t1 - t0), $5 }' "$OUT/vt-bench.err" | tee -a "$OUT/bench.txt"

# Exporter scrape time against the number of devices: 1, then 2 edus and
# 1, 4 and 7 igb VFs bound to vfio-pci-bpf.
modprobe igb
echo 0 >"/sys/bus/pci/devices/$IGB/sriov_drivers_autoprobe"
echo 7 >"/sys/bus/pci/devices/$IGB/sriov_numvfs"
bind "$EDU1" vfio-pci-bpf
"$BUILD/vfio_exporter" >"$OUT/exp-bench.log" 2>&1 &
exp=$!
i=0
while ! curl -s -o /dev/null http://127.0.0.1:9466/metrics && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
scrape_time() {	# median of 5 scrapes' own duration, in us
	for j in 1 2 3 4 5; do
		curl -s http://127.0.0.1:9466/metrics |
			awk '/^vfio_exporter_scrape_duration_seconds / { printf "%.0f\n", $2 * 1e6 }'
	done | sort -n | sed -n 3p
}
unbind "$EDU1"
echo "vfio_exporter: 1 device, scrape $(scrape_time) us" | tee -a "$OUT/bench.txt"
bind "$EDU1" vfio-pci-bpf
n=2
for k in 0 1 2 3 4 5 6; do
	vf=$(basename "$(readlink "/sys/bus/pci/devices/$IGB/virtfn$k")")
	bind "$vf" vfio-pci-bpf
	n=$((n + 1))
	case $k in 0|3|6) echo "vfio_exporter: $n devices, scrape $(scrape_time) us" |
		tee -a "$OUT/bench.txt" ;; esac
done
kill -TERM $exp; wait $exp
for k in 0 1 2 3 4 5 6; do
	unbind "$(basename "$(readlink "/sys/bus/pci/devices/$IGB/virtfn$k")")"
done
echo 0 >"/sys/bus/pci/devices/$IGB/sriov_numvfs"
unbind "$EDU1"
unbind "$EDU0"
