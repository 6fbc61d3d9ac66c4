// SPDX-License-Identifier: GPL-2.0
/*
 * tp_btf programs on every vfio_pci_bpf tracepoint: count events of one
 * device and keep the fields of the last config read, and count interrupt
 * deliveries per device and vector by joining vfio_pci_bpf_irq_vector (host
 * irq -> device, vector) with irq_handler_exit(ret = IRQ_HANDLED).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "trace_test.h"

const volatile __u32 target_sbdf;

__u64 counts[TT_NR_EVENTS];
__u32 last_cfg_offset, last_cfg_size;
__u64 last_cfg_value;
__s32 last_cfg_ret;
__u32 last_open_pid;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TT_MAX_DELIVERY_KEYS);
	__type(key, __s32);			/* host irq */
	__type(value, struct tt_vector);
} armed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TT_MAX_DELIVERY_KEYS);
	__type(key, struct tt_vector);
	__type(value, __u64);
} deliveries SEC(".maps");

/*
 * Every tracepoint carries the device's sbdf and slot after pdev: the
 * device is known without walking a pointer.  The first event also checks
 * that the scalar is the pci_dev's (bus, devfn) and keeps the slot.
 */
__u32 sbdf_mismatch;
__u32 last_slot = 0xffffffff;

static __always_inline bool ours_dev(struct pci_dev *pdev, __u32 sbdf, __u32 slot)
{
	if (sbdf != target_sbdf)
		return false;
	/* tp_btf pointers are trusted-or-null: check, then read directly. */
	if (pdev && pdev->bus &&
	    ((__u32)pdev->bus->number << 8 | pdev->devfn) != (sbdf & 0xffff))
		sbdf_mismatch++;
	last_slot = slot;
	return true;
}

#define ours(pdev) ours_dev(pdev, sbdf, slot)

#define COUNT(ev) __sync_fetch_and_add(&counts[ev], 1)

SEC("tp_btf/vfio_pci_bpf_open")
int BPF_PROG(on_open, struct pci_dev *pdev, u32 sbdf, u32 slot, int ret)
{
	if (ours(pdev)) {
		COUNT(TT_OPEN);
		last_open_pid = bpf_get_current_pid_tgid() >> 32;
	}
	return 0;
}

SEC("tp_btf/vfio_pci_bpf_close")
int BPF_PROG(on_close, struct pci_dev *pdev, u32 sbdf, u32 slot, int ret)
{
	if (ours(pdev))
		COUNT(TT_CLOSE);
	return 0;
}

SEC("tp_btf/vfio_pci_bpf_reset")
int BPF_PROG(on_reset, struct pci_dev *pdev, u32 sbdf, u32 slot, u32 kind, int ret)
{
	if (ours(pdev))
		COUNT(TT_RESET);
	return 0;
}

SEC("tp_btf/vfio_pci_bpf_config_read")
int BPF_PROG(on_config_read, struct pci_dev *pdev, u32 sbdf, u32 slot, u32 offset, u32 size,
	     u64 value, int ret)
{
	if (!ours(pdev))
		return 0;
	COUNT(TT_CONFIG_READ);
	last_cfg_offset = offset;
	last_cfg_size = size;
	last_cfg_value = value;
	last_cfg_ret = ret;
	return 0;
}

SEC("tp_btf/vfio_pci_bpf_config_write")
int BPF_PROG(on_config_write, struct pci_dev *pdev, u32 sbdf, u32 slot, u32 offset, u32 size,
	     u64 value, u64 old, u64 new, int ret)
{
	if (ours(pdev))
		COUNT(TT_CONFIG_WRITE);
	return 0;
}

SEC("tp_btf/vfio_pci_bpf_bar_read")
int BPF_PROG(on_bar_read, struct pci_dev *pdev, u32 sbdf, u32 slot)
{
	if (ours(pdev))
		COUNT(TT_BAR_READ);
	return 0;
}

SEC("tp_btf/vfio_pci_bpf_bar_write")
int BPF_PROG(on_bar_write, struct pci_dev *pdev, u32 sbdf, u32 slot)
{
	if (ours(pdev))
		COUNT(TT_BAR_WRITE);
	return 0;
}

SEC("tp_btf/vfio_pci_bpf_mmap")
int BPF_PROG(on_mmap, struct pci_dev *pdev, u32 sbdf, u32 slot)
{
	if (ours(pdev))
		COUNT(TT_MMAP);
	return 0;
}

SEC("tp_btf/vfio_pci_bpf_ioctl")
int BPF_PROG(on_ioctl, struct pci_dev *pdev, u32 sbdf, u32 slot)
{
	if (ours(pdev))
		COUNT(TT_IOCTL);
	return 0;
}

SEC("tp_btf/vfio_pci_bpf_set_irqs")
int BPF_PROG(on_set_irqs, struct pci_dev *pdev, u32 sbdf, u32 slot)
{
	if (ours(pdev))
		COUNT(TT_SET_IRQS);
	return 0;
}

SEC("tp_btf/vfio_pci_bpf_irq_vector")
int BPF_PROG(on_irq_vector, struct pci_dev *pdev, u32 sbdf, u32 slot, u32 index, u32 vector,
	     int host_irq, bool is_armed)
{
	struct tt_vector v = { .index = index, .vector = vector };

	if (!ours(pdev))
		return 0;
	COUNT(TT_IRQ_VECTOR);
	v.sbdf = target_sbdf;
	if (is_armed && host_irq >= 0)
		bpf_map_update_elem(&armed, &host_irq, &v, BPF_ANY);
	else if (host_irq >= 0)
		bpf_map_delete_elem(&armed, &host_irq);
	return 0;
}

SEC("tp_btf/vfio_pci_bpf_mig_transition")
int BPF_PROG(on_mig_transition, struct pci_dev *pdev, u32 sbdf, u32 slot)
{
	if (ours(pdev))
		COUNT(TT_MIG_TRANSITION);
	return 0;
}

SEC("tp_btf/vfio_pci_bpf_mig_data")
int BPF_PROG(on_mig_data, struct pci_dev *pdev, u32 sbdf, u32 slot)
{
	if (ours(pdev))
		COUNT(TT_MIG_DATA);
	return 0;
}

/* A delivery: the handler of an armed host irq said IRQ_HANDLED. */
SEC("tp_btf/irq_handler_exit")
int BPF_PROG(on_irq_exit, int irq, struct irqaction *action, int ret)
{
	struct tt_vector *v;
	__u64 one = 1, *n;

	if (ret != 1)
		return 0;
	v = bpf_map_lookup_elem(&armed, &irq);
	if (!v)
		return 0;
	n = bpf_map_lookup_elem(&deliveries, v);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&deliveries, v, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
