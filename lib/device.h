/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libvfiobpf device: PCI devices as sysfs shows them, one struct for every
 * tool.  Paths hang from vfb_sysfs_root ("/sys"), which tests point at a
 * tree of their own.
 */
#ifndef __VFB_DEVICE_H
#define __VFB_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define VFB_DRIVER		"vfio-pci-bpf"
#define VFB_BDF_LEN		16	/* "0000:00:04.0" and its NUL */
#define VFB_NO_SBDF		0xffffffffu

extern const char *vfb_sysfs_root;	/* "/sys" */

struct vfb_device {
	char bdf[VFB_BDF_LEN];
	__u32 sbdf;			/* domain << 16 | bus << 8 | devfn */
	int vendor, device;		/* -1 when unreadable */
	int subsystem_vendor, subsystem_device;	/* -1 when unreadable */
	__u32 class;			/* class << 16 | subclass << 8 | prog-if */
	char driver[64];		/* "" when unbound */
	char pf[VFB_BDF_LEN];		/* a VF's PF; "" otherwise */
	int vf;				/* a VF's index among its PF's virtfnN; -1 */
	int iommu_group;		/* -1 without one */
	/*
	 * vfio-pci-bpf's slot for it (its vfio_bpf_slot file, given at probe):
	 * below VFT_MAX_DEVICES, VFB_NO_SLOT when the module had none left, -1
	 * when there is no such file (another driver, an older module).
	 */
	__s64 slot;
};

#define VFB_NO_SLOT		0xffffffffll

/* domain << 16 | bus << 8 | devfn -> "0000:00:04.0" */
void vfb_bdf_str(__u32 sbdf, char *buf, size_t len);
/* "00:04.0" (lspci's form, domain 0) for domain 0, the full name otherwise. */
void vfb_bdf_short(__u32 sbdf, char *buf, size_t len);
/*
 * "0000:00:04.0", or "00:04.0" for domain 0, in lower or upper case, as
 * sysfs and lspci spell them; -EINVAL for anything else.
 */
int vfb_parse_bdf(const char *s, __u32 *sbdf);

/* @d from sysfs; -ENODEV when there is no such device. */
int vfb_device_read(const char *bdf, struct vfb_device *d);
/*
 * The devices bound to @driver now, in BDF order, into *@out (malloc'ed;
 * free() it).  Returns how many, or -errno; 0 when the driver is absent.
 */
int vfb_devices_bound(const char *driver, struct vfb_device **out);
/* An entry of a driver's directory: a device bound to it, and its link. */
struct vfb_bound {
	__u32 sbdf;
	/*
	 * The link's inode number (readdir's d_ino, no other syscall).  The
	 * kernel makes the link at bind and removes it at unbind, and sysfs
	 * numbers each new node afresh: a device unbound and bound again, or
	 * removed and made again at the same BDF, has a new one.  What sysfs
	 * says of a device under one link (ids, PF, VF index, slot) holds for
	 * the link's life.
	 */
	__u64 ino;
};

/*
 * The devices listed in @driver's directory now, in BDF order, into *@out
 * (malloc'ed; free() it), without reading them.  Returns how many, or
 * -errno; 0 when the driver is absent.
 */
int vfb_driver_links(const char *driver, struct vfb_bound **out);
/* The sysfs directory of @driver ("/sys/bus/pci/drivers/vfio-pci-bpf"). */
void vfb_driver_dir(const char *driver, char *buf, size_t len);

#endif /* __VFB_DEVICE_H */
