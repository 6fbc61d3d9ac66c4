// SPDX-License-Identifier: GPL-2.0
/*
 * `vfio-bpf load --stock`: counting, nothing else, for devices under stock
 * vfio-pci (or any other vfio_pci_core based driver) on a kernel without
 * vfio_pci_bpf.  fexit programs on vfio_pci_core's exported entry points
 * count every call per device and kind into `counts`, the very map layout
 * bpf/vfio_trace.bpf.c's counters have, pinned at the same place, so every
 * reader (vfio_exporter, lib/counters.c) reads them unchanged.
 *
 * The cheap path on purpose: no ring buffer, no user memory read, no
 * timestamps.  The one costly step, the device's sbdf from its name (stock
 * vfio_pci_core carries no slot), is done once per open device: the name is
 * parsed on the first access and cached by vfio_device pointer until the
 * device's last close, before which the pointer cannot be freed or reused.
 *
 * deliveries, hists and decisions stay empty: interrupts would need the
 * host-wide irq_handler_exit (every interrupt of the host would pay), and
 * latency or policies are not this mode's.  They exist so that readers of
 * the pinned set find the maps they expect.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "vfio_trace.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	/* Memory as used: preallocated, 4,096 devices cost MiBs per CPU. */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, VFT_MAX_DEVICES * VFT_NR_KINDS);
	__type(key, struct vft_count_key);
	__type(value, struct vft_count);
} counts SEC(".maps");

/* vfio_device pointer -> sbdf, while the device is open. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFT_MAX_DEVICES);
	__type(key, __u64);
	__type(value, __u32);
} devs SEC(".maps");

/* Empty, for readers of the pinned set (see above). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1);
	__type(key, struct vft_vector);
	__type(value, __u64);
} deliveries SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1);
	__type(key, struct vft_count_key);
	__type(value, struct vft_hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1);
	__type(key, struct vft_decision_key);
	__type(value, __u64);
} decisions SEC(".maps");

/* Module types, not in vmlinux.h: their BTF is vfio's and vfio_pci_core's. */
struct vfio_device;
struct vfio_pci_core_device;

/* Just the members we read, relocated against the modules' BTF (CO-RE). */
struct vfio_device___vst {
	struct device *dev;
} __attribute__((preserve_access_index));

struct vfio_pci_core_device___vst {
	struct pci_dev *pdev;
} __attribute__((preserve_access_index));

#define VST_OFFSET_SHIFT	40	/* VFIO_PCI_OFFSET_SHIFT */
#define VST_IOCTL_SET_IRQS	0x3b6e
#define VST_IOCTL_RESET		0x3b6f
#define VST_IOCTL_HOT_RESET	0x3b71
#define VST_NAME_LEN		64	/* a power of two: indexes are masked */

static __always_inline int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * The sbdf of a PCI device name, "DDDD:BB:DD.F"; VFT_ALL_DEVICES when it
 * is not one.  The name is the same on every architecture, where the
 * domain behind pdev->bus is not.
 */
static __always_inline __u32 parse_sbdf(const char *name)
{
	__u64 x = 0;
	int h;

	for (__u32 i = 0; i < 12; i++) {
		char c = name[i & (VST_NAME_LEN - 1)];

		if (i == 4 || i == 7 || i == 10) {
			if (c != (i == 10 ? '.' : ':'))
				return VFT_ALL_DEVICES;
			continue;
		}
		h = hexval(c);
		if (h < 0)
			return VFT_ALL_DEVICES;
		x = x << 4 | h;
	}
	return (x >> 20) << 16 | ((x >> 12) & 0xff) << 8 | ((x >> 4) & 0x1f) << 3 | (x & 0x7);
}

static __always_inline __u32 sbdf_of_dev(struct device *dev)
{
	char name[VST_NAME_LEN] = {};
	const char *s;

	if (!dev)
		return VFT_ALL_DEVICES;
	s = BPF_CORE_READ(dev, kobj.name);
	if (bpf_probe_read_kernel_str(name, sizeof(name), s) < 13)
		return VFT_ALL_DEVICES;
	return parse_sbdf(name);
}

/* The sbdf of @vdev, from the cache or parsed once and cached. */
static __always_inline __u32 sbdf_of(void *vdev)
{
	__u64 key = (__u64)vdev;
	__u32 *cached, sbdf;

	cached = bpf_map_lookup_elem(&devs, &key);
	if (cached)
		return *cached;
	sbdf = sbdf_of_dev(BPF_CORE_READ((struct vfio_device___vst *)vdev, dev));
	if (sbdf != VFT_ALL_DEVICES)
		bpf_map_update_elem(&devs, &key, &sbdf, BPF_ANY);
	return sbdf;
}

static __always_inline void count(__u32 sbdf, __u32 kind, __s64 ret)
{
	struct vft_count_key key = { .sbdf = sbdf, .kind = kind };
	struct vft_count zero = {}, *c;

	if (sbdf == VFT_ALL_DEVICES)
		return;
	c = bpf_map_lookup_elem(&counts, &key);
	if (!c) {
		bpf_map_update_elem(&counts, &key, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&counts, &key);
		if (!c)
			return;
	}
	c->events++;
	if (ret < 0)
		c->errors++;
}

/*
 * Config space or a BAR, from the region index in the offset's top bits;
 * the offset itself moved by what was done, the index cannot have.
 */
static __always_inline int rw_exit(void *vdev, loff_t *ppos, ssize_t ret, bool write)
{
	__u64 pos = 0;
	__u32 kind;

	bpf_probe_read_kernel(&pos, sizeof(pos), ppos);
	if ((pos >> VST_OFFSET_SHIFT) > VFT_REGION_VGA)
		return 0;
	if ((pos >> VST_OFFSET_SHIFT) == VFT_REGION_CONFIG)
		kind = write ? VFT_CONFIG_WRITE : VFT_CONFIG_READ;
	else
		kind = write ? VFT_BAR_WRITE : VFT_BAR_READ;
	count(sbdf_of(vdev), kind, ret);
	return 0;
}

SEC("fexit/vfio_pci_core_read")
int BPF_PROG(vst_read, struct vfio_device *vdev, char *buf, size_t n, loff_t *ppos,
	     ssize_t ret)
{
	return rw_exit(vdev, ppos, ret, false);
}

SEC("fexit/vfio_pci_core_write")
int BPF_PROG(vst_write, struct vfio_device *vdev, const char *buf, size_t n, loff_t *ppos,
	     ssize_t ret)
{
	return rw_exit(vdev, ppos, ret, true);
}

SEC("fexit/vfio_pci_core_ioctl")
int BPF_PROG(vst_ioctl, struct vfio_device *vdev, unsigned int cmd, unsigned long arg, long ret)
{
	__u32 sbdf = sbdf_of(vdev);

	count(sbdf, VFT_IOCTL, ret);
	/* As the module counts them: an ioctl, and what it was. */
	if (cmd == VST_IOCTL_SET_IRQS)
		count(sbdf, VFT_SET_IRQS, ret);
	else if (cmd == VST_IOCTL_RESET || cmd == VST_IOCTL_HOT_RESET)
		count(sbdf, VFT_RESET, ret);
	return 0;
}

SEC("fexit/vfio_pci_core_mmap")
int BPF_PROG(vst_mmap, struct vfio_device *vdev, struct vm_area_struct *vma, int ret)
{
	count(sbdf_of(vdev), VFT_MMAP, ret);
	return 0;
}

/* The first open: every vfio-pci based driver enables through the core. */
SEC("fexit/vfio_pci_core_enable")
int BPF_PROG(vst_open, struct vfio_pci_core_device *cdev, int ret)
{
	struct pci_dev *pdev = BPF_CORE_READ((struct vfio_pci_core_device___vst *)cdev, pdev);

	count(sbdf_of_dev((void *)pdev + bpf_core_field_offset(struct pci_dev, dev)), VFT_OPEN,
	      ret);
	return 0;
}

/* The last close: counted, and the device's cache entry dropped. */
SEC("fentry/vfio_pci_core_close_device")
int BPF_PROG(vst_close, struct vfio_device *vdev)
{
	__u64 key = (__u64)vdev;

	count(sbdf_of(vdev), VFT_CLOSE, 0);
	bpf_map_delete_elem(&devs, &key);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
