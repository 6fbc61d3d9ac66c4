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

#include "hooks.h"

DEFINE_STATIC_KEY_FALSE(vfio_pci_bpf_hooks_key);

/* Devices bound to us, to find one by sbdf when a policy attaches. */
static LIST_HEAD(vfio_pci_bpf_devices);
static DEFINE_MUTEX(vfio_pci_bpf_devices_lock);

static struct vfio_pci_bpf_device *vfio_pci_bpf_find(u32 sbdf)
{
	struct vfio_pci_bpf_device *vbdev;

	lockdep_assert_held(&vfio_pci_bpf_devices_lock);
	list_for_each_entry(vbdev, &vfio_pci_bpf_devices, node)
		if (vbdev->sbdf == sbdf)
			return vbdev;
	return NULL;
}

void vfio_pci_bpf_hooks_add_device(struct vfio_pci_bpf_device *vbdev)
{
	vbdev->sbdf = vfio_pci_bpf_sbdf_of(vfio_pci_bpf_to_pdev(vbdev));
	mutex_lock(&vfio_pci_bpf_devices_lock);
	list_add_tail(&vbdev->node, &vfio_pci_bpf_devices);
	mutex_unlock(&vfio_pci_bpf_devices_lock);
}

/*
 * The device leaves (unbind, rmmod): drop its policy.  The link stays
 * until user space closes it; its unreg then finds nothing to undo.
 */
void vfio_pci_bpf_hooks_del_device(struct vfio_pci_bpf_device *vbdev)
{
	bool had_ops;

	mutex_lock(&vfio_pci_bpf_devices_lock);
	list_del(&vbdev->node);
	had_ops = rcu_access_pointer(vbdev->ops);
	RCU_INIT_POINTER(vbdev->ops, NULL);
	mutex_unlock(&vfio_pci_bpf_devices_lock);
	if (had_ops) {
		synchronize_rcu();
		static_branch_dec(&vfio_pci_bpf_hooks_key);
	}
}

bool vfio_pci_bpf_has_policy(struct vfio_pci_bpf_device *vbdev)
{
	return rcu_access_pointer(vbdev->ops);
}

/*
 * Call one hook.  A hook left NULL allows; a verdict the hook does not
 * define denies, so a buggy program fails closed.
 */
#define VFIO_PCI_BPF_CALL(vbdev, hook, ctx, rewrite_ok)			\
({									\
	const struct vfio_pci_bpf_ops *ops__;				\
	int v__ = VFIO_BPF_ALLOW;					\
									\
	rcu_read_lock();						\
	ops__ = rcu_dereference((vbdev)->ops);				\
	if (ops__ && ops__->hook)					\
		v__ = ops__->hook(ctx);					\
	rcu_read_unlock();						\
	if (v__ != VFIO_BPF_ALLOW &&					\
	    !((rewrite_ok) && v__ == VFIO_BPF_REWRITE))		\
		v__ = VFIO_BPF_DENY;					\
	v__;								\
})

int vfio_pci_bpf_hook_config_read(struct vfio_pci_bpf_device *vbdev,
				  struct vfio_bpf_access *ctx)
{
	return VFIO_PCI_BPF_CALL(vbdev, config_read, ctx, true);
}

int vfio_pci_bpf_hook_config_write(struct vfio_pci_bpf_device *vbdev,
				   struct vfio_bpf_access *ctx)
{
	return VFIO_PCI_BPF_CALL(vbdev, config_write, ctx, true);
}

int vfio_pci_bpf_hook_bar_access(struct vfio_pci_bpf_device *vbdev,
				 struct vfio_bpf_access *ctx)
{
	return VFIO_PCI_BPF_CALL(vbdev, bar_access, ctx, false);
}

int vfio_pci_bpf_hook_mmap(struct vfio_pci_bpf_device *vbdev,
			   struct vfio_bpf_mmap *ctx)
{
	return VFIO_PCI_BPF_CALL(vbdev, mmap, ctx, false);
}

int vfio_pci_bpf_hook_set_irqs(struct vfio_pci_bpf_device *vbdev,
			       struct vfio_bpf_irq *ctx)
{
	return VFIO_PCI_BPF_CALL(vbdev, set_irqs, ctx, false);
}

int vfio_pci_bpf_hook_reset(struct vfio_pci_bpf_device *vbdev,
			    struct vfio_bpf_dev *ctx)
{
	return VFIO_PCI_BPF_CALL(vbdev, reset, ctx, false);
}

/* Fail-closed mode: no policy, or a policy without an open hook, denies. */
int vfio_pci_bpf_hook_open(struct vfio_pci_bpf_device *vbdev,
			   struct vfio_bpf_dev *ctx)
{
	const struct vfio_pci_bpf_ops *ops;
	int v;

	rcu_read_lock();
	ops = rcu_dereference(vbdev->ops);
	if (ops && ops->open)
		v = ops->open(ctx);
	else
		v = vfio_pci_bpf_require_policy ? VFIO_BPF_DENY : VFIO_BPF_ALLOW;
	rcu_read_unlock();
	return v == VFIO_BPF_ALLOW ? VFIO_BPF_ALLOW : VFIO_BPF_DENY;
}

int vfio_pci_bpf_hook_mig_transition(struct vfio_pci_bpf_device *vbdev,
				     struct vfio_bpf_mig *ctx)
{
	return VFIO_PCI_BPF_CALL(vbdev, mig_transition, ctx, false);
}

/* ---- struct_ops plumbing -------------------------------------------- */

BTF_ID_LIST_SINGLE(vfio_pci_bpf_access_btf_ids, struct, vfio_bpf_access)

static bool vfio_pci_bpf_is_valid_access(int off, int size,
					 enum bpf_access_type type,
					 const struct bpf_prog *prog,
					 struct bpf_insn_access_aux *info)
{
	return btf_ctx_access(off, size, type, prog, info);
}

/* Programs may write exactly one thing: the value of an access. */
static int vfio_pci_bpf_btf_struct_access(struct bpf_verifier_log *log,
					  const struct bpf_reg_state *reg,
					  int off, int size)
{
	if (reg->btf_id == vfio_pci_bpf_access_btf_ids[0] &&
	    off == offsetof(struct vfio_bpf_access, value) &&
	    size == sizeof_field(struct vfio_bpf_access, value))
		return 0;
	bpf_log(log, "vfio_pci_bpf_ops: only vfio_bpf_access.value is writable\n");
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
	}
	return 0;
}

static int vfio_pci_bpf_ops_validate(void *kdata)
{
	const struct vfio_pci_bpf_ops *ops = kdata;

	return ops->flags ? -EINVAL : 0;
}

static void vfio_pci_bpf_no_device(u32 sbdf)
{
	pr_info("no device %04x:%02x:%02x.%u bound to vfio-pci-bpf; bind it first\n",
		sbdf >> 16, (sbdf >> 8) & 0xff, PCI_SLOT(sbdf & 0xff),
		PCI_FUNC(sbdf & 0xff));
}

static int vfio_pci_bpf_ops_reg(void *kdata, struct bpf_link *link)
{
	struct vfio_pci_bpf_ops *ops = kdata;
	struct vfio_pci_bpf_device *vbdev;
	int err = 0;

	mutex_lock(&vfio_pci_bpf_devices_lock);
	vbdev = vfio_pci_bpf_find(ops->sbdf);
	if (!vbdev) {
		err = -ENODEV;
		goto out_unlock;
	}
	if (rcu_access_pointer(vbdev->ops)) {
		/* Replacing is a link update, not a second policy. */
		err = -EBUSY;
		goto out_unlock;
	}
	static_branch_inc(&vfio_pci_bpf_hooks_key);
	rcu_assign_pointer(vbdev->ops, ops);
out_unlock:
	mutex_unlock(&vfio_pci_bpf_devices_lock);
	if (err == -ENODEV)
		vfio_pci_bpf_no_device(ops->sbdf);
	return err;
}

static void vfio_pci_bpf_ops_unreg(void *kdata, struct bpf_link *link)
{
	struct vfio_pci_bpf_ops *ops = kdata;
	struct vfio_pci_bpf_device *vbdev;
	bool cleared = false;

	mutex_lock(&vfio_pci_bpf_devices_lock);
	vbdev = vfio_pci_bpf_find(ops->sbdf);
	if (vbdev && rcu_access_pointer(vbdev->ops) == ops) {
		RCU_INIT_POINTER(vbdev->ops, NULL);
		cleared = true;
	}
	mutex_unlock(&vfio_pci_bpf_devices_lock);
	if (cleared) {
		/* No caller may still run the old programs once we return. */
		synchronize_rcu();
		static_branch_dec(&vfio_pci_bpf_hooks_key);
	}
}

static int vfio_pci_bpf_ops_update(void *kdata, void *old_kdata,
				   struct bpf_link *link)
{
	struct vfio_pci_bpf_ops *ops = kdata, *old = old_kdata;
	struct vfio_pci_bpf_device *vbdev;
	int err = 0;

	if (ops->sbdf != old->sbdf)
		return -EINVAL;

	mutex_lock(&vfio_pci_bpf_devices_lock);
	vbdev = vfio_pci_bpf_find(ops->sbdf);
	if (!vbdev || rcu_access_pointer(vbdev->ops) != old) {
		err = -ENOENT;
		goto out_unlock;
	}
	rcu_assign_pointer(vbdev->ops, ops);
out_unlock:
	mutex_unlock(&vfio_pci_bpf_devices_lock);
	if (!err)
		synchronize_rcu();
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
