/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _VFIO_PCI_BPF_HOOKS_H_
#define _VFIO_PCI_BPF_HOOKS_H_

#include <linux/jump_label.h>
#include <linux/rcupdate.h>

#include "vfio_bpf_hooks.h"
#include "vfio_pci_bpf.h"

/* On while any device has a policy attached: the hot paths test only this. */
DECLARE_STATIC_KEY_FALSE(vfio_pci_bpf_hooks_key);

extern bool vfio_pci_bpf_require_policy;

static inline bool vfio_pci_bpf_hooks_on(void)
{
	return static_branch_unlikely(&vfio_pci_bpf_hooks_key);
}

int vfio_pci_bpf_hooks_register(void);
void vfio_pci_bpf_hooks_add_device(struct vfio_pci_bpf_device *vbdev);
void vfio_pci_bpf_hooks_del_device(struct vfio_pci_bpf_device *vbdev);
bool vfio_pci_bpf_has_policy(struct vfio_pci_bpf_device *vbdev);

int vfio_pci_bpf_hook_config_read(struct vfio_pci_bpf_device *vbdev,
				  struct vfio_bpf_access *ctx);
int vfio_pci_bpf_hook_config_write(struct vfio_pci_bpf_device *vbdev,
				   struct vfio_bpf_access *ctx);
int vfio_pci_bpf_hook_bar_access(struct vfio_pci_bpf_device *vbdev,
				 struct vfio_bpf_access *ctx);
int vfio_pci_bpf_hook_mmap(struct vfio_pci_bpf_device *vbdev,
			   struct vfio_bpf_mmap *ctx);
int vfio_pci_bpf_hook_set_irqs(struct vfio_pci_bpf_device *vbdev,
			       struct vfio_bpf_irq *ctx);
int vfio_pci_bpf_hook_reset(struct vfio_pci_bpf_device *vbdev,
			    struct vfio_bpf_dev *ctx);
int vfio_pci_bpf_hook_open(struct vfio_pci_bpf_device *vbdev,
			   struct vfio_bpf_dev *ctx);
int vfio_pci_bpf_hook_mig_transition(struct vfio_pci_bpf_device *vbdev,
				     struct vfio_bpf_mig *ctx);

#endif /* _VFIO_PCI_BPF_HOOKS_H_ */
