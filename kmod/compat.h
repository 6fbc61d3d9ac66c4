/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What vfio-pci-bpf needs of vfio_pci_core beyond the kernel it builds
 * against, in one place.
 *
 * Enforcement needs the kernel-copy entry points of the patch series in
 * docs/upstream/: with them, each request a policy judges is fetched from
 * the user once and the core acts on exactly the judged bytes.  The module
 * is built against unpatched headers and finds the entry points when it
 * loads (symbol_get), so one module runs on both cores; on an unpatched
 * core it refuses policies rather than enforce them unsoundly.
 */
#ifndef _VFIO_PCI_BPF_COMPAT_H_
#define _VFIO_PCI_BPF_COMPAT_H_

#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>

/* The series' declarations (include/linux/vfio_pci_core.h once applied). */
ssize_t vfio_pci_core_config_rw_kern(struct vfio_pci_core_device *vdev,
				     void *buf, size_t count, loff_t *ppos,
				     bool iswrite);
int vfio_pci_core_copy_irq_set(struct vfio_pci_core_device *vdev,
			       struct vfio_irq_set __user *arg,
			       struct vfio_irq_set *hdr, void **data);
int vfio_pci_core_set_irqs(struct vfio_pci_core_device *vdev,
			   const struct vfio_irq_set *hdr, void *data);
int vfio_pci_core_ioeventfd(struct vfio_pci_core_device *vdev,
			    const struct vfio_device_ioeventfd *ioeventfd);

struct vfio_pci_bpf_core {
	ssize_t (*config_rw)(struct vfio_pci_core_device *vdev, void *buf,
			     size_t count, loff_t *ppos, bool iswrite);
	int (*copy_irq_set)(struct vfio_pci_core_device *vdev,
			    struct vfio_irq_set __user *arg,
			    struct vfio_irq_set *hdr, void **data);
	int (*set_irqs)(struct vfio_pci_core_device *vdev,
			const struct vfio_irq_set *hdr, void *data);
	int (*ioeventfd)(struct vfio_pci_core_device *vdev,
			 const struct vfio_device_ioeventfd *ioeventfd);
};

/* All members set on a patched core, all NULL otherwise; set at load. */
extern struct vfio_pci_bpf_core vfio_pci_bpf_core;

static inline bool vfio_pci_bpf_core_patched(void)
{
	return vfio_pci_bpf_core.config_rw;
}

void vfio_pci_bpf_core_get(void);
void vfio_pci_bpf_core_put(void);

#endif /* _VFIO_PCI_BPF_COMPAT_H_ */
