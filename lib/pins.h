/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libvfiobpf pins: the pin tree of vfio-bpf, and the kernel's own view of what is attached.
 *
 * Everything vfio-bpf pins lives under /sys/fs/bpf/vfio-bpf:
 *
 *   vfio-bpf/devices/<BDF, dot made '_'>/{link,policy,stats}
 *   vfio-bpf/counters/{counts,deliveries,hists,link_*}
 *
 * A pin is only as safe as the directories it sits in: on a bpffs mounted
 * 1777 (the kernel's default) anybody can pre-create a directory that root
 * then pins into, and delete root's link from it, detaching the policy.  So
 * every directory of the tree is opened one component at a time, without
 * following symbolic links, and must be a directory owned by root with mode
 * 0700; a missing one is created 0700.  Pins are then made, read and removed
 * relative to the checked directory's fd, never by path.
 */
#ifndef __VFIO_BPF_PINS_H
#define __VFIO_BPF_PINS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define VFB_BPFFS		"/sys/fs/bpf"
#define VFB_PIN_ROOT		VFB_BPFFS "/vfio-bpf"
#define VFB_PIN_DEVICES		VFB_PIN_ROOT "/devices"
#define VFB_PIN_COUNTERS	VFB_PIN_ROOT "/counters"
/* The same, relative to the bpffs root, for vfb_pins_open(). */
#define VFB_REL_ROOT		"vfio-bpf"
#define VFB_REL_DEVICES		"vfio-bpf/devices"
#define VFB_REL_COUNTERS	"vfio-bpf/counters"

#define VFB_DRIVER_SYSFS	"/sys/bus/pci/drivers/vfio-pci-bpf"

/*
 * Where the tree and the driver's sysfs directory are: the real ones unless
 * a test points them at directories of its own (then @vfb_pins_need_bpffs
 * is false, as a tmpfs is not a bpffs).
 */
extern const char *vfb_pins_base;	/* VFB_BPFFS */
extern bool vfb_pins_need_bpffs;	/* true */
extern const char *vfb_driver_sysfs;	/* VFB_DRIVER_SYSFS */

/* A checked directory of the tree: its fd and, for messages, its path. */
struct vfb_dir {
	int fd;
	char path[256];
};

/*
 * Open @rel ("vfio-bpf/devices/0000:00:04_0") under the bpffs, checking the
 * mount (a bpffs, owned by root) and every component (a real directory, not
 * a symbolic link, owned by root, mode 0700); with @create, make the missing
 * ones 0700 whatever the umask.  0 on success; -ENOENT when a component is
 * missing and !@create; another -errno, with what is wrong and what to do
 * in @err, when the tree cannot be trusted or made.
 */
int vfb_pins_open(const char *rel, bool create, struct vfb_dir *d, char *err, size_t errlen);
void vfb_dir_close(struct vfb_dir *d);

/*
 * The object pinned as @name in @d: the pin must be a bpffs object (a
 * regular file, not a symbolic link) owned by root and writable by nobody
 * else.  Returns its fd, -ENOENT when there is no such pin, or another
 * -errno with the reason in @err.
 */
int vfb_pin_get(const struct vfb_dir *d, const char *name, char *err, size_t errlen);
/* The same, for reading only (map lookups): what readers like the exporter need. */
int vfb_pin_get_ro(const struct vfb_dir *d, const char *name, char *err, size_t errlen);
/* Pin @fd as @name in @d; -EEXIST if there. */
int vfb_pin_put(const struct vfb_dir *d, const char *name, int fd);
/* Remove the pin @name of @d; 0, or -errno (-ENOENT when none). */
int vfb_pin_remove(const struct vfb_dir *d, const char *name);

/* "0000:00:04.0" <-> the name of its directory, "0000:00:04_0" (bpffs refuses dots). */
void vfb_pin_dev_name(const char *bdf, char *buf, size_t len);
void vfb_pin_dev_bdf(const char *name, char *buf, size_t len);

/* The id of the BPF link of @fd, 0 if it is not a link. */
__u32 vfb_link_id(int fd);

/* ---- what the kernel says it has attached -------------------------------- */

struct vfb_kpolicy {
	char bdf[16];
	__u32 link_id;
	bool bound;		/* the device is bound to vfio-pci-bpf now */
};

/*
 * The policies the module has attached, from vfb_driver_sysfs/policies
 * ("<bdf> link=<id> state=<bound|unbound>" a line), into @out (at most
 * @max).  Returns how many, or -ENOENT when the module does not report them
 * (an older vfio_pci_bpf), -EINVAL on a line it cannot read.
 */
int vfb_kernel_policies(struct vfb_kpolicy *out, int max);
/* The entry of @bdf in @k (of @n), or NULL. */
const struct vfb_kpolicy *vfb_kpolicy_find(const struct vfb_kpolicy *k, int n, const char *bdf);
/*
 * The vfio-pci-core the module runs on, from vfb_driver_sysfs/core:
 * "patched" or "stock" in @buf; -ENOENT when it does not say.
 */
int vfb_kernel_core(char *buf, size_t len);
/*
 * Why no policy can attach, when the module says so (vfb_driver_sysfs/hooks
 * is "none": a kernel before 6.9 has no struct_ops for modules); NULL where
 * policies can attach.  A static string.
 */
const char *vfb_no_hooks(void);

#endif /* __VFIO_BPF_PINS_H */
