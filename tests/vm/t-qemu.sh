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
NQ=$Q
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

# irq_line_denied LABEL: SeaBIOS's write of edu's interrupt line reached
# vfio as a denied config write, and QEMU said so (and went on).
irq_line_denied() {
	_n=$(ev "$1" "$EDU0" config_write '.offset == 60 and .ret == -1')
	check "$1: edu's interrupt line write denied ($_n)" test "$_n" -ge 1
	check "$1: QEMU reported it and went on" \
		grep -q 'vfio_pci_write_config(0000:00:04.0, 0x3c, .*) failed: Operation not permitted' "$Q/$1.err"
}

policies() {
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
n=$(ev none "$EDU0" config_write '.offset == 60 and .ret == 1')
check "none: edu's interrupt line written ($n)" test "$n" -ge 1
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
irq_line_denied $l

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
irq_line_denied $l
m=$(jq -c 'select(.event == "mmap")' "$Q/$l.trace" | wc -l)
check "$l: nothing mmap'ed ($m)" test "$m" -eq 0
check "$l: info mtree has no mmaps of either device" sh -c "! grep -q 'mmaps' '$Q/$l.mtree'"
check "$l: no SERR# on edu ($(cat "$Q/$l.cmd-edu")) or the VF ($(cat "$Q/$l.cmd-vf"))" \
	test $(($(cat "$Q/$l.cmd-edu") & 0x100)) -eq 0 -a $(($(cat "$Q/$l.cmd-vf") & 0x100)) -eq 0

# policy-qemu-safe.yaml: hidden, not denied (QEMU-safe actions): a
# substituted range, a hidden capability, a smaller MSI-X table, and no
# migration offered.  QEMU takes all of it (the common checks above).
l=policy-qemu-safe
t=$(ev $l "$EDU0" mig_transition)
check "$l: edu offers no migration: no state change at stop/start ($t)" test "$t" -eq 0
check "$l: info pci shows edu's subsystem as 1af4:0001" \
	sh -c "grep -A1 'PCI device 1234:11e8' '$Q/$l.pci' | grep -q 'PCI subsystem 1af4:0001'"
n=$(ev $l "$VF" policy '.hook == "config_read" and .verdict == "rewrite"')
check "$l: QEMU's reads of the VF's hidden AER and MSI-X size were rewritten ($n)" test "$n" -ge 1
n=$(ev $l "$EDU0" policy '.hook == "config_read" and .verdict == "deny" and .offset == 8')
check "$l: QEMU's read of edu's revision was denied: it read zero and took the device ($n)" \
	test "$n" -ge 1
d=$(jq -c 'select(.event == "policy" and .verdict == "deny" and .offset != 8)' "$Q/$l.trace" | wc -l)
check "$l: nothing else QEMU did was denied ($d denials)" test "$d" -eq 0
}

# ---- QEMU migration through the edu provider ------------------------------------

# set_regs BDF LIVENESS N: edu's liveness register gets ~LIVENESS (edu keeps
# the inverse) and its factorial register N!, through vfio before QEMU
# opens the device (edu has no reset: the registers stay).
set_regs() {
	"$CLIENT" "$1" bar-write:0x4:"$2" bar-write:0x8:"$3" >/dev/null 2>&1
}

# regs BDF: liveness and factorial as the device holds them (sysfs).
regs() {
	echo "$("$PEEK" "$1" 0 0x4) $("$PEEK" "$1" 0 0x8)"
}

# qregs LABEL: the same two registers as QEMU's guest sees them (xp).
qregs() {
	_b=$(nq_bar "$1" edu 0)
	[ -n "$_b" ] || { echo "unmapped"; return; }
	xp "$1" "$((_b + 4))" "$Q/$1.xp-live"
	xp "$1" "$((_b + 8))" "$Q/$1.xp-fact"
	echo "$(cat "$Q/$1.xp-live") $(cat "$Q/$1.xp-fact")"
}

# wait_migrated NAME: query-migrate of NAME until completed or failed.
wait_migrated() {
	_i=0
	while [ $_i -lt 150 ]; do
		_st=$(nq_qmp "$1" '"execute": "query-migrate"' | jq -r '.return.status // empty')
		case $_st in
		completed) echo completed; return 0 ;;
		failed|cancelled) nq_qmp "$1" '"execute": "query-migrate"' |
			jq -r '"\(.return.status): \(.return."error-desc")"'; return 1 ;;
		esac
		sleep 0.2; _i=$((_i + 1))
	done
	echo "timed out ($_st)"
	return 1
}

# migrate_vm LABEL running|paused LIVENESS N: a VM with edu0 (registers set
# to LIVENESS and N! first) migrated into a second QEMU with edu1; edu1's
# registers, as the target's guest sees them after cont and as edu1 holds
# them after QEMU quit, are edu0's.
migrate_vm() {
	_l=$1 _how=$2
	set_regs "$EDU0" "$3" "$4"
	set_regs "$EDU1" 0x0 3
	_want=$(regs "$EDU0")
	_other=$(regs "$EDU1")
	check "$_l: edu0 ($_want) and edu1 ($_other) hold different registers" \
		test "$_want" != "$_other" -a -n "${_want#* }"
	vt_start "$_l"
	# enable-migration=on: QEMU migrates a device without dirty tracking,
	# taking all of guest memory as dirty; otherwise it blocks migration.
	nq_start "$_l-src" -device vfio-pci,host="$EDU0",id=edu,enable-migration=on || {
		fail "$_l: source QEMU did not start: $(tail -c 300 "$NQ/$_l-src.err")"
		vt_stop; return 1
	}
	if [ "$_how" = running ]; then
		nq_qmp "$_l-src" '"execute": "cont"' >/dev/null
		check "$_l: source VM runs SeaBIOS" nq_bios_wait "$_l-src" "Searching bootorder"
		_seen=$(qregs "$_l-src")
		check "$_l: the source's guest sees edu0's registers ($_seen)" test "$_seen" = "$_want"
	fi
	nq_start "$_l-dst" -device vfio-pci,host="$EDU1",id=edu,enable-migration=on \
		-incoming "unix:$NQRUN/$_l.sock" || {
		fail "$_l: target QEMU did not start: $(tail -c 300 "$NQ/$_l-dst.err")"
		nq_quit "$_l-src"; vt_stop; return 1
	}
	if [ "$_how" = paused ]; then
		_c=$(cfg16 "$EDU0" 4)
		check "$_l: edu0's memory decoding is off, as QEMU left it (command $_c)" \
			test $((_c & 2)) -eq 0
	fi
	# edu has no dirty tracking: QEMU's estimate of the device's data never
	# fits the default 300 ms downtime.
	nq_hmp "$_l-src" "migrate_set_parameter downtime-limit 60000" >/dev/null
	_t0=$(cut -d' ' -f1 /proc/uptime)
	nq_hmp "$_l-src" "migrate -d unix:$NQRUN/$_l.sock" >"$Q/$_l.migrate"
	if grep -q . "$Q/$_l.migrate"; then
		_st="migrate refused: $(cat "$Q/$_l.migrate")"
	else
		_st=$(wait_migrated "$_l-src")
	fi
	_t1=$(cut -d' ' -f1 /proc/uptime)
	check "$_l: migration completed ($_st; $(awk "BEGIN { print $_t1 - $_t0 }") s) $(grep -v 'no available reset\|dirty tracking' "$NQ/$_l-src.err" | tr '\n' ' ' | tail -c 300)" \
		test "$_st" = completed
	if [ "$_st" != completed ]; then
		nq_quit "$_l-dst"; nq_quit "$_l-src"; vt_stop
		return 1
	fi
	if [ "$_how" = paused ]; then
		_c=$(cfg16 "$EDU0" 4)
		check "$_l: the save put edu0's command register back (decoding off: $_c)" \
			test $((_c & 2)) -eq 0
	fi
	_dst=$(wait_migrated "$_l-dst" 2>&1 | head -c 200)
	check "$_l: the target received it ($_dst)" test "$_dst" = completed
	# The target loads the device state when its VM starts.
	nq_qmp "$_l-dst" '"execute": "cont"' >/dev/null
	if [ "$_how" = paused ]; then
		# A VM that never ran starts SeaBIOS on the target, which maps BAR0.
		check "$_l: target VM runs SeaBIOS" nq_bios_wait "$_l-dst" "Searching bootorder"
	fi
	_seen=$(qregs "$_l-dst")
	check "$_l: the target's guest sees edu0's registers on edu1 ($_seen)" test "$_seen" = "$_want"
	nq_quit "$_l-dst"; _rd=$?
	nq_quit "$_l-src"; _rs=$?
	vt_stop
	check "$_l: both QEMUs quit cleanly ($_rs, $_rd)" test "$_rs" -eq 0 -a "$_rd" -eq 0
	_got=$(regs "$EDU1")
	check "$_l: edu1 holds edu0's registers ($_got, sysfs)" test "$_got" = "$_want"
	_s=$(ev "$_l" "$EDU0" mig_transition '.to == "STOP_COPY" and .ret == 0')
	_r=$(ev "$_l" "$EDU1" mig_transition '.to == "RESUMING" and .ret == 0')
	_d=$(ev "$_l" "$EDU1" mig_data '.write and .bytes > 0')
	check "$_l: vfio-trace: edu0 to STOP_COPY ($_s), edu1 to RESUMING ($_r), image in ($_d)" \
		test "$_s" -ge 1 -a "$_r" -ge 1 -a "$_d" -ge 1
}

migration() {
	migrate_vm mig-running running 0x5eed0001 10
	# Paused before its firmware ran: memory decoding is off on edu0, the
	# provider turns it on for the save (kmod/lm.c).
	migrate_vm mig-paused paused 0x5eed0002 12
}

for part in ${QEMU_PARTS:-policies migration}; do
	"$part"
done

unbind "$VF"
check "igb: remove VFs" sh -c "echo 0 >/sys/bus/pci/devices/$IGB/sriov_numvfs"
unbind "$EDU0"; unbind "$EDU1"
check "rmmod vfio_pci_bpf" rmmod vfio_pci_bpf
! grep -q '^FAIL' "$RESULTS"
