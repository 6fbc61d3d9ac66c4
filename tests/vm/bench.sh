#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make bench: what the product costs, per operation, in one guest boot.
# Modes (what is attached), interleaved round after round (A B C ... A B
# C ..., BENCH_RUNS rounds, default 5) so that drift in the guest hits
# every mode alike, all on edu 0000:00:04.0 and on the patched
# vfio_pci_core (docs/upstream/), which vfio-pci and vfio-pci-bpf share:
#
#   vfio-pci          stock vfio-pci, nothing attached: the baseline
#   kprobe-bpftrace   stock vfio-pci, bpftrace kprobe count() on
#                     vfio_pci_core_read/_write/_ioctl
#   stock-fentry      stock vfio-pci, vfio-bpf load --stock
#   idle              vfio-pci-bpf, nothing attached
#   counters          vfio-pci-bpf, vfio-bpf load
#   policy            vfio-pci-bpf, vfio-bpf policy apply bench-policy.yaml
#   counters+policy   both
#   trace             vfio-pci-bpf, vfio-trace -j >/dev/null (every event)
#   exporter          vfio-pci-bpf, vfio_exporter scraped once a second
#
# Each mode runs `vfio-client BDF bench` once per round: the workloads
# config_read_4 config_write_1 bar_read_4 msi_roundtrip ioctl_region_info
# migration_cycle open_close, single thread.  Run with VM_ICOUNT=1 (make
# bench does): the guest clock counts instructions, so the numbers are
# guest instructions per operation.  Output: the table (stdout,
# $OUT/bench.txt, $OUT/bench.md) and $OUT/results.json; then the
# vfio-trace rate and the exporter's scrape time against devices.

. "$(dirname "$0")/lib.sh"

load_modules || { echo "bench: cannot load modules" >&2; exit 1; }
runs=${BENCH_RUNS:-5}
MODES=${BENCH_MODES:-"vfio-pci kprobe-bpftrace stock-fentry idle counters policy counters+policy trace exporter"}
WORKLOADS="config_read_4 config_write_1 bar_read_4 msi_roundtrip ioctl_region_info open_close migration_cycle"
VB=$BUILD/vfio-bpf
BENCH_POLICY=$TOP/tests/vm/bench-policy.yaml
URL=http://127.0.0.1:9466/metrics
LOG=$OUT/bench.log
: >"$LOG"

say() { echo "bench: $*" | tee -a "$LOG" >&2; }

# wait_for FILE PATTERN: until FILE has PATTERN (60 s of guest time).
wait_for() {
	_i=0
	while ! grep -q "$2" "$1" 2>/dev/null && [ $_i -lt 600 ]; do sleep 0.1; _i=$((_i + 1)); done
	grep -q "$2" "$1"
}

# progs_gone PREFIX: no BPF program named PREFIX* is left (links and
# programs go after an RCU grace period), so the next mode pays nothing.
progs_gone() {
	_i=0
	while bpftool prog show | grep -q "name $1" && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
	! bpftool prog show | grep -q "name $1"
}

on_driver() {	# on_driver DRIVER: edu0 bound to it
	[ "$(driver_of "$EDU0")" = "$1" ] || bind "$EDU0" "$1"
}

# setup MODE: attach what MODE measures; non-zero when it could not.
setup() {
	case $1 in
	vfio-pci) on_driver vfio-pci ;;
	kprobe-bpftrace)
		on_driver vfio-pci || return 1
		bpftrace -e 'kprobe:vfio_pci_core_read,kprobe:vfio_pci_core_write,kprobe:vfio_pci_core_ioctl { @[probe] = count(); }' \
			>"$OUT/bpftrace.out" 2>&1 &
		BG=$!
		wait_for "$OUT/bpftrace.out" Attaching && sleep 1 ;;
	stock-fentry) on_driver vfio-pci && "$VB" load --stock >>"$LOG" 2>&1 ;;
	idle) on_driver vfio-pci-bpf ;;
	counters) on_driver vfio-pci-bpf && "$VB" load >>"$LOG" 2>&1 ;;
	policy)
		on_driver vfio-pci-bpf &&
			"$VB" policy apply -d "$EDU0" "$BENCH_POLICY" >>"$LOG" 2>&1 ;;
	counters+policy)
		on_driver vfio-pci-bpf && "$VB" load >>"$LOG" 2>&1 &&
			"$VB" policy apply -d "$EDU0" "$BENCH_POLICY" >>"$LOG" 2>&1 ;;
	trace)
		on_driver vfio-pci-bpf || return 1
		"$BUILD/vfio-trace" -j >/dev/null 2>"$OUT/trace.err" &
		BG=$!
		wait_for "$OUT/trace.err" tracing ;;
	exporter)
		on_driver vfio-pci-bpf || return 1
		"$BUILD/vfio_exporter" >/dev/null 2>"$OUT/exporter.err" &
		BG=$!
		wait_for "$OUT/exporter.err" serving || return 1
		# What Prometheus does: one scrape a second (guest time), on one
		# kept-alive connection, so that what is timed is the scrape and
		# not a new curl each second.
		curl -s -o /dev/null "$URL" || return 1
		curl -s --rate 1/s "$URL?[1-1000000]" >/dev/null &
		SCRAPER=$!
		# curl's own start-up (exec, libraries) is not the exporter's.
		sleep 2 ;;
	esac
}

# teardown MODE: detach it, and wait until nothing of it runs.
teardown() {
	case $1 in
	kprobe-bpftrace) kill -INT "$BG"; wait "$BG" ;;
	stock-fentry) "$VB" unload >>"$LOG" 2>&1; progs_gone vst_ ;;
	counters) "$VB" unload >>"$LOG" 2>&1; progs_gone vft_ ;;
	policy) "$VB" policy remove -d "$EDU0" >>"$LOG" 2>&1 ;;
	counters+policy)
		"$VB" policy remove -d "$EDU0" >>"$LOG" 2>&1
		"$VB" unload >>"$LOG" 2>&1; progs_gone vft_ ;;
	trace)
		kill -INT "$BG"; wait "$BG"
		# How much of the stream arrived: "N events shown, M lost".
		sed -n 's/^vfio-trace: \([0-9]* events shown.*\)$/trace: \1/p' "$OUT/trace.err" >>"$LOG"
		progs_gone vft_ ;;
	exporter)
		kill "$SCRAPER"; wait "$SCRAPER" 2>/dev/null
		kill -TERM "$BG"; wait "$BG"; progs_gone vft_ ;;
	esac
}

t_start=$(cut -d' ' -f1 /proc/uptime)
: >"$OUT/bench.raw"
r=1
while [ $r -le "$runs" ]; do
	for m in $MODES; do
		if ! setup "$m"; then
			say "round $r: $m: set-up failed, not measured"
			teardown "$m"
			continue
		fi
		"$CLIENT" "$EDU0" bench 2>>"$LOG" |
			sed -n "s/^  bench\.\([a-z0-9_]*\): /$m $r \1 /p" >>"$OUT/bench.raw"
		teardown "$m"
	done
	say "round $r of $runs done ($(cut -d' ' -f1 /proc/uptime) s guest time)"
	r=$((r + 1))
done
unbind "$EDU0"
say "$runs rounds of $(echo "$MODES" | wc -w) modes in $(awk -v t="$t_start" '{ printf "%.0f", $1 - t }' /proc/uptime) s of guest time"

# Per mode and workload: median, min and max over the rounds, and the
# median's ratio to vfio-pci's median of the same workload.  Stock
# vfio-pci has no migration driver for edu: migration_cycle has no
# vfio-pci value, and so no ratio (null); bench.txt gives it against idle.
awk -v modes="$MODES" -v workloads="$WORKLOADS" -v runs="$runs" \
    -v json="$OUT/results.json" -v md="$OUT/bench.md" '
{ v[$1 " " $3] = v[$1 " " $3] " " $4 }
function stats(s,   a, n, i, j, t) {	# sets med, lo, hi; returns n
	n = split(s, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
		if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	if (!n) return 0
	med = n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	lo = a[1]; hi = a[n]
	return n
}
END {
	nm = split(modes, M, " "); nw = split(workloads, W, " ")
	for (w = 1; w <= nw; w++) {
		base[W[w]] = stats(v["vfio-pci " W[w]]) ? med : ""
		idle[W[w]] = stats(v["idle " W[w]]) ? med : ""
	}
	printf "[\n" >json
	sep = ""
	printf "%-18s", "workload" 
	for (m = 1; m <= nm; m++) printf " %17s", M[m]
	printf "\n"
	printf "| workload |" >md
	for (m = 1; m <= nm; m++) printf " %s |", M[m] >md
	printf "\n| --- |" >md
	for (m = 1; m <= nm; m++) printf " --- |" >md
	printf "\n" >md
	for (w = 1; w <= nw; w++) {
		k = W[w]
		printf "%-18s", k
		printf "| %s |", k >md
		for (m = 1; m <= nm; m++) {
			n = stats(v[M[m] " " k])
			ratio = n && base[k] != "" ? sprintf("%.3f", med / base[k]) : "null"
			if (n)
				printf "%s{\"mode\": \"%s\", \"workload\": \"%s\", \"median\": %.1f, \"min\": %.1f, \"max\": %.1f, \"ratio\": %s}",
					sep, M[m], k, med, lo, hi, ratio >json
			else
				printf "%s{\"mode\": \"%s\", \"workload\": \"%s\", \"median\": null, \"min\": null, \"max\": null, \"ratio\": null}",
					sep, M[m], k >json
			sep = ",\n"
			if (!n) {
				printf " %17s", "-"
				printf " - |" >md
			} else if (ratio != "null") {
				printf " %9.1f %6.3fx", med, ratio
				printf " %.1f (%.3fx) [%.0f-%.0f] |", med, ratio, lo, hi >md
			} else if (idle[k] != "") {
				printf " %9.1f %5.3fi", med, med / idle[k]
				printf " %.1f (%.3fx idle) [%.0f-%.0f] |", med, med / idle[k], lo, hi >md
			} else {
				printf " %9.1f %7s", med, ""
				printf " %.1f [%.0f-%.0f] |", med, lo, hi >md
			}
		}
		printf "\n"
		printf "\n" >md
	}
	printf "\n]\n" >json
}' "$OUT/bench.raw" | tee "$OUT/bench.txt"
{
	echo "(median of $runs interleaved rounds per mode: guest instructions per operation"
	echo " under make bench's -icount, else ns; then the ratio to vfio-pci's median;"
	echo " \"i\": to idle, where vfio-pci has no value; kernel $(uname -r))"
} | tee -a "$OUT/bench.txt"
grep '^trace:' "$LOG" | tee -a "$OUT/bench.txt"
grep 'not timed\|not measured\|interrupts arrived\|migration cycle' "$LOG" | sort | uniq -c |
	sed 's/^/bench: warning: /' | tee -a "$OUT/bench.txt"

# vfio-trace keeping up: config reads as fast as one client can make them,
# streamed as JSON to /dev/null; how many arrived, how many were lost.
bind "$EDU0" vfio-pci-bpf
now() { cut -d' ' -f1 /proc/uptime; }
"$BUILD/vfio-trace" -j -d "$EDU0" -e config_read >/dev/null 2>"$OUT/vt-bench.err" &
vt=$!
i=0
while ! grep -q tracing "$OUT/vt-bench.err" && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
t0=$(now)
BENCH_ONLY=config_read_4 "$CLIENT" "$EDU0" bench >/dev/null
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
