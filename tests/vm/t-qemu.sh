#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A real VFIO client: QEMU (the host's qemu-system-x86_64, nested, TCG)
# assigns edu0 and an igb VF through vfio-pci-bpf, once with no policy and
# once per example policy in etc/: it realizes the devices, runs SeaBIOS,
# and quits cleanly.  vfio-trace shows QEMU's accesses; the QEMU monitor
# (info pci, info mtree, xp) and sysfs show that what the policy denies,
# traps or rewrites is what QEMU and the device saw.  Then QEMU migrations
# of a VM with edu0 into a second QEMU with edu1 (edu provider), running
# and paused.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/qemu-lib.sh"

VT=$BUILD/vfio-trace
VB=$BUILD/vfio-bpf
PEEK=$BUILD/attack/sysfs-peek
EDU_IDENT=0x010000ed
Q=$OUT/qemu
mkdir -p "$Q"

check "modules: vfio-pci and vfio_pci_bpf load" load_modules
check "edu0: bind to vfio-pci-bpf" bind "$EDU0" vfio-pci-bpf
check "edu1: bind to vfio-pci-bpf" bind "$EDU1" vfio-pci-bpf
check "igb: modprobe" modprobe igb
echo 0 >"/sys/bus/pci/devices/$IGB/sriov_drivers_autoprobe"
check "igb: create 1 VF" sh -c "echo 1 >/sys/bus/pci/devices/$IGB/sriov_numvfs"
VF=$(basename "$(readlink "/sys/bus/pci/devices/$IGB/virtfn0")")
check "vf0 ($VF): bind to vfio-pci-bpf" bind "$VF" vfio-pci-bpf

# vfio-trace in the background, JSON lines, until vt_stop.
vt_start() {
	"$VT" -j >"$Q/$1.trace" 2>"$Q/$1.trace-err" &
	VT_PID=$!
	_i=0
	while ! grep -q tracing "$Q/$1.trace-err" 2>/dev/null && [ $_i -lt 300 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
}
vt_stop() { kill -INT "$VT_PID"; wait "$VT_PID"; }

# ev LABEL BDF EVENT [JQ-CONDITION]: how many such events vfio-trace saw.
ev() {
	jq -c "select(.bdf == \"$2\" and .event == \"$3\" ${4:+and ($4)})" "$Q/$1.trace" | wc -l
}

# cfg16 BDF OFFSET: a config word as the device holds it (sysfs), decimal.
cfg16() {
	od -An -tu2 -j "$2" -N2 "/sys/bus/pci/devices/$1/config" | tr -d ' '
}

# xp LABEL ADDR FILE: one 32-bit word of QEMU's guest-physical memory into
# FILE; what QEMU printed around it (an error of a trapped read goes to the
# monitor) into FILE.raw.
xp() {
	nq_hmp "$1" "xp /1wx $2" >"$3.raw"
	grep -o '0x[0-9a-f]*$' "$3.raw" | tail -n 1 >"$3"
}

# qemu_run LABEL: QEMU with edu0 and the VF under whatever policy is in
# force; leaves $Q/LABEL.* (trace, qmp, err, bios, pci, mtree, xp-*,
# cmd-*) for the checks.
qemu_run() {
	_l=$1
	vt_start "$_l"
	if ! nq_start "$_l" -device vfio-pci,host="$EDU0",id=edu \
			-device vfio-pci,host="$VF",id=vf; then
		fail "$_l: QEMU did not start: $(tail -c 400 "$NQ/$_l.err" | tr '\n' ' ')"
		nq_quit "$_l" 2>/dev/null
		vt_stop
		return 1
	fi
	nq_hmp "$_l" "info mtree -f" >"$Q/$_l.mtree-paused"
	nq_qmp "$_l" '"execute": "cont"' >/dev/null
	if nq_bios_wait "$_l" "Searching bootorder"; then
		pass "$_l: QEMU realized both devices and SeaBIOS ran"
	else
		fail "$_l: SeaBIOS did not get to the boot order: $(tail -c 200 "$NQ/$_l.bios" | tr '\n' ' ')"
	fi
	nq_hmp "$_l" "info pci" >"$Q/$_l.pci"
	nq_hmp "$_l" "info mtree -f" >"$Q/$_l.mtree"
	_bar=$(nq_bar "$_l" edu 0)
	echo "$_bar" >"$Q/$_l.edu-bar"
	if [ -n "$_bar" ]; then
		xp "$_l" "$_bar" "$Q/$_l.xp-ident"
		xp "$_l" "$((_bar + 0x80))" "$Q/$_l.xp-dma"
	fi
	cfg16 "$EDU0" 4 >"$Q/$_l.cmd-edu"
	cfg16 "$VF" 4 >"$Q/$_l.cmd-vf"
	nq_quit "$_l"
	_rc=$?
	vt_stop
	cp "$NQ/$_l.err" "$NQ/$_l.bios" "$NQ/$_l.qmp" "$Q/" 2>/dev/null
	check "$_l: QEMU quit cleanly (exit $_rc)" test "$_rc" -eq 0
	if [ -s "$Q/$_l.err" ]; then
		note "$_l: QEMU printed: $(head -c 600 "$Q/$_l.err" | tr '\n' '|')"
	fi
}

# The accesses every run makes, whatever the policy: QEMU opened and closed
# each device once, read and wrote config space, asked for region info.
common_checks() {
	_l=$1
	for _d in "$EDU0" "$VF"; do
		_o=$(ev "$_l" "$_d" open) _c=$(ev "$_l" "$_d" close)
		check "$_l: $_d opened and closed once ($_o, $_c)" test "$_o" -eq 1 -a "$_c" -eq 1
		_r=$(ev "$_l" "$_d" config_read '.ret > 0')
		_w=$(ev "$_l" "$_d" config_write)
		check "$_l: $_d config reads ($_r) and writes ($_w)" test "$_r" -gt 0 -a "$_w" -gt 0
		_i=$(ev "$_l" "$_d" ioctl '.nr == 108 and .ret == 0')
		check "$_l: $_d region info asked ($_i)" test "$_i" -gt 0
	done
	check "$_l: info pci lists edu" grep -q 'PCI device 1234:11e8' "$Q/$_l.pci"
	check "$_l: info pci lists the VF" grep -q 'PCI device 8086:10ca' "$Q/$_l.pci"
	check "$_l: SeaBIOS mapped edu's BAR0" test -n "$(cat "$Q/$_l.edu-bar")"
	check "$_l: xp reads edu's ident ($(cat "$Q/$_l.xp-ident" 2>/dev/null))" \
		test "$(cat "$Q/$_l.xp-ident" 2>/dev/null)" = "$EDU_IDENT"
}

# edu_bar0 LABEL mmap|trapped: how QEMU reached edu's BAR0.
edu_bar0() {
	_l=$1
	_m=$(ev "$_l" "$EDU0" mmap '.index == 0')
	_rd=$(ev "$_l" "$EDU0" bar_read ".offset == 0 and .ret == 4 and .value == $((EDU_IDENT))")
	if [ "$2" = mmap ]; then
		check "$_l: edu BAR0 mmap'ed ($_m mmap events)" test "$_m" -ge 1
		check "$_l: info mtree shows edu BAR0 mmaps[0]" \
			grep -q '0000:00:04.0 BAR 0 mmaps\[0\]' "$Q/$_l.mtree"
		check "$_l: xp went through the mapping, not read() ($_rd bar_read)" test "$_rd" -eq 0
	else
		check "$_l: edu BAR0 not mmap'ed ($_m mmap events)" test "$_m" -eq 0
		check "$_l: info mtree shows edu BAR0 on the slow path" \
			sh -c "grep -q '0000:00:04.0 BAR 0\$' '$Q/$_l.mtree' && ! grep -q '0000:00:04.0 BAR 0 mmaps' '$Q/$_l.mtree'"
		check "$_l: xp of the ident is a trapped bar_read ($_rd)" test "$_rd" -ge 1
	fi
}

# vf_reset LABEL RET: QEMU's VF reset at realize/system reset got RET.
vf_reset() {
	_n=$(ev "$1" "$VF" reset ".ret == $2")
	_all=$(ev "$1" "$VF" reset)
	check "$1: VF resets returned $2 ($_n of $_all)" test "$_n" -ge 1 -a "$_n" -eq "$_all"
}

# ---- no policy ----------------------------------------------------------------
"$VB" policy remove >/dev/null 2>&1
qemu_run none
common_checks none
edu_bar0 none mmap
vf_reset none 0
m=$(ev none "$VF" mmap)
check "none: VF BARs mmap'ed ($m)" test "$m" -ge 2
check "none: SeaBIOS's SERR# reached the VF ($(cat "$Q/none.cmd-vf"))" \
	test $(($(cat "$Q/none.cmd-vf") & 0x100)) -ne 0
t=$(ev none "$EDU0" mig_transition '.ret == 0')
check "none: edu advertises migration: QEMU changed its state at stop/start ($t)" test "$t" -ge 2

# ---- each example policy ------------------------------------------------------
for f in etc/*.yaml; do
	l=$(basename "$f" .yaml)
	check "$l: vfio-bpf policy check accepts $f" "$VB" policy check "$f"
	check "$l: vfio-bpf policy apply $f" "$VB" policy apply "$f"
	qemu_run "$l"
	common_checks "$l"
	"$VB" policy remove >/dev/null 2>&1
done

# policy.example.yaml: edu-lockdown (BAR0 trapped, interrupt line denied,
# no bus mastering, 1 MSI) and vf-default (reset denied).
l=policy.example
edu_bar0 $l trapped
vf_reset $l -1

# policy-gpu-like.yaml: BAR0 trapped, its DMA window denied to QEMU.
l=policy-gpu-like
edu_bar0 $l trapped
check "$l: xp of the denied DMA register reads all ones ($(cat "$Q/$l.xp-dma"))" \
	test "$(cat "$Q/$l.xp-dma")" = 0xffffffff
n=$(ev $l "$EDU0" bar_read '.offset == 128 and .ret == -1')
check "$l: that read was a denied bar_read ($n)" test "$n" -ge 1
check "$l: QEMU reported the denied read on its monitor" \
	grep -q 'vfio_region_read(0000:00:04.0:region0+0x80, 4) failed: Operation not permitted' "$Q/$l.xp-dma.raw"
vf_reset $l 0

# policy-nic-vf.yaml: VF command masked, subsystem rewritten, reset denied.
l=policy-nic-vf
edu_bar0 $l mmap
vf_reset $l -1
n=$(ev $l "$VF" config_write '.offset == 4 and .ret == 2 and (.value | . % 512 >= 256) and (.new | . % 512 < 256)')
check "$l: SeaBIOS's SERR# write to the VF was masked ($n)" test "$n" -ge 1
check "$l: the VF's command register lacks SERR# ($(cat "$Q/$l.cmd-vf"))" \
	test $(($(cat "$Q/$l.cmd-vf") & 0x140)) -eq 0
check "$l: info pci shows the rewritten subsystem" \
	sh -c "grep -A1 'PCI device 8086:10ca' '$Q/$l.pci' | grep -q 'PCI subsystem 8086:0001'"
m=$(ev $l "$VF" mmap)
check "$l: VF BARs still mmap'ed ($m)" test "$m" -ge 2

# policy-lockdown.yaml: every BAR trapped, no SERR#, reset denied.
l=policy-lockdown
edu_bar0 $l trapped
vf_reset $l -1
m=$(jq -c 'select(.event == "mmap")' "$Q/$l.trace" | wc -l)
check "$l: nothing mmap'ed ($m)" test "$m" -eq 0
check "$l: info mtree has no mmaps of either device" sh -c "! grep -q 'mmaps' '$Q/$l.mtree'"
check "$l: no SERR# on edu ($(cat "$Q/$l.cmd-edu")) or the VF ($(cat "$Q/$l.cmd-vf"))" \
	test $(($(cat "$Q/$l.cmd-edu") & 0x100)) -eq 0 -a $(($(cat "$Q/$l.cmd-vf") & 0x100)) -eq 0

! grep -q '^FAIL' "$RESULTS"
