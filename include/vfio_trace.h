/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Records shared by bpf/vfio_trace.bpf.c and loader/vfio-trace.c: the
 * event streamed through the ring buffer and the keys of the counters.
 * Fixed-width types only.
 */
#ifndef __VFIO_TRACE_H
#define __VFIO_TRACE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define VFT_COMM_LEN	16
#define VFT_ALL_DEVICES	0xffffffffu

/* Event kinds, one per vfio_pci_bpf tracepoint, plus interrupt delivery. */
enum vft_kind {
	VFT_OPEN,
	VFT_CLOSE,
	VFT_RESET,
	VFT_CONFIG_READ,
	VFT_CONFIG_WRITE,
	VFT_BAR_READ,
	VFT_BAR_WRITE,
	VFT_MMAP,
	VFT_IOCTL,
	VFT_SET_IRQS,
	VFT_IRQ_VECTOR,
	VFT_IRQ,			/* an interrupt delivered on an armed vector */
	VFT_MIG_TRANSITION,
	VFT_MIG_DATA,
	VFT_NR_KINDS,
};

/*
 * One event.  a..d carry the tracepoint's fields, by kind:
 *   CONFIG_READ   a offset, b size, c value
 *   CONFIG_WRITE  a offset, b size, c value, d old << 32 | new (low bytes)
 *   BAR_READ/WRITE a offset, b size, c value, d bar
 *   MMAP          a offset, b length, d index
 *   IOCTL         a cmd
 *   RESET         a kind (0 function, 1 hot)
 *   SET_IRQS      a index, b start, c count, d flags
 *   IRQ_VECTOR    a index, b vector, c host irq, d armed
 *   IRQ           a index, b vector, c host irq
 *   MIG_TRANSITION a from, b to, c duration ns
 *   MIG_DATA      a write, b offset, c bytes
 */
struct vft_event {
	__u64 ts_ns;		/* bpf_ktime_get_ns() */
	__u32 sbdf;
	__u32 kind;		/* enum vft_kind */
	__u32 pid;		/* tgid of the task in whose context it fired */
	__s32 ret;
	__u64 a, b, c, d;
	char comm[VFT_COMM_LEN];
};

/* Per device and kind: how many, and how many failed. */
struct vft_count_key {
	__u32 sbdf;
	__u32 kind;
};

struct vft_count {
	__u64 events;
	__u64 errors;
};

/* An armed vector: what a host irq belongs to. */
struct vft_vector {
	__u32 sbdf;
	__u32 index;
	__u32 vector;
	__u32 pad;
};

/*
 * Latency of an access through vfio_pci_core, in log2 buckets of
 * nanoseconds: slot n counts latencies in [2^n, 2^(n+1)).  Keyed like the
 * counts, with kind one of CONFIG_READ, CONFIG_WRITE, BAR_READ, BAR_WRITE,
 * IOCTL.  One layout for the BPF side, vfio-trace and the exporter.
 */
#define VFT_HIST_SLOTS	32

struct vft_hist {
	__u64 slots[VFT_HIST_SLOTS];
	__u64 sum_ns;		/* of all latencies: a Prometheus _sum */
};

#define VFT_MAX_DEVICES	256
#define VFT_MAX_VECTORS	4096

#endif /* __VFIO_TRACE_H */
