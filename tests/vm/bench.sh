#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Cost per access on stock vfio-pci and on vfio-pci-bpf, side by side in one
# guest run.  Run with VM_ICOUNT=1 (make bench does): the guest clock then
# counts instructions, and the figures repeat to well under 1 %.

. "$(dirname "$0")/lib.sh"

load_modules || { echo "bench: cannot load modules" >&2; exit 1; }
runs=${BENCH_RUNS:-3}
for drv in vfio-pci vfio-pci-bpf; do
	bind "$EDU0" "$drv" || exit 1
	i=0
	while [ $i -lt "$runs" ]; do
		"$CLIENT" "$EDU0" bench | sed -n "s/^  bench\.\([a-z0-9_]*\): /$drv \1 /p"
		i=$((i + 1))
	done
done >"$OUT/bench.raw"

# Median of the runs per driver and path, then the ratio to vfio-pci.
{
	printf '%-22s %12s %14s %8s\n' path vfio-pci vfio-pci-bpf ratio
	awk '{ v[$1 " " $2] = v[$1 " " $2] " " $3; paths[$2] = 1 }
	function median(s,   a, n, i, j, t) {
		n = split(s, a, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
			if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return a[int((n + 1) / 2)]
	}
	END {
		for (p in paths) {
			s = median(v["vfio-pci " p]); b = median(v["vfio-pci-bpf " p])
			printf "%-22s %12.1f %14.1f %8.4f\n", p, s, b, b / s
		}
	}' "$OUT/bench.raw" | sort
} | tee "$OUT/bench.txt"
echo "(units: guest instructions per access with -icount, else ns)"
unbind "$EDU0"
