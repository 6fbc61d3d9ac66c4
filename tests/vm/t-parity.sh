#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Parity: the same VFIO client checks against a device bound to stock
# vfio-pci and to vfio-pci-bpf must give identical results, on both edu
# devices and on an igb VF; bind/unbind cycles and module reload are clean.

. "$(dirname "$0")/lib.sh"

check "modules: vfio-pci and vfio_pci_bpf load" load_modules
check "module: BTF in /sys/kernel/btf/vfio_pci_bpf" test -s /sys/kernel/btf/vfio_pci_bpf
check "module: driver registered as vfio-pci-bpf" test -d /sys/bus/pci/drivers/vfio-pci-bpf

for dev in "$EDU0:edu0" "$EDU1:edu1"; do
	bdf=${dev%:*}; tag=${dev##*:}
	for drv in vfio-pci vfio-pci-bpf; do
		check "$tag: bind to $drv" bind "$bdf" "$drv"
		client "$tag/$drv" "$bdf"
	done
	same_transcript "parity: $tag identical under vfio-pci and vfio-pci-bpf" \
		"$tag/vfio-pci" "$tag/vfio-pci-bpf"
done

# Bind, unbind and rebind, alternating drivers; the device must work after
# each cycle.
i=0
while [ $i -lt 3 ]; do
	for drv in vfio-pci-bpf vfio-pci; do
		check "cycle $i: bind edu0 to $drv" bind "$EDU0" "$drv"
		client "cycle$i-$drv" "$EDU0" info config bar >/dev/null
		check "cycle $i: edu0 answers under $drv" grep -q '^PASS: bar: factorial(10)' "$OUT/cycle$i-$drv.txt"
	done
	i=$((i + 1))
done

# rmmod with bound (not open) devices unbinds them; insmod again and rebind.
bind "$EDU0" vfio-pci-bpf
bind "$EDU1" vfio-pci-bpf
check "rmmod vfio_pci_bpf with two bound, closed devices" rmmod vfio_pci_bpf
check "rmmod left the devices unbound" test "$(driver_of "$EDU0")$(driver_of "$EDU1")" = nonenone
check "insmod vfio_pci_bpf again" insmod "$KMOD"
check "edu1: rebind after reload" bind "$EDU1" vfio-pci-bpf
client "reload/edu1" "$EDU1" info config bar mmap >/dev/null

# An open device holds the module: rmmod refuses instead of pulling it away.
mkfifo "$OUT/hold"
"$CLIENT" "$EDU1" hold <"$OUT/hold" >"$OUT/hold.txt" 2>&1 &
exec 3>"$OUT/hold"
i=0
while ! grep -q 'waiting' "$OUT/hold.txt" 2>/dev/null && [ $i -lt 200 ]; do
	sleep 0.05; i=$((i + 1))
done
if ! grep -q 'waiting' "$OUT/hold.txt"; then
	fail "hold: the client did not open the device: $(cat "$OUT/hold.txt")"
elif rmmod vfio_pci_bpf 2>/dev/null; then
	fail "rmmod succeeded while a client held the device"
	insmod "$KMOD"
else
	pass "rmmod refused while a client holds the device"
fi
exec 3>&-
wait
check "the client closed the device cleanly" grep -q released "$OUT/hold.txt"
check "rmmod once the client is gone" rmmod vfio_pci_bpf
check "insmod again" insmod "$KMOD"

# SR-IOV: two VFs of igb, one bound to each driver in turn.
check "igb: modprobe" modprobe igb
check "igb: PF bound to igb" test "$(driver_of "$IGB")" = igb
echo 0 >"/sys/bus/pci/devices/$IGB/sriov_drivers_autoprobe"
check "igb: create 2 VFs" sh -c "echo 2 >/sys/bus/pci/devices/$IGB/sriov_numvfs"
vf0=$(basename "$(readlink "/sys/bus/pci/devices/$IGB/virtfn0")")
vf1=$(basename "$(readlink "/sys/bus/pci/devices/$IGB/virtfn1")")
note "igb VFs: $vf0 $vf1"
check "igb: VF ids are 8086:10ca" test "$(cat "/sys/bus/pci/devices/$vf0/vendor"):$(cat "/sys/bus/pci/devices/$vf0/device")" = 0x8086:0x10ca
for drv in vfio-pci vfio-pci-bpf; do
	check "vf0: bind to $drv" bind "$vf0" "$drv"
	client "vf0/$drv" "$vf0" info config bar mmap reset
done
same_transcript "parity: igb VF identical under vfio-pci and vfio-pci-bpf" \
	"vf0/vfio-pci" "vf0/vfio-pci-bpf"
check "vf1: bind to vfio-pci-bpf" bind "$vf1" vfio-pci-bpf
client "vf1/vfio-pci-bpf" "$vf1" info config bar >/dev/null
unbind "$vf0"; unbind "$vf1"
check "igb: remove VFs" sh -c "echo 0 >/sys/bus/pci/devices/$IGB/sriov_numvfs"

unbind "$EDU0"; unbind "$EDU1"
check "final rmmod vfio_pci_bpf" rmmod vfio_pci_bpf
! grep -q '^FAIL' "$RESULTS"
