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
 * Interrupts: vfio_pci_core's own handlers (fexit on vfio_msihandler and
 * vfio_intx_handler, as module mode) returning IRQ_HANDLED, on a host irq
 * the core requested for a vector: request_threaded_irq() with the name it
 * gives its handlers ("vfio-msi[N](BDF)", "vfio-msix[N](BDF)",
 * "vfio-intx(BDF)") fills `armed`, free_irq() empties it.  Both run only
 * when an irq is set up or torn down, and no other interrupt of the host
 * runs a program of ours (not the host-wide irq_handler_exit of vfio-trace
 * -k).  A vector armed before the programs were loaded is not seen until
 * it is armed again.
 *
 * Beside the module's counters (`vfio-bpf load` with vfio_pci_bpf loaded:
 * skip_module), `counts` and `deliveries` are the module set's maps, shared
 * (bpf_map__reuse_fd), and devices bound to vfio-pci-bpf are skipped here:
 * the module's programs count them, so every device is counted once.
 *
 * hists and decisions stay empty: latency and policies are not this
 * mode's.  They exist so that readers of the pinned set find the maps they
 * expect.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "vfio_trace.h"
#include "vfio_names.bpf.h"

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

/* Skip devices bound to vfio-pci-bpf: the module's counters have them. */
const volatile bool skip_module;

#define VST_SKIP	0xfffffffeu	/* cached: a device of the module */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, VFT_MAX_VECTORS);
	__type(key, struct vft_vector);
	__type(value, __u64);
} deliveries SEC(".maps");

/* host irq -> the vector it was requested for (see above). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFT_MAX_VECTORS);
	__type(key, __s32);
	__type(value, struct vft_vector);
} armed SEC(".maps");

/* The sbdfs of the module's devices seen (skip_module): their irqs are skipped. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFT_MAX_DEVICES);
	__type(key, __u32);
	__type(value, __u32);
} module_devs SEC(".maps");

/* Config-space dwords touched since the first open (struct vft_cfg_touch). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFT_MAX_DEVICES);
	__type(key, __u32);			/* sbdf */
	__type(value, struct vft_cfg_touch);
} cfg_touch SEC(".maps");

/* Empty, for readers of the pinned set (see above). */
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

static __always_inline __u32 sbdf_of_dev(struct device *dev)
{
	char name[VFB_NAME_LEN] = {};
	const char *s;

	if (!dev)
		return VFT_ALL_DEVICES;
	s = BPF_CORE_READ(dev, kobj.name);
	if (bpf_probe_read_kernel_str(name, sizeof(name), s) < 13)
		return VFT_ALL_DEVICES;
	return vfb_parse_sbdf(name, 0);
}

/*
 * @dev is bound to vfio-pci-bpf and skip_module is set: the module's
 * counters count it.  Its sbdf noted for its irqs.
 */
static __always_inline bool module_dev(struct device *dev, __u32 sbdf)
{
	static const char drv[] = "vfio-pci-bpf";
	char name[sizeof(drv)] = {};
	const char *s;
	__u32 one = 1;

	if (!skip_module || !dev)
		return false;
	s = BPF_CORE_READ(dev, driver, name);
	if (!s || bpf_probe_read_kernel_str(name, sizeof(name), s) != sizeof(drv))
		return false;
	for (int i = 0; i < sizeof(drv) - 1; i++)
		if (name[i] != drv[i])
			return false;
	bpf_map_update_elem(&module_devs, &sbdf, &one, BPF_ANY);
	return true;
}

/*
 * The sbdf of @dev; VST_SKIP (not counted) for one of the module's.  A
 * device no longer the module's (bound to vfio-pci since) leaves
 * module_devs here, at its first access, before it can request an irq.
 */
static __always_inline __u32 counted_sbdf(struct device *dev)
{
	__u32 sbdf = sbdf_of_dev(dev);

	if (sbdf == VFT_ALL_DEVICES)
		return sbdf;
	if (module_dev(dev, sbdf))
		return VST_SKIP;
	if (skip_module)
		bpf_map_delete_elem(&module_devs, &sbdf);
	return sbdf;
}

/* The sbdf of @vdev, from the cache or parsed once and cached. */
static __always_inline __u32 sbdf_of(void *vdev)
{
	__u64 key = (__u64)vdev;
	__u32 *cached, sbdf;

	cached = bpf_map_lookup_elem(&devs, &key);
	if (cached)
		return *cached == VST_SKIP ? VFT_ALL_DEVICES : *cached;
	sbdf = counted_sbdf(BPF_CORE_READ((struct vfio_device___vst *)vdev, dev));
	if (sbdf != VFT_ALL_DEVICES)
		bpf_map_update_elem(&devs, &key, &sbdf, BPF_ANY);
	return sbdf == VST_SKIP ? VFT_ALL_DEVICES : sbdf;
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

/* As bpf/vfio_trace.bpf.c's: a bit per dword and direction, set atomically. */
static __always_inline void cfg_touched(__u32 sbdf, __u64 offset, int write)
{
	struct vft_cfg_touch *t;
	__u64 dw = offset >> 2, bit, old;

	if (sbdf == VFT_ALL_DEVICES || dw >= VFT_CFG_DWORDS)
		return;
	t = bpf_map_lookup_elem(&cfg_touch, &sbdf);
	if (!t) {
		struct vft_cfg_touch zero = {};

		bpf_map_update_elem(&cfg_touch, &sbdf, &zero, BPF_NOEXIST);
		t = bpf_map_lookup_elem(&cfg_touch, &sbdf);
		if (!t)
			return;
	}
	bit = 1ULL << (dw & 63);
	old = __sync_fetch_and_or(&t->bits[write & 1][(dw >> 6) & (VFT_CFG_WORDS - 1)], bit);
	if (!(old & bit))
		__sync_fetch_and_add(&t->touched[write & 1], 1);
}

/*
 * Config space or a BAR, from the region index in the offset's top bits;
 * the offset itself moved by what was done (ret bytes), the index cannot
 * have.
 */
static __always_inline int rw_exit(void *vdev, loff_t *ppos, ssize_t ret, bool write)
{
	__u32 kind, sbdf;
	__u64 pos = 0;

	bpf_probe_read_kernel(&pos, sizeof(pos), ppos);
	if ((pos >> VST_OFFSET_SHIFT) > VFT_REGION_VGA)
		return 0;
	sbdf = sbdf_of(vdev);
	if ((pos >> VST_OFFSET_SHIFT) == VFT_REGION_CONFIG) {
		kind = write ? VFT_CONFIG_WRITE : VFT_CONFIG_READ;
		pos &= (1ULL << VST_OFFSET_SHIFT) - 1;
		cfg_touched(sbdf, ret > 0 && pos >= (__u64)ret ? pos - ret : pos, write);
	} else {
		kind = write ? VFT_BAR_WRITE : VFT_BAR_READ;
	}
	count(sbdf, kind, ret);
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

/*
 * The device known (and a device of the module marked in module_devs)
 * before the ioctl runs: SET_IRQS requests its irqs inside it.
 */
SEC("fentry/vfio_pci_core_ioctl")
int BPF_PROG(vst_ioctl_entry, struct vfio_device *vdev, unsigned int cmd, unsigned long arg)
{
	sbdf_of(vdev);
	return 0;
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

	__u32 sbdf = counted_sbdf((void *)pdev + bpf_core_field_offset(struct pci_dev, dev));

	struct vft_cfg_touch *t;

	if (sbdf == VST_SKIP)
		return 0;
	count(sbdf, VFT_OPEN, ret);
	/* A first open starts afresh (as the module's vft_cfg_open). */
	t = sbdf == VFT_ALL_DEVICES ? NULL : bpf_map_lookup_elem(&cfg_touch, &sbdf);
	if (t)
		__builtin_memset(t->bits, 0, sizeof(t->bits));
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

/*
 * The vector a host irq was requested for, from the name vfio_pci_core
 * gives its handler: "vfio-intx(BDF)", "vfio-msi[N](BDF)", "vfio-msix[N](BDF)".
 */
SEC("fexit/request_threaded_irq")
int BPF_PROG(vst_irq_request, unsigned int irq, void *handler, void *thread_fn,
	     unsigned long flags, const char *devname, void *dev_id, int ret)
{
	char name[VFB_NAME_LEN] = {};
	struct vft_vector v = {};
	__s32 key = irq;

	if (ret || !devname || bpf_probe_read_kernel_str(name, sizeof(name), devname) < 10)
		return 0;
	if (vfb_parse_irq_name(name, &v) || bpf_map_lookup_elem(&module_devs, &v.sbdf))
		return 0;
	bpf_map_update_elem(&armed, &key, &v, BPF_ANY);
	return 0;
}

SEC("fentry/free_irq")
int BPF_PROG(vst_irq_free, unsigned int irq, void *dev_id)
{
	__s32 key = irq;

	bpf_map_delete_elem(&armed, &key);
	return 0;
}

static __always_inline int handled(int irq, int ret)
{
	struct vft_vector *v;
	__u64 one = 1, *n;

	if (ret != 1)	/* IRQ_HANDLED: the (shared INTx) line was this device's */
		return 0;
	v = bpf_map_lookup_elem(&armed, &irq);
	if (!v)
		return 0;
	n = bpf_map_lookup_elem(&deliveries, v);
	if (n)
		(*n)++;
	else
		bpf_map_update_elem(&deliveries, v, &one, BPF_NOEXIST);
	return 0;
}

SEC("fexit/vfio_msihandler")
int BPF_PROG(vst_msi_exit, int irq, void *arg, int ret)
{
	return handled(irq, ret);
}

SEC("fexit/vfio_intx_handler")
int BPF_PROG(vst_intx_exit, int irq, void *dev_id, int ret)
{
	return handled(irq, ret);
}

char LICENSE[] SEC("license") = "GPL";
