#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# BPF hook points: each hook kind allows, denies or rewrites as the attached
# struct_ops policy says, a denied access leaves the device unchanged, and
# policies attach, detach and are replaced while devices are busy.

. "$(dirname "$0")/lib.sh"

check "modules load" load_modules
check "edu0 bound to vfio-pci-bpf" bind "$EDU0" vfio-pci-bpf
check "edu1 bound to vfio-pci" bind "$EDU1" vfio-pci

# --- attaching ----------------------------------------------------------
if attach "$EDU1" edu1 2>"$OUT/attach.err"; then
	fail "attach to a device under stock vfio-pci must fail"
	detach edu1
else
	check "attach to a device not under vfio-pci-bpf fails with ENODEV" \
		grep -q 'No such device (not bound to vfio-pci-bpf)' "$OUT/attach.err"
fi
check "attach an allow-all policy" attach "$EDU0" edu0
if attach "$EDU0" second 2>"$OUT/attach.err"; then
	fail "a second policy on one device must fail"
else
	check "a second policy on one device fails with EBUSY" \
		grep -q 'Device or resource busy' "$OUT/attach.err"
fi
client "allow-all/edu0" "$EDU0" >/dev/null
detach edu0
client "nopolicy/edu0" "$EDU0" >/dev/null
same_transcript "an allow-all policy changes nothing the client sees" \
	"allow-all/edu0" "nopolicy/edu0"

# --- the verifier keeps programs to the one writable field ------------------
bpftool struct_ops register "$BUILD/bpf/bad_write.bpf.o" >"$OUT/bad_write.txt" 2>&1; rc=$?
check "verifier: a policy writing ctx->offset is refused" test $rc -ne 0
check "verifier: ... with the module's reason" \
	grep -q 'only vfio_bpf_access.value is writable' "$OUT/bad_write.txt"

# --- config write: deny, and the device is unchanged -----------------------
before=$(op "$EDU0" cfg-read:0x3c:1)
attach "$EDU0" p --deny-config-write 0x3c
expect "config write: denied byte write returns EPERM" "error EPERM" "$EDU0" cfg-write:0x3c:1:0x5a
expect "config write: denied dword write over the register returns EPERM" "error EPERM" "$EDU0" cfg-write:0x3c:4:0x5a5a5a5a
expect "config write: other registers still writable" "0x4" "$EDU0" cfg-write:0x0d:1:0x4
detach p
expect "config write: denied register unchanged" "$before" "$EDU0" cfg-read:0x3c:1

# --- config write: mask bits ------------------------------------------------
attach "$EDU0" p --mask-config-write 0x4=0x4
v=$(op "$EDU0" cfg-write:0x4:2:0x0 cfg-write:0x4:2:0x6 cfg-read:0x4:2)
check "config write: masked bit (bus master) not set, memory bit set ($v)" \
	test $(( v & 0x6 )) -eq 2
detach p
v=$(op "$EDU0" cfg-write:0x4:2:0x0 cfg-write:0x4:2:0x6 cfg-read:0x4:2)
check "config write: bus master settable again after detach ($v)" test $(( v & 0x6 )) -eq 6

# --- config read: deny and substitute --------------------------------------
real=$(op "$EDU0" cfg-read:0x2c:4)
attach "$EDU0" p --deny-config-read 0x2e --rewrite-config-read 0x2c=0xabcd
expect "config read: a denied register reads as zero" "0" "$EDU0" cfg-read:0x2e:2
expect "config read: substituted value returned" "0xabcd" "$EDU0" cfg-read:0x2c:2
expect "config read: a dword over a denied word: the whole piece reads zero, never short" \
	"0" "$EDU0" cfg-read:0x2c:4
expect "config read: an 8-byte read from the denied piece on is whole (not EPERM, not short)" \
	"0" "$EDU0" cfg-read:0x2c:8
expect "config read: vendor id still readable" "0x1234" "$EDU0" cfg-read:0x0:2
detach p
expect "config read: real value back after detach" "$real" "$EDU0" cfg-read:0x2c:4

# --- BAR access -----------------------------------------------------------------
op "$EDU0" bar-write:0x4:0x0 >/dev/null
attach "$EDU0" p --deny-bar 0x4
expect "bar: denied write returns EPERM" "error EPERM" "$EDU0" bar-write:0x4:0x11
expect "bar: denied read returns EPERM" "error EPERM" "$EDU0" bar-read:0x4
expect "bar: other registers allowed" "0x10000ed" "$EDU0" bar-read:0x0
detach p
expect "bar: liveness unchanged by the denied write" "0xffffffff" "$EDU0" bar-read:0x4

# --- mmap: a denied BAR is trapped ----------------------------------------
expect "mmap: BAR0 advertises mmap without policy" "0x7 mmap" "$EDU0" region-flags
attach "$EDU0" p --deny-mmap
expect "mmap: denied BAR0 stops advertising mmap" "0x3 no-mmap" "$EDU0" region-flags
expect "mmap: mmap of denied BAR0 returns EPERM" "error EPERM" "$EDU0" bar-mmap
client "trapped/edu0" "$EDU0" bar mmap >/dev/null
check "mmap: the client falls back to trapped access" \
	grep -q '^  mmap: BAR0 not mmap-able' "$OUT/trapped/edu0.txt"
detach p
expect "mmap: mmap works again after detach" "0" "$EDU0" bar-mmap

# --- config write: drop, and keep bits at their current value ---------------
# What the device holds is read through sysfs while the client has it open.
v=$(op "$EDU0" cfg-write:0x0c:1:0x10 sysfs-cfg:0x0c:1)
check "drop: without a policy a cache line size write reaches the device ($v)" test "$v" = 0x10
attach "$EDU0" p --drop-config-write 0x0c
expect "drop: a dropped write succeeds for the user" "0x20" "$EDU0" cfg-write:0x0c:1:0x20
v=$(op "$EDU0" cfg-write:0x0c:1:0x20 sysfs-cfg:0x0c:1)
check "drop: ... and never reaches the device ($v)" test "$v" = 0
detach p
# The open enables memory decoding: the command register's memory bit is 1.
v=$(op "$EDU0" cfg-write:0x4:2:0x4 sysfs-cfg:0x4:2)
check "keep: without a policy writing 0x4 clears the memory bit ($v)" test $(( v & 0x6 )) -eq 4
attach "$EDU0" p --keep-config-write 0x4=0x2
v=$(op "$EDU0" cfg-write:0x4:2:0x4 sysfs-cfg:0x4:2)
check "keep: the kept memory bit keeps its current value, bus master is written ($v)" \
	test $(( v & 0x6 )) -eq 6
detach p

# --- migration hidden by the policy ----------------------------------------
expect "no-migration: edu advertises migration without a policy" "0x7" "$EDU0" mig-flags
attach "$EDU0" p --no-migration
expect "no-migration: a policy that says so hides it (ENOTTY)" "error ENOTTY" "$EDU0" mig-flags
detach p
expect "no-migration: ... and it is back after detach" "0x7" "$EDU0" mig-flags

# --- interrupts, reset, open ------------------------------------------------
attach "$EDU0" p --deny-msi
expect "irq: arming MSI denied with EPERM" "error EPERM" "$EDU0" msi-on
expect "irq: teardown reaches the core (its EINVAL, not the policy's EPERM)" \
	"error EINVAL" "$EDU0" msi-off
detach p
client "msi-after/edu0" "$EDU0" msi >/dev/null
check "irq: MSI works after detach" grep -q '^PASS: msi: eventfd fires once' "$OUT/msi-after/edu0.txt"

expect "reset: edu has no reset method (core says EINVAL)" "error EINVAL" "$EDU0" do-reset
attach "$EDU0" p --deny-reset
expect "reset: denied by policy before the core (EPERM)" "error EPERM" "$EDU0" do-reset
detach p

attach "$EDU0" p --deny-open
out=$(op "$EDU0" region-flags)
check "open: denied open fails ($out)" sh -c "echo '$out' | grep -q 'VFIO_GROUP_GET_DEVICE_FD: Operation not permitted'"
detach p
expect "open: allowed again after detach" "0x7 mmap" "$EDU0" region-flags

# --- fail-closed mode -----------------------------------------------------
echo 1 >/sys/module/vfio_pci_bpf/parameters/require_policy
out=$(op "$EDU0" region-flags)
check "require_policy: no policy, no open ($out)" sh -c "echo '$out' | grep -q 'Operation not permitted'"
attach "$EDU0" p
expect "require_policy: a policy allowing open lets it open" "0x7 mmap" "$EDU0" region-flags
detach p
attach "$EDU0" p --deny-open
out=$(op "$EDU0" region-flags)
check "require_policy: a policy denying open keeps it closed" sh -c "echo '$out' | grep -q 'Operation not permitted'"
detach p
echo 0 >/sys/module/vfio_pci_bpf/parameters/require_policy

# --- replacing under load, two devices at once -----------------------------------
check "edu1 bound to vfio-pci-bpf" bind "$EDU1" vfio-pci-bpf
attach "$EDU0" load0 --tag 1
attach "$EDU1" load1 --tag 1
"$CLIENT" "$EDU0" bench >"$OUT/load0.txt" 2>&1 &
l0=$!
"$CLIENT" "$EDU1" bench >"$OUT/load1.txt" 2>&1 &
l1=$!
i=0 ok=0
while [ $i -lt 20 ]; do
	if [ $((i % 2)) -eq 0 ]; then
		"$POLICY" --replace --tag $i --deny-config-write 0x3c "$EDU0" "$PIN/load0" && ok=$((ok + 1))
	else
		"$POLICY" --replace --tag $i "$EDU0" "$PIN/load0" && ok=$((ok + 1))
	fi
	i=$((i + 1))
done
wait $l0; r0=$?
wait $l1; r1=$?
check "replace: 20 link updates under load succeed ($ok)" test $ok -eq 20
check "replace: both loads finished" test $r0 -eq 0 -a $r1 -eq 0
"$POLICY" --replace --deny-config-write 0x3c "$EDU0" "$PIN/load0"
expect "replace: the replacement policy is the one in force" "error EPERM" "$EDU0" cfg-write:0x3c:1:0x1
check "replace: a policy of another device cannot replace this one" \
	sh -c "! '$POLICY' --replace '$EDU1' '$PIN/load0' 2>/dev/null"

# --- lifetime: module and device go away under a policy ---------------------
if rmmod vfio_pci_bpf 2>/dev/null; then
	fail "rmmod must be refused while policies are attached"
	exit 1
fi
pass "rmmod refused while policies are attached"
unbind "$EDU1"
check "a device unbound under a policy leaves the link harmless" detach load1
detach load0
sleep 1
i=0
while ! rmmod vfio_pci_bpf 2>/dev/null && [ $i -lt 20 ]; do sleep 0.5; i=$((i + 1)); done
check "rmmod once the policies are gone" sh -c "! grep -q '^vfio_pci_bpf ' /proc/modules"

# --- an unpatched vfio_pci_core: tracing only, policies refused ------------
# Without the kernel-copy entry points (docs/upstream/) a policy could be
# raced around, so the module must refuse it rather than half enforce it.
check "patched core unloaded" sh -c 'rmmod vfio_pci && rmmod vfio_pci_core'
check "modules load on Debian's stock core" env VFIO_CORE=stock sh -c ". '$TOP/tests/vm/lib.sh'; load_modules"
check "stock core: sysfs says so" grep -qx stock /sys/bus/pci/drivers/vfio-pci-bpf/core
check "edu0 bound to vfio-pci-bpf on the stock core" bind "$EDU0" vfio-pci-bpf
if attach "$EDU0" stock 2>"$OUT/attach.err"; then
	fail "stock core: a policy must be refused"
	detach stock
else
	check "stock core: attaching a policy fails with EOPNOTSUPP" \
		grep -q 'Operation not supported' "$OUT/attach.err"
fi
check "stock core: ... and the kernel log says why" \
	sh -c "dmesg | grep -q 'policy refused: vfio_pci_core lacks the kernel-copy entry points'"
client "stock/edu0" "$EDU0" info config bar >/dev/null
check "stock core: the device works as under vfio-pci" \
	sh -c "grep -q '^PASS' '$OUT/stock/edu0.txt' && ! grep -q '^FAIL' '$OUT/stock/edu0.txt'"
echo 1 >/sys/module/vfio_pci_bpf/parameters/require_policy
out=$(op "$EDU0" region-flags)
check "stock core: require_policy still fails closed ($out)" sh -c "echo '$out' | grep -q 'Operation not permitted'"
echo 0 >/sys/module/vfio_pci_bpf/parameters/require_policy
! grep -q '^FAIL' "$RESULTS"
