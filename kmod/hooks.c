// SPDX-License-Identifier: GPL-2.0
/*
 * BPF hook points: the vfio_pci_bpf_ops struct_ops.
 *
 * A policy program implements struct vfio_pci_bpf_ops (vfio_bpf_hooks.h)
 * and attaches it to one device, named by the sbdf member, the way
 * hid-bpf scopes hid_bpf_ops to one HID device.  Each device holds at most
 * one ops pointer, read under RCU on every hooked operation; attaching or
 * replacing it (link update) is an RCU pointer swap, so programs come and go
 * while the device is open and busy.  The static key keeps the cost of all
 * this to a patched-out jump while no device has a policy.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bpf.h>
#include <linux/bpf_verifier.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "compat.h"
#include "hooks.h"
#include "trace.h"

DEFINE_STATIC_KEY_FALSE(vfio_pci_bpf_hooks_key);

/*
 * Devices bound to us, and the policies attached, each by sbdf.  A policy
 * belongs to the device's address, not to one binding of it: it stays
 * attached while the device is unbound (or its VF is removed) and is in
 * force again when a device binds there, before the device is registered
 * with vfio, so before anyone can open it.  Both lists are short (one
 * entry per assigned device) and only walked on slow paths.
 */
struct vfio_pci_bpf_policy {
	struct list_head node;
	u32 sbdf;
	/*
	 * The link, NULL for a link-less attach.  Its id is only assigned
	 * after .reg returns (bpf_link_settle), so it is read when shown;
	 * the link outlives the policy, as .unreg runs before it is freed.
	 */
	struct bpf_link *link;
	const struct vfio_pci_bpf_ops *ops;
};

static LIST_HEAD(vfio_pci_bpf_devices);
static LIST_HEAD(vfio_pci_bpf_policies);
static DEFINE_MUTEX(vfio_pci_bpf_devices_lock);

bool vfio_pci_bpf_require_policy;

static struct vfio_pci_bpf_device *vfio_pci_bpf_find(u32 sbdf)
{
	struct vfio_pci_bpf_device *vbdev;

	lockdep_assert_held(&vfio_pci_bpf_devices_lock);
	list_for_each_entry(vbdev, &vfio_pci_bpf_devices, node)
		if (vbdev->sbdf == sbdf)
			return vbdev;
	return NULL;
}

static struct vfio_pci_bpf_policy *vfio_pci_bpf_find_policy(u32 sbdf)
{
	struct vfio_pci_bpf_policy *p;

	lockdep_assert_held(&vfio_pci_bpf_devices_lock);
	list_for_each_entry(p, &vfio_pci_bpf_policies, node)
		if (p->sbdf == sbdf)
			return p;
	return NULL;
}

void vfio_pci_bpf_hooks_add_device(struct vfio_pci_bpf_device *vbdev)
{
	struct vfio_pci_bpf_policy *p;

	vbdev->sbdf = vfio_pci_bpf_sbdf_of(vfio_pci_bpf_to_pdev(vbdev));
	mutex_lock(&vfio_pci_bpf_devices_lock);
	list_add_tail(&vbdev->node, &vfio_pci_bpf_devices);
	/* Nobody can reach the device yet: no RCU reader to wait for. */
	p = vfio_pci_bpf_find_policy(vbdev->sbdf);
	RCU_INIT_POINTER(vbdev->ops, p ? p->ops : NULL);
	mutex_unlock(&vfio_pci_bpf_devices_lock);
}

/*
 * The device leaves (unbind, VF removal, rmmod).  Its policy stays
 * attached to the address for the next device to bind there.
 */
void vfio_pci_bpf_hooks_del_device(struct vfio_pci_bpf_device *vbdev)
{
	mutex_lock(&vfio_pci_bpf_devices_lock);
	list_del(&vbdev->node);
	/* The core unregistered the device first: no hooked call is left. */
	RCU_INIT_POINTER(vbdev->ops, NULL);
	mutex_unlock(&vfio_pci_bpf_devices_lock);
}

bool vfio_pci_bpf_has_policy(struct vfio_pci_bpf_device *vbdev)
{
	return rcu_access_pointer(vbdev->ops);
}

/* Does the policy in force say the device does not migrate? */
bool vfio_pci_bpf_hides_migration(struct vfio_pci_bpf_device *vbdev)
{
	const struct vfio_pci_bpf_ops *ops;
	bool hide;

	rcu_read_lock();
	ops = rcu_dereference(vbdev->ops);
	hide = ops && (READ_ONCE(ops->flags) & VFIO_BPF_OPS_NO_MIGRATION);
	rcu_read_unlock();
	return hide;
}

/*
 * What the module has attached, for tools to compare their pins with:
 * one line per policy, "<bdf> link=<id> state=<bound|unbound>".
 */
ssize_t vfio_pci_bpf_policies_show(char *buf)
{
	struct vfio_pci_bpf_policy *p;
	ssize_t n = 0;
	u32 s;

	mutex_lock(&vfio_pci_bpf_devices_lock);
	list_for_each_entry(p, &vfio_pci_bpf_policies, node) {
		s = p->sbdf;
		n += sysfs_emit_at(buf, n, "%04x:%02x:%02x.%u link=%u state=%s\n",
				   s >> 16, (s >> 8) & 0xff, PCI_SLOT(s & 0xff),
				   PCI_FUNC(s & 0xff),
				   p->link ? READ_ONCE(p->link->id) : 0,
				   vfio_pci_bpf_find(s) ? "bound" : "unbound");
	}
	mutex_unlock(&vfio_pci_bpf_devices_lock);
	return n;
}

/*
 * The mode of each policy, "<bdf> <enforce|monitor> <name>" a line; and
 * the run-time switch, "<bdf|all> <enforce|monitor>" written to the same
 * file.  Switching to enforce takes back at once what monitor let by
 * (mappings of trapped BARs, ioeventfds the policy denies).
 */
ssize_t vfio_pci_bpf_modes_show(char *buf)
{
	struct vfio_pci_bpf_policy *p;
	ssize_t n = 0;
	u32 s;

	mutex_lock(&vfio_pci_bpf_devices_lock);
	list_for_each_entry(p, &vfio_pci_bpf_policies, node) {
		s = p->sbdf;
		n += sysfs_emit_at(buf, n, "%04x:%02x:%02x.%u %s %s\n",
				   s >> 16, (s >> 8) & 0xff, PCI_SLOT(s & 0xff),
				   PCI_FUNC(s & 0xff),
				   READ_ONCE(p->ops->flags) & VFIO_BPF_OPS_MONITOR ?
				   "monitor" : "enforce", p->ops->name);
	}
	mutex_unlock(&vfio_pci_bpf_devices_lock);
	return n;
}

int vfio_pci_bpf_modes_store(const char *buf)
{
	unsigned int dom, bus, dev, fn;
	struct vfio_pci_bpf_device *vbdev;
	struct vfio_pci_bpf_policy *p;
	char who[16], mode[8];
	bool all, monitor;
	int found = 0;
	u32 sbdf = 0;

	if (sscanf(buf, "%15s %7s", who, mode) != 2)
		return -EINVAL;
	if (!strcmp(mode, "monitor"))
		monitor = true;
	else if (!strcmp(mode, "enforce"))
		monitor = false;
	else
		return -EINVAL;
	all = !strcmp(who, "all");
	if (!all) {
		if (sscanf(who, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4 ||
		    dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
			return -EINVAL;
		sbdf = dom << 16 | bus << 8 | PCI_DEVFN(dev, fn);
	}

	mutex_lock(&vfio_pci_bpf_devices_lock);
	list_for_each_entry(p, &vfio_pci_bpf_policies, node) {
		/* The module's copy of the struct_ops, ours to flag. */
		struct vfio_pci_bpf_ops *ops = (struct vfio_pci_bpf_ops *)p->ops;
		u32 flags = READ_ONCE(ops->flags);

		if (!all && p->sbdf != sbdf)
			continue;
		found++;
		WRITE_ONCE(ops->flags, monitor ? flags | VFIO_BPF_OPS_MONITOR :
					flags & ~VFIO_BPF_OPS_MONITOR);
		vbdev = vfio_pci_bpf_find(p->sbdf);
		if (vbdev && !monitor && (flags & VFIO_BPF_OPS_MONITOR)) {
			synchronize_rcu();
			vfio_pci_bpf_revoke(vbdev);
		}
	}
	mutex_unlock(&vfio_pci_bpf_devices_lock);
	return all || found ? 0 : -ENODEV;
}

/* Every device bound now: a change of require_policy applies to all. */
static void vfio_pci_bpf_revoke_all(void)
{
	struct vfio_pci_bpf_device *vbdev;

	lockdep_assert_held(&vfio_pci_bpf_devices_lock);
	list_for_each_entry(vbdev, &vfio_pci_bpf_devices, node)
		vfio_pci_bpf_revoke(vbdev);
}

/*
 * require_policy can be set at run time: every device without a policy
 * then denies every hooked operation, and loses its mappings at once.
 */
static int vfio_pci_bpf_set_require_policy(const char *val,
					   const struct kernel_param *kp)
{
	bool on;
	int err;

	err = kstrtobool(val, &on);
	if (err)
		return err;
	/* Failing closed is enforcing: refuse it where nothing enforces. */
	if (on && !VFIO_PCI_BPF_HOOKS) {
		pr_info("require_policy refused: " VFIO_PCI_BPF_NO_HOOKS_MSG "\n");
		return -EOPNOTSUPP;
	}
	mutex_lock(&vfio_pci_bpf_devices_lock);
	if (on != vfio_pci_bpf_require_policy) {
		if (on)
			static_branch_inc(&vfio_pci_bpf_hooks_key);
		WRITE_ONCE(vfio_pci_bpf_require_policy, on);
		if (on)
			vfio_pci_bpf_revoke_all();
		else
			static_branch_dec(&vfio_pci_bpf_hooks_key);
	}
	mutex_unlock(&vfio_pci_bpf_devices_lock);
	return 0;
}

static const struct kernel_param_ops vfio_pci_bpf_require_policy_ops = {
	.set = vfio_pci_bpf_set_require_policy,
	.get = param_get_bool,
};
module_param_cb(require_policy, &vfio_pci_bpf_require_policy_ops,
		&vfio_pci_bpf_require_policy, 0644);
MODULE_PARM_DESC(require_policy,
		 "Fail closed: a device without a BPF policy denies every hooked operation, open included (default: off)");

/*
 * A decision other than allow: record it (tracepoint vfio_pci_bpf_policy)
 * and, when the policy only monitors, let the operation go on.  Called in
 * the RCU section the hook ran in, so @ops (NULL: require_policy without a
 * policy) and its name are alive.
 */
static int vfio_pci_bpf_decided(struct vfio_pci_bpf_device *vbdev,
				const struct vfio_pci_bpf_ops *ops, u32 hook,
				int verdict, u32 rule, u32 region, u64 offset,
				u64 size, u64 value)
{
	bool monitor = ops && (READ_ONCE(ops->flags) & VFIO_BPF_OPS_MONITOR);

	trace_vfio_pci_bpf_policy(vfio_pci_bpf_to_pdev(vbdev), vbdev->sbdf,
				  vbdev->slot, hook, verdict, monitor, rule,
				  ops ? ops->name : "", region, offset, size,
				  value);
	return monitor ? VFIO_BPF_ALLOW : verdict;
}

/*
 * Call one hook.  Without a policy, require_policy denies and otherwise
 * the operation goes on; a hook left NULL allows; a verdict the hook does
 * not define (a bit of @verdicts besides ALLOW and DENY) denies, so a
 * buggy program fails closed.  Anything but allow
 * is recorded with what the operation was (@region, @offset, @size,
 * @value) unless @audit is false (the module's own queries).
 */
#define VFIO_PCI_BPF_CALL(vbdev, hook, id, ctx, verdicts, audit,		\
			  region, offset, size, value)				\
({										\
	const struct vfio_pci_bpf_ops *ops__;					\
	int v__ = VFIO_BPF_ALLOW;						\
										\
	(ctx)->rule = VFIO_BPF_NO_RULE;						\
	rcu_read_lock();							\
	ops__ = rcu_dereference((vbdev)->ops);					\
	if (!ops__)								\
		v__ = READ_ONCE(vfio_pci_bpf_require_policy) ?			\
		      VFIO_BPF_DENY : VFIO_BPF_ALLOW;				\
	else if (ops__->hook)							\
		v__ = ops__->hook(ctx);						\
	if (v__ != VFIO_BPF_ALLOW &&						\
	    ((unsigned int)v__ > VFIO_BPF_DROP || !((verdicts) & BIT(v__))))	\
		v__ = VFIO_BPF_DENY;						\
	if (v__ != VFIO_BPF_ALLOW && (audit))					\
		v__ = vfio_pci_bpf_decided(vbdev, ops__, id, v__, (ctx)->rule,	\
					   region, offset, size, value);	\
	else if (v__ != VFIO_BPF_ALLOW && ops__ &&				\
		 (READ_ONCE(ops__->flags) & VFIO_BPF_OPS_MONITOR))		\
		v__ = VFIO_BPF_ALLOW;						\
	rcu_read_unlock();							\
	v__;									\
})

#define VFIO_PCI_BPF_ONLY		BIT(VFIO_BPF_DENY)
#define VFIO_PCI_BPF_REWRITES		(BIT(VFIO_BPF_DENY) | BIT(VFIO_BPF_REWRITE))
#define VFIO_PCI_BPF_WRITES		(VFIO_PCI_BPF_REWRITES | BIT(VFIO_BPF_DROP))

#define VFIO_PCI_BPF_CALL_ACCESS(vbdev, hook, id, ctx, verdicts)		\
	VFIO_PCI_BPF_CALL(vbdev, hook, id, ctx, verdicts, true,		\
			  (ctx)->region, (ctx)->offset, (ctx)->size, (ctx)->value)

/*
 * @audit: false for the module's own reads (the MSI-X table size behind
 * VFIO_DEVICE_GET_IRQ_INFO), which are not the user's accesses.
 */
int vfio_pci_bpf_hook_config_read(struct vfio_pci_bpf_device *vbdev,
				  struct vfio_bpf_access *ctx, bool audit)
{
	return VFIO_PCI_BPF_CALL(vbdev, config_read, VFIO_BPF_HOOK_CONFIG_READ,
				 ctx, VFIO_PCI_BPF_REWRITES, audit, ctx->region,
				 ctx->offset, ctx->size, ctx->value);
}

int vfio_pci_bpf_hook_config_write(struct vfio_pci_bpf_device *vbdev,
				   struct vfio_bpf_access *ctx)
{
	ctx->keep = 0;
	return VFIO_PCI_BPF_CALL_ACCESS(vbdev, config_write,
					VFIO_BPF_HOOK_CONFIG_WRITE, ctx,
					VFIO_PCI_BPF_WRITES);
}

int vfio_pci_bpf_hook_bar_access(struct vfio_pci_bpf_device *vbdev,
				 struct vfio_bpf_access *ctx)
{
	return VFIO_PCI_BPF_CALL_ACCESS(vbdev, bar_access,
					VFIO_BPF_HOOK_BAR_ACCESS, ctx,
					VFIO_PCI_BPF_ONLY);
}

/*
 * @audit: an mmap or a fault is the user's; the module's own questions
 * (the mmap flag of region info, re-judging at a policy change) are not.
 */
int vfio_pci_bpf_hook_mmap(struct vfio_pci_bpf_device *vbdev,
			   struct vfio_bpf_mmap *ctx, bool audit)
{
	return VFIO_PCI_BPF_CALL(vbdev, mmap, VFIO_BPF_HOOK_MMAP, ctx,
				 VFIO_PCI_BPF_ONLY, audit, ctx->region, ctx->offset,
				 ctx->length, 0);
}

/* Recorded as region = index, offset = start, size = count, value = nvec. */
int vfio_pci_bpf_hook_set_irqs(struct vfio_pci_bpf_device *vbdev,
			       struct vfio_bpf_irq *ctx)
{
	return VFIO_PCI_BPF_CALL(vbdev, set_irqs, VFIO_BPF_HOOK_SET_IRQS, ctx,
				 VFIO_PCI_BPF_ONLY, true, ctx->index, ctx->start,
				 ctx->count, ctx->nvec);
}

/* Recorded as region = kind. */
int vfio_pci_bpf_hook_reset(struct vfio_pci_bpf_device *vbdev,
			    struct vfio_bpf_dev *ctx)
{
	return VFIO_PCI_BPF_CALL(vbdev, reset, VFIO_BPF_HOOK_RESET, ctx,
				 VFIO_PCI_BPF_ONLY, true, ctx->kind, 0, 0, 0);
}

/*
 * Fail-closed mode: no policy, or a policy without an open hook, denies.
 * That is the one hook whose absence denies, so it is not the macro.
 */
int vfio_pci_bpf_hook_open(struct vfio_pci_bpf_device *vbdev,
			   struct vfio_bpf_dev *ctx)
{
	const struct vfio_pci_bpf_ops *ops;
	int v;

	ctx->rule = VFIO_BPF_NO_RULE;
	rcu_read_lock();
	ops = rcu_dereference(vbdev->ops);
	if (ops && ops->open)
		v = ops->open(ctx);
	else
		v = READ_ONCE(vfio_pci_bpf_require_policy) ? VFIO_BPF_DENY :
							     VFIO_BPF_ALLOW;
	if (v != VFIO_BPF_ALLOW)
		v = vfio_pci_bpf_decided(vbdev, ops, VFIO_BPF_HOOK_OPEN,
					 VFIO_BPF_DENY, ctx->rule, 0, 0, 0, 0);
	rcu_read_unlock();
	return v;
}

/* Recorded as region = from, offset = to. */
int vfio_pci_bpf_hook_mig_transition(struct vfio_pci_bpf_device *vbdev,
				     struct vfio_bpf_mig *ctx)
{
	return VFIO_PCI_BPF_CALL(vbdev, mig_transition,
				 VFIO_BPF_HOOK_MIG_TRANSITION, ctx,
				 VFIO_PCI_BPF_ONLY, true,
				 ctx->from, ctx->to, 0, 0);
}

/* ---- struct_ops plumbing -------------------------------------------- */

#if VFIO_PCI_BPF_HOOKS

BTF_ID_LIST(vfio_pci_bpf_ctx_btf_ids)
BTF_ID(struct, vfio_bpf_access)
BTF_ID(struct, vfio_bpf_mmap)
BTF_ID(struct, vfio_bpf_irq)
BTF_ID(struct, vfio_bpf_dev)
BTF_ID(struct, vfio_bpf_mig)

static bool vfio_pci_bpf_is_valid_access(int off, int size,
					 enum bpf_access_type type,
					 const struct bpf_prog *prog,
					 struct bpf_insn_access_aux *info)
{
	return btf_ctx_access(off, size, type, prog, info);
}

#define VFIO_PCI_BPF_IS_FIELD(type, field, off, size)			\
	((off) == offsetof(type, field) && (size) == sizeof_field(type, field))

/*
 * Programs may write exactly two things: the value of an access, and in
 * every context the rule that decided (for the audit trail).
 */
static int vfio_pci_bpf_btf_struct_access(struct bpf_verifier_log *log,
					  const struct bpf_reg_state *reg,
					  int off, int size)
{
	const u32 *ids = vfio_pci_bpf_ctx_btf_ids;
	u32 id = reg->btf_id;

	if (id == ids[0] &&
	    (VFIO_PCI_BPF_IS_FIELD(struct vfio_bpf_access, value, off, size) ||
	     VFIO_PCI_BPF_IS_FIELD(struct vfio_bpf_access, keep, off, size) ||
	     VFIO_PCI_BPF_IS_FIELD(struct vfio_bpf_access, rule, off, size)))
		return 0;
	if ((id == ids[1] &&
	     VFIO_PCI_BPF_IS_FIELD(struct vfio_bpf_mmap, rule, off, size)) ||
	    (id == ids[2] &&
	     VFIO_PCI_BPF_IS_FIELD(struct vfio_bpf_irq, rule, off, size)) ||
	    (id == ids[3] &&
	     VFIO_PCI_BPF_IS_FIELD(struct vfio_bpf_dev, rule, off, size)) ||
	    (id == ids[4] &&
	     VFIO_PCI_BPF_IS_FIELD(struct vfio_bpf_mig, rule, off, size)))
		return 0;
	bpf_log(log, "vfio_pci_bpf_ops: only vfio_bpf_access.value is writable (and keep, rule)\n");
	return -EACCES;
}

static const struct bpf_verifier_ops vfio_pci_bpf_verifier_ops = {
	.get_func_proto		= bpf_base_func_proto,
	.is_valid_access	= vfio_pci_bpf_is_valid_access,
	.btf_struct_access	= vfio_pci_bpf_btf_struct_access,
};

static int vfio_pci_bpf_ops_init(struct btf *btf)
{
	return 0;
}

static int vfio_pci_bpf_ops_init_member(const struct btf_type *t,
					const struct btf_member *member,
					void *kdata, const void *udata)
{
	const struct vfio_pci_bpf_ops *uops = udata;
	struct vfio_pci_bpf_ops *ops = kdata;

	switch (__btf_member_bit_offset(t, member) / 8) {
	case offsetof(struct vfio_pci_bpf_ops, sbdf):
		ops->sbdf = uops->sbdf;
		return 1;
	case offsetof(struct vfio_pci_bpf_ops, flags):
		ops->flags = uops->flags;
		return 1;
	case offsetof(struct vfio_pci_bpf_ops, name):
		memcpy(ops->name, uops->name, sizeof(ops->name));
		return 1;
	}
	return 0;
}

static int vfio_pci_bpf_ops_validate(void *kdata)
{
	const struct vfio_pci_bpf_ops *ops = kdata;

	if (ops->flags & ~(VFIO_BPF_OPS_MONITOR | VFIO_BPF_OPS_NO_MIGRATION))
		return -EINVAL;
	if (!memchr(ops->name, '\0', sizeof(ops->name)))
		return -EINVAL;
	return 0;
}

static void vfio_pci_bpf_no_device(u32 sbdf)
{
	pr_info("no device %04x:%02x:%02x.%u bound to vfio-pci-bpf; bind it first\n",
		sbdf >> 16, (sbdf >> 8) & 0xff, PCI_SLOT(sbdf & 0xff),
		PCI_FUNC(sbdf & 0xff));
}

/*
 * Attach a policy to the device bound at its sbdf.  It needs a device
 * there now (so a typo fails), then belongs to the address until the link
 * goes.  On a vfio_pci_core without the kernel-copy entry points the
 * policy could be raced around: refuse it.
 */
static int vfio_pci_bpf_ops_reg(void *kdata, struct bpf_link *link)
{
	struct vfio_pci_bpf_ops *ops = kdata;
	struct vfio_pci_bpf_device *vbdev;
	struct vfio_pci_bpf_policy *p;
	int err = 0;

	if (!vfio_pci_bpf_core_patched()) {
		pr_info("policy refused: vfio_pci_core lacks the kernel-copy entry points, so it could be bypassed; load the patched vfio-pci-core (docs/upstream/)\n");
		return -EOPNOTSUPP;
	}
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	p->sbdf = ops->sbdf;
	p->link = link;
	p->ops = ops;

	mutex_lock(&vfio_pci_bpf_devices_lock);
	vbdev = vfio_pci_bpf_find(ops->sbdf);
	if (!vbdev) {
		err = -ENODEV;
		goto out_unlock;
	}
	if (vfio_pci_bpf_find_policy(ops->sbdf)) {
		/* Replacing is a link update, not a second policy. */
		err = -EBUSY;
		goto out_unlock;
	}
	list_add_tail(&p->node, &vfio_pci_bpf_policies);
	static_branch_inc(&vfio_pci_bpf_hooks_key);
	rcu_assign_pointer(vbdev->ops, ops);
	vfio_pci_bpf_revoke(vbdev);
out_unlock:
	mutex_unlock(&vfio_pci_bpf_devices_lock);
	if (err)
		kfree(p);
	if (err == -ENODEV)
		vfio_pci_bpf_no_device(ops->sbdf);
	return err;
}

static void vfio_pci_bpf_ops_unreg(void *kdata, struct bpf_link *link)
{
	struct vfio_pci_bpf_ops *ops = kdata;
	struct vfio_pci_bpf_device *vbdev;
	struct vfio_pci_bpf_policy *p;

	mutex_lock(&vfio_pci_bpf_devices_lock);
	p = vfio_pci_bpf_find_policy(ops->sbdf);
	if (!p || p->ops != ops) {
		mutex_unlock(&vfio_pci_bpf_devices_lock);
		return;
	}
	list_del(&p->node);
	vbdev = vfio_pci_bpf_find(ops->sbdf);
	if (vbdev) {
		RCU_INIT_POINTER(vbdev->ops, NULL);
		/* No caller may still run the old programs once we return. */
		synchronize_rcu();
		/* Fail closed stays closed: the mappings go with the policy. */
		vfio_pci_bpf_revoke(vbdev);
	}
	static_branch_dec(&vfio_pci_bpf_hooks_key);
	mutex_unlock(&vfio_pci_bpf_devices_lock);
	kfree(p);
}

static int vfio_pci_bpf_ops_update(void *kdata, void *old_kdata,
				   struct bpf_link *link)
{
	struct vfio_pci_bpf_ops *ops = kdata, *old = old_kdata;
	struct vfio_pci_bpf_device *vbdev;
	struct vfio_pci_bpf_policy *p;
	int err = 0;

	if (ops->sbdf != old->sbdf)
		return -EINVAL;

	mutex_lock(&vfio_pci_bpf_devices_lock);
	p = vfio_pci_bpf_find_policy(ops->sbdf);
	if (!p || p->ops != old) {
		err = -ENOENT;
		goto out_unlock;
	}
	p->ops = ops;
	vbdev = vfio_pci_bpf_find(ops->sbdf);
	if (vbdev) {
		rcu_assign_pointer(vbdev->ops, ops);
		synchronize_rcu();
		vfio_pci_bpf_revoke(vbdev);
	}
out_unlock:
	mutex_unlock(&vfio_pci_bpf_devices_lock);
	return err;
}

/* Signatures for CFI: never called. */
static int vfio_pci_bpf_stub_access(struct vfio_bpf_access *ctx)
{
	return VFIO_BPF_ALLOW;
}

static int vfio_pci_bpf_stub_mmap(struct vfio_bpf_mmap *ctx)
{
	return VFIO_BPF_ALLOW;
}

static int vfio_pci_bpf_stub_irq(struct vfio_bpf_irq *ctx)
{
	return VFIO_BPF_ALLOW;
}

static int vfio_pci_bpf_stub_dev(struct vfio_bpf_dev *ctx)
{
	return VFIO_BPF_ALLOW;
}

static int vfio_pci_bpf_stub_mig(struct vfio_bpf_mig *ctx)
{
	return VFIO_BPF_ALLOW;
}

static struct vfio_pci_bpf_ops vfio_pci_bpf_cfi_stubs = {
	.config_read	= vfio_pci_bpf_stub_access,
	.config_write	= vfio_pci_bpf_stub_access,
	.bar_access	= vfio_pci_bpf_stub_access,
	.mmap		= vfio_pci_bpf_stub_mmap,
	.set_irqs	= vfio_pci_bpf_stub_irq,
	.reset		= vfio_pci_bpf_stub_dev,
	.open		= vfio_pci_bpf_stub_dev,
	.mig_transition	= vfio_pci_bpf_stub_mig,
};

static struct bpf_struct_ops vfio_pci_bpf_struct_ops = {
	.verifier_ops	= &vfio_pci_bpf_verifier_ops,
	.init		= vfio_pci_bpf_ops_init,
	.init_member	= vfio_pci_bpf_ops_init_member,
	.reg		= vfio_pci_bpf_ops_reg,
	.unreg		= vfio_pci_bpf_ops_unreg,
	.update		= vfio_pci_bpf_ops_update,
	.validate	= vfio_pci_bpf_ops_validate,
	.cfi_stubs	= &vfio_pci_bpf_cfi_stubs,
	.name		= "vfio_pci_bpf_ops",
	.owner		= THIS_MODULE,
};

int vfio_pci_bpf_hooks_register(void)
{
	return register_bpf_struct_ops(&vfio_pci_bpf_struct_ops,
				       vfio_pci_bpf_ops);
}
#else
/*
 * No vfio_pci_bpf_ops type, so the verifier refuses any program that
 * implements it: policies cannot attach (vfio-bpf says why, from the
 * driver's hooks file).  Say so once, at load.
 */
int vfio_pci_bpf_hooks_register(void)
{
	pr_info(VFIO_PCI_BPF_NO_HOOKS_MSG "\n");
	return 0;
}
#endif /* VFIO_PCI_BPF_HOOKS */
