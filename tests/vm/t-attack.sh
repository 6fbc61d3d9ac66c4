#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Adversarial tests, the paths: a hostile VFIO user takes a way around a
# policy that no hook used to see (ioeventfd, mmap, config-space FLR and
# power states, migration RESUMING, a policy removed under require_policy).
# Each attack program (tests/attack/path-*.c) checks what the device saw,
# through sysfs, and the error the attacker got.  Controls without a policy
# prove each check can see the attack succeed.

. "$(dirname "$0")/lib.sh"

VB=$BUILD/vfio-bpf
ATK=$BUILD/attack
REQUIRE=/sys/module/vfio_pci_bpf/parameters/require_policy

# attack LABEL PROGRAM ARGS...: run an attack program, keep its transcript
# in $OUT/attack/LABEL.txt and report each of its verdicts prefixed with
# LABEL; a program that could not set up its attack is a failure too.
attack() {
	_label=$1 _prog=$2; shift 2
	mkdir -p "$OUT/attack"
	"$ATK/$_prog" "$@" >"$OUT/attack/$_label.txt" 2>"$OUT/attack/$_label.err"
	_rc=$?
	sed -n "s#^\(PASS\|FAIL\): #\1: $_label: #p" "$OUT/attack/$_label.txt" | tee -a "$RESULTS"
	if [ $_rc -eq 2 ] || ! grep -q '^\(PASS\|FAIL\)' "$OUT/attack/$_label.txt"; then
		fail "$_label: $_prog could not run its attack (exit $_rc): $(tail -c 300 "$OUT/attack/$_label.err" | tr '\n' ' ')"
	fi
}

# policy NAME BDF LINE...: a YAML policy file for BDF alone, $OUT/NAME.yaml.
policy() {
	_name=$1 _bdf=$2; shift 2
	{
		echo "version: 1"
		echo "policies:"
		echo "  - name: $_name"
		echo "    match: { bdf: $_bdf }"
		for _l in "$@"; do echo "    $_l"; done
	} >"$OUT/$_name.yaml"
}

# The command lines, also handed to the attack programs to run mid-attack.
apply_cmd() { echo "$VB policy apply -d $2 $OUT/$1.yaml >>$OUT/vfio-bpf.log 2>&1"; }
remove_cmd() { echo "$VB policy remove -d $1 >>$OUT/vfio-bpf.log 2>&1"; }
apply() { check "policy $1 applied to $2" sh -c "$(apply_cmd "$1" "$2")"; }
remove() { sh -c "$(remove_cmd "$1")" || fail "policy remove -d $1 failed: $(tail -n 1 $OUT/vfio-bpf.log)"; }

check "modules load" load_modules
check "edu0 bound to vfio-pci-bpf" bind "$EDU0" vfio-pci-bpf
check "edu1 bound to vfio-pci-bpf" bind "$EDU1" vfio-pci-bpf
note "vfio_pci_core: $(cat /sys/bus/pci/drivers/vfio-pci-bpf/core 2>/dev/null || echo unknown)"

# BAR0 writes at edu's liveness register (0x4) denied; mmap not mentioned.
policy deny-live "$EDU0" "bars:" "  - { bar: 0, offset: 0x4, size: 4, deny: write }"
policy deny-live-edu1 "$EDU1" "bars:" "  - { bar: 0, offset: 0x4, size: 4, deny: write }"
policy trap-live "$EDU0" "bars:" "  - { bar: 0, trap: true }" \
	"  - { bar: 0, offset: 0x4, size: 4, deny: write }"
policy open-only "$EDU0" "open: allow"

# ---- 1. VFIO_DEVICE_IOEVENTFD -------------------------------------------
attack ioeventfd-control path-ioeventfd control "$EDU0"
apply deny-live "$EDU0"
attack ioeventfd-deny path-ioeventfd deny "$EDU0"
remove "$EDU0"
attack ioeventfd-attach path-ioeventfd attach "$EDU0" -x "$(apply_cmd deny-live "$EDU0")"
remove "$EDU0"

# ---- 2. mmap ------------------------------------------------------------
apply deny-live "$EDU0"
attack mmap-nontrap path-mmap nontrap "$EDU0"
remove "$EDU0"
attack mmap-revoke path-mmap revoke "$EDU0" -x "$(apply_cmd trap-live "$EDU0")"
remove "$EDU0"

# ---- 4. migration RESUMING into a device whose policy denies the register
attack resume path-resume "$EDU0" "$EDU1" -x "$(apply_cmd deny-live-edu1 "$EDU1")"
remove "$EDU1"

# ---- 5. require_policy=1: the policy removed from an open device --------
if echo 1 >"$REQUIRE"; then
	apply open-only "$EDU0"
	attack nopolicy path-nopolicy "$EDU0" -x "$(remove_cmd "$EDU0")"
	echo 0 >"$REQUIRE"
else
	fail "require_policy is not writable at run time ($REQUIRE)"
fi

# ---- 3 and 6. resets around reset: deny, on an igb VF and the PF --------
check "igb loads" modprobe igb
check "igb: 2 VFs created" sh -c "echo 2 >/sys/bus/pci/devices/$IGB/sriov_numvfs"
VF=$(basename "$(readlink "/sys/bus/pci/devices/$IGB/virtfn0")")
note "VF 0 of $IGB is $VF"
check "VF $VF bound to vfio-pci-bpf" bind "$VF" vfio-pci-bpf
policy no-reset-vf "$VF" "reset: deny"
attack flr-control path-flr control "$VF"
apply no-reset-vf "$VF"
attack flr path-flr flr "$VF"
attack flr-lowpower path-flr lowpower "$VF"
attack flr-ioctl path-flr ioctl "$VF"
remove "$VF"
unbind "$VF"

# The VF has no PM capability; the PF has one.
check "igb: VFs removed" sh -c "echo 0 >/sys/bus/pci/devices/$IGB/sriov_numvfs"
check "PF $IGB bound to vfio-pci-bpf" bind "$IGB" vfio-pci-bpf
policy no-reset-pf "$IGB" "reset: deny"
attack pm-control path-flr pm-control "$IGB"
apply no-reset-pf "$IGB"
attack pm path-flr pm "$IGB"
remove "$IGB"
unbind "$IGB"
