/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Live migration (VFIO migration v2) of vfio-pci-bpf devices.
 *
 * lm.c owns the state machine, the data fd and the image header; a
 * provider only knows how to read its device's state into a buffer and
 * write it back.  Devices without a provider do not advertise migration.
 */
#ifndef _VFIO_PCI_BPF_LM_H_
#define _VFIO_PCI_BPF_LM_H_

#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/vfio.h>

#include "compat.h"

struct vfio_pci_bpf_device;

/*
 * How to save and restore one kind of device.  Both callbacks run with the
 * migration state_mutex and the core's memory_lock (write) held, with the
 * device's memory decoding checked to be on, so that no region access of
 * the user interleaves with them.
 *
 * @save fills exactly @state_size bytes (little-endian, fixed width).
 * @load must validate the whole buffer before it touches the device: an
 * invalid image returns -EINVAL with the device as it was.  Any other error
 * means the device may be half restored (the state machine goes to ERROR).
 */
struct vfio_pci_bpf_lm_provider {
	const char *name;
	u16 vendor;
	u16 device;
	u16 version;		/* of the payload layout, checked on load */
	size_t state_size;	/* payload bytes, after the image header */
	int (*open)(struct vfio_pci_bpf_device *vbdev);
	int (*save)(struct vfio_pci_bpf_device *vbdev, void *buf, size_t len);
	int (*load)(struct vfio_pci_bpf_device *vbdev, const void *buf,
		    size_t len);
};

/* Image header, in front of the provider's payload; little-endian. */
#define VFIO_PCI_BPF_LM_MAGIC		0x4d465056	/* "VPFM" */
#define VFIO_PCI_BPF_LM_VERSION		1

struct vfio_pci_bpf_lm_header {
	__le32 magic;
	__le16 version;		/* of this header */
	__le16 provider_version;
	__le16 vendor;
	__le16 device;
	__le32 size;		/* payload bytes following the header */
};

struct vfio_pci_bpf_lm_file;

/*
 * Per-device migration state, embedded in struct vfio_pci_bpf_device.
 *
 * Lock order: the vfio dev_set lock (open_device, close_device) ->
 * state_mutex -> a data fd's lock -> the core's memory_lock.  reset_done
 * runs with memory_lock held, so it only trylocks state_mutex and
 * otherwise leaves the reset to the holder (deferred_reset).
 */
struct vfio_pci_bpf_lm {
	const struct vfio_pci_bpf_lm_provider *provider;	/* NULL: none */
	struct mutex state_mutex;	/* state, files */
	enum vfio_device_mig_state state;
	bool prepared;			/* provider->open done for this open */
	struct vfio_pci_bpf_lm_file *saving;
	struct vfio_pci_bpf_lm_file *resuming;
	spinlock_t reset_lock;		/* deferred_reset */
	bool deferred_reset;
};

#if VFIO_PCI_BPF_MIGRATION
void vfio_pci_bpf_lm_init(struct vfio_pci_bpf_device *vbdev);
int vfio_pci_bpf_lm_open(struct vfio_pci_bpf_device *vbdev);
void vfio_pci_bpf_lm_close(struct vfio_pci_bpf_device *vbdev);
void vfio_pci_bpf_lm_reset_done(struct pci_dev *pdev);
#else
/* No migration (compat.h): no device advertises it, nothing to set up. */
static inline void vfio_pci_bpf_lm_init(struct vfio_pci_bpf_device *vbdev) {}
static inline int vfio_pci_bpf_lm_open(struct vfio_pci_bpf_device *vbdev)
{
	return 0;
}

static inline void vfio_pci_bpf_lm_close(struct vfio_pci_bpf_device *vbdev) {}
#define vfio_pci_bpf_lm_reset_done	NULL
#endif

extern const struct vfio_pci_bpf_lm_provider vfio_pci_bpf_lm_edu;

#endif /* _VFIO_PCI_BPF_LM_H_ */
