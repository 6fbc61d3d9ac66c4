#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vfio-trace keeping up (make bench-trace): every event of edu0 streamed as
# JSON to /dev/null while vfio-client's bench workload (config, BAR and
# ioctl loops, MSI round trips) runs as fast as one thread can; how many
# events arrived, how many were lost, at what rate.  With 2 vCPUs the
# consumer has a CPU of its own (taskset); with 1 it shares the client's.
# Each with the default ring buffer and a deliberately small one.

. "$(dirname "$0")/lib.sh"

load_modules || { echo "bench-trace: cannot load modules" >&2; exit 1; }
bind "$EDU0" vfio-pci-bpf || exit 1
ncpu=$(nproc)
now() { cut -d' ' -f1 /proc/uptime; }

# run LABEL BUFFER: one streamed bench run; appends a line to trace-rate.txt.
run() {
	_pin_t= _pin_c=
	if [ "$ncpu" -ge 2 ]; then _pin_t="taskset -c 1" _pin_c="taskset -c 0"; fi
	# shellcheck disable=SC2086
	$_pin_t "$BUILD/vfio-trace" -j -d "$EDU0" ${2:+-b "$2"} >/dev/null 2>"$OUT/vt-$1.err" &
	_vt=$!
	_i=0
	while ! grep -q tracing "$OUT/vt-$1.err" && [ $_i -lt 600 ]; do sleep 0.1; _i=$((_i + 1)); done
	_t0=$(now)
	# shellcheck disable=SC2086
	$_pin_c "$CLIENT" "$EDU0" bench >/dev/null
	_t1=$(now)
	kill -INT $_vt
	wait $_vt
	awk -v l="$1" -v b="${2:-1M (default)}" -v c="$ncpu" -v t0="$_t0" -v t1="$_t1" '
		/events shown/ {
			n = $2 + $5
			printf "%s: %d vCPU, buffer %s: %d events in %.2f s (%.0f/s), %d shown, %d lost (%.2f %%)\n",
			       l, c, b, n, t1 - t0, n / (t1 - t0), $2, $5, n ? 100 * $5 / n : 0
		}' "$OUT/vt-$1.err" | tee -a "$OUT/trace-rate.txt"
}

run "default" ""
run "small" 16K
unbind "$EDU0"
