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

#define VFP_MAX_CONFIG_RULES	32
#define VFP_MAX_BAR_RULES	16
#define VFP_NAME_LEN		32
#define VFP_NO_LIMIT		0xffffffffu

/* What a config rule does to the bytes it covers. */
enum vfp_config_action {
	VFP_CFG_DENY_READ	= 1 << 0,	/* reads fail with EPERM */
	VFP_CFG_DENY_WRITE	= 1 << 1,	/* writes fail with EPERM */
	VFP_CFG_MASK_WRITE	= 1 << 2,	/* bits in mask are written as 0 */
	VFP_CFG_SUBST_READ	= 1 << 3,	/* reads return value */
};

struct vfp_config_rule {
	__u16 offset;		/* first byte covered */
	__u16 size;		/* bytes covered */
	__u32 actions;		/* enum vfp_config_action */
	__u32 mask;		/* MASK_WRITE: bits cleared, relative to offset */
	__u32 value;		/* SUBST_READ: value, relative to offset */
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
};

#endif /* __VFIO_POLICY_H */
