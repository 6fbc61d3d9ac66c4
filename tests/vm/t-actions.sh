#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Policy actions that real VFIO clients accept (docs/policy.md): reads as
# zero, ones, a pattern or under a mask; write masks keeping zero, one or
# the current value; hidden capabilities (unlinked, zero, writes dropped)
# and the MSI-X Table Size, resolved from the device at apply;
# migration: none; matching by class and subsystem ids.  What the user
# reads is asserted through vfio-client, what the device got through sysfs.

. "$(dirname "$0")/lib.sh"

VB=$BUILD/vfio-bpf

check "modules load" load_modules
check "edu0 bound to vfio-pci-bpf" bind "$EDU0" vfio-pci-bpf

# apply NAME: apply $OUT/NAME.yaml to edu0, quietly; PASS/FAIL line.
apply() {
	check "$1: applies" "$VB" policy apply -d "${2:-$EDU0}" "$OUT/$1.yaml"
}

# sysfs_cfg BDF OFF SIZE: the device's own bytes (little endian), as 0x...
sysfs_cfg() {	# formatted as vfio-client prints values (%#x: 0 is "0")
	_v=$(od -An -tu$3 -j$(($2)) -N$3 "/sys/bus/pci/devices/$1/config" | tr -d ' ')
	if [ "$_v" = 0 ]; then echo 0; else printf '0x%x\n' "$_v"; fi
}

# ---- reads -------------------------------------------------------------
cat >"$OUT/reads.yaml" <<YAML
version: 1
policies:
  - name: edu-reads
    match: { bdf: $EDU0 }
    config:
      - { offset: 0x00, size: 8, read: ones }
      - { offset: 0x2c, read: { value: 0xabcd0000, mask: 0xffff0000 } }
      - { offset: 0x40, size: 64, read: zero }
      - { offset: 0x80, size: 16, read: 0x12345678 }
YAML
apply reads
sub=$(sysfs_cfg "$EDU0" 0x2c 2)
msi=$(sysfs_cfg "$EDU0" 0x40 4)
expect "read: ones over 8 bytes: the ids read 0xffffffff" 0xffffffff "$EDU0" cfg-read:0x0:4
expect "read: ones: the status word too (byte 6-7)" 0xffff "$EDU0" cfg-read:0x6:2
expect "read: ones: the device still has its ids (sysfs)" 0x11e81234 "$EDU0" sysfs-cfg:0x0:4
expect "read under a mask: high half substituted, low half the device's ($sub)" \
	"$(printf '0x%x' $((0xabcd0000 | sub)))" "$EDU0" cfg-read:0x2c:4
expect "read: zero over 64 bytes: 0x40 reads 0" 0 "$EDU0" cfg-read:0x40:4
expect "read: zero over 64 bytes: 0x7c reads 0" 0 "$EDU0" cfg-read:0x7c:4
check "read: zero: the device has something there ($msi)" test "$msi" != 0x0
expect "read: a 4-byte pattern repeated: 0x88" 0x12345678 "$EDU0" cfg-read:0x88:4
expect "read: the pattern's high half at 0x8e" 0x1234 "$EDU0" cfg-read:0x8e:2
expect "read: past the rules, the device's value" "$(sysfs_cfg "$EDU0" 0x30 4)" "$EDU0" cfg-read:0x30:4

# ---- write: mask, keep -------------------------------------------------
# The command register's bus master bit (2) reaches the device.
keep_policy() {
	cat >"$OUT/keep-$1.yaml" <<YAML
version: 1
policies:
  - name: edu-keep-$1
    match: { bdf: $EDU0 }
    config:
      - { offset: 0x04, size: 2, write: mask, mask: 0x0004, keep: $1 }
YAML
	apply "keep-$1"
}
master_after() {	# master_after VALUE: bit 2 on the device after the user writes VALUE
	v=$(op "$EDU0" cfg-write:0x4:2:$1 sysfs-cfg:0x4:2)
	echo $(( (v >> 2) & 1 ))
}
keep_policy one
check "keep: one: a write clearing bus master sets it" test "$(master_after 0x0002)" = 1
keep_policy zero
check "keep: zero: a write setting bus master clears it" test "$(master_after 0x0006)" = 0
# The open enabled memory decoding (bit 1) and cleared bus master (bit 2):
# a write flipping both keeps both as they are.
cat >"$OUT/keep-current.yaml" <<YAML
version: 1
policies:
  - name: edu-keep-current
    match: { bdf: $EDU0 }
    config:
      - { offset: 0x04, size: 2, write: mask, mask: 0x0006, keep: current }
YAML
apply keep-current
flip() { v=$(op "$EDU0" cfg-write:0x4:2:0x0004 sysfs-cfg:0x4:2); echo $((v & 6)); }
check "keep: current: memory on and bus master off stay so under a write flipping both" \
	test "$(flip)" = 2
"$VB" policy remove -d "$EDU0" >/dev/null
check "without a policy the write does set bus master (the test can fail)" \
	test "$(master_after 0x0006)" = 1
check "without a policy the flipping write flips both" test "$(flip)" = 4

# ---- migration: none ---------------------------------------------------
cat >"$OUT/mig-none.yaml" <<YAML
version: 1
policies:
  - name: edu-nomig
    match: { bdf: $EDU0 }
    migration: none
YAML
apply mig-none
"$BUILD/vfio-mig" none "$EDU0" >"$OUT/mig-none.txt" 2>&1
check "migration: none: the device advertises no migration (ENOTTY)" \
	sh -c "grep -q '^PASS' '$OUT/mig-none.txt' && ! grep -q '^FAIL' '$OUT/mig-none.txt'"
"$VB" policy remove -d "$EDU0" >/dev/null
"$BUILD/vfio-mig" none "$EDU0" >"$OUT/mig-back.txt" 2>&1
check "without it the edu provider advertises migration again" grep -q '^FAIL' "$OUT/mig-back.txt"
sed 's/migration: none/migration: deny/' "$OUT/mig-none.yaml" >"$OUT/mig-deny.yaml"
"$VB" policy check "$OUT/mig-deny.yaml" >/dev/null 2>"$OUT/mig-deny.err"
check "check: migration: deny warns about QEMU's RUNNING_P2P arcs, suggests none" \
	sh -c "grep -q 'mig-deny.yaml:5:16: warning: migration: deny also denies RUNNING <-> RUNNING_P2P' '$OUT/mig-deny.err' && grep -q 'migration: none' '$OUT/mig-deny.err'"

# ---- hide: and the MSI-X Table Size on an igb VF -----------------------
modprobe igb
echo 0 >"/sys/bus/pci/devices/$IGB/sriov_drivers_autoprobe"
echo 2 >"/sys/bus/pci/devices/$IGB/sriov_numvfs"
VF=$(basename "$(readlink "/sys/bus/pci/devices/$IGB/virtfn0")")
check "VF $VF bound to vfio-pci-bpf" bind "$VF" vfio-pci-bpf

# walk: bytes (decimal, one per word) on stdin -> "11 10 | 0e" (ids in list order)
walk() {
	awk '{ for (i = 1; i <= NF; i++) b[n++] = $i }
	END {
		s = ""
		if (int(b[6] / 16) % 2)
			for (p = b[52] - b[52] % 4; p >= 64 && p < 256 && k++ < 48; p = b[p + 1] - b[p + 1] % 4)
				s = s sprintf("%02x ", b[p])
		s = s "|"
		for (p = 256; p >= 256 && p < n && k++ < 200; p = nx - nx % 4) {
			s = s sprintf(" %02x", b[p] + 256 * b[p + 1])
			nx = int(b[p + 2] / 16) + 16 * b[p + 3]
		}
		print s
	}'
}
# user_bytes BDF: its config space as the VFIO user reads it, in dwords
user_bytes() {
	ops=
	o=0
	while [ $o -lt 4096 ]; do ops="$ops cfg-read:$o:4"; o=$((o + 4)); done
	# shellcheck disable=SC2086
	"$CLIENT" "$1" $ops | sed -n 's/^  cfg-read:[0-9]*:4: //p' | while read -r v; do
		[ "$v" = "error" ] && v=0
		v=$((v))
		echo $((v & 255)) $(((v >> 8) & 255)) $(((v >> 16) & 255)) $(((v >> 24) & 255))
	done
}
dev_walk() { od -An -tu1 -v "/sys/bus/pci/devices/$1/config" | walk; }
user_walk() { user_bytes "$1" | walk; }

# Where the VF has its capabilities (the device's own list).
cap_pos() {	# cap_pos BDF ID: position of standard capability ID, or empty
	od -An -tu1 -v "/sys/bus/pci/devices/$1/config" | awk -v id=$(($2)) '
	{ for (i = 1; i <= NF; i++) b[n++] = $i }
	END { for (p = b[52] - b[52] % 4; p >= 64 && k++ < 48; p = b[p + 1] - b[p + 1] % 4) if (b[p] == id) { print p; exit } }'
}
base_dev=$(dev_walk "$VF")
base_user=$(user_walk "$VF")
note "VF capabilities, device: $base_dev; user: $base_user"
pcie=$(cap_pos "$VF" 0x10)
msix=$(cap_pos "$VF" 0x11)
check "the VF has PCIe and MSI-X capabilities ($pcie, $msix)" test -n "$pcie" -a -n "$msix"
first_ext=$(echo "$base_user" | sed 's/.*| *//; s/ .*//')
check "the VF has an extended capability list through vfio ($first_ext)" \
	test -n "$first_ext" -a "$first_ext" != 00
tsize=$(( $(sysfs_cfg "$VF" $((msix + 2)) 2) & 0x7ff ))
check "the VF's MSI-X Table Size is above 0 ($tsize)" test "$tsize" -gt 0
expect "without a policy GET_IRQ_INFO reports the device's $((tsize + 1)) MSI-X vectors" \
	"$(printf '0x%x' $((tsize + 1)))" "$VF" msix-count
# AER's Uncorrectable Error Mask (0x108) is written through to the device.
check "the VF's first extended capability is AER" test "$first_ext" = 01
uemask=$(sysfs_cfg "$VF" 0x108 4)
aer_after() {	# the device's mask after the user flips bit 4 (DLP)
	op "$VF" cfg-write:0x108:4:$((uemask ^ 0x10)) sysfs-cfg:0x108:4
}
check "without a policy an AER mask write reaches the device" \
	test "$(aer_after)" = "$(printf '0x%x' $((uemask ^ 0x10)))"

cat >"$OUT/hide.yaml" <<YAML
version: 1
policies:
  - name: edu-untouched
    match: { bdf: $EDU0 }
  - name: nic-vf
    match: { class: 0x0200/0xff00 }
    config:
      - { hide: pcie }
      - { hide: 0x$first_ext, extended: true }
      - { hide: vpd }
    interrupts: { msix: 1 }
YAML
"$VB" policy check -d "$VF" "$OUT/hide.yaml" >"$OUT/hide-check.txt" 2>"$OUT/hide-check.err"
check "check -d: says where hide: pcie lands on the VF" \
	grep -q "^$VF: hide: pcie: standard capability 0x10 at 0x$(printf %x "$pcie")-" "$OUT/hide-check.txt"
check "check -d: a capability the VF lacks is a warning" \
	grep -q "warning: hide: vpd: $VF has no such capability" "$OUT/hide-check.err"
"$VB" policy check "$OUT/hide.yaml" >"$OUT/hide-nodev.txt" 2>&1
check "check without a device: says what hide will do" \
	grep -q "hide pcie (standard capability 0x10): on each device at apply" "$OUT/hide-nodev.txt"
"$VB" policy apply "$OUT/hide.yaml" >"$OUT/hide-apply.txt" 2>&1
check "apply by class: the VF gets nic-vf" grep -qx "$VF: applied policy nic-vf" "$OUT/hide-apply.txt"
check "apply by class: edu does not (it has its own)" grep -qx "$EDU0: applied policy edu-untouched" "$OUT/hide-apply.txt"

want=$(echo "$base_user" | sed 's/\(^\| \)10 / /; s/^ //; s/| [0-9a-f]*/| 00/')
got=$(user_walk "$VF")
check "hidden: the user walks '$want' (was '$base_user', got '$got')" test "$got" = "$want"
check "hidden: the device's own list is unchanged" test "$(dev_walk "$VF")" = "$base_dev"
expect "hidden: the PCIe capability's bytes read zero" 0 "$VF" cfg-read:$pcie:4
expect "hidden: ... the device still has it (sysfs)" 0x10 "$VF" sysfs-cfg:$pcie:1
check "hidden: an AER mask write is dropped: the device keeps $uemask" test "$(aer_after)" = "$uemask"
expect "hidden: ... and the write succeeds for the user" "$(printf '0x%x' $((uemask ^ 0x10)))" \
	"$VF" cfg-write:0x108:4:$((uemask ^ 0x10))
expect "hidden: AER's bytes read zero" 0 "$VF" cfg-read:0x108:4
expect "hidden: the first extended header reads id 0" 0 "$VF" cfg-read:0x100:2
expect "MSI-X Table Size: the user reads 0 (one vector)" 0 "$VF" cfg-read:$((msix + 2)):2
check "MSI-X Table Size: the device still says $tsize" \
	test $(( $(sysfs_cfg "$VF" $((msix + 2)) 2) & 0x7ff )) = "$tsize"
expect "MSI-X Table Size: GET_IRQ_INFO reports one MSI-X vector too" 0x1 "$VF" msix-count

"$VB" policy remove >/dev/null
check "removed: the user walks the full list again" test "$(user_walk "$VF")" = "$base_user"

# ---- match: subsystem ids ----------------------------------------------
sv=$(cat "/sys/bus/pci/devices/$EDU0/subsystem_vendor")
sd=$(cat "/sys/bus/pci/devices/$EDU0/subsystem_device")
cat >"$OUT/subsys.yaml" <<YAML
version: 1
policies:
  - name: other-subsystem
    match: { subsystem_vendor: $sv, subsystem_device: $(printf '0x%x' $((sd + 1))) }
  - name: edu-subsystem
    match: { subsystem_vendor: $sv, subsystem_device: $sd }
YAML
"$VB" policy apply -d "$EDU0" "$OUT/subsys.yaml" >"$OUT/subsys.txt" 2>&1
check "match by subsystem ids ($sv:$sd)" grep -qx "$EDU0: applied policy edu-subsystem" "$OUT/subsys.txt"
"$VB" policy remove >/dev/null
echo 0 >"/sys/bus/pci/devices/$IGB/sriov_numvfs"
