#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Rolling a policy out: monitor mode (every operation proceeds as under
# vfio-pci, each would-be denial or rewrite is recorded) switched to
# enforce at run time without re-applying or re-opening, and the audit
# trail: the vfio_pci_bpf_policy tracepoint with hook, verdict, mode,
# rule, policy name, pid and comm.  What the device saw is read back
# through sysfs.

. "$(dirname "$0")/lib.sh"

VB=$BUILD/vfio-bpf
T=/sys/kernel/tracing
MODES=/sys/bus/pci/drivers/vfio-pci-bpf/modes

# What the device holds is read through sysfs while the client has it open
# (vfio-client's sysfs-cfg op): closing restores the cache line size and
# clears bus master, and vfio only virtualizes some registers.
# The audit events recorded since the last clear.
events() { grep -o 'vfio_pci_bpf_policy: .*' $T/trace; }

check "modules load" load_modules
check "edu0 bound to vfio-pci-bpf" bind "$EDU0" vfio-pci-bpf

cat >"$OUT/rollout.yaml" <<EOT
version: 1
policies:
  - name: rollout
    match: { bdf: $EDU0 }
    mode: monitor
    config:
      - { offset: 0x0c, size: 1, write: deny }
      - { offset: 0x04, size: 2, write: mask, mask: 0x0004 }
    bars:
      - { bar: 0, offset: 0x4, size: 4, deny: write }
    reset: deny
EOT
check "policy check shows the mode" sh -c "'$VB' policy check '$OUT/rollout.yaml' | grep -q 'mode: monitor'"
check "applied in monitor mode" "$VB" policy apply "$OUT/rollout.yaml"
check "the kernel says monitor" grep -qx "$EDU0 monitor rollout" "$MODES"
check "policy show says monitor" sh -c "'$VB' policy show | grep -q 'mode: monitor'"

echo 1 >$T/events/vfio_pci_bpf/vfio_pci_bpf_policy/enable
: >$T/trace
# The same decisions through the product: pinned counters (vfio-bpf load,
# read by policy show and the exporter) and the live stream of vfio-trace.
check "counters loaded" "$VB" load
"$BUILD/vfio-trace" -j -e policy -d "$EDU0" >"$OUT/vt.json" 2>"$OUT/vt.err" &
VT_PID=$!
i=0
while ! grep -q tracing "$OUT/vt.err" && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done

# ---- monitor: everything proceeds, every decision is recorded ---------------
v=$(op "$EDU0" cfg-write:0x0c:1:0x10 sysfs-cfg:0x0c:1)
check "monitor: a denied config write reached the device (sysfs: $v)" test "$v" = 0x10
check "monitor: ... recorded as a monitored denial with its rule" \
	sh -c "grep -o 'vfio_pci_bpf_policy: .*' $T/trace | grep -q '$EDU0 config_write deny monitor rule=0 policy=rollout pid=[0-9]* comm=vfio-client region=7 off=0xc size=1 value=0x10'"
# Closing the device clears bus master: read the device while it is open.
v=$(op "$EDU0" cfg-write:0x4:2:0x6 sysfs-cfg:0x4:2)
check "monitor: a masked bit (bus master) reached the device (sysfs: $v)" test $(( v & 0x4 )) -eq 4
check "monitor: ... the rewrite recorded with the mask rule" \
	sh -c "grep -o 'vfio_pci_bpf_policy: .*' $T/trace | grep -q 'config_write rewrite monitor rule=1 policy=rollout'"
expect "monitor: BAR0 still advertises mmap" "0x7 mmap" "$EDU0" region-flags
expect "monitor: a denied BAR write goes through" "0x5a5a5a5a" "$EDU0" bar-write:0x4:0xa5a5a5a5 bar-read:0x4
check "monitor: ... recorded with its bars rule" \
	sh -c "grep -o 'vfio_pci_bpf_policy: .*' $T/trace | grep -q 'bar_access deny monitor rule=0 policy=rollout .* region=0 off=0x4 size=4'"
expect "monitor: reset reaches the core (edu has no reset: EINVAL)" "error EINVAL" "$EDU0" do-reset
check "monitor: ... recorded" sh -c "grep -o 'vfio_pci_bpf_policy: .*' $T/trace | grep -q 'reset deny monitor'"
n=$(events | grep -c ' enforce ')
check "monitor: nothing was enforced ($n enforce records)" test "$n" -eq 0
kill -INT $VT_PID; wait $VT_PID
check "vfio-trace -e policy: the monitored denial as JSON" \
	grep -q '"event":"policy".*"hook":"config_write","verdict":"deny","mode":"monitor","rule":0,"policy":"rollout","region":7,"offset":12,"size":1,"value":16' "$OUT/vt.json"
check "vfio-trace -e policy: ... with the user's comm" grep -q '"comm":"vfio-client"' "$OUT/vt.json"
n=$(grep -c '"event":"policy"' "$OUT/vt.json")
m=$(events | wc -l)
check "vfio-trace -e policy: as many decisions as the tracepoint fired ($n of $m)" test "$n" -eq "$m"
check "vfio-trace -e policy: only policy events" sh -c "! grep -v '\"event\":\"policy\"' '$OUT/vt.json' | grep -q ."
"$VB" policy show -d "$EDU0" >"$OUT/show.txt" 2>&1
check "policy show: per-rule hits of the monitored write denial" \
	grep -Eq 'config_write +deny +monitor +config\[0\] +1$' "$OUT/show.txt"
check "policy show: ... and of the mask rule" \
	grep -Eq 'config_write +rewrite +monitor +config\[1\] +[1-9]' "$OUT/show.txt"
"$BUILD/vfio_exporter" -l 127.0.0.1:9477 >"$OUT/exp.out" 2>"$OUT/exp.err" &
EXP_PID=$!
i=0
while ! grep -q serving "$OUT/exp.err" && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
curl -sf -o "$OUT/metrics.prom" http://127.0.0.1:9477/metrics
kill $EXP_PID; wait $EXP_PID
check "exporter: the policy in force and its mode" \
	grep -qx "vfio_policy_info{bdf=\"$EDU0\",policy=\"rollout\",mode=\"monitor\"} 1" "$OUT/metrics.prom"
check "exporter: monitored decisions by hook and verdict" \
	grep -qx "vfio_policy_decisions_total{bdf=\"$EDU0\",policy=\"rollout\",hook=\"config_write\",verdict=\"deny\",mode=\"monitor\"} 1" "$OUT/metrics.prom"
check "exporter: the policy collector succeeded" \
	grep -qx 'vfio_exporter_collector_success{collector="policy"} 1' "$OUT/metrics.prom"
check "exporter: the page passes promtool" sh -c "promtool check metrics <'$OUT/metrics.prom'"

# ---- switched to enforce at run time: no re-apply, no re-open ---------------
: >$T/trace
# A client opened under monitor keeps its file open across the switch.
"$BUILD/attack/path-mmap" revoke "$EDU0" -x "'$VB' policy mode enforce -d $EDU0 >$OUT/mode.txt" \
	>"$OUT/mmap-switch.txt" 2>&1
check "switch: vfio-bpf policy mode enforce" grep -qx "$EDU0: enforce" "$OUT/mode.txt"
check "switch: the kernel says enforce" grep -qx "$EDU0 enforce rollout" "$MODES"
check "switch: a mapping made under monitor faults once enforcing (SIGBUS)" \
	grep -q '^PASS: .*SIGBUS' "$OUT/mmap-switch.txt"
check "switch: ... and the device register kept its value" \
	sh -c "! grep -q '^FAIL' '$OUT/mmap-switch.txt'"
expect "enforce: the denied config write fails" "error EPERM" "$EDU0" cfg-write:0x0c:1:0x20
v=$(op "$EDU0" cfg-write:0x0c:1:0x20 sysfs-cfg:0x0c:1)
check "enforce: ... the device unchanged (sysfs: $v)" test "$v" = 0
check "enforce: ... recorded as an enforced denial" \
	sh -c "grep -o 'vfio_pci_bpf_policy: .*' $T/trace | grep -q '$EDU0 config_write deny enforce rule=0 policy=rollout .*comm=vfio-client'"
v=$(op "$EDU0" cfg-write:0x4:2:0x6 sysfs-cfg:0x4:2)
check "enforce: the masked bit (bus master) never reached the device (sysfs: $v)" test $(( v & 0x6 )) -eq 2
expect "enforce: BAR0 trapped (no mmap)" "0x3 no-mmap" "$EDU0" region-flags
expect "enforce: reset denied" "error EPERM" "$EDU0" do-reset

# ---- and back, for every policy at once ----------------------------------
check "mode monitor for all" "$VB" policy mode monitor
check "the kernel says monitor again" grep -qx "$EDU0 monitor rollout" "$MODES"
v=$(op "$EDU0" cfg-write:0x0c:1:0x08 sysfs-cfg:0x0c:1)
check "monitor again: the write goes through (sysfs: $v)" test "$v" = 0x8

# ---- require_policy without a policy: recorded, with no policy name -------
"$VB" policy remove -d "$EDU0" >/dev/null
: >$T/trace
echo 1 >/sys/module/vfio_pci_bpf/parameters/require_policy
op "$EDU0" region-flags >/dev/null
echo 0 >/sys/module/vfio_pci_bpf/parameters/require_policy
check "require_policy: the refused open is recorded, enforced, with no policy" \
	sh -c "grep -o 'vfio_pci_bpf_policy: .*' $T/trace | grep -q '$EDU0 open deny enforce rule=-1 policy= pid='"

# ---- bad input ----------------------------------------------------------------
check "mode: a device without a policy is refused" sh -c "! '$VB' policy mode enforce -d $EDU1 2>$OUT/mode.err"
check "mode: ... saying so" grep -q 'no policy attached there' "$OUT/mode.err"
check "mode: a bad mode is refused" sh -c "! '$VB' policy mode permissive 2>/dev/null"
echo 0 >$T/events/vfio_pci_bpf/vfio_pci_bpf_policy/enable
"$VB" unload >/dev/null
! grep -q '^FAIL' "$RESULTS"
