/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _VFIO_PCI_BPF_HOOKS_H_
#define _VFIO_PCI_BPF_HOOKS_H_

#include <linux/jump_label.h>
#include <linux/rcupdate.h>

#include "compat.h"
#include "vfio_bpf_hooks.h"
#include "vfio_pci_bpf.h"

/*
 * On while any policy is attached or require_policy is set: the hot paths
 * test only this.
 */
DECLARE_STATIC_KEY_FALSE(vfio_pci_bpf_hooks_key);

extern bool vfio_pci_bpf_require_policy;

static inline bool vfio_pci_bpf_hooks_on(void)
{
	/* Without struct_ops the hook points compile away. */
	return VFIO_PCI_BPF_HOOKS &&
	       static_branch_unlikely(&vfio_pci_bpf_hooks_key);
}

bool vfio_pci_bpf_has_policy(struct vfio_pci_bpf_device *vbdev);
bool vfio_pci_bpf_hides_migration(struct vfio_pci_bpf_device *vbdev);

/*
 * Does this device's every hooked operation go through its hooks?  Yes
 * with a policy attached, and with require_policy set, where a device
 * without one is denied everything.  Only asked on slow paths.
 */
static inline bool vfio_pci_bpf_policed(struct vfio_pci_bpf_device *vbdev)
{
	return vfio_pci_bpf_hooks_on() &&
	       (READ_ONCE(vfio_pci_bpf_require_policy) ||
		vfio_pci_bpf_has_policy(vbdev));
}

int vfio_pci_bpf_hooks_register(void);
void vfio_pci_bpf_hooks_add_device(struct vfio_pci_bpf_device *vbdev);
void vfio_pci_bpf_hooks_del_device(struct vfio_pci_bpf_device *vbdev);
ssize_t vfio_pci_bpf_policies_show(char *buf);
ssize_t vfio_pci_bpf_modes_show(char *buf);
int vfio_pci_bpf_modes_store(const char *buf);

int vfio_pci_bpf_hook_config_read(struct vfio_pci_bpf_device *vbdev,
				  struct vfio_bpf_access *ctx, bool audit);
int vfio_pci_bpf_hook_config_write(struct vfio_pci_bpf_device *vbdev,
				   struct vfio_bpf_access *ctx);
int vfio_pci_bpf_hook_bar_access(struct vfio_pci_bpf_device *vbdev,
				 struct vfio_bpf_access *ctx);
int vfio_pci_bpf_hook_mmap(struct vfio_pci_bpf_device *vbdev,
			   struct vfio_bpf_mmap *ctx, bool audit);
int vfio_pci_bpf_hook_set_irqs(struct vfio_pci_bpf_device *vbdev,
			       struct vfio_bpf_irq *ctx);
int vfio_pci_bpf_hook_reset(struct vfio_pci_bpf_device *vbdev,
			    struct vfio_bpf_dev *ctx);
int vfio_pci_bpf_hook_open(struct vfio_pci_bpf_device *vbdev,
			   struct vfio_bpf_dev *ctx);
int vfio_pci_bpf_hook_mig_transition(struct vfio_pci_bpf_device *vbdev,
				     struct vfio_bpf_mig *ctx);

/* In vfio_dev.c: take back what a new policy no longer allows. */
void vfio_pci_bpf_revoke(struct vfio_pci_bpf_device *vbdev);

#endif /* _VFIO_PCI_BPF_HOOKS_H_ */
