/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Records shared by bpf/vfio_trace.bpf.c and user space (lib/, loader/):
 * the event streamed through the ring buffer, one record per kind, and
 * the keys of the counters.  Fixed-width types only.
 */
#ifndef __VFIO_TRACE_H
#define __VFIO_TRACE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define VFT_COMM_LEN	16
#define VFT_ALL_DEVICES	0xffffffffu
/* The module's per-device slot (kmod/trace.h): below VFT_MAX_DEVICES. */
#define VFT_NO_SLOT	0xffffffffu

/*
 * Event kinds, one per vfio_pci_bpf tracepoint, plus interrupt delivery:
 * X(NAME, name, flags).  The enum, lib/kinds.c's names and formatters and
 * the exporter's operations all come from this one list; a new kind is one
 * line here, its record in union vft_data and its formatters in lib/kinds.c.
 * VFT_K_OP: an operation a VFIO user asked for (exported as an op).
 */
#define VFT_K_OP	1

#define VFT_KINDS(X)					\
	X(OPEN, open, VFT_K_OP)				\
	X(CLOSE, close, VFT_K_OP)			\
	X(RESET, reset, VFT_K_OP)			\
	X(CONFIG_READ, config_read, VFT_K_OP)		\
	X(CONFIG_WRITE, config_write, VFT_K_OP)		\
	X(BAR_READ, bar_read, VFT_K_OP)			\
	X(BAR_WRITE, bar_write, VFT_K_OP)		\
	X(MMAP, mmap, VFT_K_OP)				\
	X(IOCTL, ioctl, VFT_K_OP)			\
	X(SET_IRQS, set_irqs, VFT_K_OP)			\
	X(IRQ_VECTOR, irq_vector, 0)			\
	X(IRQ, irq, 0)					\
	X(MIG_TRANSITION, mig_transition, VFT_K_OP)	\
	X(MIG_DATA, mig_data, VFT_K_OP)			\
	X(POLICY, policy, 0)

#define VFT_KIND_ENUM(NAME, name, flags) VFT_##NAME,
enum vft_kind {
	VFT_KINDS(VFT_KIND_ENUM)
	VFT_NR_KINDS,
};

/* VFIO irq indexes (uapi VFIO_PCI_*_IRQ_INDEX), as VFIO names them. */
#define VFT_IRQ_INDEXES(X) X(INTX) X(MSI) X(MSIX) X(ERR) X(REQ)
#define VFT_IRQ_ENUM(NAME) VFT_IRQ_##NAME,
enum vft_irq_index { VFT_IRQ_INDEXES(VFT_IRQ_ENUM) VFT_NR_IRQ_INDEXES };

/* VFIO PCI regions (uapi VFIO_PCI_*_REGION_INDEX). */
#define VFT_REGIONS(X) X(BAR0) X(BAR1) X(BAR2) X(BAR3) X(BAR4) X(BAR5) X(ROM) X(CONFIG) X(VGA)
#define VFT_REGION_ENUM(NAME) VFT_REGION_##NAME,
enum vft_region { VFT_REGIONS(VFT_REGION_ENUM) VFT_NR_REGIONS };
#define VFT_NR_BARS	VFT_REGION_ROM

/* Reset kinds (VFIO_BPF_RESET_* of vfio_bpf_hooks.h). */
#define VFT_RESETS(X) X(function) X(hot) X(flr) X(d3hot)

/* The hooks (enum vfio_bpf_hook of vfio_bpf_hooks.h), in order. */
#define VFT_HOOKS(X) X(config_read) X(config_write) X(bar_access) X(mmap) X(set_irqs) \
	X(reset) X(open) X(mig_transition)
#define VFT_NR_HOOKS	8

/* Verdicts other than allow (VFIO_BPF_DENY = 1 on), in order. */
#define VFT_VERDICTS(X) X(deny) X(rewrite) X(drop)

#define VFT_POLICY_NAME_LEN	32	/* = VFIO_BPF_NAME_LEN */

/* Migration states (uapi enum vfio_device_mig_state), in order. */
#define VFT_MIG_STATES(X) X(ERROR) X(STOP) X(RUNNING) X(STOP_COPY) X(RESUMING) \
	X(RUNNING_P2P) X(PRE_COPY) X(PRE_COPY_P2P)

/* What each kind carries: the tracepoint's fields, full width, by name. */
union vft_data {
	struct { __u32 kind; } reset;			/* VFT_RESETS */
	struct { __u32 offset, size; __u64 value; } config_read;
	struct {
		__u32 offset, size;
		__u64 value;				/* what the user wrote */
		__u64 old, new;				/* the device's bytes */
	} config_write;
	struct { __u32 bar, size; __u64 offset, value; } bar;	/* read, write */
	struct { __u32 index, pad; __u64 offset, length; } mmap;
	struct { __u32 cmd; } ioctl;
	struct { __u32 index, start, count, flags; } set_irqs;
	struct {
		__u32 index, vector;			/* vector ~0: all of index */
		__s32 host_irq;				/* -1: none */
		__u32 armed;
	} irq_vector;
	struct { __u32 index, vector; __s32 host_irq; } irq;
	struct { __u32 from, to; __u64 duration_ns; } mig_transition;
	struct { __u32 write, pad; __u64 offset, bytes; } mig_data;	/* bytes moved */
	struct {
		__u32 hook;				/* VFT_HOOKS */
		__u32 verdict;				/* VFIO_BPF_DENY.. */
		__u32 monitor;				/* recorded, not enforced */
		__u32 rule;				/* ~0: none named */
		__u32 region, pad;			/* as the tracepoint's */
		__u64 offset, size, value;
		char name[VFT_POLICY_NAME_LEN];		/* "" without a policy */
	} policy;
};

struct vft_event {
	__u64 ts_ns;		/* bpf_ktime_get_ns() */
	__u32 sbdf;
	__u32 slot;		/* VFT_NO_SLOT in stock-kernel mode */
	__u32 kind;		/* enum vft_kind */
	__u32 pid;		/* tgid of the task in whose context it fired; 0 */
	__s32 ret;		/* < 0: the operation failed with -ret */
	__u32 pad;
	char comm[VFT_COMM_LEN];
	union vft_data d;
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

/*
 * The module's devices are counted in a per-CPU array by slot and kind
 * (index slot * VFT_NR_KINDS + kind), each entry tagged with the device it
 * counts: a CPU's entry that finds another device's tag in it starts over
 * (the module gives a slot back to the device that had it, so that is
 * only a slot's reuse by a new device).  Readers sum entries by tag.
 */
struct vft_slot_count {
	__u32 sbdf;
	__u32 pad;
	__u64 events;
	__u64 errors;
};

/*
 * Policy decisions other than allow, per device, hook, verdict, mode and
 * rule (bounded: a policy has at most a few dozen rules).
 */
struct vft_decision_key {
	__u32 sbdf;
	__u8 hook, verdict, monitor, pad;
	__u32 rule;
	__u32 pad2;
};

#define VFT_MAX_DECISIONS	4096

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

/*
 * Migration (docs/migration.md, "Metrics"): per device, the state it is in
 * and what moved through its data fd; per device and arc (the state asked
 * for from the one it was in), how long the successful requests took; per
 * pair of devices, the stop-copy downtime (a vft_hist each, in ns).
 */
#define VFT_MIG_RESUMING	1u	/* entered RESUMING, not RUNNING since */

struct vft_mig_dev {
	__u32 state;		/* uapi enum vfio_device_mig_state */
	__u32 flags;		/* VFT_MIG_* */
	__u64 bytes[2];		/* read from (0), written to (1) the data fd */
	__u64 session;		/* bytes of the save or resume session under way */
	__u64 stop_copy_ns;	/* bpf_ktime when it entered STOP_COPY; 0: paired, none */
};

struct vft_mig_arc {
	__u32 sbdf;
	__u16 from, to;
};

/* Source and target of a stop-copy downtime. */
struct vft_mig_pair {
	__u32 source, target;
};

#define VFT_MIG_MAX_ARCS	4096

/*
 * Config-space offsets a device's users touched (docs/metrics.md,
 * vfio_config_offsets_touched_total): per device, a bit per dword of the
 * 4 KiB extended config space and direction, by the offset an access
 * starts at, cleared at every first open; and how many bits were ever
 * newly set.  A scan of config space sets hundreds in a moment, a driver
 * or VMM a few dozen at open (QEMU reads the whole space in one access).
 */
#define VFT_CFG_DWORDS		1024
#define VFT_CFG_WORDS		(VFT_CFG_DWORDS / 64)

struct vft_cfg_touch {
	__u64 bits[2][VFT_CFG_WORDS];	/* read, write */
	__u64 touched[2];		/* first touches since loaded: only grows */
};

/*
 * = the module's VFIO_PCI_BPF_MAX_SLOTS (kmod/vfio_pci_bpf.h): change both
 * together.  The per-CPU maps sized by it cost memory on every CPU
 * (docs/metrics.md, "Devices the counters cannot track").
 */
#define VFT_MAX_DEVICES	4096
#define VFT_MAX_VECTORS	4096

#endif /* __VFIO_TRACE_H */
