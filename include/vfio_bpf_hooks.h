/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The hook ABI of vfio-pci-bpf, shared by the module, BPF programs and user
 * space: the struct_ops type a policy program implements, the context each
 * hook gets and the verdicts it returns.  docs/hooks.md describes each hook.
 *
 * Fixed-width types only; add members at the end.
 */
#ifndef __VFIO_BPF_HOOKS_H
#define __VFIO_BPF_HOOKS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define VFIO_BPF_ABI_VERSION	2

/* The hooks, as the audit tracepoint (vfio_pci_bpf_policy) names them. */
enum vfio_bpf_hook {
	VFIO_BPF_HOOK_CONFIG_READ	= 0,
	VFIO_BPF_HOOK_CONFIG_WRITE	= 1,
	VFIO_BPF_HOOK_BAR_ACCESS	= 2,
	VFIO_BPF_HOOK_MMAP		= 3,
	VFIO_BPF_HOOK_SET_IRQS		= 4,
	VFIO_BPF_HOOK_RESET		= 5,
	VFIO_BPF_HOOK_OPEN		= 6,
	VFIO_BPF_HOOK_MIG_TRANSITION	= 7,
};

/* A context's @rule before the program names one. */
#define VFIO_BPF_NO_RULE	0xffffffffu

/* What a hook returns. */
enum vfio_bpf_verdict {
	VFIO_BPF_ALLOW		= 0,	/* go on as vfio-pci would */
	VFIO_BPF_DENY		= 1,	/* fail the operation with -EPERM */
	VFIO_BPF_REWRITE	= 2,	/* config access: use ctx->value instead */
	VFIO_BPF_DROP		= 3,	/* config write: write nothing, succeed */
};

/* VFIO region indexes (enum in linux/vfio.h), for BPF programs. */
#define VFIO_BPF_REGION_BAR0	0
#define VFIO_BPF_REGION_BAR5	5
#define VFIO_BPF_REGION_ROM	6
#define VFIO_BPF_REGION_CONFIG	7
#define VFIO_BPF_REGION_VGA	8

/* Reset kinds of the reset hook and tracepoint. */
#define VFIO_BPF_RESET_FUNCTION	0	/* VFIO_DEVICE_RESET */
#define VFIO_BPF_RESET_HOT	1	/* VFIO_DEVICE_PCI_HOT_RESET */
#define VFIO_BPF_RESET_FLR	2	/* config write: PCIe DevCtl or AF FLR bit */
#define VFIO_BPF_RESET_PM	3	/* to D3hot: PM control, low-power entry */

/*
 * A config-space or BAR access.  Config accesses reach the hook split into
 * naturally aligned pieces of at most 4 bytes, so no larger read or write
 * slips past a per-register policy; BAR writes likewise in pieces of at
 * most 8 bytes, BAR reads as the user made them.  @value is the module's
 * own copy of the data (what the device gets or what the user will see);
 * it is 0 for reads of a BAR and writes of the VGA region, which are
 * judged by where they go.  Only @value, @keep and @rule may be written
 * by the program.
 *
 * Every context ends in @rule: a program may set it to the index of the
 * rule that decided, which the audit tracepoint reports with a denial or
 * rewrite (VFIO_BPF_NO_RULE until then).
 */
struct vfio_bpf_access {
	__u32 sbdf;		/* domain << 16 | bus << 8 | devfn */
	__u32 region;		/* VFIO_BPF_REGION_* */
	__u64 offset;		/* within the region */
	__u32 size;		/* bytes */
	__u32 write;		/* 1 for a write */
	__u64 value;		/* config read: the value read; write: to write */
	__u32 rule;		/* written by the program: the deciding rule */
	__u32 pad;
	/*
	 * Written by the program with REWRITE of a config write: these bits
	 * keep the register's current value (as the user reads it) instead
	 * of taking @value's.
	 */
	__u64 keep;
};

/* mmap of a region, and the mmap flag of VFIO_DEVICE_GET_REGION_INFO. */
struct vfio_bpf_mmap {
	__u32 sbdf;
	__u32 region;
	__u64 offset;
	__u64 length;
	__u32 rule;
	__u32 pad;
};

/*
 * VFIO_DEVICE_SET_IRQS, the copy the core checked and will carry out.
 * @nvec is what a cap on vectors should count: the vectors the device
 * will have enabled for the request, start + count for an eventfd
 * trigger (count 0 included: the core enables @start vectors then), 0
 * for a teardown, a loopback trigger or a mask.
 */
struct vfio_bpf_irq {
	__u32 sbdf;
	__u32 index;		/* VFIO_PCI_{INTX,MSI,MSIX,ERR,REQ}_IRQ_INDEX */
	__u32 start;
	__u32 count;
	__u32 flags;		/* VFIO_IRQ_SET_DATA_* | VFIO_IRQ_SET_ACTION_* */
	__u32 nvec;
	__u32 rule;
	__u32 pad;
};

/* Open of the device by a VFIO user, and reset. */
struct vfio_bpf_dev {
	__u32 sbdf;
	__u32 pid;		/* thread group of the caller */
	__u32 kind;		/* reset: VFIO_BPF_RESET_* */
	__u32 rule;
};

/* One arc of the migration state machine. */
struct vfio_bpf_mig {
	__u32 sbdf;
	__u32 from;		/* enum vfio_device_mig_state */
	__u32 to;
	__u32 rule;
};

/* struct vfio_pci_bpf_ops.flags */
#define VFIO_BPF_OPS_MONITOR	(1u << 0)	/* record decisions, enforce none */
#define VFIO_BPF_OPS_NO_MIGRATION (1u << 1)	/* the device does not advertise migration */

#define VFIO_BPF_NAME_LEN	32

/*
 * The struct_ops a policy program implements.  One instance attaches to
 * one device, named by @sbdf; a hook left NULL allows everything.  With
 * VFIO_BPF_OPS_MONITOR in @flags every operation proceeds as under
 * vfio-pci and each denial or rewrite is only recorded (tracepoint
 * vfio_pci_bpf_policy, mode "monitor"); the module's `modes` file switches
 * it at run time.  @name (NUL-terminated) names the policy in records.
 */
struct vfio_pci_bpf_ops {
	int (*config_read)(struct vfio_bpf_access *ctx);
	int (*config_write)(struct vfio_bpf_access *ctx);
	int (*bar_access)(struct vfio_bpf_access *ctx);
	int (*mmap)(struct vfio_bpf_mmap *ctx);
	int (*set_irqs)(struct vfio_bpf_irq *ctx);
	int (*reset)(struct vfio_bpf_dev *ctx);
	int (*open)(struct vfio_bpf_dev *ctx);
	int (*mig_transition)(struct vfio_bpf_mig *ctx);
	__u32 sbdf;
	__u32 flags;		/* VFIO_BPF_OPS_* */
	char name[VFIO_BPF_NAME_LEN];
};

#endif /* __VFIO_BPF_HOOKS_H */
