/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _VFIO_PCI_BPF_H_
#define _VFIO_PCI_BPF_H_

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/vfio_pci_core.h>

struct vfio_pci_bpf_ops;

/*
 * Each bound device has a slot below this (U32_MAX when all are taken),
 * carried by the tracepoints so that BPF can keep per-device state in
 * array maps: include/vfio_trace.h's VFT_MAX_DEVICES is the same number.
 * 4096: a host of SR-IOV PFs with hundreds of VFs each; the slot is also
 * the device's vfio_bpf_slot file, for user space to learn which devices
 * have none.
 */
#define VFIO_PCI_BPF_MAX_SLOTS	4096
#include "lm.h"

/*
 * Per-device state.  The core device comes first: vfio_alloc_device()
 * requires it, and every core helper takes a pointer to it.
 */
struct vfio_pci_bpf_device {
	struct vfio_pci_core_device core_device;
	/* The attached policy, if any; read under RCU on each hooked op. */
	const struct vfio_pci_bpf_ops __rcu *ops;
	struct list_head node;		/* on the list policies attach by */
	u32 sbdf;			/* domain << 16 | bus << 8 | devfn */
	/* Index among our devices, for tracing: see VFIO_PCI_BPF_MAX_SLOTS */
	u32 slot;
	u8 af_cap;			/* Advanced Features capability, or 0 */
	/*
	 * Held for reading by the mmap fault handler around its policy
	 * check and the core's insertion, for writing by a policy change
	 * around revoking mappings: no page the new policy traps survives.
	 */
	struct rw_semaphore trap_sem;
	/* The ioeventfds set up through us, re-judged by a policy change. */
	struct mutex ioeventfd_lock;
	struct list_head ioeventfds;
	struct vfio_pci_bpf_lm lm;
};

static inline struct vfio_pci_bpf_device *
vfio_pci_bpf_from_vdev(struct vfio_device *vdev)
{
	return container_of(vdev, struct vfio_pci_bpf_device,
			    core_device.vdev);
}

static inline struct pci_dev *
vfio_pci_bpf_to_pdev(struct vfio_pci_bpf_device *vbdev)
{
	return vbdev->core_device.pdev;
}

/* domain << 16 | bus << 8 | devfn: how hooks, policies and events name a device */
static inline u32 vfio_pci_bpf_sbdf_of(struct pci_dev *pdev)
{
	return (u32)pci_domain_nr(pdev->bus) << 16 |
	       (u32)pdev->bus->number << 8 | pdev->devfn;
}

const struct vfio_device_ops *vfio_pci_bpf_ops(void);

#endif /* _VFIO_PCI_BPF_H_ */
