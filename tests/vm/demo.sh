#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The demo: load vfio_pci_bpf in the test bed guest, hand an edu device and
# an igb VF to it through driver_override, drive them with a VFIO client
# the way a VMM or DPDK would, and watch it live with vfio-trace; then put
# a BPF policy in the way, and scrape the metrics.

. "$(dirname "$0")/lib.sh"

VT=$BUILD/vfio-trace
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
echo "  tracepoints: $(ls /sys/kernel/tracing/events/vfio_pci_bpf | grep -c vfio_pci_bpf_)"

step "bind edu $EDU0 to vfio-pci-bpf through driver_override"
echo "  echo vfio-pci-bpf > /sys/bus/pci/devices/$EDU0/driver_override"
echo "  echo $EDU0 > /sys/bus/pci/drivers_probe"
bind "$EDU0" vfio-pci-bpf || exit 1
echo "  driver: $(driver_of "$EDU0"), IOMMU group $(basename "$(readlink /sys/bus/pci/devices/$EDU0/iommu_group)")"

# vt_start ARGS...: vfio-trace live on the console until vt_stop.  Its
# stderr is shown in order: "tracing ...; Ctrl-C to stop" before the
# events, what it says at exit after them.
vt_start() {
	"$VT" "$@" 2>"$OUT/vt.err" &
	VT_PID=$!
	i=0
	while ! grep -q tracing "$OUT/vt.err" 2>/dev/null && [ $i -lt 600 ]; do
		sleep 0.1; i=$((i + 1))
	done
	sed 's/^/  /' "$OUT/vt.err"
}
vt_stop() {
	sleep 0.5; kill -INT "$VT_PID"; wait "$VT_PID"
	sed '1,/tracing/d; s/^/  /' "$OUT/vt.err"
}

step "live: vfio-trace -d $EDU0 (all but reads) while a VFIO user works the device"
vt_start -d "$EDU0" -e open,close,config_write,bar_write,mmap,set_irqs,irq_vector,irq
"$CLIENT" -v "$EDU0" info config bar mmap dma msi >"$OUT/demo-client.txt" 2>"$OUT/demo-client.err"
rc=$?
vt_stop
echo "  client: $(tail -n 1 "$OUT/demo-client.err")"

step "statistics: vfio-trace -s, counts per event and interrupts per vector"
echo "  (the client reads past the end of config space and asks for the VGA"
echo "  region edu does not have, on purpose: those are the ERRORS below)"
vt_start -s -d "$EDU0"
"$CLIENT" "$EDU0" config msi intx >/dev/null 2>&1
vt_stop

step "policy: vfio-bpf policy apply etc/policy.example.yaml"
sed 's/^/  | /' "$TOP/etc/policy.example.yaml"
"$BUILD/vfio-bpf" policy apply "$TOP/etc/policy.example.yaml" | sed 's/^/  /'
vt_start -d "$EDU0" -e config_write,mmap
"$CLIENT" "$EDU0" cfg-write:0x3c:1:0x5a cfg-write:0x04:2:0x6 cfg-read:0x04:2 bar-mmap region-flags |
	sed 's/^/  client: /'
vt_stop
"$BUILD/vfio-bpf" policy show -d "$EDU0" | sed 's/^/  /'
# Bus mastering is masked: MSI could not be delivered.  Lift the policy.
"$BUILD/vfio-bpf" policy remove | sed 's/^/  /'

step "metrics: vfio_exporter on 127.0.0.1:9466, scraped with curl"
"$BUILD/vfio_exporter" >"$OUT/exporter.log" 2>&1 &
EXP=$!
i=0
while ! curl -s -o /dev/null http://127.0.0.1:9466/metrics && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
"$CLIENT" "$EDU0" config msi >/dev/null 2>&1
curl -s http://127.0.0.1:9466/metrics |
	grep -E '^vfio_(device_info|interrupts_total|operations_total\{bdf="0000:00:04.0",op="(open|config_read|config_write|set_irqs)")' |
	sed 's/^/  /'
kill -TERM $EXP; wait $EXP

step "SR-IOV: two igb VFs, one handed to vfio-pci-bpf"
modprobe igb
echo 0 >/sys/bus/pci/devices/$IGB/sriov_drivers_autoprobe
echo 2 >/sys/bus/pci/devices/$IGB/sriov_numvfs
vf=$(basename "$(readlink /sys/bus/pci/devices/$IGB/virtfn0)")
bind "$vf" vfio-pci-bpf || exit 1
echo "  $vf: $(cat /sys/bus/pci/devices/$vf/vendor):$(cat /sys/bus/pci/devices/$vf/device) driver $(driver_of "$vf")"
vt_start -s -d "$vf"
"$CLIENT" -v "$vf" info config bar mmap reset >/dev/null 2>"$OUT/vf.err" || rc=1
vt_stop
echo "  client: $(tail -n 1 "$OUT/vf.err")"
unbind "$vf"
echo 0 >/sys/bus/pci/devices/$IGB/sriov_numvfs

step "done"
unbind "$EDU0"
exit $rc
