// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-trace's kernel side: tp_btf programs on every vfio_pci_bpf
 * tracepoint.  Each event is counted per device and kind and, unless the
 * loader asked for counts only, streamed through a ring buffer.  Interrupt
 * deliveries are the host's irq_handler_exit(IRQ_HANDLED) on a host irq that
 * vfio_pci_bpf_irq_vector reported armed.
 *
 * A full ring buffer drops the event and counts it in `lost`, which the
 * loader reports: never silent.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "vfio_trace.h"

const volatile __u32 filter_sbdf = VFT_ALL_DEVICES;
const volatile __u32 kind_mask = (1u << VFT_NR_KINDS) - 1;
const volatile bool stream = true;

__u64 lost;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, VFT_MAX_DEVICES * VFT_NR_KINDS);
	__type(key, struct vft_count_key);
	__type(value, struct vft_count);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFT_MAX_VECTORS);
	__type(key, __s32);			/* host irq */
	__type(value, struct vft_vector);
} armed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, VFT_MAX_VECTORS);
	__type(key, struct vft_vector);
	__type(value, __u64);
} deliveries SEC(".maps");

static __always_inline __u32 sbdf_of(struct pci_dev *pdev)
{
	struct pci_sysdata *sd;
	int domain = 0;

	/* tp_btf pointers are trusted-or-null: check, then read directly. */
	if (!pdev || !pdev->bus)
		return VFT_ALL_DEVICES;
	/* x86 keeps the PCI domain in the bus's sysdata. */
	sd = pdev->bus->sysdata;
	if (sd)
		bpf_probe_read_kernel(&domain, sizeof(domain), &sd->domain);
	return (__u32)domain << 16 | (__u32)pdev->bus->number << 8 | pdev->devfn;
}

static __always_inline bool wanted(__u32 sbdf, __u32 kind)
{
	if (sbdf == VFT_ALL_DEVICES)
		return false;
	if (filter_sbdf != VFT_ALL_DEVICES && sbdf != filter_sbdf)
		return false;
	return kind_mask & (1u << kind);
}

static __always_inline void count(__u32 sbdf, __u32 kind, __s64 ret)
{
	struct vft_count_key key = { .sbdf = sbdf, .kind = kind };
	struct vft_count zero = {}, *c;

	c = bpf_map_lookup_elem(&counts, &key);
	if (!c) {
		bpf_map_update_elem(&counts, &key, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&counts, &key);
		if (!c)
			return;
	}
	c->events++;
	if (ret < 0)
		c->errors++;
}

static __always_inline int emit(struct pci_dev *pdev, __u32 kind, __s64 ret,
				__u64 a, __u64 b, __u64 c, __u64 d)
{
	__u32 sbdf = sbdf_of(pdev);
	struct vft_event *e;

	if (!wanted(sbdf, kind))
		return 0;
	count(sbdf, kind, ret);
	if (!stream)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&lost, 1);
		return 0;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->sbdf = sbdf;
	e->kind = kind;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ret = ret;
	e->a = a;
	e->b = b;
	e->c = c;
	e->d = d;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/vfio_pci_bpf_open")
int BPF_PROG(vft_open, struct pci_dev *pdev, int ret)
{
	return emit(pdev, VFT_OPEN, ret, 0, 0, 0, 0);
}

SEC("tp_btf/vfio_pci_bpf_close")
int BPF_PROG(vft_close, struct pci_dev *pdev, int ret)
{
	return emit(pdev, VFT_CLOSE, ret, 0, 0, 0, 0);
}

SEC("tp_btf/vfio_pci_bpf_reset")
int BPF_PROG(vft_reset, struct pci_dev *pdev, u32 kind, int ret)
{
	return emit(pdev, VFT_RESET, ret, kind, 0, 0, 0);
}

SEC("tp_btf/vfio_pci_bpf_config_read")
int BPF_PROG(vft_config_read, struct pci_dev *pdev, u32 offset, u32 size,
	     u64 value, int ret)
{
	return emit(pdev, VFT_CONFIG_READ, ret, offset, size, value, 0);
}

SEC("tp_btf/vfio_pci_bpf_config_write")
int BPF_PROG(vft_config_write, struct pci_dev *pdev, u32 offset, u32 size,
	     u64 value, u64 old, u64 new, int ret)
{
	return emit(pdev, VFT_CONFIG_WRITE, ret, offset, size, value,
		    old << 32 | (new & 0xffffffff));
}

SEC("tp_btf/vfio_pci_bpf_bar_read")
int BPF_PROG(vft_bar_read, struct pci_dev *pdev, u32 bar, u64 offset, u32 size,
	     u64 value, int ret)
{
	return emit(pdev, VFT_BAR_READ, ret, offset, size, value, bar);
}

SEC("tp_btf/vfio_pci_bpf_bar_write")
int BPF_PROG(vft_bar_write, struct pci_dev *pdev, u32 bar, u64 offset, u32 size,
	     u64 value, int ret)
{
	return emit(pdev, VFT_BAR_WRITE, ret, offset, size, value, bar);
}

SEC("tp_btf/vfio_pci_bpf_mmap")
int BPF_PROG(vft_mmap, struct pci_dev *pdev, u32 index, u64 offset, u64 length,
	     int ret)
{
	return emit(pdev, VFT_MMAP, ret, offset, length, 0, index);
}

SEC("tp_btf/vfio_pci_bpf_ioctl")
int BPF_PROG(vft_ioctl, struct pci_dev *pdev, u32 cmd, long ret)
{
	return emit(pdev, VFT_IOCTL, ret, cmd, 0, 0, 0);
}

SEC("tp_btf/vfio_pci_bpf_set_irqs")
int BPF_PROG(vft_set_irqs, struct pci_dev *pdev, u32 index, u32 start,
	     u32 count, u32 flags, int ret)
{
	return emit(pdev, VFT_SET_IRQS, ret, index, start, count, flags);
}

SEC("tp_btf/vfio_pci_bpf_irq_vector")
int BPF_PROG(vft_irq_vector, struct pci_dev *pdev, u32 index, u32 vector,
	     int host_irq, bool is_armed)
{
	struct vft_vector v = { .index = index, .vector = vector };

	/* The irq table follows every device, whatever the filters. */
	v.sbdf = sbdf_of(pdev);
	if (host_irq >= 0) {
		if (is_armed)
			bpf_map_update_elem(&armed, &host_irq, &v, BPF_ANY);
		else
			bpf_map_delete_elem(&armed, &host_irq);
	}
	return emit(pdev, VFT_IRQ_VECTOR, 0, index, vector, host_irq, is_armed);
}

SEC("tp_btf/vfio_pci_bpf_mig_transition")
int BPF_PROG(vft_mig_transition, struct pci_dev *pdev, u32 from, u32 to,
	     int ret, u64 duration_ns)
{
	return emit(pdev, VFT_MIG_TRANSITION, ret, from, to, duration_ns, 0);
}

SEC("tp_btf/vfio_pci_bpf_mig_data")
int BPF_PROG(vft_mig_data, struct pci_dev *pdev, bool write, u64 offset,
	     long bytes)
{
	return emit(pdev, VFT_MIG_DATA, bytes < 0 ? bytes : 0, write, offset,
		    bytes, 0);
}

SEC("tp_btf/irq_handler_exit")
int BPF_PROG(vft_irq_exit, int irq, struct irqaction *action, int ret)
{
	struct vft_vector *v;
	__u64 one = 1, *n;
	struct vft_event *e;

	if (ret != 1)	/* IRQ_HANDLED: the line was this device's */
		return 0;
	v = bpf_map_lookup_elem(&armed, &irq);
	if (!v || !wanted(v->sbdf, VFT_IRQ))
		return 0;
	n = bpf_map_lookup_elem(&deliveries, v);
	if (n)
		(*n)++;
	else
		bpf_map_update_elem(&deliveries, v, &one, BPF_NOEXIST);
	count(v->sbdf, VFT_IRQ, 0);
	if (!stream)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&lost, 1);
		return 0;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->sbdf = v->sbdf;
	e->kind = VFT_IRQ;
	e->pid = 0;
	e->ret = 0;
	e->a = v->index;
	e->b = v->vector;
	e->c = irq;
	e->d = 0;
	__builtin_memset(e->comm, 0, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
