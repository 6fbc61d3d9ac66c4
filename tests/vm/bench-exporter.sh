#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vfio_exporter at scale on the real kernel: the real binary reading the
# counters `vfio-bpf load` pinned, with real devices bound (edu0, edu1 and
# two igb VFs, each used once) and the counts hash filled with synthetic
# devices (domain 0002, never bound: counted, unbound since, so they have
# their operation series and no device_info; the hash is where devices
# without a slot are counted) up to 100, 1,000 and 4,096 in all.  Per
# step: the median, min and max of 20 curl scrapes (time_total, guest
# time), the page's size, the exporter's VmRSS and VmHWM.  Then the memory
# of the per-CPU maps (bpftool's memlock), and a device bound after the
# counts hash is full: the per-slot array still counts it.  make
# bench-exporter runs it with VM_ICOUNT=1, as make bench runs bench.sh:
# guest time is then guest instructions.  Results in
# $OUT/bench-exporter.txt; docs/benchmarks.md has the table.

. "$(dirname "$0")/lib.sh"

EXP=$BUILD/vfio_exporter
URL=http://127.0.0.1:9466/metrics
PINS=/sys/fs/bpf/vfio-bpf/counters
R=$OUT/bench-exporter.txt
ROUNDS=${ROUNDS:-20}
: >"$R"

say() { echo "$*" | tee -a "$R"; }

load_modules || { echo "bench-exporter: cannot load modules" >&2; exit 1; }
modprobe igb
echo 0 >"/sys/bus/pci/devices/$IGB/sriov_drivers_autoprobe"
echo 3 >"/sys/bus/pci/devices/$IGB/sriov_numvfs"
vf() { basename "$(readlink "/sys/bus/pci/devices/$IGB/virtfn$1")"; }
bind "$EDU0" vfio-pci-bpf || exit 1
"$BUILD/vfio-bpf" load >"$OUT/load.txt" 2>&1 || { cat "$OUT/load.txt"; exit 1; }

"$EXP" >"$OUT/exp-scale.out" 2>"$OUT/exp-scale.err" &
exp=$!
i=0
while ! curl -sf -o /dev/null "$URL" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done

# measure DEVICES: ROUNDS scrapes, one line of results.  Pages go to the
# guest's own /tmp: a write to the shared $OUT would be host I/O, which
# -icount's clock counts as the time it waits.
measure() {
	j=0
	while [ $j -lt "$ROUNDS" ]; do
		t=$(curl -sf -o /tmp/scale.prom -w '%{time_total} %{size_download}' "$URL") || t=fail
		echo "$t $(tail -c 4096 /tmp/scale.prom |
			awk '/^vfio_exporter_scrape_duration_seconds / { print $2 }')"
		j=$((j + 1))
	done >"$OUT/scale-$1.times"
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$exp/status")
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$exp/status")
	series=$(grep -c '^vfio_operations_total{' /tmp/scale.prom)
	own=$(awk '{ print $3 * 1e3 }' "$OUT/scale-$1.times" | sort -n |
		awk '{ t[NR] = $1 } END { printf "%.2f", NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2 }')
	sort -n "$OUT/scale-$1.times" | awk -v n="$1" -v rss="$rss" -v hwm="$hwm" -v own="$own" \
		-v series="$series" '
		{ t[NR] = $1 * 1e3; b = $2 }
		END { m = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
		      printf "devices %d: scrape median %.2f ms (min %.2f, max %.2f; exporter'"'"'s own median %s ms), page %d bytes, %d operation series, VmRSS %d kB, VmHWM %d kB\n",
			n, m, t[1], t[NR], own, b, series, rss, hwm }' | tee -a "$R"
}

# fill FROM TO: synthetic devices FROM..TO-1 into the counts map, all twelve
# operations each, in one bpftool process.
fill() {
	awk -v from="$1" -v to="$2" -v map="$PINS/counts" 'BEGIN {
		split("0 1 2 3 4 5 6 7 8 9 12 13", kinds, " ")
		for (i = from; i < to; i++)
			for (k = 1; k <= 12; k++)
				printf "map update pinned %s key %d %d 2 0 %d 0 0 0 value %d %d 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
					map, i % 256, int(i / 256) % 256, kinds[k], (i + k) % 256, k
	}' >"$OUT/fill.batch"
	bpftool batch file "$OUT/fill.batch" >"$OUT/fill.out" 2>&1 ||
		{ say "bench-exporter: filling the counts map failed: $(tail -n 2 "$OUT/fill.out")"; return 1; }
}

"$CLIENT" "$EDU0" cfg-read:0x0:2 >/dev/null 2>&1
measure 1
real=1
for d in "$EDU1" "$(vf 0)" "$(vf 1)"; do
	bind "$d" vfio-pci-bpf && "$CLIENT" "$d" cfg-read:0x0:2 >/dev/null 2>&1 && real=$((real + 1))
done
say "real devices bound: $real"
synth=0
for n in 100 1000 4096; do
	fill $synth $((n - real)) || break
	synth=$((n - real))
	measure "$n"
done

# What the per-device maps cost, on this guest's CPUs.
say "possible CPUs: $(cat /sys/devices/system/cpu/possible) (memlock counts each map's per-CPU values once per possible CPU)"
for m in slot_counts counts hists deliveries decisions; do
	bpftool map show pinned "$PINS/$m" | tr '\n' ' ' |
		awk -v m="$m" '{ for (i = 1; i <= NF; i++) {
			if ($i == "max_entries") e = $(i + 1)
			if ($i == "memlock") b = $(i + 1) }
			printf "map %s: max_entries %s, memlock %s\n", m, e, b }' | tee -a "$R"
done

# Past the counts hash's capacity (the synthetic devices are there, as
# devices without a slot would be): a device bound now has a slot, so the
# per-slot array counts it all the same, and nothing is untracked.
fill $synth $((5200 - real)) >/dev/null 2>&1
why=$(grep -m 1 'Error' "$OUT/fill.out")
d=$(vf 2)
bind "$d" vfio-pci-bpf && "$CLIENT" "$d" cfg-read:0x0:2 >/dev/null 2>&1
curl -sf -o /tmp/full.prom "$URL"
say "counts hash filled past its capacity (bpftool: ${why:-no error}); $d bound after, slot $(cat "/sys/bus/pci/devices/$d/vfio_bpf_slot"): $(grep "^vfio_operations_total{bdf=\"$d\",op=\"config_read\"}" /tmp/full.prom); $(grep '^vfio_exporter_devices_' /tmp/full.prom | tr '\n' ' ')"
say "warnings on stderr: $(grep -c 'slot\|not counted' "$OUT/exp-scale.err")"

kill -TERM $exp; wait $exp
"$BUILD/vfio-bpf" unload >/dev/null 2>&1
for k in 0 1 2; do unbind "$(vf $k)"; done
echo 0 >"/sys/bus/pci/devices/$IGB/sriov_numvfs"
unbind "$EDU1"
unbind "$EDU0"
