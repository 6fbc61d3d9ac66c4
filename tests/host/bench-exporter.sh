#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vfio_exporter at 1, 100, 1,000 and 10,000 devices on the build machine
# (build/exporter-scale: the exporter's code, a sysfs tree of synthetic
# VFs, synthetic counters; nothing loaded), one process per size, so that
# each one's VmRSS and VmHWM are its own.  Prints a Markdown table and
# keeps the raw lines in build/bench-exporter.txt.
#   usage: tests/host/bench-exporter.sh [DEVICES...]
set -eu

TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$TOP"
raw=build/bench-exporter.txt
# sysfs is in memory: so is the tree, where there is a tmpfs.
root=build/exporter-scale.sysfs
[ -d /dev/shm ] && [ -w /dev/shm ] && root=/dev/shm/vfio-exporter-scale.$$
: >"$raw"
for n in ${*:-1 100 1000 10000}; do
	build/exporter-scale -n "$n" -r "${ROUNDS:-20}" -s "$root" | tee -a "$raw" >/dev/null
done
rm -rf "$root"
echo "exporter at scale, $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(date -u +%Y-%m-%d), load average $(cut -d' ' -f1-3 /proc/loadavg):"
echo
echo '| devices | scrape median (min–max), ms | exporter CPU per scrape, ms | page build alone, ms | page | VmRSS | VmHWM | first scrape (sysfs read), ms |'
echo '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |'
awk '{ for (i = 1; i < NF; i += 2) v[$i] = $(i + 1)
	printf "| %d | %.2f (%.2f–%.2f) | %.2f | %.2f | %.1f MB | %.1f MB | %.1f MB | %.0f |\n",
		v["devices"], v["median_ms"], v["min_ms"], v["max_ms"], v["cpu_ms"], v["build_ms"],
		v["page_bytes"] / 1e6, v["rss_kb"] / 1024, v["hwm_kb"] / 1024, v["first_ms"] }' "$raw"
