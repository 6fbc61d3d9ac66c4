#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The demo: load vfio_pci_bpf in the test bed guest, hand an edu device and
# an igb VF to it through driver_override, and drive them with the VFIO
# client the way a VMM or DPDK would.

. "$(dirname "$0")/lib.sh"

step() { printf '\n=== %s\n' "$*"; }

step "guest kernel $(uname -r); PCI devices"
for d in /sys/bus/pci/devices/*; do
	printf '  %s  %s:%s  class %s  driver %s\n' "${d##*/}" \
		"$(sed 's/0x//' "$d/vendor")" "$(sed 's/0x//' "$d/device")" \
		"$(cut -c3-6 "$d/class")" "$(driver_of "${d##*/}")"
done

step "load vfio-pci (stock) and vfio_pci_bpf.ko"
load_modules || exit 1
grep -E '^(vfio_pci_bpf|vfio_pci_core|vfio_pci|vfio) ' /proc/modules | cut -d' ' -f1-3
printf '  module BTF: /sys/kernel/btf/vfio_pci_bpf (%s bytes)\n' \
	"$(wc -c </sys/kernel/btf/vfio_pci_bpf)"

step "bind edu $EDU0 to vfio-pci-bpf through driver_override"
echo "  echo vfio-pci-bpf > /sys/bus/pci/devices/$EDU0/driver_override"
echo "  echo $EDU0 > /sys/bus/pci/drivers_probe"
bind "$EDU0" vfio-pci-bpf || exit 1
echo "  driver: $(driver_of "$EDU0"), IOMMU group $(basename "$(readlink /sys/bus/pci/devices/$EDU0/iommu_group)")"

step "a VFIO user drives it: config space, BAR0 (read/write and mmap), DMA, MSI, INTx, reset"
"$CLIENT" -v "$EDU0"
rc=$?

step "SR-IOV: two igb VFs, one handed to vfio-pci-bpf"
modprobe igb
echo 0 >/sys/bus/pci/devices/$IGB/sriov_drivers_autoprobe
echo 2 >/sys/bus/pci/devices/$IGB/sriov_numvfs
vf=$(basename "$(readlink /sys/bus/pci/devices/$IGB/virtfn0)")
bind "$vf" vfio-pci-bpf || exit 1
echo "  $vf: $(cat /sys/bus/pci/devices/$vf/vendor):$(cat /sys/bus/pci/devices/$vf/device) driver $(driver_of "$vf")"
"$CLIENT" -v "$vf" info config bar || rc=1
unbind "$vf"
echo 0 >/sys/bus/pci/devices/$IGB/sriov_numvfs

step "done (tracepoints, BPF policy and metrics arrive with the next issues)"
unbind "$EDU0"
exit $rc
