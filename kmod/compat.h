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

#include <linux/fs.h>
#include <linux/version.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>

/*
 * The kernels vfio-pci-bpf builds against: Debian's 6.12 (the default; all
 * features) and Debian bookworm's 6.1 (KERNEL=6.1).  Every difference
 * between them is answered here, by version, so that the .c files test
 * features (VFIO_PCI_BPF_HOOKS, VFIO_PCI_BPF_MIGRATION) and call one name
 * on every kernel.  Kernels between 6.1 and 6.12 are not built by make
 * check; the versions below are where each interface appeared upstream.
 */

/*
 * Policy hook points need struct_ops defined by a module
 * (register_bpf_struct_ops(), 6.9).  Without them the module traces and
 * counts, and refuses policies and require_policy: it observes but cannot
 * enforce.  The enforcing paths still compile; nothing reaches them.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 9, 0)
#define VFIO_PCI_BPF_HOOKS		0
#else
#define VFIO_PCI_BPF_HOOKS		1
#endif

/* The one line the module says at load on a kernel without hooks. */
#define VFIO_PCI_BPF_NO_HOOKS_MSG					\
	"this kernel (" __stringify(LINUX_VERSION_MAJOR) "."		\
	__stringify(LINUX_VERSION_PATCHLEVEL)				\
	") has no struct_ops for modules: vfio-pci-bpf observes but cannot enforce; policies need 6.9 or later"

/*
 * Migration v2 with PRE_COPY and migration_get_data_size (6.3), which the
 * state machine of lm.c is written for; before, devices do not advertise
 * migration (lm.h's functions are no-ops).
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
#define VFIO_PCI_BPF_MIGRATION		0
#else
#define VFIO_PCI_BPF_MIGRATION		1
#endif

/* __assign_str() takes only the field since 6.10. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 10, 0)
#define vfio_pci_bpf_assign_str(field, src)	__assign_str(field, src)
#else
#define vfio_pci_bpf_assign_str(field, src)	__assign_str(field)
#endif

/* The iommufd half of vfio_device_ops (6.2). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define VFIO_PCI_BPF_IOMMUFD_OPS
#else
#define VFIO_PCI_BPF_IOMMUFD_OPS					\
	.bind_iommufd	= vfio_iommufd_physical_bind,			\
	.unbind_iommufd	= vfio_iommufd_physical_unbind,			\
	.attach_ioas	= vfio_iommufd_physical_attach_ioas,		\
	.detach_ioas	= vfio_iommufd_physical_detach_ioas,
#endif

/*
 * The core's BAR helpers, exported since 6.7, are used only on policed
 * paths (a write judged by a policy, the edu provider's save and load):
 * before 6.7 neither exists (no hooks, no migration), so these only have to
 * compile, and fail if ever called.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 7, 0)
static inline int vfio_pci_core_setup_barmap(struct vfio_pci_core_device *vdev,
					     int bar)
{
	return -EOPNOTSUPP;
}

#define VFIO_PCI_BPF_NO_IOWRITE(size)					\
static inline int vfio_pci_core_iowrite##size(struct vfio_pci_core_device *vdev, \
					      bool test_mem, u##size val, \
					      void __iomem *io)		\
{									\
	return -EOPNOTSUPP;						\
}

VFIO_PCI_BPF_NO_IOWRITE(8)
VFIO_PCI_BPF_NO_IOWRITE(16)
VFIO_PCI_BPF_NO_IOWRITE(32)
VFIO_PCI_BPF_NO_IOWRITE(64)
#undef VFIO_PCI_BPF_NO_IOWRITE
#endif

/*
 * The inode whose mapping holds the device's mmaps (vfio_device.inode,
 * 6.9); NULL before, where revoking mappings is a policy change, which
 * cannot happen there.
 */
static inline struct inode *vfio_pci_bpf_vdev_inode(struct vfio_device *vdev)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 9, 0)
	return NULL;
#else
	return vdev->inode;
#endif
}

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
