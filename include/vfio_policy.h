/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * A compiled policy: what loader/policy.c makes of a YAML policy and
 * bpf/vfio_policy.bpf.c enforces.  One struct vfp_policy per device, held
 * in the read-only data of the struct_ops object attached to that device.
 * Fixed-width types only.
 */
#ifndef __VFIO_POLICY_H
#define __VFIO_POLICY_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/*
 * A file gives at most VFP_MAX_USER_CONFIG_RULES config rules a policy;
 * the rest of VFP_MAX_CONFIG_RULES is for those vfio-bpf derives per
 * device at apply time (hide:, the MSI-X Table Size of interrupts:).
 */
#define VFP_MAX_CONFIG_RULES	64
#define VFP_MAX_USER_CONFIG_RULES 32
#define VFP_MAX_HIDE		16
#define VFP_MAX_BAR_RULES	16
#define VFP_NAME_LEN		32
#define VFP_NO_LIMIT		0xffffffffu

/* What a config rule does to the bytes it covers. */
enum vfp_config_action {
	VFP_CFG_DENY_READ	= 1 << 0,	/* reads fail with EPERM */
	VFP_CFG_DENY_WRITE	= 1 << 1,	/* writes fail with EPERM */
	VFP_CFG_MASK_WRITE	= 1 << 2,	/* bits in mask: users may not set them */
	VFP_CFG_SUBST_READ	= 1 << 3,	/* reads return value (under read_mask) */
	VFP_CFG_DROP_WRITE	= 1 << 4,	/* writes succeed, nothing is written */
};

/* What MASK_WRITE writes for the masked bits. */
enum vfp_keep {
	VFP_KEEP_ZERO		= 0,	/* 0 */
	VFP_KEEP_ONE		= 1,	/* 1 */
	VFP_KEEP_CURRENT	= 2,	/* the register's current value */
};

/*
 * @value and @read_mask are a 4-byte pattern relative to @offset, repeated
 * every 4 bytes over a longer rule: byte offset + k takes byte k % 4.
 */
struct vfp_config_rule {
	__u16 offset;		/* first byte covered */
	__u16 size;		/* bytes covered */
	__u32 actions;		/* enum vfp_config_action */
	__u32 mask;		/* MASK_WRITE: bits users may not set (size <= 4) */
	__u32 value;		/* SUBST_READ: the bits reads return */
	__u32 read_mask;	/* SUBST_READ: bits of value used; others are the device's */
	__u32 keep;		/* MASK_WRITE: enum vfp_keep */
};

enum vfp_bar_action {
	VFP_BAR_DENY_READ	= 1 << 0,
	VFP_BAR_DENY_WRITE	= 1 << 1,
};

struct vfp_bar_rule {
	__u32 bar;		/* region index 0-5 */
	__u32 actions;		/* enum vfp_bar_action */
	__u64 offset;
	__u64 size;
};

struct vfp_policy {
	char name[VFP_NAME_LEN];
	__u32 n_config;
	__u32 n_bar;
	struct vfp_config_rule config[VFP_MAX_CONFIG_RULES];
	struct vfp_bar_rule bar[VFP_MAX_BAR_RULES];
	__u32 trap_bars;		/* bit n: BAR n may not be mmap'ed */
	__u32 max_vectors[5];		/* per irq index; VFP_NO_LIMIT */
	__u8 deny_reset;
	__u8 deny_open;
	__u8 deny_migration;
	__u8 monitor;			/* mode: monitor (record, do not enforce) */
	__u8 no_migration;		/* migration: none (VFIO_BPF_OPS_NO_MIGRATION) */
	__u8 pad[3];
};

#endif /* __VFIO_POLICY_H */
