// SPDX-License-Identifier: GPL-2.0
/*
 * A configurable vfio_pci_bpf_ops policy for the hook tests: every hook is
 * implemented, and what each one does is set through read-only data by
 * policy_test.c before load.  Offsets of ~0 mean "no rule".
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "vfio_bpf_hooks.h"

#define NO_RULE 0xffffffffu

const volatile __u32 deny_config_read = NO_RULE;
const volatile __u32 rewrite_config_read = NO_RULE;
const volatile __u64 rewrite_config_value;
const volatile __u32 deny_config_write = NO_RULE;
const volatile __u32 mask_config_write = NO_RULE;
const volatile __u64 mask_config_bits;		/* bits the user may not set */
const volatile __u32 drop_config_write = NO_RULE;	/* written as nothing */
const volatile __u32 keep_config_write = NO_RULE;
const volatile __u64 keep_config_bits;		/* keep their current value */
const volatile __u32 deny_bar_offset = NO_RULE;	/* BAR0 */
const volatile bool deny_mmap;
const volatile bool deny_msi;
const volatile bool deny_reset;
const volatile bool deny_open;
const volatile bool deny_mig;
const volatile __u32 tag;			/* tells replaced programs apart */

/* Does [off, off + size) touch the register at @reg? */
static __always_inline bool touches(__u64 off, __u32 size, __u32 reg)
{
	return reg != NO_RULE && off <= reg && reg < off + size;
}

SEC("struct_ops/config_read")
int BPF_PROG(config_read, struct vfio_bpf_access *a)
{
	if (touches(a->offset, a->size, deny_config_read))
		return VFIO_BPF_DENY;
	if (a->offset == rewrite_config_read) {
		a->value = rewrite_config_value;
		return VFIO_BPF_REWRITE;
	}
	return VFIO_BPF_ALLOW;
}

SEC("struct_ops/config_write")
int BPF_PROG(config_write, struct vfio_bpf_access *a)
{
	if (touches(a->offset, a->size, deny_config_write))
		return VFIO_BPF_DENY;
	if (a->offset == mask_config_write) {
		a->value &= ~mask_config_bits;
		return VFIO_BPF_REWRITE;
	}
	if (touches(a->offset, a->size, drop_config_write))
		return VFIO_BPF_DROP;
	if (a->offset == keep_config_write) {
		a->keep = keep_config_bits;
		return VFIO_BPF_REWRITE;
	}
	return VFIO_BPF_ALLOW;
}

SEC("struct_ops/bar_access")
int BPF_PROG(bar_access, struct vfio_bpf_access *a)
{
	if (a->region == VFIO_BPF_REGION_BAR0 &&
	    touches(a->offset, a->size, deny_bar_offset))
		return VFIO_BPF_DENY;
	return VFIO_BPF_ALLOW;
}

SEC("struct_ops/mmap")
int BPF_PROG(mmap, struct vfio_bpf_mmap *m)
{
	return deny_mmap && m->region == VFIO_BPF_REGION_BAR0 ?
	       VFIO_BPF_DENY : VFIO_BPF_ALLOW;
}

SEC("struct_ops/set_irqs")
int BPF_PROG(set_irqs, struct vfio_bpf_irq *i)
{
	/* Refuse to arm MSI; tearing it down stays allowed. */
	return deny_msi && i->index == 1 && i->nvec ?
	       VFIO_BPF_DENY : VFIO_BPF_ALLOW;
}

SEC("struct_ops/reset")
int BPF_PROG(reset, struct vfio_bpf_dev *d)
{
	return deny_reset ? VFIO_BPF_DENY : VFIO_BPF_ALLOW;
}

SEC("struct_ops/open")
int BPF_PROG(open, struct vfio_bpf_dev *d)
{
	return deny_open ? VFIO_BPF_DENY : VFIO_BPF_ALLOW;
}

SEC("struct_ops/mig_transition")
int BPF_PROG(mig_transition, struct vfio_bpf_mig *m)
{
	return deny_mig ? VFIO_BPF_DENY : VFIO_BPF_ALLOW;
}

SEC(".struct_ops.link")
struct vfio_pci_bpf_ops policy = {
	.config_read	= (void *)config_read,
	.config_write	= (void *)config_write,
	.bar_access	= (void *)bar_access,
	.mmap		= (void *)mmap,
	.set_irqs	= (void *)set_irqs,
	.reset		= (void *)reset,
	.open		= (void *)open,
	.mig_transition	= (void *)mig_transition,
};

char LICENSE[] SEC("license") = "GPL";
