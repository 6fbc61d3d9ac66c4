// SPDX-License-Identifier: GPL-2.0
/*
 * The policy program: a vfio_pci_bpf_ops struct_ops whose every hook reads
 * its rules from one compiled struct vfp_policy (include/vfio_policy.h) in
 * read-only data, set by vfio-bpf before load.  Each device gets its own
 * instance; replacing a policy is a link update, atomic for the device.
 *
 * Rules are checked in order; for config space a piece of an access (at
 * most 4 bytes, aligned: the module splits accesses) meets every rule that
 * overlaps it.  Deny wins, then a dropped write; masks and substitutions
 * apply byte-exactly to the overlapping bytes (a rule's value and masks
 * are a 4-byte pattern repeated over longer rules).  Each decision names its rule in ctx->rule for
 * the audit trail: the index in the policy's config or bars list (the
 * first one that changed a rewritten value), the irq index for a vector
 * cap; monitor mode is the module's business (the struct_ops flags).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "vfio_bpf_hooks.h"
#include "vfio_policy.h"

const volatile struct vfp_policy policy;

/*
 * Counts of decisions, read by vfio-bpf policy show.  mmap refusals are not
 * counted: every open asks about each BAR's mmap flag.
 */
__u64 denied;
__u64 rewritten;

static __always_inline int deny_if(bool deny)
{
	if (!deny)
		return VFIO_BPF_ALLOW;
	__sync_fetch_and_add(&denied, 1);
	return VFIO_BPF_DENY;
}

static __always_inline bool overlap(__u64 a, __u64 alen, __u64 b, __u64 blen)
{
	return a < b + blen && b < a + alen;
}

/*
 * The bytes of @rule_bits (a pattern relative to the rule's offset,
 * repeated every 4 bytes) that fall in the access [off, off + size),
 * shifted to be relative to the access.
 */
static __always_inline __u64 rule_bits_in_access(__u32 rule_off, __u32 rule_size,
						 __u64 bits, __u64 off, __u32 size)
{
	__u64 out = 0;

	for (int i = 0; i < 4; i++) {
		__u64 byte = off + i;

		if (i >= size)
			break;
		if (byte < rule_off || byte >= rule_off + rule_size)
			continue;
		out |= ((bits >> (8 * ((byte - rule_off) & 3))) & 0xff) << (8 * i);
	}
	return out;
}

SEC("struct_ops/config_read")
int BPF_PROG(vfp_config_read, struct vfio_bpf_access *a)
{
	__u64 off = a->offset, value = a->value;
	__u32 size = a->size, n = policy.n_config;
	bool changed = false;

	for (__u32 i = 0; i < VFP_MAX_CONFIG_RULES; i++) {
		const volatile struct vfp_config_rule *r = &policy.config[i];
		__u64 bits;

		if (i >= n)
			break;
		if (!overlap(off, size, r->offset, r->size))
			continue;
		if (r->actions & VFP_CFG_DENY_READ) {
			a->rule = i;
			__sync_fetch_and_add(&denied, 1);
			return VFIO_BPF_DENY;
		}
		if (r->actions & VFP_CFG_SUBST_READ) {
			/* Bits outside read_mask keep the device's value. */
			bits = rule_bits_in_access(r->offset, r->size, r->read_mask, off, size);
			value = (value & ~bits) |
				(rule_bits_in_access(r->offset, r->size, r->value, off, size) & bits);
			if (!changed)
				a->rule = i;
			changed = true;
		}
	}
	if (!changed)
		return VFIO_BPF_ALLOW;
	a->value = value;
	__sync_fetch_and_add(&rewritten, 1);
	return VFIO_BPF_REWRITE;
}

SEC("struct_ops/config_write")
int BPF_PROG(vfp_config_write, struct vfio_bpf_access *a)
{
	__u64 off = a->offset, value = a->value, kept = 0;
	__u32 size = a->size, n = policy.n_config, drop_rule = VFIO_BPF_NO_RULE;
	bool changed = false;

	for (__u32 i = 0; i < VFP_MAX_CONFIG_RULES; i++) {
		const volatile struct vfp_config_rule *r = &policy.config[i];
		__u64 bits;

		if (i >= n)
			break;
		if (!overlap(off, size, r->offset, r->size))
			continue;
		if (r->actions & VFP_CFG_DENY_WRITE) {
			a->rule = i;
			__sync_fetch_and_add(&denied, 1);
			return VFIO_BPF_DENY;
		}
		/* A hidden capability: the write vanishes, unless denied. */
		if ((r->actions & VFP_CFG_DROP_WRITE) && drop_rule == VFIO_BPF_NO_RULE)
			drop_rule = i;
		if (r->actions & VFP_CFG_MASK_WRITE) {
			/*
			 * Masked bits never take the user's value: 0, 1, or
			 * (keep: current) what the register holds, which the
			 * module reads right before writing (ctx->keep).
			 * vfio-pci-core merges a write with the register's
			 * virtual bits itself.
			 */
			bits = rule_bits_in_access(r->offset, r->size, r->mask, off, size);
			if (r->keep == VFP_KEEP_ONE) {
				value |= bits;
			} else {
				value &= ~bits;
				if (r->keep == VFP_KEEP_CURRENT)
					kept |= bits;
			}
			if (!changed)
				a->rule = i;
			changed = true;
		}
	}
	if (drop_rule != VFIO_BPF_NO_RULE) {
		a->rule = drop_rule;
		__sync_fetch_and_add(&rewritten, 1);
		return VFIO_BPF_DROP;
	}
	if (!changed)
		return VFIO_BPF_ALLOW;
	a->value = value;
	a->keep = kept;
	__sync_fetch_and_add(&rewritten, 1);
	return VFIO_BPF_REWRITE;
}

SEC("struct_ops/bar_access")
int BPF_PROG(vfp_bar_access, struct vfio_bpf_access *a)
{
	__u32 n = policy.n_bar, need = a->write ? VFP_BAR_DENY_WRITE : VFP_BAR_DENY_READ;

	for (__u32 i = 0; i < VFP_MAX_BAR_RULES; i++) {
		const volatile struct vfp_bar_rule *r = &policy.bar[i];

		if (i >= n)
			break;
		if (r->bar == a->region && (r->actions & need) &&
		    overlap(a->offset, a->size, r->offset, r->size)) {
			a->rule = i;
			__sync_fetch_and_add(&denied, 1);
			return VFIO_BPF_DENY;
		}
	}
	return VFIO_BPF_ALLOW;
}

/*
 * A BAR is trapped (never mapped) when the policy says so, and whenever a
 * rule denies any access to it: through a mapping nothing could be denied.
 */
SEC("struct_ops/mmap")
int BPF_PROG(vfp_mmap, struct vfio_bpf_mmap *m)
{
	__u32 n = policy.n_bar;

	if (m->region >= 6)
		return VFIO_BPF_ALLOW;
	if (policy.trap_bars & (1u << m->region))
		return VFIO_BPF_DENY;
	for (__u32 i = 0; i < VFP_MAX_BAR_RULES; i++) {
		if (i >= n)
			break;
		if (policy.bar[i].bar == m->region && policy.bar[i].actions) {
			m->rule = i;
			return VFIO_BPF_DENY;
		}
	}
	return VFIO_BPF_ALLOW;
}

/*
 * A cap counts the vectors the request would leave enabled (nvec, from
 * the module's copy of the request), so neither count 0 with a large
 * start nor a racing rewrite of the user's buffer gets past it.
 */
SEC("struct_ops/set_irqs")
int BPF_PROG(vfp_set_irqs, struct vfio_bpf_irq *i)
{
	__u32 max;

	if (i->index >= 5 || !i->nvec)
		return VFIO_BPF_ALLOW;	/* teardown, loopback, mask */
	max = policy.max_vectors[i->index];
	if (max != VFP_NO_LIMIT && i->nvec > max) {
		i->rule = i->index;	/* the cap of that index */
		__sync_fetch_and_add(&denied, 1);
		return VFIO_BPF_DENY;
	}
	return VFIO_BPF_ALLOW;
}

SEC("struct_ops/reset")
int BPF_PROG(vfp_reset, struct vfio_bpf_dev *d)
{
	return deny_if(policy.deny_reset);
}

SEC("struct_ops/open")
int BPF_PROG(vfp_open, struct vfio_bpf_dev *d)
{
	return deny_if(policy.deny_open);
}

SEC("struct_ops/mig_transition")
int BPF_PROG(vfp_mig_transition, struct vfio_bpf_mig *m)
{
	return deny_if(policy.deny_migration);
}

SEC(".struct_ops.link")
struct vfio_pci_bpf_ops vfp_ops = {
	.config_read	= (void *)vfp_config_read,
	.config_write	= (void *)vfp_config_write,
	.bar_access	= (void *)vfp_bar_access,
	.mmap		= (void *)vfp_mmap,
	.set_irqs	= (void *)vfp_set_irqs,
	.reset		= (void *)vfp_reset,
	.open		= (void *)vfp_open,
	.mig_transition	= (void *)vfp_mig_transition,
};

char LICENSE[] SEC("license") = "GPL";
