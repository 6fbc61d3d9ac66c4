// SPDX-License-Identifier: GPL-2.0
/* Finding the kernel-copy entry points of a patched vfio_pci_core (compat.h). */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "compat.h"

struct vfio_pci_bpf_core vfio_pci_bpf_core;

void vfio_pci_bpf_core_get(void)
{
	struct vfio_pci_bpf_core c = {
		.config_rw = symbol_get(vfio_pci_core_config_rw_kern),
		.copy_irq_set = symbol_get(vfio_pci_core_copy_irq_set),
		.set_irqs = symbol_get(vfio_pci_core_set_irqs),
		.ioeventfd = symbol_get(vfio_pci_core_ioeventfd),
	};

	/* No policies without hooks: then the series is of no use. */
	if (!VFIO_PCI_BPF_HOOKS)
		return;
	/* All or nothing: half a series enforces nothing soundly. */
	if (c.config_rw && c.copy_irq_set && c.set_irqs && c.ioeventfd) {
		vfio_pci_bpf_core = c;
		return;
	}
	pr_info("vfio_pci_core lacks the kernel-copy entry points (docs/upstream/): tracing only, policies are refused\n");
	if (c.config_rw)
		symbol_put(vfio_pci_core_config_rw_kern);
	if (c.copy_irq_set)
		symbol_put(vfio_pci_core_copy_irq_set);
	if (c.set_irqs)
		symbol_put(vfio_pci_core_set_irqs);
	if (c.ioeventfd)
		symbol_put(vfio_pci_core_ioeventfd);
}

void vfio_pci_bpf_core_put(void)
{
	if (!vfio_pci_bpf_core_patched())
		return;
	symbol_put(vfio_pci_core_config_rw_kern);
	symbol_put(vfio_pci_core_copy_irq_set);
	symbol_put(vfio_pci_core_set_irqs);
	symbol_put(vfio_pci_core_ioeventfd);
	vfio_pci_bpf_core = (struct vfio_pci_bpf_core) {};
}
