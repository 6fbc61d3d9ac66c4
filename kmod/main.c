// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-pci-bpf: a VFIO variant driver on vfio_pci_core that makes what a
 * VFIO user does to a PCI device observable and subject to BPF policy.
 *
 * This file is only the PCI glue: ids, probe/remove and module set-up.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>

#include "compat.h"
#include "hooks.h"
#include "vfio_pci_bpf.h"

#define VFIO_PCI_BPF_DRV_NAME	"vfio-pci-bpf"

static bool enable_sriov;
module_param(enable_sriov, bool, 0644);
MODULE_PARM_DESC(enable_sriov,
		 "Allow creating VFs of a PF bound to vfio-pci-bpf, as vfio-pci's enable_sriov (default: off)");

/*
 * Slots: a device's index for BPF arrays.  Counters are kept by slot and
 * tagged with the device, so a device gets back the slot it had (its
 * counts go on across a rebind), and a new device takes a slot no device
 * has had while there is one: a slot changes hands only when all have
 * been used.  @owner: the sbdf a slot was last given to (U32_MAX: never).
 */
static DEFINE_MUTEX(vfio_pci_bpf_slots_lock);
static DECLARE_BITMAP(vfio_pci_bpf_slots_used, VFIO_PCI_BPF_MAX_SLOTS);
static u32 vfio_pci_bpf_slot_owner[VFIO_PCI_BPF_MAX_SLOTS] = {
	[0 ... VFIO_PCI_BPF_MAX_SLOTS - 1] = U32_MAX
};

/*
 * How many slots have ever been given: only slots below it can hold counts,
 * so readers of the per-slot arrays read that far (the slots_given file),
 * not all VFIO_PCI_BPF_MAX_SLOTS.
 */
static u32 vfio_pci_bpf_slots_given;

static u32 vfio_pci_bpf_slot_get(u32 sbdf)
{
	u32 slot, fresh = U32_MAX, reuse = U32_MAX;

	mutex_lock(&vfio_pci_bpf_slots_lock);
	for (slot = 0; slot < VFIO_PCI_BPF_MAX_SLOTS; slot++) {
		if (test_bit(slot, vfio_pci_bpf_slots_used))
			continue;
		if (vfio_pci_bpf_slot_owner[slot] == sbdf)
			break;
		if (vfio_pci_bpf_slot_owner[slot] == U32_MAX && fresh == U32_MAX)
			fresh = slot;
		else if (reuse == U32_MAX)
			reuse = slot;
	}
	if (slot == VFIO_PCI_BPF_MAX_SLOTS)
		slot = fresh != U32_MAX ? fresh : reuse;
	if (slot != U32_MAX) {
		set_bit(slot, vfio_pci_bpf_slots_used);
		vfio_pci_bpf_slot_owner[slot] = sbdf;
		/* Fresh slots go lowest first: those given are 0 to this. */
		if (slot >= vfio_pci_bpf_slots_given)
			WRITE_ONCE(vfio_pci_bpf_slots_given, slot + 1);
	}
	mutex_unlock(&vfio_pci_bpf_slots_lock);
	return slot;
}

static void vfio_pci_bpf_slot_put(u32 slot)
{
	if (slot != U32_MAX)
		clear_bit(slot, vfio_pci_bpf_slots_used);
}

static int vfio_pci_bpf_probe(struct pci_dev *pdev,
			      const struct pci_device_id *id)
{
	struct vfio_pci_bpf_device *vbdev;
	int err;

	vbdev = vfio_alloc_device(vfio_pci_bpf_device, core_device.vdev,
				  &pdev->dev, vfio_pci_bpf_ops());
	if (IS_ERR(vbdev))
		return PTR_ERR(vbdev);

	dev_set_drvdata(&pdev->dev, &vbdev->core_device);
	/* Out of slots: the device works, its events carry no slot. */
	vbdev->slot = vfio_pci_bpf_slot_get(vfio_pci_bpf_sbdf_of(pdev));
	/* Attachable before user space can open the device. */
	vfio_pci_bpf_hooks_add_device(vbdev);
	err = vfio_pci_core_register_device(&vbdev->core_device);
	if (err)
		goto out_del_hooks;

	return 0;

out_del_hooks:
	vfio_pci_bpf_hooks_del_device(vbdev);
	vfio_pci_bpf_slot_put(vbdev->slot);
	vfio_put_device(&vbdev->core_device.vdev);
	return err;
}

static void vfio_pci_bpf_remove(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core_device = dev_get_drvdata(&pdev->dev);
	struct vfio_pci_bpf_device *vbdev =
		vfio_pci_bpf_from_vdev(&core_device->vdev);

	vfio_pci_core_unregister_device(core_device);
	vfio_pci_bpf_hooks_del_device(vbdev);
	vfio_pci_bpf_slot_put(vbdev->slot);
	vfio_put_device(&core_device->vdev);
}

static int vfio_pci_bpf_sriov_configure(struct pci_dev *pdev, int nr_virtfn)
{
	struct vfio_pci_core_device *core_device = dev_get_drvdata(&pdev->dev);

	if (!enable_sriov)
		return -ENOENT;

	return vfio_pci_core_sriov_configure(core_device, nr_virtfn);
}

/* The core's AER handling, plus migration state back to RUNNING on reset. */
static const struct pci_error_handlers vfio_pci_bpf_err_handlers = {
	.error_detected	= vfio_pci_core_aer_err_detected,
	.reset_done	= vfio_pci_bpf_lm_reset_done,
};

/*
 * The module's view of enforcement, for tools to report instead of what
 * their pins suggest: the policies attached, and whether the core has the
 * kernel-copy entry points policies need.
 */
static ssize_t policies_show(struct device_driver *driver, char *buf)
{
	return vfio_pci_bpf_policies_show(buf);
}
static DRIVER_ATTR_RO(policies);

static ssize_t core_show(struct device_driver *driver, char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  vfio_pci_bpf_core_patched() ? "patched" : "stock");
}
static DRIVER_ATTR_RO(core);

/*
 * "struct_ops" where policies can attach, "none" on a kernel without
 * struct_ops for modules (before 6.9): there the module only observes.
 */
static ssize_t hooks_show(struct device_driver *driver, char *buf)
{
	return sysfs_emit(buf, "%s\n", VFIO_PCI_BPF_HOOKS ? "struct_ops" : "none");
}
static DRIVER_ATTR_RO(hooks);

static ssize_t modes_show(struct device_driver *driver, char *buf)
{
	return vfio_pci_bpf_modes_show(buf);
}

static ssize_t modes_store(struct device_driver *driver, const char *buf,
			   size_t count)
{
	int err = vfio_pci_bpf_modes_store(buf);

	return err ? err : count;
}
static DRIVER_ATTR_RW(modes);

static ssize_t slots_given_show(struct device_driver *driver, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(vfio_pci_bpf_slots_given));
}
static DRIVER_ATTR_RO(slots_given);

static struct attribute *vfio_pci_bpf_drv_attrs[] = {
	&driver_attr_policies.attr,
	&driver_attr_core.attr,
	&driver_attr_hooks.attr,
	&driver_attr_modes.attr,
	&driver_attr_slots_given.attr,
	NULL,
};
ATTRIBUTE_GROUPS(vfio_pci_bpf_drv);

/*
 * The device's slot (see VFIO_PCI_BPF_MAX_SLOTS), 4294967295 when all were
 * taken at probe: how vfio_exporter tells which bound devices per-slot
 * maps cannot count.  Fixed from probe to remove.
 */
static ssize_t vfio_bpf_slot_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct vfio_pci_core_device *core_device = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n",
			  vfio_pci_bpf_from_vdev(&core_device->vdev)->slot);
}
static DEVICE_ATTR_RO(vfio_bpf_slot);

static struct attribute *vfio_pci_bpf_dev_attrs[] = {
	&dev_attr_vfio_bpf_slot.attr,
	NULL,
};
ATTRIBUTE_GROUPS(vfio_pci_bpf_dev);

/* Match nothing by default: devices bind through driver_override or new_id. */
static const struct pci_device_id vfio_pci_bpf_table[] = {
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID) },
	{}
};
MODULE_DEVICE_TABLE(pci, vfio_pci_bpf_table);

static struct pci_driver vfio_pci_bpf_driver = {
	.name			= VFIO_PCI_BPF_DRV_NAME,
	.id_table		= vfio_pci_bpf_table,
	.probe			= vfio_pci_bpf_probe,
	.remove			= vfio_pci_bpf_remove,
	.sriov_configure	= vfio_pci_bpf_sriov_configure,
	.err_handler		= &vfio_pci_bpf_err_handlers,
	.groups			= vfio_pci_bpf_drv_groups,
	.dev_groups		= vfio_pci_bpf_dev_groups,
	.driver_managed_dma	= true,
};

static int __init vfio_pci_bpf_init(void)
{
	int err;

	vfio_pci_bpf_core_get();
	/* The hook type first: a policy may attach as soon as a device binds. */
	err = vfio_pci_bpf_hooks_register();
	if (err) {
		pr_err("cannot register the vfio_pci_bpf_ops struct_ops: %pe\n",
		       ERR_PTR(err));
		goto out_put_core;
	}
	err = pci_register_driver(&vfio_pci_bpf_driver);
	if (err)
		goto out_put_core;
	return 0;

out_put_core:
	vfio_pci_bpf_core_put();
	return err;
}

static void __exit vfio_pci_bpf_exit(void)
{
	pci_unregister_driver(&vfio_pci_bpf_driver);
	vfio_pci_bpf_core_put();
}

module_init(vfio_pci_bpf_init);
module_exit(vfio_pci_bpf_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("VFIO PCI variant driver with tracepoints and BPF policy hooks");
